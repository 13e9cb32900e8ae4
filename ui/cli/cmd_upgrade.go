package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/backup"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/upgrade"
	"github.com/fineract-installer/fineract-installer/steps/validate"
	"github.com/fineract-installer/fineract-installer/ui/textout"
)

// upgradeCommand and rollbackCommand name the two runs' records
// (installation.CommandStateFile).
const (
	upgradeCommand  = "upgrade"
	rollbackCommand = "upgrade-rollback"
)

func newUpgradeCmd(a *app) *cobra.Command {
	var passFile string
	var force, yes bool
	var healthTimeout time.Duration
	var co custodyOptions
	cmd := &cobra.Command{
		Use:   "upgrade",
		Short: "Move the installation to this installer's images, with a backup first and an automatic way back",
		Long: `Move a running installation from the images it recorded to the ones this
installer release pins. Refused, with nothing changed: a Fineract downgrade
(the way back is restore), a jump over a Fineract release the upgrade path
requires, too little disk for the new images and the backup, an unhealthy
stack (unless --force and the project name typed).

Then: a backup into the backups dir, verified; the new images pulled (or
loaded from the answers' images bundle) while everything runs; the changed
services replaced one at a time in dependency order, each waited for until
healthy; validate. The image record moves to the new images only then.

If a replaced service does not become healthy, or validate fails, the
previous images and configuration are put back, and the databases from the
backup when Fineract (or Keycloak) was replaced, since their schema
migrations run forward only. A run interrupted after a service was
replaced is rolled back by the next run.`,
		Example: `  FINERACT_BACKUP_PASSPHRASE=... fineract-installer upgrade
  fineract-installer upgrade --passphrase-file /root/backup.pass --unseal-keys-file /media/usb/shares --yes`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if healthTimeout < 0 {
				return usageError("--health-timeout %s is negative; give how long a replaced service may take to become healthy, e.g. 5m", healthTimeout)
			}
			if err := requireInstallDir(a); err != nil {
				return err
			}
			unlock, err := lockInstallation(a)
			if err != nil {
				return err
			}
			defer unlock()
			env, done, err := installedEnv(ctx, a)
			if err != nil {
				return err
			}
			defer done()
			u, err := upgrade.New(ctx, env)
			if errors.Is(err, upgrade.ErrNoRecord) {
				return withCode(ExitFailed, steps.Fail(fmt.Errorf("%w; nothing was changed", err), "run `fineract-installer install` with this installation's answers once, which records its images"))
			}
			if err != nil {
				return withCode(ExitFailed, err)
			}
			j, journaled, err := upgrade.LoadJournal(a.dir)
			if err != nil {
				return withCode(ExitFailed, err)
			}
			// An earlier run that did not finish: rolled back when it had
			// begun to change the stack, whichever release runs now.
			var last *steps.State
			interrupted := false
			if journaled {
				if last, err = steps.LoadCommandState(a.dir, upgradeCommand); err != nil {
					return withCode(ExitFailed, err)
				}
				interrupted = u.Record.Stack != j.Stack && upgrade.ReplacementStarted(last)
			}
			p := a.printer()
			if !interrupted && u.UpToDate() {
				if err := upgrade.RemoveJournal(a.dir); err != nil {
					return withCode(ExitFailed, err)
				}
				if !p.json() {
					fmt.Fprintf(a.io.Out, "The installation already runs stack %s; nothing to upgrade.\n", u.Stack)
				}
				return nil
			}
			// A new backup needs a strong passphrase; rolling back opens the
			// one the interrupted run took.
			pass, err := backupPassphrase(a, passFile, !interrupted)
			if err != nil {
				return err
			}
			custody, err := custodyFor(a, env, co)
			if err != nil {
				return err
			}
			if interrupted {
				return rollBackInterrupted(ctx, a, u, j, last, pass)
			}
			// What an earlier run left had changed nothing, or had finished.
			if err := upgrade.RemoveJournal(a.dir); err != nil {
				return withCode(ExitFailed, err)
			}
			if err := checkUpgrade(ctx, a, u, force); err != nil {
				return err
			}
			var checklist []validate.Result
			plan := u.Plan(upgrade.Options{
				Backup:        backup.Options{Passphrase: pass, Custody: custody, Version: a.build.Version},
				Results:       func(rs []validate.Result) { checklist = rs },
				HealthTimeout: healthTimeout,
			})
			screen := upgradeScreen(u, plan)
			// What the new stack changes, container by container, found as
			// `plan` finds it; whatever the engine would refuse is refused
			// here, before the backup.
			if screen.Plan, err = install.PlanChanges(ctx, u.Env); err != nil {
				return withCode(ExitFailed, steps.Fail(fmt.Errorf("plan the upgrade: %w; nothing was changed", err),
					"`fineract-installer plan` with this installer shows the same; fix what it names, then run upgrade again"))
			}
			if !p.json() {
				fmt.Fprint(a.io.Out, textout.UpgradePlan(p.st, screen, p.width))
			}
			if err := confirm(a, yes, "upgrade replaces the stack's images", "Upgrade now?"); err != nil {
				return err
			}
			runErr := runDay2(ctx, a, upgradeCommand, a.dir, plan)
			if runErr == nil {
				screen.Checklist = checklist
				return finalUpgradeScreen(a, screen)
			}
			if ctx.Err() != nil {
				// A clean stop: the next run rolls back or starts afresh.
				return runErr
			}
			st, err := steps.LoadCommandState(a.dir, upgradeCommand)
			if err != nil {
				return withCode(ExitFailed, errors.Join(runErr, err))
			}
			if !upgrade.ReplacementStarted(st) {
				// Nothing was replaced: no way back is needed.
				return errors.Join(runErr, upgrade.RemoveJournal(a.dir))
			}
			_, screen.Failure, _ = u.Failure()
			j, _, err = upgrade.LoadJournal(a.dir)
			if err != nil {
				return withCode(ExitFailed, err)
			}
			rb := &upgrade.Rollback{U: u, Backup: j.BackupFile(env.Installation), Passphrase: pass,
				Databases: upgrade.NeedsDatabases(st), Results: func(rs []validate.Result) { screen.Checklist = rs }}
			if err := runDay2(ctx, a, rollbackCommand, a.dir, rb.Plan()); err != nil {
				return rollbackFailed(rb, err)
			}
			if err := finalUpgradeScreen(a, screen); err != nil {
				return err
			}
			return &silentError{code: ExitFailed}
		},
	}
	f := cmd.Flags()
	f.StringVar(&passFile, "passphrase-file", "", "`FILE` holding the passphrase of the backup taken first, one line (mode 0600)")
	f.DurationVar(&healthTimeout, "health-timeout", 0, "how long each replaced service may take to become healthy before the upgrade rolls back, as a `DURATION` (default: the service's own budget, 15m for Fineract)")
	f.BoolVar(&force, "force", false, "upgrade a stack that is not healthy, after typing the project name")
	f.BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	f.StringVar(&co.passphraseFile, "unseal-passphrase-file", "", "`FILE` holding the demo custody passphrase (mode 0600), to unseal Vault after the backup")
	f.StringVar(&co.keysFile, "unseal-keys-file", "", "`FILE` with unseal key shares, one per line (mode 0600), when no terminal is available")
	return cmd
}

// checkUpgrade runs the hard stops, before anything changes: the upgrade
// path (exit 2: this release cannot take the installation there), the
// stack's health and the disk (exit 3: the host is not ready).
func checkUpgrade(ctx context.Context, a *app, u *upgrade.Upgrade, force bool) error {
	refused := func(err error) error {
		var r *upgrade.Refusal
		if errors.As(err, &r) && r.Kind == upgrade.RefusedPath {
			return withCode(ExitUsage, err)
		}
		if errors.As(err, &r) {
			return withCode(ExitHostNotOK, err)
		}
		return withCode(ExitFailed, err)
	}
	if err := u.CheckPath(); err != nil {
		return refused(err)
	}
	if err := u.CheckHealth(ctx); err != nil {
		var r *upgrade.Refusal
		if !force || !errors.As(err, &r) {
			return refused(err)
		}
		if !a.io.CanPrompt() {
			return usageError("%v: --force needs the project name typed in a terminal; nothing was changed", err)
		}
		fmt.Fprintf(a.io.Out, "%s\nUpgrade anyway? Type the project name (%s): ", r.Cause, a.project)
		answer, rerr := a.io.ReadLine()
		if rerr != nil || strings.TrimSpace(answer) != a.project {
			return usageError("not confirmed; nothing was changed")
		}
	}
	if err := u.CheckDisk(ctx); err != nil {
		return refused(err)
	}
	return nil
}

// upgradeScreen is what the screens show of u and its plan.
func upgradeScreen(u *upgrade.Upgrade, plan *steps.Plan) textout.Upgrade {
	s := textout.Upgrade{FromStack: u.Record.Stack, ToStack: u.Stack}
	for _, c := range u.Changes {
		s.Changes = append(s.Changes, textout.ImageChange{Service: c.Service, From: c.From, To: c.To})
	}
	if plan != nil {
		for _, st := range plan.Steps() {
			s.Steps = append(s.Steps, st.Title())
		}
	}
	return s
}

// finalUpgradeScreen shows how the upgrade ended: the text screen, or in
// JSON the checklist (the events said the rest).
func finalUpgradeScreen(a *app, s textout.Upgrade) error {
	p := a.printer()
	if p.json() {
		return p.checklist(s.Checklist)
	}
	_, err := fmt.Fprint(a.io.Out, "\n"+textout.UpgradeDone(p.st, s, p.width))
	return err
}

// rollBackInterrupted puts back the images an interrupted upgrade was
// moving from, restoring the databases from its backup when a schema may
// have been migrated; the upgrade itself is for the next run.
func rollBackInterrupted(ctx context.Context, a *app, u *upgrade.Upgrade, j upgrade.Journal, last *steps.State, pass []byte) error {
	screen := upgradeScreen(u, nil)
	screen.Failure = steps.Explanation{Cause: "the upgrade to " + j.Stack + " was interrupted after it began to replace services"}
	rb := &upgrade.Rollback{U: u, Backup: j.BackupFile(u.Env.Installation), Passphrase: pass,
		Databases: upgrade.NeedsDatabases(last), Results: func(rs []validate.Result) { screen.Checklist = rs }}
	if err := runDay2(ctx, a, rollbackCommand, a.dir, rb.Plan()); err != nil {
		return rollbackFailed(rb, err)
	}
	if err := finalUpgradeScreen(a, screen); err != nil {
		return err
	}
	return withCode(ExitFailed, steps.Fail(errors.New("the interrupted upgrade was rolled back"), "run `fineract-installer upgrade` again to upgrade"))
}

// rollbackFailed reports a way back that did not finish: the backup is the
// way out.
func rollbackFailed(rb *upgrade.Rollback, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return withCode(ExitFailed, steps.Fail(errors.New("the upgrade failed and so did its rollback: the failed step above says why"),
		fmt.Sprintf("run `fineract-installer upgrade` again to retry the rollback, or restore the backup taken before the upgrade: `fineract-installer restore %s`", rb.Backup)))
}
