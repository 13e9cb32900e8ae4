package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/tenants"
)

func newDemoCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Classroom tools for the demo profile: snapshot and reset tenants",
		Long: `Classroom tools for the demo profile. A reset returns tenants to their last
snapshot in seconds, without reinstalling and without touching other
tenants, Vault or certificates. A snapshot is taken when a tenant is added,
and of the default tenant at the end of a demo install; ` + "`demo snapshot`" + `
takes a new one. Both are refused on the production profile.`,
		Args: noArgs,
	}
	cmd.AddCommand(newDemoTenantsCmd(a, "snapshot"), newDemoTenantsCmd(a, "reset"))
	return cmd
}

func newDemoTenantsCmd(a *app, verb string) *cobra.Command {
	short := map[string]string{
		"snapshot": "Remember the tenants' current data as the state `demo reset` returns to",
		"reset":    "Return tenants to their snapshot (all tenants when none is named)",
	}[verb]
	var restart bool
	cmd := &cobra.Command{
		Use:   verb + " [TENANT...]",
		Short: short,
		Example: fmt.Sprintf(`  fineract-installer demo %s               # every tenant
  fineract-installer demo %s student3`, verb, verb),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemoTenants(cmd.Context(), a, verb, args, restart)
		},
	}
	if verb == "reset" {
		// Fineract keeps each tenant's global configuration in memory
		// (configByName, GlobalConfigurationRepositoryWrapper in
		// apache/fineract 4198b0b), which a reset of the database does not
		// clear.
		cmd.Flags().BoolVar(&restart, "restart-fineract", false, "also restart Fineract (minutes), which forgets the global configuration it keeps in memory: needed when the class changed it (e.g. maker-checker)")
	}
	return cmd
}

func runDemoTenants(ctx context.Context, a *app, verb string, names []string, restart bool) error {
	env, pg, done, err := tenantsEnv(ctx, a)
	if err != nil {
		return err
	}
	defer done()
	if env.Answers.Profile != answers.Demo {
		return usageError("demo %s replaces tenants' databases, which the %s profile never allows (a bank's data is kept; use `fineract-installer backup` and `restore`); nothing was changed", verb, env.Answers.Profile)
	}
	ts, err := pg.CheckKnown(ctx, names, true)
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("%w; nothing was changed", err))
	}
	var targets, missing []string
	for _, t := range ts {
		switch {
		case !t.DatabaseExists && verb == "snapshot":
			missing = append(missing, t.Name+" (no database: finish it with `tenants add "+t.Name+"`)")
		case !t.Snapshot && verb == "reset":
			missing = append(missing, t.Name+" (no snapshot: take one with `demo snapshot "+t.Name+"`)")
		default:
			targets = append(targets, t.Name)
		}
	}
	if len(missing) > 0 {
		return usageError("cannot %s %s; nothing was changed", verb, strings.Join(missing, ", "))
	}
	unlock, err := lockInstallation(a)
	if err != nil {
		return err
	}
	defer unlock()
	var step steps.Step = tenants.ResetStep{PG: pg, Names: targets}
	if verb == "snapshot" {
		step = tenants.SnapshotStep{PG: pg, Names: targets}
	}
	p := a.printer()
	plan := (&steps.Plan{}).Then(step)
	if restart {
		plan.Then(tenants.RestartStep{Restart: tenants.RestartFineract(env)})
	}
	if err := runDay2(ctx, a, "demo "+verb, a.dir, plan); err != nil {
		return err
	}
	if !p.json() {
		past := map[string]string{"snapshot": "snapshot taken of", "reset": "reset"}[verb]
		fmt.Fprintln(a.io.Out, p.ok.Render(fmt.Sprintf("%s %d tenants: %s", strings.ToUpper(past[:1])+past[1:], len(targets), strings.Join(targets, ", "))))
	}
	return nil
}

// snapshotDefaultTenant takes the first snapshot of the default tenant at
// the end of a demo install, so `demo reset` works from the start. A later
// install keeps the snapshot there. It reports whether it took one.
func snapshotDefaultTenant(ctx context.Context, env *install.Env) (bool, error) {
	if env.Answers.Profile != answers.Demo {
		return false, nil
	}
	pg, err := tenants.PostgresOf(env)
	if err != nil {
		return false, nil // no PostgreSQL, no tenants
	}
	ts, err := pg.CheckKnown(ctx, []string{tenants.Default}, true)
	if err != nil {
		return false, err
	}
	if len(ts) != 1 || ts[0].Snapshot {
		return false, nil
	}
	return true, pg.TakeSnapshot(ctx, tenants.Default)
}
