package textout

import (
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/preflight"
)

// After a rollback the screen says what failed, with the service's last
// log lines, and which images the stack runs again.
func TestUpgradeScreenAfterRollback(t *testing.T) {
	u := Upgrade{FromStack: "2026.12", ToStack: "lab-2",
		Changes: []ImageChange{{Service: "fineract", From: "openmf/fineract:1.14.0", To: "lab/fineract:2.0.0"}}}
	done := UpgradeDone(Plain(), u, 0)
	if !strings.Contains(done, "Upgraded 2026.12 -> lab-2") || !strings.Contains(done, "fineract  openmf/fineract:1.14.0 -> lab/fineract:2.0.0") {
		t.Errorf("success screen:\n%s", done)
	}
	u.Failure = steps.Explanation{Cause: "fineract did not become healthy", Subject: "fineract", Logs: []string{"migration 0042 applied", "health: DOWN"}, Hint: "not shown"}
	back := UpgradeDone(Plain(), u, 0)
	for _, want := range []string{"rolled back: fineract did not become healthy", "last log lines of fineract:", "    health: DOWN",
		"back on the images it ran before", "fineract  lab/fineract:2.0.0 -> openmf/fineract:1.14.0"} {
		if !strings.Contains(back, want) {
			t.Errorf("rollback screen lacks %q:\n%s", want, back)
		}
	}
	if strings.Contains(back, "not shown") || u.Changes[0].From != "openmf/fineract:1.14.0" {
		t.Errorf("the rollback screen showed the upgrade's hint or changed its input:\n%s", back)
	}
}

// Before it starts, the upgrade names each container it replaces with the
// plan's reason and the images it fetches with their size; unchanged
// services and images already here are left out.
func TestUpgradePlanShowsEachContainersReason(t *testing.T) {
	u := Upgrade{FromStack: "2026.12", ToStack: "lab-2",
		Changes: []ImageChange{{Service: "fineract", From: "openmf/fineract:1.14.0", To: "lab/fineract:2.0.0"}},
		Steps:   []string{"Back up", "Replace fineract"},
		Plan: &install.Changes{
			Stack: &compose.ProjectPlan{
				Services: []compose.ServiceChange{
					{Service: "fineract", Action: compose.ServiceRecreate, Reasons: []string{"image openmf/fineract:1.14.0 → lab/fineract:2.0.0 (sha256:2)"}},
					{Service: "postgres", Action: compose.ServiceUnchanged},
				},
				Images: []compose.ImageChange{
					{Ref: "lab/fineract:2.0.0", Action: compose.ImagePull},
					{Ref: "postgres:16.15-trixie", Action: compose.ImagePresent, ID: "sha256:1"},
				},
			},
			Downloads: []preflight.Download{{Ref: "lab/fineract:2.0.0", Bytes: 3 << 20, Known: true}},
		}}
	got := UpgradePlan(Plain(), u, 0)
	for _, want := range []string{"~ fineract: recreate (image openmf/fineract:1.14.0 → lab/fineract:2.0.0 (sha256:2))",
		"↓ lab/fineract:2.0.0: pull, download 3.0 MiB", " 2. Replace fineract"} {
		if !strings.Contains(got, want) {
			t.Errorf("upgrade plan lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "postgres") {
		t.Errorf("upgrade plan lists what it leaves alone:\n%s", got)
	}
}
