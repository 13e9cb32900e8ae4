package validate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/pgsql"
)

// PostgresChecks read PostgreSQL's live settings and prove its audit log.
// They run psql inside the container as the postgres OS user over the
// local socket (peer authentication), as an administrator would: the
// superuser is not allowed to log in over the network at all.
func PostgresChecks() []Check {
	return []Check{
		{ID: "postgres-settings", Area: AreaPostgres, Title: "SSL on, TLS minimum, scram-sha-256, hostssl-only rules", Controls: []Control{ControlTransit, ControlSecrets}, Run: checkPostgresSettings},
		{ID: "postgres-audit", Area: AreaPostgres, Title: "DDL and data changes are written to the server log", Controls: []Control{ControlLogging}, Run: checkPostgresAudit},
		{ID: "postgres-tenant-tls", Area: AreaPostgres, Title: "Fineract verifies PostgreSQL's certificate on every tenant connection", Controls: []Control{ControlTransit}, Run: checkTenantTLS},
	}
}

// checkTenantTLS reads Fineract's tenant store: every tenant's connection
// must ask for TLS verified by name against the stack's CA. Fineract's
// first start replaces them (install.TenantTLSStep says why).
func checkTenantTLS(ctx context.Context, t *Target) Finding {
	svc, ok := t.Expect.Service("postgres")
	if !ok {
		return fail("the stack has no postgres service", "")
	}
	rows, err := pgsql.New(pgsql.EngineExec(t.Engine, t.Project, svc.User())).Run(ctx, "fineract_tenants", nil,
		`SELECT t.identifier, c.schema_server, coalesce(c.schema_connection_parameters, '') FROM tenants t JOIN tenant_server_connections c ON c.id = t.oltp_id ORDER BY t.identifier;`)
	if err != nil {
		return fail("read Fineract's tenant store: "+err.Error(), "see `fineract-installer logs postgres fineract`")
	}
	if len(rows) == 0 {
		return fail("Fineract's tenant store lists no tenant", "see `fineract-installer logs fineract`: its first start registers the default tenant")
	}
	var good, bad []string
	for _, r := range rows {
		if len(r) != 3 {
			return fail(fmt.Sprintf("unexpected row %v from the tenant store", r), "")
		}
		params, _ := url.ParseQuery(r[2])
		line := fmt.Sprintf("%s: %s", r[0], r[2])
		if params.Get("sslmode") != "verify-full" || params.Get("sslrootcert") == "" {
			bad = append(bad, line)
			continue
		}
		good = append(good, r[0])
	}
	if len(bad) > 0 {
		return Finding{Status: Fail, Evidence: "tenant connections without verified TLS: " + strings.Join(bad, "; "), Subject: "fineract",
			Fix: "run `fineract-installer install` again: its fineract-tenant-tls step sets them back and restarts Fineract"}
	}
	return pass(fmt.Sprintf("%d tenant(s) connect with sslmode=verify-full and the stack's CA: %s", len(good), strings.Join(good, ", ")))
}

// psql runs SQL in the postgres container and returns its unaligned output.
func (t *Target) psql(ctx context.Context, sql string) (string, error) {
	pg, _ := t.Expect.Service("postgres")
	res, err := t.Engine.Exec(ctx, t.Project, "postgres", pg.User(),
		[]string{"psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", "/var/run/postgresql", "-U", "postgres", "-d", "postgres", "-At", "-F", "|", "-c", sql}, nil, nil)
	if err != nil {
		return "", err
	}
	if res.ExitCode != 0 {
		return "", fmt.Errorf("psql exited %d: %s", res.ExitCode, strings.TrimSpace(res.Stderr))
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

func checkPostgresSettings(ctx context.Context, t *Target) Finding {
	if _, ok := t.Expect.Service("postgres"); !ok {
		return pass("no PostgreSQL in this stack")
	}
	out, err := t.psql(ctx, "SELECT current_setting('ssl'), current_setting('ssl_min_protocol_version'), current_setting('password_encryption')")
	if err != nil {
		return fail("read settings: "+err.Error(), "see `fineract-installer logs postgres`")
	}
	s := strings.Split(out, "|")
	if len(s) != 3 {
		return fail("unexpected settings output: "+out, "")
	}
	rulesOut, err := t.psql(ctx, "SELECT type, coalesce(address,''), auth_method FROM pg_hba_file_rules WHERE error IS NULL ORDER BY line_number")
	if err != nil {
		return fail("read pg_hba rules: "+err.Error(), "")
	}
	var rules, weak []string
	for _, line := range strings.Split(rulesOut, "\n") {
		f := strings.Split(line, "|")
		if len(f) != 3 {
			continue
		}
		rule := strings.Join(f, " ")
		rules = append(rules, rule)
		if f[0] != "local" && (f[0] != "hostssl" || f[2] != "scram-sha-256") || f[0] == "local" && f[2] == "trust" {
			weak = append(weak, rule)
		}
	}
	evidence := fmt.Sprintf("ssl=%s, ssl_min_protocol_version=%s, password_encryption=%s; pg_hba: %s", s[0], s[1], s[2], strings.Join(rules, "; "))
	switch {
	case s[0] != "on", s[2] != "scram-sha-256", s[1] != "TLSv1.2" && s[1] != "TLSv1.3":
		return fail(evidence, "re-run the install to render postgresql.conf again")
	case len(weak) > 0:
		return fail(evidence+"; rules that allow plain or weak logins: "+strings.Join(weak, "; "), "pg_hba.conf must hold hostssl scram-sha-256 rules only (local peer for the superuser)")
	}
	return pass(evidence)
}

// checkPostgresAudit runs a DDL statement and a data change on a throwaway
// table and looks for both in the server log.
func checkPostgresAudit(ctx context.Context, t *Target) Finding {
	if _, ok := t.Expect.Service("postgres"); !ok {
		return pass("no PostgreSQL in this stack")
	}
	var b [5]byte
	_, _ = rand.Read(b[:])
	table := "installer_audit_probe_" + hex.EncodeToString(b[:])
	since := time.Now().Add(-time.Second)
	sql := fmt.Sprintf("CREATE TABLE %[1]s (id int); INSERT INTO %[1]s VALUES (1); UPDATE %[1]s SET id = 2; DROP TABLE %[1]s;", table)
	if _, err := t.psql(ctx, sql); err != nil {
		return fail("run the probe statements: "+err.Error(), "")
	}
	var ddl, update bool
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !(ddl && update); time.Sleep(200 * time.Millisecond) {
		ddl = t.containerLogHas(ctx, "postgres", since, "CREATE TABLE "+table)
		update = t.containerLogHas(ctx, "postgres", since, "UPDATE "+table)
	}
	evidence := fmt.Sprintf("ran CREATE/INSERT/UPDATE/DROP on %s; found in the server log: DDL %t, UPDATE %t", table, ddl, update)
	if ddl && update {
		return pass(evidence)
	}
	return fail(evidence, "postgresql.conf must set log_statement = 'mod'")
}
