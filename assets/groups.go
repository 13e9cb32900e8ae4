package assets

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// groupDeps says which groups a group needs, and why.
var groupDeps = map[string]map[string]string{
	answers.GroupIdentity: {
		answers.GroupCore: "Keycloak stores its data in the core PostgreSQL and is reached through the core gateway",
	},
	answers.GroupMessaging: {
		answers.GroupCore: "Fineract publishes its business events to Kafka",
	},
	answers.GroupMonitoring: {
		answers.GroupCore: "Prometheus scrapes the core services and Grafana is reached through the core gateway",
	},
	answers.GroupLogging: {
		answers.GroupCore: "Kibana is reached through the core gateway",
	},
}

// coreReason is why core is always part of an installation.
const coreReason = "always installed: Vault, PostgreSQL, Fineract, the web app and the gateway"

// ResolveGroups validates the selected groups and adds the ones they depend
// on. The result is in installation order; added says, for every group that
// was not selected, why it was added.
func ResolveGroups(selected []string) (groups []string, added map[string]string, err error) {
	want := map[string]bool{}
	for _, g := range selected {
		g = strings.TrimSpace(g)
		if !slices.Contains(answers.Groups, g) {
			return nil, nil, answers.FieldError("groups", "unknown service group %q: choose from %s", g, strings.Join(answers.Groups, ", "))
		}
		want[g] = true
	}
	added = map[string]string{}
	if !want[answers.GroupCore] {
		added[answers.GroupCore] = coreReason
		want[answers.GroupCore] = true
	}
	// One pass is enough: dependencies only ever point at core today, but
	// loop until stable so a deeper graph keeps working.
	for changed := true; changed; {
		changed = false
		for _, g := range answers.Groups {
			if !want[g] {
				continue
			}
			for dep, why := range groupDeps[g] {
				if !want[dep] {
					want[dep] = true
					added[dep] = fmt.Sprintf("needed by %s: %s", g, why)
					changed = true
				}
			}
		}
	}
	for _, g := range answers.Groups {
		if want[g] {
			groups = append(groups, g)
		}
	}
	return groups, added, nil
}
