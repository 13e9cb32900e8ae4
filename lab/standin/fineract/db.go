package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// database holds the two connection pools Fineract keeps: the tenant store
// (fineract_tenants, the Hikari pool) and the default tenant's database.
type database struct {
	cfg    config
	log    *logger
	store  *pgxpool.Pool
	tenant *pgxpool.Pool

	ready atomic.Bool // the schema is in place

	mu      sync.Mutex
	lastErr string
}

// The stand-in's tables. The tenant store uses the names and key columns of
// Fineract's own (tenants, tenant_server_connections) so tools that look
// there find the default tenant; lab_rows is the stand-in's only business
// table, for end-to-end tests to write and read.
const storeSchema = `
CREATE TABLE IF NOT EXISTS tenant_server_connections (
	id bigserial PRIMARY KEY,
	schema_server text NOT NULL,
	schema_server_port integer NOT NULL,
	schema_name text NOT NULL,
	schema_username text NOT NULL,
	schema_connection_parameters text NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS tenants (
	id bigserial PRIMARY KEY,
	identifier text NOT NULL UNIQUE,
	name text NOT NULL,
	timezone_id text NOT NULL,
	oltp_id bigint NOT NULL REFERENCES tenant_server_connections (id),
	created_date timestamptz NOT NULL DEFAULT now()
);`

const tenantSchema = `
CREATE TABLE IF NOT EXISTS lab_rows (
	id bigserial PRIMARY KEY,
	note text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);`

func openDatabase(cfg config, log *logger) (*database, error) {
	storeTarget, err := parseJDBC(cfg.Store.JDBCURL)
	if err != nil {
		return nil, fmt.Errorf("FINERACT_HIKARI_JDBC_URL: %w", err)
	}
	tenantTarget, err := parseJDBC(cfg.tenantJDBCURL())
	if err != nil {
		return nil, fmt.Errorf("default tenant: %w", err)
	}
	for _, t := range []struct {
		what string
		t    jdbcTarget
	}{{"tenant store", storeTarget}, {"default tenant", tenantTarget}} {
		if len(t.t.Ignored) > 0 {
			log.Warn(fmt.Sprintf("%s: JDBC parameters without an equivalent in the stand-in, ignored: %v", t.what, t.t.Ignored))
		}
		log.Info(fmt.Sprintf("%s: postgresql://%s:%d/%s sslmode=%s", t.what, t.t.Host, t.t.Port, t.t.Database, orDefault(t.t.Params.Get("sslmode"), "prefer")))
	}
	storeCfg, err := poolConfig(storeTarget, cfg.Store.Username, cfg.Store.Password, cfg.Store.MaxPoolSize, cfg.Store.ConnectionTimeout)
	if err != nil {
		return nil, fmt.Errorf("tenant store connection settings: %w", err)
	}
	tenantCfg, err := poolConfig(tenantTarget, cfg.Tenant.Username, cfg.Tenant.Password, cfg.Store.MaxPoolSize, cfg.Store.ConnectionTimeout)
	if err != nil {
		return nil, fmt.Errorf("default tenant connection settings: %w", err)
	}
	// Pools connect lazily, so a database that is down now only makes the
	// health DOWN until it answers.
	store, err := pgxpool.NewWithConfig(context.Background(), storeCfg)
	if err != nil {
		return nil, err
	}
	tenant, err := pgxpool.NewWithConfig(context.Background(), tenantCfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	return &database{cfg: cfg, log: log, store: store, tenant: tenant}, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (d *database) Close() {
	d.store.Close()
	d.tenant.Close()
}

// migrate creates the schema and registers the default tenant, retrying
// until it succeeds or ctx ends (Fineract runs Liquibase at start).
func (d *database) migrate(ctx context.Context) {
	delay := time.Second
	for {
		err := d.migrateOnce(ctx)
		if err == nil {
			d.ready.Store(true)
			d.setErr("")
			d.log.Info("schema ready: tenant store and default tenant database migrated")
			return
		}
		d.setErr(err.Error())
		d.log.Warn("database not ready, retrying: " + err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		if delay < 10*time.Second {
			delay *= 2
		}
	}
}

func (d *database) migrateOnce(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := d.store.Exec(ctx, storeSchema); err != nil {
		return fmt.Errorf("tenant store: %w", err)
	}
	t := d.cfg.Tenant
	err := pgx.BeginFunc(ctx, d.store, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tenants WHERE identifier = $1)`, t.Identifier).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		var connID int64
		if err := tx.QueryRow(ctx, `INSERT INTO tenant_server_connections
			(schema_server, schema_server_port, schema_name, schema_username, schema_connection_parameters)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			t.Host, t.Port, t.DBName, t.Username, t.ConnParams).Scan(&connID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO tenants (identifier, name, timezone_id, oltp_id) VALUES ($1, $2, $3, $4)`,
			t.Identifier, t.Description, t.Timezone, connID)
		return err
	})
	if err != nil {
		return fmt.Errorf("tenant store: %w", err)
	}
	if _, err := d.tenant.Exec(ctx, tenantSchema); err != nil {
		return fmt.Errorf("default tenant database: %w", err)
	}
	return nil
}

func (d *database) setErr(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lastErr = s
}

// health runs the test query on both pools. It is UP only when the schema
// is in place and both databases answer.
func (d *database) health(ctx context.Context) error {
	if !d.ready.Load() {
		d.mu.Lock()
		last := d.lastErr
		d.mu.Unlock()
		if last == "" {
			last = "migrating"
		}
		return errors.New("schema not ready: " + last)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := d.store.Exec(ctx, d.cfg.Store.TestQuery); err != nil {
		return fmt.Errorf("tenant store: %w", err)
	}
	if _, err := d.tenant.Exec(ctx, d.cfg.Store.TestQuery); err != nil {
		return fmt.Errorf("default tenant database: %w", err)
	}
	return nil
}

// row is one lab_rows record.
type row struct {
	ID        int64     `json:"id"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"createdAt"`
}

func (d *database) insertRow(ctx context.Context, note string) (int64, error) {
	var id int64
	err := d.tenant.QueryRow(ctx, `INSERT INTO lab_rows (note) VALUES ($1) RETURNING id`, note).Scan(&id)
	return id, err
}

func (d *database) listRows(ctx context.Context) ([]row, error) {
	rows, err := d.tenant.Query(ctx, `SELECT id, note, created_at FROM lab_rows ORDER BY id`)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.ID, &x.Note, &x.CreatedAt)
		return x, err
	})
	if out == nil {
		out = []row{}
	}
	return out, err
}

func (d *database) getRow(ctx context.Context, id int64) (row, error) {
	var x row
	err := d.tenant.QueryRow(ctx, `SELECT id, note, created_at FROM lab_rows WHERE id = $1`, id).Scan(&x.ID, &x.Note, &x.CreatedAt)
	return x, err
}
