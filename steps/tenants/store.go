package tenants

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// storeDB is Fineract's tenant store (FINERACT_HIKARI_JDBC_URL in
// core.yaml.tmpl).
const storeDB = "fineract_tenants"

// Tenant is what the installation knows of one tenant.
type Tenant struct {
	Name string `json:"name"`
	// Registered: the tenant store has the tenant.
	Registered bool `json:"registered"`
	// Database and Role are the tenant's PostgreSQL database and login.
	Database string `json:"database"`
	// DatabaseExists and Snapshot say which of its databases exist.
	DatabaseExists bool `json:"database_exists"`
	Snapshot       bool `json:"snapshot"`
	RoleExists     bool `json:"-"`
	// Migrated: Fineract has created its schema (Liquibase's changelog
	// table is there).
	Migrated bool `json:"migrated"`
}

// Complete says the tenant went through every step of Add.
func (t Tenant) Complete() bool {
	return t.Registered && t.DatabaseExists && t.Migrated && t.Snapshot
}

// List returns every tenant of the store, the default first, plus any
// installer-made tenant whose database or role is left from an interrupted
// add or remove.
func (p *Postgres) List(ctx context.Context) ([]Tenant, error) {
	rows, err := p.run(ctx, storeDB, nil, `SELECT identifier FROM tenants ORDER BY id;`)
	if err != nil {
		return nil, fmt.Errorf("read Fineract's tenant store (has Fineract started once?): %w", err)
	}
	byName := map[string]*Tenant{}
	var order []string
	add := func(name string) *Tenant {
		if t, ok := byName[name]; ok {
			return t
		}
		t := &Tenant{Name: name, Database: Database(name)}
		byName[name] = t
		order = append(order, name)
		return t
	}
	for _, r := range rows {
		add(r[0]).Registered = true
	}
	objs, err := p.run(ctx, "postgres", vars{"dbp": databasePrefix + "%", "snp": snapshotPrefix + "%"}, `
SELECT 'db', datname FROM pg_database WHERE datname LIKE :'dbp' OR datname = 'fineract_default'
UNION ALL SELECT 'snap', datname FROM pg_database WHERE datname LIKE :'snp'
UNION ALL SELECT 'role', rolname FROM pg_roles WHERE rolname LIKE :'dbp';`)
	if err != nil {
		return nil, fmt.Errorf("list the tenants' databases: %w", err)
	}
	for _, o := range objs {
		if len(o) != 2 {
			continue
		}
		name, ok := tenantOf(o[1], o[0])
		if !ok {
			continue
		}
		t := add(name)
		switch o[0] {
		case "db":
			t.DatabaseExists = true
		case "snap":
			t.Snapshot = true
		case "role":
			t.RoleExists = true
		}
	}
	var dbs []string
	for _, n := range order {
		if byName[n].DatabaseExists && validKnown(n) == nil {
			dbs = append(dbs, byName[n].Database)
		}
	}
	migrated, err := p.migrated(ctx, dbs)
	if err != nil {
		return nil, err
	}
	for _, t := range byName {
		t.Migrated = migrated[t.Database]
	}
	out := make([]Tenant, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	slices.SortStableFunc(out, func(a, b Tenant) int {
		switch {
		case a.Name == Default:
			return -1
		case b.Name == Default:
			return 1
		}
		return 0
	})
	return out, nil
}

// tenantOf maps a database or role name back to its tenant.
func tenantOf(object, kind string) (string, bool) {
	var name string
	switch {
	case kind == "snap":
		name = strings.TrimPrefix(object, snapshotPrefix)
	case object == defaultDatabase:
		return Default, true
	default:
		name = strings.TrimPrefix(object, databasePrefix)
	}
	return name, validKnown(name) == nil
}

// migrated reports which of dbs Liquibase has run in: its changelog table
// (databasechangelog) is there. One psql session visits them all.
func (p *Postgres) migrated(ctx context.Context, dbs []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(dbs) == 0 {
		return out, nil
	}
	v := vars{}
	var sql strings.Builder
	for i, db := range dbs {
		name := fmt.Sprintf("db%d", i)
		v[name] = db
		// The names are this package's own, from validated tenant names.
		fmt.Fprintf(&sql, "\\connect :%s\nSELECT :'%s', to_regclass('public.databasechangelog') IS NOT NULL;\n", name, name)
	}
	rows, err := p.run(ctx, "postgres", v, sql.String())
	if err != nil {
		return nil, fmt.Errorf("look into the tenants' databases: %w", err)
	}
	for _, r := range rows {
		if len(r) == 2 {
			out[r[0]] = r[1] == "t"
		}
	}
	return out, nil
}

// hbaUserPattern is the user column of the pg_hba.conf line that lets the
// tenants' roles in (pg_hba.conf.tmpl). The line's database column is
// `sameuser`, so each role reaches only the database of its own name.
const hbaUserPattern = `/^fineract_t_[a-z][a-z0-9]*$`

// CheckAccess makes sure the server admits the tenants' roles: the
// pg_hba.conf it reads has the tenants' line, without errors, and is
// loaded. An installation rendered before tenants existed lacks the line.
func (p *Postgres) CheckAccess(ctx context.Context) error {
	rows, err := p.run(ctx, "postgres", vars{"pattern": hbaUserPattern}, `
SELECT count(*) FILTER (WHERE error IS NOT NULL),
       count(*) FILTER (WHERE type = 'hostssl' AND database = ARRAY['sameuser'] AND user_name = ARRAY[:'pattern'] AND auth_method = 'scram-sha-256')
FROM pg_hba_file_rules;
SELECT pg_reload_conf();`)
	if err != nil {
		return fmt.Errorf("read PostgreSQL's client authentication rules: %w", err)
	}
	if len(rows) < 1 || len(rows[0]) != 2 {
		return fmt.Errorf("unexpected answer from pg_hba_file_rules: %q", rows)
	}
	if rows[0][0] != "0" {
		return fmt.Errorf("PostgreSQL's pg_hba.conf has %s faulty lines", rows[0][0])
	}
	if rows[0][1] == "0" {
		return fmt.Errorf("PostgreSQL's pg_hba.conf has no line for the tenants' roles (hostssl sameuser %s)", hbaUserPattern)
	}
	return nil
}

// storeColumns are the tenant store's columns Register writes, per table
// (tenant-store changelog 0001, 0004 and 0007; see the package doc).
var storeColumns = map[string][]string{
	"tenant_server_connections": {"id", "schema_server", "schema_server_port", "schema_name", "schema_username", "schema_password",
		"schema_connection_parameters", "auto_update", "master_password_hash",
		"pool_initial_size", "pool_min_idle", "pool_max_idle", "pool_max_active"},
	"tenants": {"id", "identifier", "name", "timezone_id", "oltp_id", "report_id", "created_date", "lastmodified_date"},
}

// CheckStore makes sure Fineract's tenant store has every column Register
// writes, so an add is refused before anything is created on a store of
// another shape (a Fineract that has not started yet, or another version).
func (p *Postgres) CheckStore(ctx context.Context) error {
	rows, err := p.run(ctx, storeDB, nil, `
SELECT table_name, column_name FROM information_schema.columns
WHERE table_schema = 'public' AND table_name IN ('tenants', 'tenant_server_connections');`)
	if err != nil {
		return fmt.Errorf("read Fineract's tenant store (has Fineract started once?): %w", err)
	}
	have := map[string]bool{}
	for _, r := range rows {
		if len(r) == 2 {
			have[r[0]+"."+r[1]] = true
		}
	}
	var missing []string
	for _, table := range slices.Sorted(maps.Keys(storeColumns)) {
		for _, c := range storeColumns[table] {
			if !have[table+"."+c] {
				missing = append(missing, table+"."+c)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the tenant store lacks %s, which Fineract's changelog creates: it is not a store this installer can write tenants into", strings.Join(missing, ", "))
	}
	return nil
}
