package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/audit"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// recordedFlags are the flags whose values the audit log records: each
// holds a path, a name, a time or a format, never a secret. Any other
// flag given is recorded by name alone ("--key=(not recorded)"), so a
// flag added later cannot put a secret in the log by being forgotten
// here. Flags of type bool, int and duration hold no data and are always
// recorded.
var recordedFlags = map[string]bool{
	"dir": true, "project": true, "output": true,
	"answers": true, "images-bundle": true, "accept-image-change": true,
	"out": true, "tenant": true, "prefix": true, "at": true,
	"target": true, "kubeconfig": true, "context": true, "vault-token-file": true,
}

// withheldArgs are the commands whose positional arguments are not
// recorded; every other changing command takes files, services or tenant
// names, none of them secret.
var withheldArgs = map[string]bool{}

// notRecorded stands for a value the audit log leaves out.
const notRecorded = "(not recorded)"

// invocation is the command line the audit log records: the command
// path without the program name (empty for the program alone), and its
// arguments filtered by recordedFlags.
func invocation(cmd *cobra.Command, args []string) (string, []string) {
	// The program alone (the wizard) names no command: the caller does.
	command := ""
	if root := cmd.Root(); root != cmd {
		command = cmd.CommandPath()[len(root.Name())+1:]
	}
	out := []string{}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		switch t := f.Value.Type(); {
		case t == "bool" || t == "int" || t == "count" || t == "duration":
			out = append(out, "--"+f.Name+"="+f.Value.String())
		case !recordedFlags[f.Name]:
			out = append(out, "--"+f.Name+"="+notRecorded)
		default:
			if s, ok := f.Value.(pflag.SliceValue); ok {
				for _, v := range s.GetSlice() {
					out = append(out, "--"+f.Name+"="+v)
				}
				return
			}
			out = append(out, "--"+f.Name+"="+f.Value.String())
		}
	})
	if withheldArgs[command] && len(args) > 0 {
		return command, append(out, fmt.Sprintf("(%d arguments not recorded)", len(args)))
	}
	return command, append(out, args...)
}

// hostUser is who runs the installer: the process's uid and its name,
// and, under sudo, who sudo says ran it.
func hostUser(getenv func(string) string) audit.User {
	u := audit.User{UID: os.Getuid()}
	if pw, err := user.LookupId(strconv.Itoa(u.UID)); err == nil {
		u.Name = pw.Username
	}
	// SUDO_UID and SUDO_USER are what sudo put in the environment: a
	// claim worth recording, not proof (root can set them to anything).
	if _, err := strconv.Atoi(getenv("SUDO_UID")); err == nil {
		u.SudoUID = getenv("SUDO_UID")
	}
	if s := getenv("SUDO_USER"); s != "" && len(s) <= 64 {
		u.SudoUser = s
	}
	return u
}

// auditTrail records one changing command's run in the install dir's
// audit log. It is begun before the command changes anything, so a log
// that cannot be written stops the command first, and it is finished
// after the run whatever its result.
type auditTrail struct {
	a    *app
	dir  string
	base audit.Entry
	rec  audit.Recorder
}

// beginAudit checks that the audit log in dir can be appended to and
// returns the trail that will record the run. A dir that does not exist
// yet (a restore onto a fresh host) is checked when the run is over; an
// empty dir records nothing (a directory the installer did not make).
func beginAudit(a *app, command, dir string) (*auditTrail, error) {
	if dir == "" {
		return nil, nil
	}
	t := &auditTrail{a: a, dir: dir, base: audit.Entry{User: hostUser(a.f.Getenv)}}
	t.base.Command, t.base.Args = a.command, a.commandArgs
	if t.base.Command == "" {
		t.base.Command = command
	}
	switch ok, err := installdir.Exists(dir); {
	case errors.Is(err, installdir.ErrNotInstallDir):
		return nil, nil // not the installer's: nothing of it is written
	case err != nil || !ok:
		return t, nil
	}
	if err := audit.Writable(dir); err != nil {
		return nil, withCode(ExitFailed, steps.Fail(
			fmt.Errorf("%s changes nothing it cannot record: %w", t.base.Command, err),
			"make the audit log writable again (its entries are needed by auditors: do not delete it), then run the command again"))
	}
	return t, nil
}

// observe passes every event of plan's run to next and to the recorder.
func (t *auditTrail) observe(plan *steps.Plan, next func(steps.Event)) func(steps.Event) {
	if t == nil {
		return next
	}
	for _, s := range plan.Steps() {
		if c, ok := s.(audit.ChangesInEvents); ok && c.ChangesInEvents() {
			t.rec.StepsReportingChanges(s.ID())
		}
	}
	return func(e steps.Event) {
		t.rec.Observe(e)
		next(e)
	}
}

// finish appends the run's entry and returns the error the command ends
// with. An entry that cannot be written fails the command (exit 1) even
// after a run that succeeded: a change that left no record is what an
// auditor must hear about, and the message says what was done.
func (t *auditTrail) finish(ctx context.Context, runErr error) error {
	if t == nil {
		return runErr
	}
	base := t.base
	base.Time = t.a.now().UTC()
	e := t.rec.Entry(base, runErr, runErr != nil && ctx.Err() != nil)
	ok, err := installdir.Exists(t.dir)
	switch {
	case err == nil && !ok:
		return runErr // uninstall --purge removed the install dir, audit log included
	case err == nil:
		var head audit.Head
		if head, err = audit.Append(t.dir, e); err == nil {
			t.keepHead(ctx, head)
		}
	}
	if err != nil {
		aerr := fmt.Errorf("%s ended (%s) but its audit entry could not be written: %w", e.Command, e.Result, err)
		if runErr != nil {
			fmt.Fprintf(t.a.io.Err, "%s %v\n", t.a.errPrinter().bad.Render("✗"), aerr)
			return runErr
		}
		return withCode(ExitFailed, steps.Fail(aerr, "the change is in place; record it by hand for the auditors and make the audit log writable again"))
	}
	return runErr
}
