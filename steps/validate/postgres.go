package validate

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fineract-installer/fineract-installer/compose/nsdial"
)

// PostgresChecks read PostgreSQL's live settings and prove its audit log.
func PostgresChecks() []Check {
	return []Check{
		{ID: "postgres-settings", Area: AreaPostgres, Title: "SSL on, TLS 1.3 minimum, scram-sha-256, hostssl-only rules", Controls: []Control{ControlTransit, ControlSecrets}, Run: checkPostgresSettings},
		{ID: "postgres-audit", Area: AreaPostgres, Title: "DDL and data changes are written to the server log", Controls: []Control{ControlLogging}, Run: checkPostgresAudit},
	}
}

// postgresConn logs in as the superuser over verified TLS, from inside the
// Postgres container's namespace to its data-network address (the only
// source its hostssl rules accept).
func (t *Target) postgresConn(ctx context.Context) (*pgx.Conn, error) {
	roots, err := t.caPool()
	if err != nil {
		return nil, err
	}
	cs, err := t.inspectAll(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := cs["postgres"]
	if !ok || c.State == nil || c.State.Pid == 0 {
		return nil, fmt.Errorf("postgres is not running")
	}
	ip := ""
	if ep, ok := c.NetworkSettings.Networks[t.Networks["data"]]; ok {
		ip = ep.IPAddress
	}
	if ip == "" {
		return nil, fmt.Errorf("postgres has no address on the data network")
	}
	pw, err := os.ReadFile(filepath.Join(t.SecretsDir, "postgres", "superuser_password"))
	if err != nil {
		return nil, fmt.Errorf("read the delivered superuser password (run as root; after a reboot run `fineract-installer unseal`): %w", err)
	}
	cfg, err := pgx.ParseConfig("postgres://postgres@postgres:5432/postgres?sslmode=verify-full&connect_timeout=10")
	if err != nil {
		return nil, err
	}
	cfg.Password = strings.TrimSpace(string(pw))
	cfg.TLSConfig = &tls.Config{ServerName: "postgres", RootCAs: roots, MinVersion: tls.VersionTLS12}
	ns := fmt.Sprintf("/proc/%d/ns/net", c.State.Pid)
	cfg.DialFunc = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return nsdial.DialInNamespaceWith(ctx, &net.Dialer{Timeout: 5 * time.Second}, ns, network, net.JoinHostPort(ip, "5432"))
	}
	cfg.LookupFunc = func(context.Context, string) ([]string, error) { return []string{ip}, nil }
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("log in to postgres: %w", err)
	}
	return conn, nil
}

func checkPostgresSettings(ctx context.Context, t *Target) Finding {
	if _, ok := t.Expect.Service("postgres"); !ok {
		return pass("no PostgreSQL in this stack")
	}
	conn, err := t.postgresConn(ctx)
	if err != nil {
		return fail(err.Error(), "see `fineract-installer logs postgres`")
	}
	defer conn.Close(ctx)
	settings := map[string]string{}
	for _, name := range []string{"ssl", "ssl_min_protocol_version", "password_encryption"} {
		var v string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
			return fail(fmt.Sprintf("read %s: %v", name, err), "")
		}
		settings[name] = v
	}
	rows, err := conn.Query(ctx, "SELECT type, auth_method, coalesce(address, '') FROM pg_hba_file_rules WHERE error IS NULL")
	if err != nil {
		return fail("read pg_hba rules: "+err.Error(), "")
	}
	var rules, weak []string
	for rows.Next() {
		var typ, method, addr string
		if err := rows.Scan(&typ, &method, &addr); err != nil {
			return fail(err.Error(), "")
		}
		rule := fmt.Sprintf("%s %s %s", typ, addr, method)
		rules = append(rules, rule)
		if typ != "local" && (typ != "hostssl" || method != "scram-sha-256") {
			weak = append(weak, rule)
		}
	}
	evidence := fmt.Sprintf("ssl=%s, ssl_min_protocol_version=%s, password_encryption=%s; pg_hba: %s",
		settings["ssl"], settings["ssl_min_protocol_version"], settings["password_encryption"], strings.Join(rules, "; "))
	switch {
	case settings["ssl"] != "on", settings["password_encryption"] != "scram-sha-256",
		settings["ssl_min_protocol_version"] != "TLSv1.2" && settings["ssl_min_protocol_version"] != "TLSv1.3":
		return fail(evidence, "re-run the install to render postgresql.conf again")
	case len(weak) > 0:
		return fail(evidence+"; rules that allow plain or weak logins: "+strings.Join(weak, "; "), "pg_hba.conf must hold hostssl scram-sha-256 rules only")
	}
	return pass(evidence)
}

// checkPostgresAudit runs a DDL statement and a data change on a throwaway
// table and looks for both in the server log.
func checkPostgresAudit(ctx context.Context, t *Target) Finding {
	if _, ok := t.Expect.Service("postgres"); !ok {
		return pass("no PostgreSQL in this stack")
	}
	conn, err := t.postgresConn(ctx)
	if err != nil {
		return fail(err.Error(), "see `fineract-installer logs postgres`")
	}
	defer conn.Close(ctx)
	var b [5]byte
	_, _ = rand.Read(b[:])
	table := "installer_audit_probe_" + hex.EncodeToString(b[:])
	since := time.Now().Add(-time.Second)
	for _, stmt := range []string{
		"CREATE TABLE " + table + " (id int)",
		"INSERT INTO " + table + " VALUES (1)",
		"UPDATE " + table + " SET id = 2",
		"DROP TABLE " + table,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fail(fmt.Sprintf("%s: %v", stmt, err), "")
		}
	}
	var ddl, update bool
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !(ddl && update); time.Sleep(200 * time.Millisecond) {
		ddl = t.containerLogHas(ctx, "postgres", since, "CREATE TABLE "+table)
		update = t.containerLogHas(ctx, "postgres", since, "UPDATE "+table)
	}
	evidence := fmt.Sprintf("ran CREATE/INSERT/UPDATE/DROP on %s; in the server log: DDL %t, UPDATE %t", table, ddl, update)
	if ddl && update {
		return pass(evidence)
	}
	return fail(evidence, "postgresql.conf must set log_statement = 'mod'")
}
