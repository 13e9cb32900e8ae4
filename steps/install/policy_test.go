package install

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// groupSets is core plus every subset of the optional groups.
func groupSets() [][]string {
	optional := answers.Groups[1:]
	var out [][]string
	for mask := 0; mask < 1<<len(optional); mask++ {
		gs := []string{answers.GroupCore}
		for i, g := range optional {
			if mask&(1<<i) != 0 {
				gs = append(gs, g)
			}
		}
		out = append(out, gs)
	}
	return out
}

// refusedSubjects returns what a policy refuses in the project, by subject.
func refusedSubjects(t *testing.T, pol compose.Policy, p *compose.Project) map[string][]string {
	t.Helper()
	err := pol.Check(p)
	if err == nil {
		return nil
	}
	var refused *compose.PolicyError
	if !errors.As(err, &refused) {
		t.Fatalf("check: %v", err)
	}
	out := map[string][]string{}
	for _, v := range refused.Violations {
		out[v.Subject] = append(out[v.Subject], v.Setting)
	}
	return out
}

// The stack the installer renders passes the policy built from its own
// assets, for every profile and group combination, and passes it only
// because of what the assets grant: without the install and secrets dirs,
// the root reason or the log shipper's exception, it is refused.
func TestRenderedStackPassesItsHardeningPolicy(t *testing.T) {
	ctx := context.Background()
	for _, profile := range []answers.Profile{answers.Production, answers.Demo} {
		for _, groups := range groupSets() {
			t.Run(string(profile)+"/"+strings.Join(groups, "+"), func(t *testing.T) {
				a := answers.Defaults(profile)
				a.Groups = groups
				a.Host.IPs = []string{"192.0.2.10"}
				dir := t.TempDir()
				env, err := NewEnv(a, "fineract", dir, filepath.Join(t.TempDir(), "secrets"), nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := env.Bundle.Write(ctx, dir); err != nil {
					t.Fatal(err)
				}
				p, err := env.LoadProject(ctx)
				if err != nil {
					t.Fatal(err)
				}
				pol := env.Policy()
				if err := pol.Check(p); err != nil {
					t.Fatalf("the rendered stack breaks its own policy: %v", err)
				}

				// Every service mounts at least the CA certificate.
				strict := refusedSubjects(t, compose.Policy{}, p)
				for _, s := range env.Bundle.Services {
					if len(strict["service "+s.Name]) == 0 {
						t.Errorf("the zero policy let %s through", s.Name)
					}
				}

				_, logging := env.Bundle.Service(logShipper)
				if got := slices.Contains(pol.RootServices, logShipper); got != logging {
					t.Errorf("root for %s: %v, want %v (only with its root reason)", logShipper, got, logging)
				}
				if !logging {
					return
				}
				noRoot := pol
				noRoot.RootServices = nil
				if got := refusedSubjects(t, noRoot, p); len(got) != 1 || !strings.Contains(strings.Join(got["service "+logShipper], " "), "root") {
					t.Errorf("without its root reason, want only %s refused for its user, got %v", logShipper, got)
				}
				noLogs := pol
				noLogs.ReadOnlyHostPaths = nil
				if got := refusedSubjects(t, noLogs, p); len(got) != 1 || !strings.Contains(strings.Join(got["service "+logShipper], " "), containerLogsDir) {
					t.Errorf("without its exception, want only %s refused for %s, got %v", logShipper, containerLogsDir, got)
				}
			})
		}
	}
}
