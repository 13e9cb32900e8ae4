package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// database holds the pools Fineract keeps: the tenant store
// (fineract_tenants, the Hikari pool), the default tenant's database as its
// settings name it (for the health check, as before), and one pool per
// tenant connection of the store, made on first use.
type database struct {
	cfg     config
	rel     standinRelease
	log     *logger
	store   *pgxpool.Pool
	tenant  *pgxpool.Pool
	tenants *tenantPools

	ready atomic.Bool // the store and every tenant in it are migrated

	mu      sync.Mutex
	lastErr string
}

func openDatabase(cfg config, rel standinRelease, log *logger) (*database, error) {
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
		return nil, fmt.Errorf("tenant store pool: %w", err)
	}
	tenant, err := pgxpool.NewWithConfig(context.Background(), tenantCfg)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("default tenant pool: %w", err)
	}
	return &database{cfg: cfg, rel: rel, log: log, store: store, tenant: tenant, tenants: newTenantPools(cfg, log)}, nil
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
	d.tenants.Close()
}

// migrate brings the tenant store and every tenant it lists up to date,
// retrying until it succeeds or ctx ends. Fineract does this once, at
// start (tenant.go). A changelog that fails validation is not retried: it
// is returned, and Fineract does not start (changelog.go).
func (d *database) migrate(ctx context.Context) error {
	delay := time.Second
	for {
		n, err := d.migrateOnce(ctx)
		if err == nil {
			d.ready.Store(true)
			d.setErr("")
			d.log.Info(fmt.Sprintf("schema ready: tenant store and %d tenant database(s) migrated", n))
			return nil
		}
		if errors.Is(err, errChecksum) {
			return fmt.Errorf("error while migrating the schema: %w", err)
		}
		d.setErr(err.Error())
		d.log.Warn("database not ready, retrying: " + err.Error())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		if delay < 10*time.Second {
			delay *= 2
		}
	}
}

// migrateOnce is TenantDatabaseUpgradeService.afterPropertiesSet:
// upgradeTenantStore, then upgradeIndividualTenants over findAllTenants.
func (d *database) migrateOnce(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := migrateStore(ctx, d.store, d.cfg.Tenant); err != nil {
		return 0, fmt.Errorf("tenant store: %w", err)
	}
	all, err := allTenants(ctx, d.store)
	if err != nil {
		return 0, fmt.Errorf("tenant store: %w", err)
	}
	for _, t := range all {
		d.log.Info("Upgrade for tenant " + t.Identifier + " has started")
		pool, err := d.tenants.pool(ctx, t)
		if err != nil {
			return 0, fmt.Errorf("tenant %s: %w", t.Identifier, err)
		}
		ran, err := migrateTenant(ctx, pool, d.rel)
		if err != nil {
			return 0, fmt.Errorf("tenant %s database %s: %w", t.Identifier, t.Conn.SchemaName, err)
		}
		for _, id := range ran {
			d.log.Info(fmt.Sprintf("ChangeSet %s::%s::%s ran successfully", tenantChangeLogFile, id, standinAuthor))
		}
	}
	return len(all), nil
}

func (d *database) setErr(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lastErr = s
}

// errNeverHealthy is the health of release v2-broken after its migration.
var errNeverHealthy = errors.New("stand-in release v2-broken: the schema is migrated but this release never reports UP (a lab image for testing rollback)")

// health runs the test query on the tenant store and the default tenant.
// It is UP only when the schema is in place and both databases answer.
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
	if d.rel.NeverHealthy {
		return errNeverHealthy
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

// row is one lab_rows record. NoteLength is the column release v2's
// change set adds; releases without it leave it out.
type row struct {
	ID         int64     `json:"id"`
	Note       string    `json:"note"`
	NoteLength *int      `json:"noteLength,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
}

// rowColumns are the lab_rows columns the release knows.
func (r standinRelease) rowColumns() string {
	if r.NoteLength {
		return "id, note, note_length, created_at"
	}
	return "id, note, created_at"
}

func (r standinRelease) scanRow(s pgx.Row) (row, error) {
	var x row
	if r.NoteLength {
		x.NoteLength = new(int)
		return x, s.Scan(&x.ID, &x.Note, x.NoteLength, &x.CreatedAt)
	}
	return x, s.Scan(&x.ID, &x.Note, &x.CreatedAt)
}

func insertRow(ctx context.Context, db *pgxpool.Pool, rel standinRelease, note string) (int64, error) {
	var id int64
	if rel.NoteLength {
		err := db.QueryRow(ctx, `INSERT INTO lab_rows (note, note_length) VALUES ($1, char_length($1)) RETURNING id`, note).Scan(&id)
		return id, err
	}
	err := db.QueryRow(ctx, `INSERT INTO lab_rows (note) VALUES ($1) RETURNING id`, note).Scan(&id)
	return id, err
}

func listRows(ctx context.Context, db *pgxpool.Pool, rel standinRelease) ([]row, error) {
	rows, err := db.Query(ctx, `SELECT `+rel.rowColumns()+` FROM lab_rows ORDER BY id`)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) { return rel.scanRow(r) })
	if out == nil {
		out = []row{}
	}
	return out, err
}

func getRow(ctx context.Context, db *pgxpool.Pool, rel standinRelease, id int64) (row, error) {
	return rel.scanRow(db.QueryRow(ctx, `SELECT `+rel.rowColumns()+` FROM lab_rows WHERE id = $1`, id))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
