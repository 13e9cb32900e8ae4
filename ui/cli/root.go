package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// app is what every command shares: streams, global flags, build info.
type app struct {
	io      *Streams
	build   BuildInfo
	dir     string
	project string
	// projectSet says --project was given, not defaulted.
	projectSet bool
	output     string
	noColor    bool
	accessible bool
}

// BuildInfo identifies the binary.
type BuildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Go      string `json:"go"`
}

func (a *app) printer() *printer {
	return newPrinter(a.io.Out, a.output, a.color(a.io.OutTTY))
}

func (a *app) errPrinter() *printer {
	return newPrinter(a.io.Err, formatText, a.color(a.io.ErrTTY))
}

// color is on for terminals unless --no-color or NO_COLOR says otherwise.
func (a *app) color(tty bool) bool {
	return tty && !a.noColor && os.Getenv("NO_COLOR") == ""
}

// engine connects to Docker; an unreachable engine maps to exit code 3.
func (a *app) engine(ctx context.Context) (*compose.Engine, error) {
	e, err := compose.Connect(ctx)
	if err != nil {
		return nil, withCode(ExitHostNotOK, err)
	}
	return e, nil
}

// Main runs the program with args (without the program name) and returns
// the exit code. It prints any error once, to stderr.
func Main(ctx context.Context, args []string, io *Streams, build BuildInfo) int {
	a := &app{io: io, build: build}
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
			a.errPrinter().explanation(x)
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
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runWizard(cmd.Context(), a) },
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError("%v\n  run `%s --help` for the flags", err, cmd.CommandPath())
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
		newImagesCmd(a),
		newUnsealCmd(a),
		newCertsCmd(a),
		newValidateCmd(a),
		newBackupCmd(a),
		newRestoreCmd(a),
		newDiagnoseCmd(a),
		newCredentialsCmd(a),
		newTenantsCmd(a),
		newDemoCmd(a),
	)
	return root
}
