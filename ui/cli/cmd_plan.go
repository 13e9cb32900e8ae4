package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/ui/textout"
)

func newPlanCmd(a *app) *cobra.Command {
	var src answersSource
	var bundle string
	var accept []string
	var t targetFlags
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what install would change on this host, changing nothing",
		Long: `Show what ` + "`install`" + ` would do with these answers on this host, without
changing anything: for each service whether its container would be
created, recreated, started, removed or left unchanged, and why (the image
reference or ID, which configuration file or secret, which setting of the
container); the networks and volumes to create (an apply never removes a
volume); the images to pull, with their download size where the registry
tells it; the certificates to issue; and the steps that would run.

Without --answers or --demo, the plan uses the installation's own answers
(a rerun). A new installer release whose pinned images differ shows here
what its install or upgrade would change.

Nothing is written: no install dir, state, lock, certificate or Vault
entry. Exit code 0 means no changes, 5 means changes are pending.

With --target kubernetes, each rendered object is applied in a
server-side dry run and compared with the live one: the plan lists the
objects to create, those to change and the unchanged ones.`,
		Example: `  fineract-installer plan
  fineract-installer plan --answers answers.yaml
  fineract-installer plan --answers answers.yaml --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			onKube, err := t.kubernetes()
			if err != nil {
				return err
			}
			if onKube {
				if err := refuseDockerOnly(cmd, "images-bundle", "accept-image-change"); err != nil {
					return err
				}
				return runPlanKube(cmd, a, src, t)
			}
			ans, err := planAnswers(a, src, cmd.Flags().Changed("dir"))
			if err != nil {
				return err
			}
			if bundle != "" {
				ans.Images = answers.Images{Source: answers.ImagesBundle, Bundle: bundle}
			}
			if err := ans.Validate(); err != nil {
				return withCode(ExitUsage, err)
			}
			if err := installdir.Claimable(ans.InstallDir); err != nil {
				return withCode(ExitUsage, err)
			}
			a.dir = ans.InstallDir
			if err := a.adoptProject(); err != nil {
				return err
			}
			// A plan taken while another command changes the installation
			// would describe a moment that is passing.
			if err := refuseWhileLocked(a); err != nil {
				return err
			}
			e, err := a.engine(ctx)
			if err != nil {
				return err
			}
			defer e.Close()
			env, err := install.NewEnv(ans, a.project, ans.InstallDir, installdir.SecretsDir(a.project), e)
			if err != nil {
				return src.renderError(err)
			}
			if err := acceptImageChanges(env, accept); err != nil {
				return err
			}
			if err := loadCertImports(ctx, env); err != nil {
				return err
			}
			changes, err := install.PlanChanges(ctx, env)
			if err != nil {
				return err
			}
			p := a.printer()
			if p.json() {
				if err := p.record(typePlan, changes); err != nil {
					return err
				}
			} else if _, err := fmt.Fprint(a.io.Out, textout.Plan(p.st, changes, p.width)); err != nil {
				return err
			}
			if changes.Pending() {
				return &silentError{code: ExitChangesPending}
			}
			return nil
		},
	}
	src.flags(cmd)
	t.flags(cmd)
	cmd.Flags().StringArrayVar(&accept, "accept-image-change", nil, "plan as for install --accept-image-change `SERVICE` (repeatable)")
	cmd.Flags().StringVar(&bundle, "images-bundle", "", "plan as for install --images-bundle `FILE`: missing images are loaded from it")
	return cmd
}

// planAnswers are the answers to plan with: the file or demo defaults
// given, else the installation's own (a rerun).
func planAnswers(a *app, src answersSource, dirSet bool) (answers.Answers, error) {
	if src.file != "" || src.demo {
		ans, err := src.load()
		if err != nil {
			return ans, err
		}
		if dirSet {
			ans.InstallDir = a.dir
		}
		return ans, nil
	}
	inst, err := a.open()
	if err != nil {
		return answers.Answers{}, usageHint(err, "pass --answers FILE (or --demo) to plan a new installation, or --dir for an existing one")
	}
	ans, err := answers.Load(inst.AnswersFile())
	if err != nil {
		return answers.Answers{}, withCode(ExitUsage, fmt.Errorf("the installation's answers: %w", err))
	}
	ans.InstallDir = inst.Dir
	return ans, nil
}
