package tenants

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fineract-installer/fineract-installer/lab/labimages"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// storeSchema is Fineract's tenant store after its Liquibase changelog
// (apache/fineract 4198b0bcf9a94e1c7aa0f386317ba71f40ceb1d9,
// fineract-provider/src/main/resources/db/changelog/tenant-store/parts/
// 0001, 0004, 0006, 0007), in the PostgreSQL types Liquibase gives it, with
// the default tenant 0002 inserts. Fineract is not started here: these
// tests are about PostgreSQL.
const storeSchema = `
CREATE TABLE tenant_server_connections (
  id bigserial PRIMARY KEY,
  schema_server varchar(100) NOT NULL DEFAULT 'localhost',
  schema_name varchar(100) NOT NULL,
  schema_server_port varchar(10) NOT NULL DEFAULT '3306',
  schema_username varchar(100) NOT NULL DEFAULT 'root',
  schema_password varchar(255) NOT NULL DEFAULT 'mysql',
  auto_update smallint NOT NULL DEFAULT 1,
  pool_initial_size int DEFAULT 5, pool_validation_interval int DEFAULT 30000,
  pool_remove_abandoned smallint DEFAULT 1, pool_remove_abandoned_timeout int DEFAULT 60,
  pool_log_abandoned smallint DEFAULT 1, pool_abandon_when_percentage_full int DEFAULT 50,
  pool_test_on_borrow smallint DEFAULT 1, pool_max_active int DEFAULT 40,
  pool_min_idle int DEFAULT 20, pool_max_idle int DEFAULT 10, pool_suspect_timeout int DEFAULT 60,
  pool_time_between_eviction_runs_millis int DEFAULT 34000, pool_min_evictable_idle_time_millis int DEFAULT 60000,
  schema_connection_parameters text,
  readonly_schema_server varchar(100), readonly_schema_name varchar(100), readonly_schema_server_port varchar(10),
  readonly_schema_username varchar(100), readonly_schema_password varchar(255), readonly_schema_connection_parameters text,
  master_password_hash varchar(255));
CREATE TABLE tenants (
  id bigserial PRIMARY KEY,
  identifier varchar(100) NOT NULL UNIQUE,
  name varchar(100) NOT NULL,
  timezone_id varchar(100) NOT NULL,
  country_id int, joined_date date, created_date timestamp(6), lastmodified_date timestamp(6),
  oltp_id bigint NOT NULL REFERENCES tenant_server_connections(id) ON DELETE RESTRICT,
  report_id bigint NOT NULL REFERENCES tenant_server_connections(id) ON DELETE RESTRICT);
INSERT INTO tenant_server_connections (id, schema_server, schema_name, schema_server_port, schema_username, schema_password)
  VALUES (1, 'postgres', 'fineract_default', '5432', 'fineract', 'x');
INSERT INTO tenants (id, identifier, name, timezone_id, oltp_id, report_id) VALUES (1, 'default', 'Default tenant', 'UTC', 1, 1);
SELECT setval('tenant_server_connections_id_seq', 2, false);
SELECT setval('tenants_id_seq', 2, false);
ALTER TABLE tenants OWNER TO fineract;
ALTER TABLE tenant_server_connections OWNER TO fineract;
`

// labPostgres starts the stack's real PostgreSQL with the rendered
// configuration and a tenant store as Fineract leaves it.
func labPostgres(t *testing.T) (*labimages.Stack, *install.Env, *Postgres) {
	t.Helper()
	e := labtest.Engine(t)
	labimages.Require(t, e, "postgres")
	s := labimages.NewStack(t, e)
	s.Up(t, "postgres")
	env := &install.Env{Installation: installation.New(s.Dir, s.Project), Answers: s.Answers, Engine: s.Engine, Bundle: s.Bundle, SecretsDir: s.SecretsDir}
	pg, err := PostgresOf(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pg.run(context.Background(), storeDB, nil, storeSchema); err != nil {
		t.Fatalf("create the tenant store: %v", err)
	}
	return s, env, pg
}

// connect logs in over the network with TLS verified, as Fineract's pool
// does.
func connect(ctx context.Context, s *labimages.Stack, user, password, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=postgres port=5432 dbname=%s user=%s sslmode=verify-full sslrootcert=%s connect_timeout=10",
		db, user, s.PKIPath("ca.crt")))
	if err != nil {
		return nil, err
	}
	cfg.Password = password
	cfg.LookupFunc = func(_ context.Context, host string) ([]string, error) { return []string{host}, nil }
	cfg.DialFunc = s.DialContext
	return pgx.ConnectConfig(ctx, cfg)
}

// addTenant does what AddStep does for one tenant, with Fineract's part
// (its Liquibase run) played by the tenant's own role: a changelog table
// and a table of rows.
func addTenant(t *testing.T, s *labimages.Stack, pg *Postgres, master, name, password string) {
	t.Helper()
	ctx := context.Background()
	hash, err := MasterPasswordHash(master)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := EncryptPassword(master, password)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // a rerun changes nothing
		if err := pg.CreateDatabase(ctx, name, password); err != nil {
			t.Fatal(err)
		}
		if err := pg.Register(ctx, name, StackConnection, enc, hash); err != nil {
			t.Fatal(err)
		}
	}
	c, err := connect(ctx, s, Role(name), password, Database(name))
	if err != nil {
		t.Fatalf("tenant %s logs in to its database: %v", name, err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `CREATE TABLE databasechangelog (id text); CREATE TABLE lab_rows (v text)`); err != nil {
		t.Fatalf("tenant %s creates its tables: %v", name, err)
	}
}

func insertRows(t *testing.T, s *labimages.Stack, name, password string, values ...string) {
	t.Helper()
	ctx := context.Background()
	c, err := connect(ctx, s, Role(name), password, Database(name))
	if err != nil {
		t.Fatalf("log in as %s: %v", name, err)
	}
	defer c.Close(ctx)
	for _, v := range values {
		if _, err := c.Exec(ctx, `INSERT INTO lab_rows VALUES ($1)`, v); err != nil {
			t.Fatal(err)
		}
	}
}

func rows(t *testing.T, s *labimages.Stack, name, password string) string {
	t.Helper()
	ctx := context.Background()
	c, err := connect(ctx, s, Role(name), password, Database(name))
	if err != nil {
		t.Fatalf("log in as %s: %v", name, err)
	}
	defer c.Close(ctx)
	var got string
	if err := c.QueryRow(ctx, `SELECT coalesce(string_agg(v, ',' ORDER BY v), '') FROM lab_rows`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestTenantsOnTheLabPostgres creates two tenants on the real PostgreSQL
// image with the installer's configuration, and checks what Fineract will
// find (store rows, a password it can decrypt, a database only the
// tenant's role reaches), snapshots, a reset that leaves the other tenant
// alone, and removal.
func TestTenantsOnTheLabPostgres(t *testing.T) {
	t.Parallel()
	s, env, pg := labPostgres(t)
	ctx := context.Background()
	if err := pg.CheckAccess(ctx); err != nil {
		t.Fatalf("the rendered pg_hba.conf: %v", err)
	}
	if err := pg.CheckStore(ctx); err != nil {
		t.Fatalf("the tenant store as Fineract leaves it: %v", err)
	}
	master, err := MasterPassword(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	const alicePW, bobPW = "AlicePassw0rdAlicePassw0rd123456", "BobPassw0rdBobPassw0rdBob1234567"
	addTenant(t, s, pg, master, "alice", alicePW)
	addTenant(t, s, pg, master, "bob", bobPW)

	// The store holds each tenant once, as Fineract's TenantMapper reads it.
	store, err := pg.run(ctx, storeDB, nil, `
SELECT t.identifier, t.timezone_id, ts.schema_server, ts.schema_server_port, ts.schema_name, ts.schema_username,
       ts.schema_connection_parameters, ts.auto_update, ts.schema_password, ts.master_password_hash, t.report_id = t.oltp_id,
       ts.readonly_schema_name IS NULL
FROM tenants t LEFT JOIN tenant_server_connections ts ON t.oltp_id = ts.id WHERE t.identifier <> 'default' ORDER BY t.id;`)
	if err != nil {
		t.Fatal(err)
	}
	if len(store) != 2 {
		t.Fatalf("store rows %q, want alice and bob once each", store)
	}
	r := store[0]
	want := []string{"alice", "UTC", "postgres", "5432", "fineract_t_alice", "fineract_t_alice", "sslmode=verify-full&sslrootcert=/etc/fineract/tls/ca.crt", "1"}
	if strings.Join(r[:8], "|") != strings.Join(want, "|") || r[10] != "t" || r[11] != "t" {
		t.Errorf("alice's store row %q, want %q, report = oltp, no read-only connection", r, want)
	}
	if got, err := javaDecrypt(t, master, r[8]); err != nil || got != alicePW {
		t.Errorf("Fineract would decrypt alice's schema_password to %q (%v)", got, err)
	}
	if hash, _ := MasterPasswordHash(master); !strings.HasPrefix(r[9], hash[:7]) {
		t.Errorf("master_password_hash %q is no BCrypt hash", r[9])
	}

	// Isolation: alice's role reaches alice's database only.
	for _, db := range []string{Database("bob"), "fineract_default", "fineract_tenants", "postgres"} {
		if c, err := connect(ctx, s, Role("alice"), alicePW, db); err == nil {
			c.Close(ctx)
			t.Errorf("alice's role logged in to %s", db)
		}
	}

	insertRows(t, s, "alice", alicePW, "a1")
	insertRows(t, s, "bob", bobPW, "b1")
	for _, n := range []string{"alice", "bob"} {
		if err := pg.TakeSnapshot(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	// A second snapshot replaces the first.
	insertRows(t, s, "alice", alicePW, "a2")
	if err := pg.TakeSnapshot(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	insertRows(t, s, "alice", alicePW, "a3")
	insertRows(t, s, "bob", bobPW, "b2")

	// A reset while the tenant's pool holds a connection: the connection
	// is closed, the data is the snapshot's, the other tenant keeps its rows.
	held, err := connect(ctx, s, Role("alice"), alicePW, Database("alice"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close(ctx)
	if err := pg.Reset(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, s, "alice", alicePW); got != "a1,a2" {
		t.Errorf("alice after reset: %q, want the snapshot's a1,a2", got)
	}
	if got := rows(t, s, "bob", bobPW); got != "b1,b2" {
		t.Errorf("bob after alice's reset: %q, want b1,b2 untouched", got)
	}
	if err := held.Ping(ctx); err == nil {
		t.Error("a connection to alice's old database survived the reset")
	}
	// The reset database is alice's again, closed to others.
	if c, err := connect(ctx, s, Role("bob"), bobPW, Database("alice")); err == nil {
		c.Close(ctx)
		t.Error("bob's role logged in to alice's database after the reset")
	}

	ts, err := pg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tn := range ts {
		names = append(names, tn.Name)
		if tn.Name != Default && !tn.Complete() {
			t.Errorf("tenant %+v is not complete", tn)
		}
	}
	if strings.Join(names, ",") != "default,alice,bob" {
		t.Errorf("List: %v", names)
	}
	if _, err := pg.CheckAdd(ctx, []string{"alice"}); !errors.Is(err, ErrExists) {
		t.Errorf("adding alice again: %v, want ErrExists", err)
	}

	// Remove alice: her store rows, databases and role go; bob stays.
	if err := pg.Remove(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := pg.Remove(ctx, "alice"); err != nil {
		t.Errorf("removing alice again: %v", err)
	}
	left, err := pg.run(ctx, "postgres", nil, `
SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname LIKE 'fineract\__\_%';
SELECT count(*) FROM pg_roles WHERE rolname = 'fineract_t_alice';`)
	if err != nil {
		t.Fatal(err)
	}
	if left[0][0] != "fineract_s_bob,fineract_t_bob" || left[1][0] != "0" {
		t.Errorf("after removing alice: databases %q, alice's role count %q", left[0][0], left[1][0])
	}
	conns, err := pg.run(ctx, storeDB, nil, `SELECT count(*) FROM tenants; SELECT count(*) FROM tenant_server_connections;`)
	if err != nil || conns[0][0] != "2" || conns[1][0] != "2" {
		t.Errorf("store after removing alice: %q %v, want default and bob (2 rows each)", conns, err)
	}
	if got := rows(t, s, "bob", bobPW); got != "b1,b2" {
		t.Errorf("bob after alice's removal: %q", got)
	}
}

// TestResetWithoutSnapshotChangesNothing: a tenant without a snapshot is
// refused and keeps its data.
func TestResetWithoutSnapshotChangesNothing(t *testing.T) {
	t.Parallel()
	s, env, pg := labPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	master, err := MasterPassword(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	const pw = "CarolPassw0rdCarolPassw0rd12345"
	addTenant(t, s, pg, master, "carol", pw)
	insertRows(t, s, "carol", pw, "c1")
	if err := pg.Reset(ctx, "carol"); !errors.Is(err, ErrNoSnapshot) {
		t.Errorf("reset without a snapshot: %v, want ErrNoSnapshot", err)
	}
	if got := rows(t, s, "carol", pw); got != "c1" {
		t.Errorf("carol after a refused reset: %q", got)
	}

	// A removal that stopped after the store entry and the database went,
	// before the snapshot: adding carol again must not inherit the old
	// carol's snapshot, which a reset would bring back.
	if err := pg.TakeSnapshot(ctx, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.run(ctx, storeDB, nil, `DELETE FROM tenants WHERE identifier = 'carol';`); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.run(ctx, "postgres", nil, `DROP DATABASE fineract_t_carol WITH (FORCE);`); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.CheckAdd(ctx, []string{"carol"}); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "tenants remove carol") {
		t.Errorf("adding a half-removed carol: %v, want a refusal that says to finish the removal", err)
	}
	if err := pg.Remove(ctx, "carol"); err != nil {
		t.Fatal(err)
	}
	if resumed, err := pg.CheckAdd(ctx, []string{"carol"}); err != nil || len(resumed) != 0 {
		t.Errorf("after the removal finished, carol is new again: %v %v", resumed, err)
	}
}

// TestCheckStoreRefusesAStoreOfAnotherShape: a store without the encrypted
// password column (before changelog 0007) is refused, so an add stops
// before it creates anything.
func TestCheckStoreRefusesAStoreOfAnotherShape(t *testing.T) {
	t.Parallel()
	_, _, pg := labPostgres(t)
	ctx := context.Background()
	if _, err := pg.run(ctx, storeDB, nil, `ALTER TABLE tenant_server_connections DROP COLUMN master_password_hash;`); err != nil {
		t.Fatal(err)
	}
	err := pg.CheckStore(ctx)
	if err == nil || !strings.Contains(err.Error(), "tenant_server_connections.master_password_hash") {
		t.Errorf("CheckStore on a store without master_password_hash: %v", err)
	}
}
