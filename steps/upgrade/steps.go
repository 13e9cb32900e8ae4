package upgrade

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/backup"
	"github.com/fineract-installer/fineract-installer/steps/backup/archive"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// Step IDs the journal's decision reads (see ReplacementStarted).
const renderStepID = "render"

var replaceStepPrefix = regexp.MustCompile(`^upgrade-service-`)

// Options are what the plan needs besides the installation.
type Options struct {
	// Backup is the backup taken first; its Out is chosen by the plan.
	Backup backup.Options
	// Results receives the checklist run after the upgrade.
	Results func([]validate.Result)
	// HealthTimeout, when set, replaces each replaced service's own health
	// budget (Fineract's is 15 minutes, for its migrations): an operator
	// who knows the release starts in two minutes need not wait fifteen
	// for a broken one to be rolled back.
	HealthTimeout time.Duration
}

// Plan is the upgrade: a backup, verified; the new images made present;
// the new configuration; each changed service replaced in dependency
// order, waited for until healthy; the checklist; the new image record.
// The backup is taken of the stack as it runs (Old).
func (u *Upgrade) Plan(o Options) *steps.Plan {
	o.Backup.Out = filepath.Join(u.Env.BackupsDir(), "backup-"+time.Now().UTC().Format("20060102T150405Z")+".fib")
	o.Backup.Keep = 0 // an upgrade never removes a backup
	all := backup.Steps(u.Old, o.Backup, nil)
	all = append(all, verifyBackupStep{u: u, file: o.Backup.Out, passphrase: o.Backup.Passphrase},
		imagesStep{u}, install.RenderStep{Env: u.Env})
	for _, c := range u.Changes {
		all = append(all, replaceStep{u: u, change: c, timeout: o.HealthTimeout})
	}
	if _, ok := u.Change("fineract"); ok {
		// A new Fineract may run the tenant store's changelogs again.
		all = append(all, install.TenantTLSStep{Env: u.Env})
	}
	all = append(all, install.ValidateStep{Env: u.Env, Results: o.Results}, recordStep{u})
	p := &steps.Plan{}
	for _, s := range all {
		p.Then(observed{Step: s, f: &u.failed})
	}
	return p
}

// verifyBackupStep authenticates every byte of the backup just written,
// then writes the journal naming it: from here a failure rolls back to it.
type verifyBackupStep struct {
	u          *Upgrade
	file       string
	passphrase []byte
}

func (verifyBackupStep) ID() string                          { return "upgrade-verify-backup" }
func (verifyBackupStep) Title() string                       { return "Verify the backup taken before the upgrade" }
func (verifyBackupStep) Check(context.Context) (bool, error) { return false, nil }
func (s verifyBackupStep) Run(_ context.Context, emit steps.Emitter) error {
	f, err := os.OpenFile(s.file, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("open the backup just written: %w", err)
	}
	defer f.Close()
	info, err := archive.Verify(f, s.passphrase)
	if err != nil {
		return steps.Fail(fmt.Errorf("the backup just written does not verify: %w", err), "nothing was changed; check the disk holding the backups dir, then run the upgrade again")
	}
	emit.Info(s.file, fmt.Sprintf("%d chunks authenticated", info.Chunks))
	j := Journal{Stack: s.u.Stack, Backup: filepath.Base(s.file), Started: time.Now().UTC()}
	if err := j.Save(s.u.Env.Dir); err != nil {
		return steps.Fail(err, "nothing was changed; free some space in the install dir and run the upgrade again")
	}
	return nil
}

// imagesStep makes the new images present, pulled or loaded from the
// answers' images bundle, while everything keeps running, and resolves
// each new reference to the image the replacements may start.
type imagesStep struct{ u *Upgrade }

func (imagesStep) ID() string                          { return "upgrade-images" }
func (imagesStep) Title() string                       { return "Make the new images available" }
func (imagesStep) Check(context.Context) (bool, error) { return false, nil }
func (s imagesStep) Run(ctx context.Context, emit steps.Emitter) error {
	env := s.u.Env
	opts := compose.ImageOptions{}
	if env.Answers.Images.Source == answers.ImagesBundle {
		opts.Bundle = env.Answers.Images.Bundle
	}
	refs := make([]string, 0, len(s.u.Changes))
	for _, c := range s.u.Changes {
		refs = append(refs, c.To)
	}
	ids, err := env.Engine.EnsureImages(ctx, refs, opts, emit)
	if err != nil {
		return err
	}
	var found []compose.ServiceImage
	for _, svc := range env.Bundle.Services {
		f := compose.ServiceImage{Service: svc.Name, Image: svc.Image}
		if c, ok := s.u.Change(svc.Name); ok {
			f.ID = ids[c.To]
		} else {
			f.ID = s.u.Record.Services[svc.Name].ID
		}
		found = append(found, f)
	}
	s.u.pending = s.u.Record.Upgraded(found, s.u.Stack, time.Now())
	for _, c := range s.u.Changes {
		emit.Info(c.Service, fmt.Sprintf("%s is %s here", c.To, ids[c.To]))
	}
	return nil
}

// replaceStep replaces one service with its new image and waits, within
// the service's health budget, until it is healthy.
type replaceStep struct {
	u       *Upgrade
	change  Change
	timeout time.Duration // Options.HealthTimeout
}

func (s replaceStep) ID() string { return "upgrade-service-" + s.change.Service }
func (s replaceStep) Title() string {
	return fmt.Sprintf("Replace %s: %s -> %s", s.change.Service, s.change.From, s.change.To)
}

// Check says no: the step runs in a run that took its own backup, and
// bringing a converged service up again returns at once.
func (replaceStep) Check(context.Context) (bool, error) { return false, nil }

func (s replaceStep) Run(ctx context.Context, emit steps.Emitter) error {
	env := s.u.Env
	if len(s.u.pending.Services) == 0 {
		return fmt.Errorf("replace %s: the new images were not resolved in this run", s.change.Service)
	}
	svc, _ := env.Bundle.Service(s.change.Service)
	budget := svc.HealthBudget
	if s.timeout > 0 {
		budget = s.timeout
	}
	if budget <= 0 {
		budget = 15 * time.Minute
	}
	p, err := env.LoadProject(ctx)
	if err != nil {
		return err
	}
	err = env.Engine.Up(ctx, p, compose.UpOptions{Services: []string{s.change.Service}, WaitTimeout: budget, Policy: env.Policy()}, emit)
	if err != nil {
		return &steps.Failure{
			Cause: fmt.Sprintf("%s on %s did not become healthy within %s: %v", s.change.Service, s.change.To, budget, err),
			Hint:  "the upgrade rolls back to the recorded images; the log lines above say why the new release did not start",
			Err:   err,
		}
	}
	return nil
}

// recordStep moves the image record to the new images and ends the
// journal: the upgrade has succeeded.
type recordStep struct{ u *Upgrade }

func (recordStep) ID() string                          { return "upgrade-record" }
func (recordStep) Title() string                       { return "Record the new images" }
func (recordStep) Check(context.Context) (bool, error) { return false, nil }
func (s recordStep) Run(_ context.Context, emit steps.Emitter) error {
	if err := s.u.pending.Save(s.u.Env.Dir); err != nil {
		return err
	}
	for _, c := range s.u.Changes {
		emit.Info(c.Service, fmt.Sprintf("recorded %s as %s", c.To, s.u.pending.Services[c.Service].ID))
	}
	return RemoveJournal(s.u.Env.Dir)
}
