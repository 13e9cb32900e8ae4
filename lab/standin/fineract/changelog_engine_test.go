package main

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// changeLogRow is one row of databasechangelog.
type changeLogRow struct {
	ID, Author, File, ExecType, MD5Sum, Liquibase string
	Order                                         int
}

func readChangeLog(t *testing.T, conn *pgx.Conn) []changeLogRow {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT id, author, filename, exectype, coalesce(md5sum, ''), coalesce(liquibase, ''), orderexecuted
		FROM databasechangelog ORDER BY orderexecuted`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (changeLogRow, error) {
		var x changeLogRow
		err := r.Scan(&x.ID, &x.Author, &x.File, &x.ExecType, &x.MD5Sum, &x.Liquibase, &x.Order)
		return x, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func changeLogIDs(rows []changeLogRow) []string {
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return ids
}

// tenantDatabases prepares the lab PostgreSQL for the stand-in: the
// fineract role, the tenant store and the default tenant's database. It
// returns the port, the role's password and a superuser connection to the
// default tenant's database.
func tenantDatabases(t *testing.T) (int, string, *pgx.Conn) {
	t.Helper()
	port, super := labPostgres(t)
	admin := pgConn(t, port, "postgres", super, "postgres")
	exec(t, admin, `CREATE ROLE fineract LOGIN PASSWORD '`+vectorPlain+`'`)
	for _, db := range []string{"fineract_tenants", "fineract_default"} {
		exec(t, admin, `CREATE DATABASE `+db+` OWNER fineract`)
	}
	return port, vectorPlain, pgConn(t, port, "postgres", super, "fineract_default")
}

func migrate(t *testing.T, db *database) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := db.migrateOnce(ctx); err != nil {
		t.Fatalf("migrate as %s: %v", db.rel.Name, err)
	}
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestReleaseUpgradeMigratesOnceAndKeepsRows runs the releases one after
// the other on one database, as an upgrade (and a downgrade) would.
func TestReleaseUpgradeMigratesOnceAndKeepsRows(t *testing.T) {
	port, pw, conn := tenantDatabases(t)
	ctx := context.Background()

	// v1 records its change sets as Liquibase does.
	v1 := openAs(t, port, pw, "v1")
	migrate(t, v1)
	log := readChangeLog(t, conn)
	if got, want := changeLogIDs(log), []string{"tenant-0001-0002", "lab-0001-lab-rows"}; !slices.Equal(got, want) {
		t.Fatalf("v1 recorded %v, want %v", got, want)
	}
	for i, r := range log {
		cs := v1.rel.tenantChangeLog()[i]
		if r.Author != standinAuthor || r.File != tenantChangeLogFile || r.ExecType != "EXECUTED" ||
			r.MD5Sum != cs.checksum() || r.Liquibase != liquibaseVersion || r.Order != i+1 {
			t.Errorf("v1 recorded %+v for change set %s (checksum %s)", r, cs.ID, cs.checksum())
		}
	}
	tenantPool, err := v1.tenants.pool(ctx, mustTenant(t, v1, "default"))
	if err != nil {
		t.Fatal(err)
	}
	var before []row
	for _, note := range []string{"first", "zweite Überweisung"} {
		if _, err := insertRow(ctx, tenantPool, v1.rel, note); err != nil {
			t.Fatal(err)
		}
	}
	if before, err = listRows(ctx, tenantPool, v1.rel); err != nil {
		t.Fatal(err)
	}
	if before[0].NoteLength != nil {
		t.Fatalf("v1 serves noteLength: %+v", before[0])
	}

	// v2 runs only its own change set, keeps the rows and fills the new
	// column from them (characters, not bytes).
	v2 := openAs(t, port, pw, "v2")
	ranV2, err := v2.migrateOnceTenants(t)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"lab-0002-lab-rows-note-length"}; !slices.Equal(ranV2, want) {
		t.Fatalf("v2 ran %v, want %v", ranV2, want)
	}
	log = readChangeLog(t, conn)
	if got := changeLogIDs(log); !slices.Equal(got, []string{"tenant-0001-0002", "lab-0001-lab-rows", "lab-0002-lab-rows-note-length"}) || log[2].Order != 3 {
		t.Fatalf("after v2 the changelog is %+v", log)
	}
	v2Pool, err := v2.tenants.pool(ctx, mustTenant(t, v2, "default"))
	if err != nil {
		t.Fatal(err)
	}
	after, err := listRows(ctx, v2Pool, v2.rel)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("v2 sees %d rows, v1 wrote %d", len(after), len(before))
	}
	for i, r := range after {
		b := before[i]
		if r.ID != b.ID || r.Note != b.Note || !r.CreatedAt.Equal(b.CreatedAt) {
			t.Errorf("row %d changed by the migration: %+v, was %+v", i, r, b)
		}
		if r.NoteLength == nil || *r.NoteLength != len([]rune(b.Note)) {
			t.Errorf("row %d (%q) has noteLength %v, want %d", r.ID, r.Note, r.NoteLength, len([]rune(b.Note)))
		}
	}
	var nullable string
	if err := conn.QueryRow(ctx, `SELECT is_nullable FROM information_schema.columns WHERE table_name = 'lab_rows' AND column_name = 'note_length'`).Scan(&nullable); err != nil {
		t.Fatalf("note_length column: %v", err)
	}
	if nullable != "NO" {
		t.Errorf("note_length is_nullable = %s, want NO", nullable)
	}

	// A rerun of v2 changes nothing.
	if ran, err := v2.migrateOnceTenants(t); err != nil || len(ran) != 0 {
		t.Fatalf("v2 rerun ran %v (err %v), want nothing", ran, err)
	}
	if n := len(readChangeLog(t, conn)); n != 3 {
		t.Fatalf("v2 rerun left %d changelog rows, want 3", n)
	}

	// v1 on the database v2 migrated starts, as Fineract does (Liquibase
	// neither checks nor refuses change sets its changelog lacks), reads
	// its rows and fails to write: that is why a downgrade is a restore.
	v1again := openAs(t, port, pw, "v1")
	if ran, err := v1again.migrateOnceTenants(t); err != nil || len(ran) != 0 {
		t.Fatalf("v1 on a v2 database: ran %v, err %v; want it to start and run nothing", ran, err)
	}
	v1again.ready.Store(true)
	if err := v1again.health(ctx); err != nil {
		t.Fatalf("v1 on a v2 database is not healthy: %v", err)
	}
	v1Pool, err := v1again.tenants.pool(ctx, mustTenant(t, v1again, "default"))
	if err != nil {
		t.Fatal(err)
	}
	if rows, err := listRows(ctx, v1Pool, v1again.rel); err != nil || len(rows) != len(before) {
		t.Fatalf("v1 on a v2 database lists %d rows (err %v), want %d", len(rows), err, len(before))
	}
	if _, err := insertRow(ctx, v1Pool, v1again.rel, "after a downgrade"); pgCode(err) != "23502" {
		t.Fatalf("v1 writing to a v2 database: %v, want a not-null violation (23502)", err)
	}
}

// migrateOnceTenants migrates the store and the tenants and returns the
// change sets run on the default tenant's database.
func (d *database) migrateOnceTenants(t *testing.T) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := migrateStore(ctx, d.store, d.cfg.Tenant); err != nil {
		return nil, err
	}
	pool, err := d.tenants.pool(ctx, mustTenant(t, d, "default"))
	if err != nil {
		return nil, err
	}
	return migrateTenant(ctx, pool, d.rel)
}

func mustTenant(t *testing.T, d *database, identifier string) tenant {
	t.Helper()
	tn, err := lookupTenant(context.Background(), d.store, identifier)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// TestChangedChecksumStopsTheStart replays a change set edited after it
// ran: Liquibase's validation fails and Fineract does not start; the
// stand-in's migrate returns the error instead of retrying.
func TestChangedChecksumStopsTheStart(t *testing.T) {
	port, pw, conn := tenantDatabases(t)
	migrate(t, openAs(t, port, pw, "v1"))
	exec(t, conn, `UPDATE databasechangelog SET md5sum = '9:00000000000000000000000000000000' WHERE id = 'lab-0001-lab-rows'`)

	db := openAs(t, port, pw, "v1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := db.migrate(ctx)
	if !errors.Is(err, errChecksum) {
		t.Fatalf("migrate with a changed checksum: %v, want %v", err, errChecksum)
	}
	if db.ready.Load() {
		t.Error("the stand-in is ready after a failed validation")
	}
}

// TestOlderStandInDatabaseIsAdopted replays a database the previous
// stand-in made: a four-column databasechangelog whose rows have no
// checksum, and lab_rows made without a record. The stand-in adds
// Liquibase's columns, fills the checksum in (a NULL checksum passes, as in
// ChangeSet.isCheckSumValid) and records lab_rows without touching its rows.
func TestOlderStandInDatabaseIsAdopted(t *testing.T) {
	port, pw, conn := tenantDatabases(t)
	migrate(t, openAs(t, port, pw, "v1"))
	// Back to the older layout, rows kept.
	exec(t, conn, `INSERT INTO lab_rows (note) VALUES ('kept')`)
	exec(t, conn, `DROP TABLE databasechangelog`)
	exec(t, conn, `CREATE TABLE databasechangelog (
		id varchar(255) NOT NULL, author varchar(255) NOT NULL, filename varchar(255) NOT NULL,
		dateexecuted timestamp NOT NULL DEFAULT now(), PRIMARY KEY (id, author, filename))`)
	exec(t, conn, `INSERT INTO databasechangelog (id, author, filename) VALUES ('tenant-0001-0002', 'fineract-standin', $1)`, tenantChangeLogFile)
	exec(t, conn, `ALTER TABLE databasechangelog OWNER TO fineract`)

	v2 := openAs(t, port, pw, "v2")
	ran, err := v2.migrateOnceTenants(t)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"lab-0001-lab-rows", "lab-0002-lab-rows-note-length"}; !slices.Equal(ran, want) {
		t.Fatalf("ran %v, want %v", ran, want)
	}
	log := readChangeLog(t, conn)
	if log[0].ID != "tenant-0001-0002" || log[0].MD5Sum != tenantInitial.checksum() || log[0].ExecType != "EXECUTED" {
		t.Errorf("the older row is %+v, want its checksum filled in", log[0])
	}
	var n, length int
	if err := conn.QueryRow(context.Background(), `SELECT count(*), max(note_length) FROM lab_rows WHERE note = 'kept'`).Scan(&n, &length); err != nil || n != 1 || length != 4 {
		t.Fatalf("the older row: count %d, note_length %d, err %v", n, length, err)
	}
}

// TestBrokenReleaseMigratesAndStaysDown checks release v2-broken: its
// migration runs to the end and is recorded, and its health is DOWN after.
func TestBrokenReleaseMigratesAndStaysDown(t *testing.T) {
	port, pw, conn := tenantDatabases(t)
	migrate(t, openAs(t, port, pw, "v1"))
	broken := openAs(t, port, pw, "v2-broken")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := broken.migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if !broken.ready.Load() {
		t.Fatal("v2-broken did not finish its migration")
	}
	if err := broken.health(ctx); !errors.Is(err, errNeverHealthy) {
		t.Fatalf("v2-broken health after its migration: %v, want %v", err, errNeverHealthy)
	}
	if got := changeLogIDs(readChangeLog(t, conn)); !slices.Contains(got, "lab-0002-lab-rows-note-length") {
		t.Fatalf("v2-broken recorded %v, want its note_length change set", got)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'lab_rows' AND column_name = 'note_length'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("note_length column after v2-broken: %d (err %v)", n, err)
	}
}
