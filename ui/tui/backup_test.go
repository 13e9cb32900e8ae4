package tui

import (
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// Continuous archiving follows the profile chosen in the wizard, and the
// review says which recovery point the choice gives.
func TestWizardArchivingFollowsTheProfile(t *testing.T) {
	d := newDraft(answers.Defaults(answers.Production))
	if a := d.answers(); !a.Backup.WALArchiving || !strings.Contains(backupSummary(a), "at most 5m of changes") {
		t.Fatalf("production: archiving %v, review %q", a.Backup.WALArchiving, backupSummary(a))
	}
	d.profile = answers.Demo
	if a := d.answers(); a.Backup.WALArchiving || !strings.Contains(backupSummary(a), "continuous archiving off") {
		t.Fatalf("switched to demo: archiving %v, review %q", a.Backup.WALArchiving, backupSummary(a))
	}
	d = newDraft(answers.Defaults(answers.Demo))
	d.profile = answers.Production
	if a := d.answers(); !a.Backup.WALArchiving {
		t.Fatal("switched to production: archiving stays off")
	}
}
