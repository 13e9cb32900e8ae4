package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

func newUninstallCmd(a *app) *cobra.Command {
	var purge, yes bool
	var t targetFlags
	var src answersSource
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Stop and remove the stack; data is kept unless --purge",
		Long: `Stop and remove the stack's containers and networks.

Data volumes (the database, Vault's storage) and the installation directory
(certificates, configuration, backups) are kept, so a later install picks
them up again. --purge also deletes those, after a typed confirmation or
--yes; take a backup first.

With --target kubernetes it deletes every object of the installation's
namespaces labelled app.kubernetes.io/managed-by=fineract-installer, and its
cluster-scoped ones; PersistentVolumeClaims and the namespaces are kept
unless --purge. The namespaces come from the installation's answers, or
--answers FILE.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			onKube, err := t.kubernetes()
			if err != nil {
				return err
			}
			if onKube {
				return runUninstallKube(cmd, a, src, t, purge, yes)
			}
			if err := refuseKubeOnly(cmd, "answers", "demo"); err != nil {
				return err
			}
			if err := refuseWhileLocked(a); err != nil {
				return err
			}
			e, err := a.engine(ctx)
			if err != nil {
				return err
			}
			defer e.Close()
			if err := a.adoptProject(); err != nil {
				return err
			}
			st, err := e.Status(ctx, a.project)
			if err != nil {
				return err
			}
			if err := confirmUninstall(a, len(st), purge, yes); err != nil {
				return err
			}
			unlock, err := lockInstallation(a)
			if err != nil {
				return err
			}
			defer unlock()
			// Recorded only in an installation's own directory: --dir may
			// name one the installer did not make.
			record := ""
			if ok, err := installdir.Exists(a.dir); err == nil && ok {
				record = a.dir
			}
			step := install.UninstallStep{Engine: e, Project: a.project, Dir: a.dir, Purge: purge}
			if err := runDay2(ctx, a, "uninstall", record, (&steps.Plan{}).Then(step)); err != nil {
				return err
			}
			p := a.printer()
			secrets := installdir.ProjectRunDir(a.project)
			if !p.json() {
				if purge {
					fmt.Fprintf(a.io.Out, "Project %s is removed, data and delivered secrets included.\n", a.project)
				} else {
					fmt.Fprintf(a.io.Out, "Project %s is stopped and removed; its data volumes and %s are kept, and so are the delivered secret files in %s (in memory only, gone at the next reboot), so that `install` can start the services again without the key holders. `uninstall --purge` removes them all.\n", a.project, a.dir, secrets)
				}
			}
			return nil
		},
	}
	t.flags(cmd)
	src.flags(cmd)
	cmd.Flags().BoolVar(&purge, "purge", false, "also delete data volumes and the installation directory")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (needed when not running in a terminal)")
	return cmd
}

// confirmUninstall asks before removing anything. Purging needs the project
// name typed back, because it deletes the bank's data.
func confirmUninstall(a *app, containers int, purge, yes bool) error {
	if yes {
		return nil
	}
	if !a.io.CanPrompt() {
		return usageError("uninstall removes the running stack: pass --yes to confirm when not running in a terminal")
	}
	if purge {
		fmt.Fprintf(a.io.Out, "This deletes project %s for good: %d containers, its networks, its data volumes (the database and Vault's storage) and %s.\nType the project name to confirm: ", a.project, containers, a.dir)
		answer, err := a.io.ReadLine()
		if err != nil || strings.TrimSpace(answer) != a.project {
			return usageError("not confirmed; nothing was removed")
		}
		return nil
	}
	return confirm(a, false, "uninstall removes the running stack", fmt.Sprintf("Stop and remove the %d containers and the networks of project %s? Data is kept.", containers, a.project))
}
