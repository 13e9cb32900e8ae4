package textout

import (
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps"
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
