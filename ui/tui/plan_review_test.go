package tui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
)

// reviewChanges is what a rerun with an image moved on would change.
func reviewChanges(dir string) *install.Changes {
	return &install.Changes{Dir: dir, Project: "fineract", Stack: &compose.ProjectPlan{
		Services: []compose.ServiceChange{
			{Service: "fineract", Action: compose.ServiceRecreate, Reasons: []string{"image openmf/fineract:1.14.0 → openmf/fineract:1.15.0 (sha256:0123456789ab)"}},
			{Service: "postgres", Action: compose.ServiceUnchanged},
		},
	}, Steps: []install.StepChange{{ID: "services", Title: "Start the services", Run: true}}}
}

// On a rerun, the review screen shows what installing with the answers
// would change, planned with the answers on the screen, before "install".
func TestWizardReviewShowsThePlanOfAnExistingInstallation(t *testing.T) {
	opts := testWizardOptions(t, passingChecks())
	var planned []answers.Answers
	opts.Plan = func(_ context.Context, a answers.Answers) (*install.Changes, error) {
		planned = append(planned, a)
		return reviewChanges(a.InstallDir), nil
	}
	m := goTo(t, newTestWizard(t, opts, 140, 60), screenReview)
	if len(planned) != 1 || planned[0].InstallDir != m.d.answers().InstallDir {
		t.Fatalf("the review planned %d times, with %+v", len(planned), planned)
	}
	view := screen(m.View())
	for _, want := range []string{
		"An installation is already in " + m.d.answers().InstallDir,
		"~ fineract: recreate (image openmf/fineract:1.14.0 → openmf/fineract:1.15.0",
		"= postgres: unchanged",
		"Changes pending: 1 recreate, 1 unchanged, 1 of 1 steps run.",
	} {
		if !strings.Contains(strings.Join(strings.Fields(view), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("the review does not show %q:\n%s", want, view)
		}
	}

	// A plan that arrives for earlier answers is dropped.
	m = update(t, m, planDoneMsg{seq: m.plan.seq - 1, err: errors.New("stale")})
	if m.plan.err != nil {
		t.Errorf("a stale plan replaced the current one: %v", m.plan.err)
	}
}

// A first install (no installation in the install dir) shows no plan, and
// a plan that fails says so instead of showing nothing.
func TestWizardReviewPlanAbsentOrFailed(t *testing.T) {
	opts := testWizardOptions(t, passingChecks())
	opts.Plan = func(context.Context, answers.Answers) (*install.Changes, error) { return nil, nil }
	m := goTo(t, newTestWizard(t, opts, 140, 60), screenReview)
	if view := screen(m.View()); strings.Contains(view, "already in") || strings.Contains(view, "Changes pending") {
		t.Errorf("a first install shows a plan:\n%s", view)
	}
	opts.Plan = func(context.Context, answers.Answers) (*install.Changes, error) {
		return nil, errors.New("inspect network fineract_dmz: engine gone")
	}
	m = goTo(t, newTestWizard(t, opts, 140, 60), screenReview)
	if view := strings.Join(strings.Fields(screen(m.View())), " "); !strings.Contains(view, "What install would change is not known: inspect network fineract_dmz: engine gone") {
		t.Errorf("a failed plan is not reported:\n%s", view)
	}
}
