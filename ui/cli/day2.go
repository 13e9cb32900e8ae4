package cli

import (
	"context"
	"fmt"

	"github.com/fineract-installer/fineract-installer/steps"
)

// lockInstallation takes the install dir's lock for a day-2 command,
// before anything of the installation is read: a restore holds it while
// the directory it puts in place is not whole yet, and two commands
// changing one installation at once would undo each other's work.
func lockInstallation(a *app) (func(), error) {
	unlock, err := steps.Lock(a.dir)
	if err != nil {
		return nil, withCode(ExitFailed, err)
	}
	return unlock, nil
}

// refuseWhileLocked refuses a day-2 command at once while another command
// holds the installation's lock, before its own input is checked; it
// makes no lock file, so input refused afterwards leaves nothing behind.
// The command takes the lock (lockInstallation) before its first change.
func refuseWhileLocked(a *app) error {
	if err := steps.Held(a.dir); err != nil {
		return withCode(ExitFailed, err)
	}
	return nil
}

// runDay2 runs a day-2 command's plan as install runs its own: through
// the runner, its events to the printer, its failures reported by the
// failed event (cause and hint), and its run recorded in the install
// dir's record of that command (dir; empty records nothing), apart from
// the install's record, and appended to its audit log, whatever the
// result. The caller holds the lock.
func runDay2(ctx context.Context, a *app, command, dir string, plan *steps.Plan) error {
	return runDay2To(ctx, a, command, dir, plan, a.printer().stepEvent)
}

// runDay2To is runDay2 with the events going to emit: the deploy view
// draws them instead of the printer.
func runDay2To(ctx context.Context, a *app, command, dir string, plan *steps.Plan, emit func(steps.Event)) error {
	trail, err := beginAudit(a, command, dir)
	if err != nil {
		return err
	}
	r := &steps.Runner{Plan: plan, Dir: dir, Project: a.project, Command: command, Events: trail.observe(plan, emit)}
	err = r.Run(ctx)
	switch {
	case err != nil && ctx.Err() != nil:
		err = fmt.Errorf("%s: %w", command, context.Canceled)
	case err != nil:
		err = stepsFailed(err)
	}
	return trail.finish(ctx, err)
}
