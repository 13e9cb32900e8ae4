package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// app is what every command shares: streams, global flags, build info.
type app struct {
	f       *factory
	io      *Streams
	build   BuildInfo
	dir     string
	project string
	// projectSet says --project was given, not defaulted.
	projectSet bool
	output     string
	noColor    bool
	accessible bool
	// command and commandArgs are the command line being run as the
	// audit log records it (invocation).
	command     string
	commandArgs []string
}

// BuildInfo identifies the binary.
type BuildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Go      string `json:"go"`
}

func (a *app) printer() *printer {
	p := newPrinter(a.io.Out, a.output, a.color(a.io.OutTTY))
	if f, ok := a.io.Out.(*os.File); ok && a.io.OutTTY {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			p.width = w
		}
	}
	return p
}

// errPrinter writes to stderr: errors, in the format --output asks for.
func (a *app) errPrinter() *printer {
	return newPrinter(a.io.Err, a.output, a.color(a.io.ErrTTY))
}

// color is on for terminals unless --no-color or NO_COLOR says otherwise.
func (a *app) color(tty bool) bool {
	return tty && !a.noColor && a.f.Getenv("NO_COLOR") == ""
}

// engine connects to Docker; an unreachable engine maps to exit code 3.
func (a *app) engine(ctx context.Context) (*compose.Engine, error) {
	e, err := a.f.Engine(ctx)
	if err != nil {
		return nil, withCode(ExitHostNotOK, err)
	}
	return e, nil
}

// connect is engine for commands that go on without an engine (preflight
// reports why it is missing): the error is returned as it is.
func (a *app) connect(ctx context.Context) (*compose.Engine, error) {
	return a.f.Engine(ctx)
}

// now is the factory's clock.
func (a *app) now() time.Time { return a.f.Now() }

// Main runs the program with args (without the program name) and returns
// the exit code. It prints any error once, to stderr.
func Main(ctx context.Context, args []string, io *Streams, build BuildInfo) int {
	return mainWith(ctx, args, newFactory(io), build)
}

// mainWith is Main with the dependencies f builds.
func mainWith(ctx context.Context, args []string, f *factory, build BuildInfo) int {
	io := f.IO
	a := &app{f: f, io: io, build: build}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	err := root.ExecuteContext(ctx)
	code := exitCode(err)
	if err != nil {
		if _, silent := err.(*silentError); !silent {
			x := steps.Explain(err)
			if code == ExitInterrupted {
				x = steps.Explanation{Cause: "interrupted; nothing is left half-done: run the same command again to continue"}
			}
			a.errPrinter().explanation(x, code)
		}
	}
	return code
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "fineract-installer",
		Short: "Install, prove and keep a hardened Apache Fineract + Mifos X stack on one Docker host",
		Long: `fineract-installer installs a hardened Apache Fineract + Mifos X core-banking
stack on one Docker host, then validates, diagnoses, backs up and restores it.

Run it without arguments in a terminal for the guided wizard.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError("unknown command %q; run `fineract-installer --help` for the list", args[0])
			}
			return nil
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if a.output != formatText && a.output != formatJSON {
				return usageError("--output %q is not known; use text or json", a.output)
			}
			if err := compose.CheckProjectName(a.project); err != nil {
				return withCode(ExitUsage, fmt.Errorf("--project: %w", err))
			}
			a.projectSet = cmd.Flags().Changed("project")
			a.command, a.commandArgs = invocation(cmd, args)
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runWizard(cmd.Context(), a) },
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageHint(err, fmt.Sprintf("run `%s --help` for the flags", cmd.CommandPath()))
	})
	root.SetHelpCommand(&cobra.Command{Hidden: true})
	pf := root.PersistentFlags()
	pf.StringVar(&a.dir, "dir", answers.DefaultInstallDir(), "installation `DIR` (certificates, configuration, state)")
	pf.StringVar(&a.project, "project", "fineract", "compose project `NAME` (docker compose -p NAME sees the same containers)")
	pf.StringVarP(&a.output, "output", "o", formatText, "output `FORMAT`: text or json")
	pf.BoolVar(&a.noColor, "no-color", false, "no colours in output (NO_COLOR is honoured too)")
	root.Flags().BoolVar(&a.accessible, "accessible", false, "line-by-line prompts for screen readers instead of full-screen forms")
	root.AddCommand(
		newVersionCmd(a),
		newAnswersCmd(a),
		newStatusCmd(a),
		newLogsCmd(a),
		newUninstallCmd(a),
		newRenderCmd(a),
		newInstallCmd(a),
		newPlanCmd(a),
		newImagesCmd(a),
		newUnsealCmd(a),
		newCertsCmd(a),
		newValidateCmd(a),
		newBackupCmd(a),
		newRestoreCmd(a),
		newUpgradeCmd(a),
		newDiagnoseCmd(a),
		newCredentialsCmd(a),
		newTenantsCmd(a),
		newDemoCmd(a),
		newAuditCmd(a),
		newWALPushCmd(a),
		newWALFetchCmd(a),
	)
	return root
}
