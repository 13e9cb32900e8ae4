package tui

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// The answers file the wizard saves and the copy the install keeps in the
// install dir are one format: the same bytes and mode for the same
// answers, so the file a person keeps is the installation's, and an
// install from it finds its answers unchanged.
func TestWizardAndInstallWriteTheSameAnswersFile(t *testing.T) {
	a := answers.Defaults(answers.Demo)
	a.InstallDir = filepath.Join(t.TempDir(), "stack")
	a.Host.IPs = []string{"192.0.2.10"}

	saved := filepath.Join(t.TempDir(), "answers.yaml")
	if msg := saveAnswers(saved, a, false)().(savedMsg); msg.err != nil {
		t.Fatalf("the wizard's save: %v", msg.err)
	}

	env := &install.Env{Installation: installation.New(a.InstallDir, "handle-test"), Answers: a}
	step := install.InstallDirStep{Env: env}
	if err := (&steps.Runner{Plan: (&steps.Plan{}).Then(step), Project: env.Project}).Run(context.Background()); err != nil {
		t.Fatalf("the install-dir step: %v", err)
	}

	wizard, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := os.ReadFile(env.AnswersFile())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wizard, kept) {
		t.Fatalf("the wizard wrote\n%s\nthe install dir keeps\n%s", wizard, kept)
	}
	wi, _ := os.Stat(saved)
	ki, _ := os.Stat(env.AnswersFile())
	if wi.Mode().Perm() != ki.Mode().Perm() {
		t.Fatalf("modes differ: the wizard's %v, the install dir's %v", wi.Mode().Perm(), ki.Mode().Perm())
	}
	if done, err := step.Check(context.Background()); err != nil || !done {
		t.Fatalf("the install-dir step does not find the answers it kept: %v, %v", done, err)
	}
}
