package install

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/pgsql"
)

// Postgres is the installation's PostgreSQL, reached inside its container
// as PostgreSQL's own uid (peer authentication as the superuser).
func (env *Env) Postgres() (*pgsql.Server, error) {
	svc, ok := env.Bundle.Service("postgres")
	if !ok {
		return nil, errors.New("this installation has no PostgreSQL service")
	}
	return pgsql.New(pgsql.EngineExec(env.Engine, env.Project, svc.User())), nil
}

// RestartService restarts one service in place and waits until it is
// healthy again.
func (env *Env) RestartService(ctx context.Context, service string) error {
	p, err := env.LoadProject(ctx)
	if err != nil {
		return err
	}
	if err := env.Engine.Restart(ctx, env.Project, service); err != nil {
		return err
	}
	return env.Engine.Up(ctx, p, compose.UpOptions{Services: []string{service}, Policy: env.Policy()}, nil)
}

// StartService brings one service up as the rendered stack describes it
// (started if stopped, created if missing) and waits until it is ready.
func (env *Env) StartService(ctx context.Context, service string, emit steps.Emitter) error {
	p, err := env.LoadProject(ctx)
	if err != nil {
		return err
	}
	return env.Engine.Up(ctx, p, compose.UpOptions{Services: []string{service}, Policy: env.Policy()}, emit)
}

// TenantTLSStep keeps Fineract's connections to its tenants' databases
// on verified TLS. At its first start Fineract's tenant-store changelog
// 0005 replaces every tenant's schema_connection_parameters with MySQL
// settings (apache/fineract 4198b0b, fineract-provider/src/main/resources/
// db/changelog/tenant-store/parts/0005_jdbc_connection_string.xml, no
// database condition), which PostgreSQL's driver ignores: the default
// tenant would connect with its default sslmode=prefer, encrypted but
// verifying nothing. The changelog runs once per store, so setting them
// back holds. Fineract caches tenants and their pools (tenantsById,
// CacheConfig), so it is restarted when anything changed.
type TenantTLSStep struct{ Env *Env }

// ID implements steps.Step.
func (s TenantTLSStep) ID() string { return "fineract-tenant-tls" }

// Title implements steps.Step.
func (s TenantTLSStep) Title() string { return "Keep Fineract's tenant connections on verified TLS" }

// tenantStore is Fineract's tenant store database (FINERACT_HIKARI_JDBC_URL).
const tenantStore = "fineract_tenants"

// unverified counts the stack's tenant connections whose parameters are
// not the installer's.
const unverified = `SELECT count(*) FROM tenant_server_connections
WHERE schema_server = 'postgres' AND schema_connection_parameters IS DISTINCT FROM :'params';`

// Check implements steps.Step.
func (s TenantTLSStep) Check(ctx context.Context) (bool, error) {
	n, err := s.count(ctx)
	return err == nil && n == 0, nil
}

func (s TenantTLSStep) count(ctx context.Context) (int, error) {
	pg, err := s.Env.Postgres()
	if err != nil {
		return 0, err
	}
	rows, err := pg.Run(ctx, tenantStore, pgsql.Vars{"params": assets.TenantConnParams}, unverified)
	if err != nil {
		return 0, err
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return 0, fmt.Errorf("count the tenant connections: unexpected answer %v", rows)
	}
	return strconv.Atoi(rows[0][0])
}

// Run implements steps.Step.
func (s TenantTLSStep) Run(ctx context.Context, emit steps.Emitter) error {
	pg, err := s.Env.Postgres()
	if err != nil {
		return err
	}
	rows, err := pg.Run(ctx, tenantStore, pgsql.Vars{"params": assets.TenantConnParams}, `
UPDATE tenant_server_connections SET schema_connection_parameters = :'params'
WHERE schema_server = 'postgres' AND schema_connection_parameters IS DISTINCT FROM :'params'
RETURNING id;`)
	if err != nil {
		return steps.Fail(fmt.Errorf("set the tenant connections' TLS parameters: %w", err), "see `fineract-installer logs postgres`")
	}
	if len(rows) == 0 {
		return nil
	}
	emit.Info("fineract", fmt.Sprintf("set %d tenant connection(s) back to %s, which Fineract's first start replaced; restarting Fineract", len(rows), assets.TenantConnParams))
	if err := s.Env.RestartService(ctx, "fineract"); err != nil {
		return steps.Fail(fmt.Errorf("restart Fineract: %w", err), "see `fineract-installer logs fineract`")
	}
	return nil
}
