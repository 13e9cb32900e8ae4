package textout

import (
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/pki"
)

// A plan names each change with its reason and counts them in its last
// line; one with nothing to do says so, so a reader need not scan it.
func TestPlanNamesChangesAndSummarises(t *testing.T) {
	c := &install.Changes{Dir: "/srv/stack", Project: "fineract",
		Stack: &compose.ProjectPlan{
			Services: []compose.ServiceChange{
				{Service: "fineract", Action: compose.ServiceRecreate, Reasons: []string{"image openmf/fineract:1.14.0 → openmf/fineract:1.15.0 (sha256:0123456789ab)"}},
				{Service: "kibana", Action: compose.ServiceRemove, Reasons: []string{"not in the answers any more"}},
				{Service: "postgres", Action: compose.ServiceUnchanged},
			},
			Volumes: []compose.ResourceChange{{Name: "fineract_es-data", Action: compose.ResourceKept, Reason: "no longer in the project"}},
			Images:  []compose.ImageChange{{Ref: "openmf/fineract:1.15.0", Action: compose.ImagePull}},
		},
		Certificates: &pki.Report{CA: pki.Result{Name: "ca", Action: pki.Reused}},
		Steps:        []install.StepChange{{ID: "services", Title: "Start the services", Run: true}},
	}
	out := Plan(Plain(), c, 0)
	for _, want := range []string{
		"~ fineract: recreate (image openmf/fineract:1.14.0 → openmf/fineract:1.15.0 (sha256:0123456789ab))",
		"- kibana: remove (not in the answers any more)",
		"= postgres: unchanged",
		"= fineract_es-data: kept (no longer in the project)",
		"↓ openmf/fineract:1.15.0: pull, size unknown",
		"= ca: unchanged",
		"▶ Start the services: runs",
		"Changes pending: 1 recreate, 1 remove, 1 unchanged, 1 image(s) to fetch, 1 of 1 steps run.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan has no line %q:\n%s", want, out)
		}
	}

	same := &install.Changes{Stack: &compose.ProjectPlan{Services: []compose.ServiceChange{{Service: "postgres", Action: compose.ServiceUnchanged}}},
		Certificates: &pki.Report{CA: pki.Result{Name: "ca", Action: pki.Reused}},
		Steps: []install.StepChange{{ID: "services", Title: "Start the services"},
			{ID: "validate", Title: "Prove the security claims on the running system", Run: true, ObservesOnly: true}}}
	if got := PlanSummary(same); !strings.HasPrefix(got, "No changes") {
		t.Errorf("plan with nothing to do: %q", got)
	}
}
