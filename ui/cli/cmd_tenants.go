package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/frontdoor"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/tenants"
)

func newTenantsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenants",
		Short: "Add, list and remove Fineract tenants (one isolated bank per trainee)",
		Long: `A Fineract tenant is a bank of its own on the same stack: its own database,
users and data, chosen at sign-in by its identifier. Each tenant added here
gets a PostgreSQL database and role of its own (password kept in Vault),
reachable only by that role, and a snapshot that ` + "`demo reset`" + ` returns it to.`,
		Args: noArgs,
	}
	cmd.AddCommand(newTenantsAddCmd(a), newTenantsListCmd(a), newTenantsRemoveCmd(a))
	return cmd
}

// signInURL is the web app's address.
func signInURL(ans answers.Answers) string {
	url := "https://" + ans.Host.Hostname
	if ans.Gateway.HTTPSPort != 443 {
		url += fmt.Sprintf(":%d", ans.Gateway.HTTPSPort)
	}
	return url + "/"
}

// tenantNames reads the names of `tenants add`: given, or numbered with
// --count and --prefix; all checked before anything else happens.
func tenantNames(args []string, count int, prefix string) ([]string, error) {
	var names []string
	var err error
	switch {
	case count > 0 && len(args) > 0:
		return nil, usageError("give tenant names or --count, not both")
	case count > 0:
		names, err = tenants.Numbered(prefix, count)
	case count < 0:
		err = fmt.Errorf("--count %d is outside 1..%d", count, tenants.MaxCount)
	default:
		names, err = args, tenants.ValidateNew(args)
	}
	if err != nil {
		return nil, withCode(ExitUsage, fmt.Errorf("%w; nothing was created", err))
	}
	return names, nil
}

func newTenantsAddCmd(a *app) *cobra.Command {
	var (
		co     custodyOptions
		count  int
		prefix string
	)
	cmd := &cobra.Command{
		Use:   "add NAME...",
		Short: "Create tenants: database, role, Vault secret, tenant store entry, snapshot",
		Long: fmt.Sprintf(`Create one tenant per NAME, or --count of them named PREFIX1..PREFIXN.
A name starts with a lower-case letter, holds lower-case letters and digits
only, and is at most %d characters; "default" and existing tenants are
refused before anything is created.

Fineract creates a new tenant's tables only when it starts, so it is
restarted once (a few minutes) and waited for. A snapshot of each new
tenant is taken for `+"`demo reset`"+`. Running the same command again finishes
an add that was interrupted.`, tenants.MaxNameLength),
		Example: `  fineract-installer tenants add alice bob
  fineract-installer tenants add --count 12 --prefix student`,
		RunE: func(cmd *cobra.Command, args []string) error {
			names, err := tenantNames(args, count, prefix)
			if err != nil {
				return err
			}
			return runTenantsAdd(cmd.Context(), a, co, names)
		},
	}
	cmd.Flags().IntVar(&count, "count", 0, "create `N` tenants named PREFIX1..PREFIXN")
	cmd.Flags().StringVar(&prefix, "prefix", "student", "name `PREFIX` of the tenants --count creates")
	cmd.Flags().StringVar(&co.passphraseFile, "unseal-passphrase-file", "", "`FILE` holding the demo custody passphrase (mode 0600)")
	cmd.Flags().StringVar(&co.keysFile, "unseal-keys-file", "", "`FILE` with unseal key shares, one per line (mode 0600)")
	return cmd
}

// tenantsVault reaches Vault for tenant secrets with the key holders'
// shares, got as custodyFor decides.
func tenantsVault(a *app, env *install.Env, co custodyOptions) (tenants.VaultAccess, error) {
	custody, err := custodyFor(a, env, co)
	if err != nil {
		return tenants.VaultAccess{}, err
	}
	conn, err := env.VaultConn()
	if err != nil {
		return tenants.VaultAccess{}, withCode(ExitFailed, err)
	}
	return tenants.VaultAccess{Conn: conn, Shares: custody.Shares}, nil
}

// tenantsEnv opens the installation and its PostgreSQL for tenant work.
func tenantsEnv(ctx context.Context, a *app) (*install.Env, *tenants.Postgres, func(), error) {
	env, done, err := installedEnv(ctx, a)
	if err != nil {
		return nil, nil, nil, err
	}
	pg, err := tenants.PostgresOf(env)
	if err != nil {
		done()
		return nil, nil, nil, withCode(ExitUsage, err)
	}
	return env, pg, done, nil
}

func runTenantsAdd(ctx context.Context, a *app, co custodyOptions, names []string) error {
	env, pg, done, err := tenantsEnv(ctx, a)
	if err != nil {
		return err
	}
	defer done()
	// Everything that can refuse the add is checked before anything is
	// created: the server admits tenant roles, no name is taken, the master
	// password and the key shares are at hand.
	if err := pg.CheckAccess(ctx); err != nil {
		return withCode(ExitFailed, fmt.Errorf("%w; run `fineract-installer install` again with the same answers to update PostgreSQL's configuration, then retry; nothing was created", err))
	}
	if err := pg.CheckStore(ctx); err != nil {
		return withCode(ExitFailed, fmt.Errorf("%w; nothing was created", err))
	}
	resumed, err := pg.CheckAdd(ctx, names)
	if errors.Is(err, tenants.ErrExists) {
		return withCode(ExitUsage, fmt.Errorf("%w; nothing was created", err))
	}
	if err != nil {
		return withCode(ExitFailed, err)
	}
	master, err := tenants.MasterPassword(ctx, env)
	if err != nil {
		return withCode(ExitFailed, err)
	}
	vaultAccess, err := tenantsVault(a, env, co)
	if err != nil {
		return err
	}
	unlock, err := lockInstallation(a)
	if err != nil {
		return err
	}
	defer unlock()
	p := a.printer()
	for _, t := range resumed {
		if !p.json() {
			fmt.Fprintf(a.io.Out, "%s finishing tenant %s, left by an interrupted add: %s\n", p.warn.Render("!"), t.Name, t.Describe())
		}
	}
	passwords, users := map[string]string{}, map[string]map[string]string{}
	var creds []frontdoor.Credential
	// A new tenant's database has Fineract's built-in users with the
	// default password: replaced, as the install does for the default
	// tenant, before the tenant's first snapshot (so a reset keeps them).
	secure := func(ctx context.Context, tenant string, emit steps.Emitter) error {
		if err := env.SecureTenant(ctx, tenant, users[tenant], emit); err != nil {
			return err
		}
		if c, ok := env.TenantCredential(tenant, users[tenant]); ok {
			creds = append(creds, c)
		}
		return nil
	}
	plan := (&steps.Plan{}).
		Then(tenants.PasswordsStep{Vault: vaultAccess, Names: names, Out: passwords, Users: users}).
		Then(tenants.AddStep{PG: pg, Names: names, Passwords: passwords, MasterPassword: master,
			Connection: tenants.StackConnection, RestartFineract: tenants.RestartFineract(env), SecureAdmin: secure})
	if err := runDay2(ctx, a, "tenants add", a.dir, plan); err != nil {
		return err
	}
	if len(creds) > 0 {
		if err := handoutTo(a, env, tenantsHandout)(ctx, creds); err != nil {
			return withCode(ExitFailed, fmt.Errorf("hand out the tenants' administrator passwords: %w; `fineract-installer credentials --tenant NAME` shows them (they are in Vault)", err))
		}
	}
	if !p.json() {
		fmt.Fprintf(a.io.Out, "\n%s\n", p.ok.Render(fmt.Sprintf("%d tenants are ready.", len(names))))
		fmt.Fprintf(a.io.Out, "  sign in at %s with the tenant identifier: %s\n", signInURL(env.Answers), strings.Join(names, ", "))
	}
	return nil
}

// tenantRecord is one line of `tenants list -o json`.
type tenantRecord struct {
	tenants.Tenant
	State string `json:"state"`
}

func newTenantsListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the tenants, their state and where to sign in",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			env, pg, done, err := tenantsEnv(ctx, a)
			if err != nil {
				return err
			}
			defer done()
			ts, err := pg.List(ctx)
			if err != nil {
				return withCode(ExitFailed, err)
			}
			p := a.printer()
			if p.json() {
				for _, t := range ts {
					if err := p.record(typeTenant, tenantRecord{t, t.Describe()}); err != nil {
						return err
					}
				}
				return nil
			}
			printTenants(a, p, env.Answers, ts)
			return nil
		},
	}
}

// printTenants lists tenants with where to sign in.
func printTenants(a *app, p *printer, ans answers.Answers, ts []tenants.Tenant) {
	fmt.Fprintf(a.io.Out, "%s sign in at %s, typing the tenant identifier\n", p.bold.Render("Tenants:"), signInURL(ans))
	rows := [][]cell{{{text: "  TENANT"}, {text: "DATABASE"}, {text: "SNAPSHOT"}, {text: "STATE"}}}
	for _, t := range ts {
		snap := "no"
		if t.Snapshot {
			snap = "yes"
		}
		state := t.Describe()
		if t.Name == tenants.Default && t.Registered && t.Migrated {
			state = "ready"
		}
		rows = append(rows, []cell{{text: "  " + t.Name}, {text: t.Database}, {text: snap}, {text: state}})
	}
	printTable(a.io.Out, rows)
}

func newTenantsRemoveCmd(a *app) *cobra.Command {
	var (
		co  custodyOptions
		yes bool
	)
	cmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "Delete a tenant for good: store entry, databases, role and Vault secret",
		Long: `Delete a tenant for good: its entry in Fineract's tenant store, its database
and snapshot, its PostgreSQL role and its password in Vault. The default
tenant cannot be removed. Asks for the tenant's name to be typed back, or
--yes.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError("name the tenant to remove, one at a time: `fineract-installer tenants remove NAME`")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name := args[0]
			if name == tenants.Default {
				return usageError("the default tenant is part of the installation and cannot be removed; nothing was changed")
			}
			if err := tenants.ValidateName(name); err != nil {
				return withCode(ExitUsage, fmt.Errorf("%w; nothing was changed", err))
			}
			env, pg, done, err := tenantsEnv(ctx, a)
			if err != nil {
				return err
			}
			defer done()
			if _, err := pg.CheckKnown(ctx, []string{name}, false); err != nil {
				return withCode(ExitUsage, fmt.Errorf("%w; nothing was changed", err))
			}
			if err := confirmTenantRemoval(a, name, yes); err != nil {
				return err
			}
			vaultAccess, err := tenantsVault(a, env, co)
			if err != nil {
				return err
			}
			unlock, err := lockInstallation(a)
			if err != nil {
				return err
			}
			defer unlock()
			p := a.printer()
			plan := (&steps.Plan{}).Then(tenants.RemoveStep{PG: pg, Names: []string{name}, Vault: vaultAccess})
			if err := runDay2(ctx, a, "tenants remove", a.dir, plan); err != nil {
				return err
			}
			if !p.json() {
				fmt.Fprintln(a.io.Out, p.ok.Render("Tenant "+name+" is removed."))
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (needed when not running in a terminal)")
	cmd.Flags().StringVar(&co.passphraseFile, "unseal-passphrase-file", "", "`FILE` holding the demo custody passphrase (mode 0600)")
	cmd.Flags().StringVar(&co.keysFile, "unseal-keys-file", "", "`FILE` with unseal key shares, one per line (mode 0600)")
	return cmd
}

// confirmTenantRemoval needs the tenant's name typed back: its data is
// deleted for good.
func confirmTenantRemoval(a *app, name string, yes bool) error {
	if yes {
		return nil
	}
	if !a.io.CanPrompt() {
		return usageError("removing a tenant deletes its data: pass --yes to confirm when not running in a terminal; nothing was changed")
	}
	fmt.Fprintf(a.io.Out, "This deletes tenant %s for good: its database, snapshot, role and password.\nType the tenant name to confirm: ", name)
	answer, err := a.io.ReadLine()
	if err != nil || strings.TrimSpace(answer) != name {
		return usageError("not confirmed; nothing was removed")
	}
	return nil
}
