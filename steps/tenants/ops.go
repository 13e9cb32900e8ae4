package tenants

import (
	"context"
	"errors"
	"fmt"
	"github.com/fineract-installer/fineract-installer/assets"
)

// Connection is how Fineract reaches a tenant's database: the same server,
// port and TLS parameters as the default tenant's
// (FINERACT_DEFAULT_TENANTDB_* in core.yaml.tmpl).
type Connection struct {
	Host, Port, Params, Timezone string
}

// StackConnection is the connection of the installer's stack.
var StackConnection = Connection{
	Host: "postgres", Port: "5432", Timezone: "UTC",
	Params: assets.TenantConnParams,
}

// Pool sizes of a trainer's tenant. Fineract opens pool_initial_size
// connections per tenant and keeps them (DataSourcePerTenantServiceFactory:
// getMinPoolSize is minimumIdle, getMaxPoolSize is pool_max_active); the
// store's defaults (5 and 40, 0001_initial_schema.xml) would exhaust
// max_connections = 100 with a class of tenants.
const (
	poolInitialSize = 2
	poolMaxActive   = 5
)

// CreateDatabase makes (or completes) the tenant's role, with password,
// and its database owned by it, closed to every other role.
func (p *Postgres) CreateDatabase(ctx context.Context, name, password string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	_, err := p.run(ctx, "postgres", vars{"role": Role(name), "db": Database(name), "pw": password}, `
SELECT format('CREATE ROLE %I', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')\gexec
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOINHERIT PASSWORD :'pw';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\gexec
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
`)
	if err != nil {
		return fmt.Errorf("create the database and role of tenant %s: %w", name, err)
	}
	return nil
}

// Register adds the tenant to Fineract's store, once: a connection row with
// the encrypted password and the master password's hash, and the tenant row
// pointing at it for both OLTP and reporting, as the store's
// 0002_initial_data.xml does for the default tenant. The readonly_*
// columns stay NULL, as they are when no read-only database is set
// (0004_readonly_database_connection.xml).
func (p *Postgres) Register(ctx context.Context, name string, c Connection, encryptedPassword, masterHash string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	_, err := p.run(ctx, storeDB, vars{
		"name": name, "description": "Tenant " + name, "tz": c.Timezone,
		"host": c.Host, "port": c.Port, "params": c.Params,
		"db": Database(name), "role": Role(name), "pw": encryptedPassword, "hash": masterHash,
		"initial": fmt.Sprint(poolInitialSize), "max": fmt.Sprint(poolMaxActive),
	}, `
BEGIN;
LOCK TABLE tenants IN SHARE ROW EXCLUSIVE MODE;
SELECT NOT EXISTS (SELECT FROM tenants WHERE identifier = :'name') AS missing \gset
\if :missing
WITH c AS (
  INSERT INTO tenant_server_connections
    (schema_server, schema_server_port, schema_name, schema_username, schema_password,
     schema_connection_parameters, auto_update, master_password_hash,
     pool_initial_size, pool_min_idle, pool_max_idle, pool_max_active)
  VALUES (:'host', :'port', :'db', :'role', :'pw', :'params', 1, :'hash',
     :'initial'::int, :'initial'::int, :'initial'::int, :'max'::int)
  RETURNING id)
INSERT INTO tenants (identifier, name, timezone_id, oltp_id, report_id, created_date, lastmodified_date)
SELECT :'name', :'description', :'tz', id, id, now(), now() FROM c;
\endif
COMMIT;
`)
	if err != nil {
		return fmt.Errorf("register tenant %s in Fineract's tenant store: %w", name, err)
	}
	return nil
}

// TakeSnapshot copies the tenant's database into its snapshot, replacing
// the previous one only once the copy is complete. PostgreSQL copies a
// database only while nobody else is connected to it, so Fineract's
// connections to this tenant are closed for the copy (its pool opens new
// ones afterwards); other tenants are not touched.
func (p *Postgres) TakeSnapshot(ctx context.Context, name string) error {
	if err := validKnown(name); err != nil {
		return err
	}
	v := vars{"db": Database(name), "snap": Snapshot(name), "staging": staging(name)}
	_, err := p.run(ctx, "postgres", v, `
SELECT format('ALTER DATABASE %I WITH IS_TEMPLATE false', :'staging') FROM pg_database WHERE datname = :'staging'\gexec
DROP DATABASE IF EXISTS :"staging";
ALTER DATABASE :"db" WITH ALLOW_CONNECTIONS false;
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :'db' AND pid <> pg_backend_pid() \gset
CREATE DATABASE :"staging" TEMPLATE :"db" STRATEGY FILE_COPY;
`)
	// Whatever happened, the tenant's database takes connections again.
	_, openErr := p.run(context.WithoutCancel(ctx), "postgres", v,
		`SELECT format('ALTER DATABASE %I WITH ALLOW_CONNECTIONS true', :'db') FROM pg_database WHERE datname = :'db'\gexec`)
	if err != nil || openErr != nil {
		return fmt.Errorf("snapshot tenant %s: %w", name, errors.Join(err, openErr))
	}
	// The new snapshot replaces the old one.
	_, err = p.run(ctx, "postgres", v, `
REVOKE ALL ON DATABASE :"staging" FROM PUBLIC;
SELECT format('ALTER DATABASE %I WITH IS_TEMPLATE false', :'snap') FROM pg_database WHERE datname = :'snap'\gexec
DROP DATABASE IF EXISTS :"snap";
ALTER DATABASE :"staging" RENAME TO :"snap";
ALTER DATABASE :"snap" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false;
`)
	if err != nil {
		return fmt.Errorf("keep the snapshot of tenant %s: %w", name, err)
	}
	return nil
}

// Reset replaces the tenant's database with a copy of its snapshot.
// Connections to the tenant's database are refused from the start and
// closed (DROP DATABASE ... WITH (FORCE)); Fineract's pool for the tenant
// reconnects once the copy is there. A reset stopped half-way is finished
// by running it again: the snapshot is not touched.
func (p *Postgres) Reset(ctx context.Context, name string) error {
	if err := validKnown(name); err != nil {
		return err
	}
	rows, err := p.run(ctx, "postgres", vars{"db": Database(name), "snap": Snapshot(name), "role": Role(name)}, `
SELECT NOT EXISTS (SELECT FROM pg_database WHERE datname = :'snap') AS nosnap \gset
\if :nosnap
SELECT 'no snapshot';
\quit
\endif
SELECT format('ALTER DATABASE %I WITH ALLOW_CONNECTIONS false', :'db') FROM pg_database WHERE datname = :'db'\gexec
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
CREATE DATABASE :"db" TEMPLATE :"snap" OWNER :"role" STRATEGY FILE_COPY;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
`)
	if err == nil && len(rows) > 0 {
		err = ErrNoSnapshot
	}
	if err != nil {
		return fmt.Errorf("reset tenant %s: %w", name, err)
	}
	return nil
}

// ErrNoSnapshot says a tenant has no snapshot to be reset to.
var ErrNoSnapshot = errors.New("the tenant has no snapshot (take one with `fineract-installer demo snapshot`)")

// Remove takes the tenant out of Fineract's store, then drops its
// databases and role. Every part is skipped when already gone, so a rerun
// finishes a removal that stopped half-way. The default tenant is never
// removed.
func (p *Postgres) Remove(ctx context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if _, err := p.run(ctx, storeDB, vars{"name": name}, `
BEGIN;
CREATE TEMP TABLE gone ON COMMIT DROP AS SELECT oltp_id AS id FROM tenants WHERE identifier = :'name'
  UNION SELECT report_id FROM tenants WHERE identifier = :'name';
DELETE FROM tenants WHERE identifier = :'name';
DELETE FROM tenant_server_connections c USING gone
  WHERE c.id = gone.id AND NOT EXISTS (SELECT FROM tenants t WHERE t.oltp_id = c.id OR t.report_id = c.id);
COMMIT;
`); err != nil {
		return fmt.Errorf("remove tenant %s from Fineract's tenant store: %w", name, err)
	}
	if _, err := p.run(ctx, "postgres", vars{"db": Database(name), "snap": Snapshot(name), "staging": staging(name), "role": Role(name)}, `
SELECT format('ALTER DATABASE %I WITH IS_TEMPLATE false', datname) FROM pg_database WHERE datname IN (:'snap', :'staging')\gexec
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
DROP DATABASE IF EXISTS :"snap" WITH (FORCE);
DROP DATABASE IF EXISTS :"staging" WITH (FORCE);
DROP ROLE IF EXISTS :"role";
`); err != nil {
		return fmt.Errorf("drop the databases and role of tenant %s: %w", name, err)
	}
	return nil
}
