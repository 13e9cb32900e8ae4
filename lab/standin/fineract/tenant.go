package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Tenants, as Fineract keeps them (apache/fineract, read at develop
// 4198b0b (2024-10)).
//
// The tenant store's tables have the columns of
// fineract-provider/src/main/resources/db/changelog/tenant-store/parts/
// 0001_initial_schema.xml, with 0004 (readonly_* columns), 0006 (no
// deadlock_* columns), 0007 (schema_password varchar(255),
// master_password_hash) and 0010 (timestamps with microseconds) applied.
// The timezones table of 0001 is left out: nothing reads it.
//
// On a new store, 0002_initial_data.xml inserts tenant_server_connections
// id 1 and tenants id 1 from the ${fineract.tenant.*} Liquibase parameters
// (application.properties: spring.liquibase.parameters.fineract.tenant.*
// from FINERACT_DEFAULT_TENANTDB_*): schema_server = host, schema_name =
// name, schema_server_port = port, schema_username = username,
// schema_password = password, schema_connection_parameters = parameters;
// tenants.identifier = identifier, tenants.name = DESCRIPTION,
// timezone_id = timezone, oltp_id = report_id = 1. Then, in order:
// 0003 resets the id sequences; 0005_jdbc_connection_string.xml overwrites
// schema_connection_parameters of every row with
// "serverTimezone=UTC&useLegacyDatetimeCode=false&sessionVariables=time_zone='-00:00'"
// (no database-specific context: PostgreSQL gets it too, so the default
// tenant's FINERACT_DEFAULT_TENANTDB_CONN_PARAMS, sslmode included, is gone
// after the first start; the PostgreSQL driver ignores the MySQL names);
// 0007's TenantPasswordEncryptionTask replaces schema_password with its
// encryption and sets master_password_hash (tenantcrypt.go); 0009 copies
// the (empty by default) read-only settings into row 1. Each runs once per
// store (Liquibase's changelog), so later changes to the rows stay.
//
// Requests: TenantAwareBasicAuthenticationFilter reads the tenant from the
// Fineract-Platform-TenantId header or the tenantIdentifier parameter and
// loads it with BasicAuthTenantDetailsServiceJdbc.loadTenantById (the row
// of tenants joined to its oltp_id connection). No identifier, or an
// unknown one, is an InvalidTenantIdentifierException that the filter
// answers itself: WWW-Authenticate: Basic realm="Fineract Platform API" and
// response.sendError(400, ...), rendered by Spring Boot's error controller.
// The connection pool is TomcatJdbcDataSourcePerTenantService
// .retrieveDataSource: made on first use per connection id
// (DataSourcePerTenantServiceFactory.createNewDataSourceFor, which checks
// master_password_hash and decrypts schema_password) and kept.

// tenant is one row of tenants with its OLTP connection.
type tenant struct {
	ID         int64
	Identifier string
	Name       string
	Timezone   string
	Conn       tenantConnection
}

// tenantConnection is a row of tenant_server_connections.
type tenantConnection struct {
	ID                 int64
	Server             string
	Port               string
	SchemaName         string
	Username           string
	EncryptedPassword  string
	Parameters         string
	MasterPasswordHash string
}

// storeChangeLog is the file whose change sets the stand-in's store
// migration stands for.
const storeChangeLog = "db/changelog/tenant-store/changelog-tenant-store.xml"

const storeSchema = `
CREATE TABLE tenant_server_connections (
	id bigserial PRIMARY KEY,
	schema_server varchar(100) NOT NULL DEFAULT 'localhost',
	schema_name varchar(100) NOT NULL,
	schema_server_port varchar(10) NOT NULL DEFAULT '3306',
	schema_username varchar(100) NOT NULL DEFAULT 'root',
	schema_password varchar(255) NOT NULL DEFAULT 'mysql',
	auto_update smallint NOT NULL DEFAULT 1,
	pool_initial_size integer DEFAULT 5,
	pool_validation_interval integer DEFAULT 30000,
	pool_remove_abandoned smallint DEFAULT 1,
	pool_remove_abandoned_timeout integer DEFAULT 60,
	pool_log_abandoned smallint DEFAULT 1,
	pool_abandon_when_percentage_full integer DEFAULT 50,
	pool_test_on_borrow smallint DEFAULT 1,
	pool_max_active integer DEFAULT 40,
	pool_min_idle integer DEFAULT 20,
	pool_max_idle integer DEFAULT 10,
	pool_suspect_timeout integer DEFAULT 60,
	pool_time_between_eviction_runs_millis integer DEFAULT 34000,
	pool_min_evictable_idle_time_millis integer DEFAULT 60000,
	schema_connection_parameters text,
	readonly_schema_server varchar(100),
	readonly_schema_name varchar(100),
	readonly_schema_server_port varchar(10),
	readonly_schema_username varchar(100),
	readonly_schema_password varchar(255),
	readonly_schema_connection_parameters text,
	master_password_hash varchar(255)
);
CREATE TABLE tenants (
	id bigserial PRIMARY KEY,
	identifier varchar(100) NOT NULL UNIQUE,
	name varchar(100) NOT NULL,
	timezone_id varchar(100) NOT NULL,
	country_id integer,
	joined_date date,
	created_date timestamp(6),
	lastmodified_date timestamp(6),
	oltp_id bigint NOT NULL CONSTRAINT fk_oltp_id REFERENCES tenant_server_connections (id),
	report_id bigint NOT NULL CONSTRAINT fk_report_id REFERENCES tenant_server_connections (id)
);`

// mysqlConnectionParameters is what 0005_jdbc_connection_string.xml writes.
const mysqlConnectionParameters = "serverTimezone=UTC&useLegacyDatetimeCode=false&sessionVariables=time_zone='-00:00'"

// migrateStore creates the tenant store and registers the default tenant
// the way Fineract's tenant-store changelog does on a new store.
func migrateStore(ctx context.Context, db *pgxpool.Pool, t tenantSettings) error {
	_, err := updateDatabase(ctx, db, []changeSet{{
		ID: "tenant-store-0001-0010", Author: standinAuthor, File: storeChangeLog, Description: "sql",
		SQL:   storeSchema,
		Apply: func(ctx context.Context, tx pgx.Tx) error { return registerDefaultTenant(ctx, tx, t) },
	}})
	return err
}

// registerDefaultTenant is 0002_initial_data.xml with 0003, 0005 and
// 0007's task applied.
func registerDefaultTenant(ctx context.Context, tx pgx.Tx, t tenantSettings) error {
	encrypted, err := encryptTenantPassword(t.MasterPassword, t.Password)
	if err != nil {
		return err
	}
	hash, err := masterPasswordHash(t.MasterPassword)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO tenant_server_connections
		(id, schema_server, schema_name, schema_server_port, schema_username, schema_password, schema_connection_parameters,
		 readonly_schema_server, readonly_schema_name, readonly_schema_server_port, readonly_schema_username, readonly_schema_password, readonly_schema_connection_parameters,
		 master_password_hash)
		VALUES (1, $1, $2, $3, $4, $5, $6, '', '', '', '', '', '', $7)`,
		t.Host, t.DBName, itoa(int64(t.Port)), t.Username, encrypted, mysqlConnectionParameters, hash); err != nil {
		return fmt.Errorf("register the default tenant's connection: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO tenants (id, identifier, name, timezone_id, oltp_id, report_id) VALUES (1, $1, $2, $3, 1, 1)`,
		t.Identifier, t.Description, t.Timezone); err != nil {
		return fmt.Errorf("register the default tenant: %w", err)
	}
	_, err = tx.Exec(ctx, `SELECT setval('tenant_server_connections_id_seq', 2, false); SELECT setval('tenants_id_seq', 2, false)`)
	return err
}

const tenantColumns = `t.id, t.identifier, t.name, t.timezone_id, c.id, c.schema_server, c.schema_server_port, c.schema_name,
	c.schema_username, c.schema_password, coalesce(c.schema_connection_parameters, ''), coalesce(c.master_password_hash, '')
	FROM tenants t JOIN tenant_server_connections c ON c.id = t.oltp_id`

func scanTenant(r pgx.Row) (tenant, error) {
	var t tenant
	err := r.Scan(&t.ID, &t.Identifier, &t.Name, &t.Timezone, &t.Conn.ID, &t.Conn.Server, &t.Conn.Port, &t.Conn.SchemaName,
		&t.Conn.Username, &t.Conn.EncryptedPassword, &t.Conn.Parameters, &t.Conn.MasterPasswordHash)
	return t, err
}

// errUnknownTenant is InvalidTenantIdentifierException.
var errUnknownTenant = errors.New("unknown tenant")

// lookupTenant is loadTenantById: the store is read on every lookup, so a
// tenant inserted while the stand-in runs is found. (Fineract caches found
// tenants without expiry in "tenantsById", so a row changed after its first
// use is seen only after a restart; a miss is not cached.)
func lookupTenant(ctx context.Context, store *pgxpool.Pool, identifier string) (tenant, error) {
	t, err := scanTenant(store.QueryRow(ctx, `SELECT `+tenantColumns+` WHERE t.identifier = $1`, identifier))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("the tenant identifier: %s is not valid: %w", identifier, errUnknownTenant)
	}
	if err != nil {
		return t, fmt.Errorf("load tenant %q: %w", identifier, err)
	}
	return t, nil
}

// allTenants is findAllTenants.
func allTenants(ctx context.Context, store *pgxpool.Pool) ([]tenant, error) {
	rows, err := store.Query(ctx, `SELECT `+tenantColumns+` ORDER BY t.id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant, error) { return scanTenant(r) })
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// tenantPools keeps one pool per tenant connection id, made on first use
// and never replaced (TomcatJdbcDataSourcePerTenantService).
type tenantPools struct {
	cfg config
	log *logger

	mu    sync.Mutex
	pools map[int64]*pgxpool.Pool
}

func newTenantPools(cfg config, log *logger) *tenantPools {
	return &tenantPools{cfg: cfg, log: log, pools: map[int64]*pgxpool.Pool{}}
}

func (p *tenantPools) pool(ctx context.Context, t tenant) (*pgxpool.Pool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pool, ok := p.pools[t.Conn.ID]; ok {
		return pool, nil
	}
	pool, err := p.open(ctx, t.Conn)
	if err != nil {
		return nil, err
	}
	p.pools[t.Conn.ID] = pool
	return pool, nil
}

// open is DataSourcePerTenantServiceFactory.createNewDataSourceFor.
func (p *tenantPools) open(ctx context.Context, c tenantConnection) (*pgxpool.Pool, error) {
	master := p.cfg.Tenant.MasterPassword
	if !masterPasswordHashValid(master, c.MasterPasswordHash) {
		return nil, fmt.Errorf("invalid master password on tenant connection %d", c.ID)
	}
	password, err := decryptTenantPassword(master, c.EncryptedPassword)
	if err != nil {
		return nil, fmt.Errorf("tenant connection %d: %w", c.ID, err)
	}
	url := jdbcURL(p.cfg.storeProtocol(), c.Server, c.Port, c.SchemaName, c.Parameters)
	target, err := parseJDBC(url)
	if err != nil {
		return nil, fmt.Errorf("tenant connection %d: %w", c.ID, err)
	}
	if len(target.Ignored) > 0 {
		p.log.Warn(fmt.Sprintf("tenant connection %d: JDBC parameters without an equivalent in the stand-in, ignored: %v", c.ID, target.Ignored))
	}
	cfg, err := poolConfig(target, c.Username, password, p.cfg.Store.MaxPoolSize, p.cfg.Store.ConnectionTimeout)
	if err != nil {
		return nil, fmt.Errorf("tenant connection %d settings: %w", c.ID, err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("tenant connection %d pool: %w", c.ID, err)
	}
	p.log.Info(fmt.Sprintf("tenant connection %d: postgresql://%s:%d/%s sslmode=%s", c.ID, target.Host, target.Port, target.Database, orDefault(target.Params.Get("sslmode"), "prefer")))
	return pool, nil
}

func (p *tenantPools) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pool := range p.pools {
		pool.Close()
	}
}
