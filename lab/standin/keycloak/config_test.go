package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseArgsTakesTheComposeCommandOnly(t *testing.T) {
	c, err := parseArgs([]string{"--config-file=/run/secrets/keycloak.conf", "start", "--import-realm"})
	if err != nil || c.ConfigFile != "/run/secrets/keycloak.conf" || !c.ImportRealm {
		t.Fatalf("%+v, %v", c, err)
	}
	for _, bad := range [][]string{{"start-dev"}, {"start", "--optimized"}, {"--import-realm"}, {}} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The compose file's environment plus the secrets file, as the installer
// renders them.
func composeEnv(extra map[string]string) func(string) string {
	env := map[string]string{
		"KC_DB": "postgres", "KC_DB_URL": "jdbc:postgresql://postgres:5432/keycloak?sslmode=verify-full&sslrootcert=/opt/keycloak/conf/tls/ca.crt",
		"KC_DB_USERNAME": "keycloak", "KC_BOOTSTRAP_ADMIN_USERNAME": "admin", "KC_HOSTNAME": "https://bank.example.test/auth",
		"KC_HTTP_RELATIVE_PATH": "/auth", "KC_HTTP_ENABLED": "false", "KC_HTTPS_PORT": "8443",
		"KC_HTTPS_CERTIFICATE_FILE": "/c.crt", "KC_HTTPS_CERTIFICATE_KEY_FILE": "/c.key", "KC_HTTPS_PROTOCOLS": "TLSv1.3",
		"KC_HEALTH_ENABLED": "true", "KC_HTTP_MANAGEMENT_PORT": "9000", "KC_HTTP_MANAGEMENT_RELATIVE_PATH": "/", "KC_HTTP_MANAGEMENT_SCHEME": "http",
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestConfigReadsTheConfigFileAndEnvironment(t *testing.T) {
	f := filepath.Join(t.TempDir(), "keycloak.conf")
	if err := os.WriteFile(f, []byte("db-password=dbsecret\nbootstrap-admin-password=adminsecret\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(f, composeEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DBPassword != "dbsecret" || c.AdminPassword != "adminsecret" || c.AdminUser != "admin" {
		t.Errorf("secrets or admin not read: %+v", c)
	}
	if c.issuer("fineract") != "https://bank.example.test/auth/realms/fineract" || c.RelativePath != "/auth" {
		t.Errorf("issuer %q, path %q", c.issuer("fineract"), c.RelativePath)
	}
	if len(c.Protocols) != 1 || c.Protocols[0] != "TLSv1.3" || c.ManagementPort != 9000 || !c.HealthEnabled {
		t.Errorf("TLS or management: %+v", c)
	}
	// KC_* wins over the file, as in Keycloak.
	if c, _ := loadConfig(f, composeEnv(map[string]string{"KC_DB_PASSWORD": "fromenv"})); c.DBPassword != "fromenv" {
		t.Errorf("environment did not win: %q", c.DBPassword)
	}
	for name, extra := range map[string]map[string]string{
		"no https hostname": {"KC_HOSTNAME": "bank.example.test"},
		"plain HTTP":        {"KC_HTTP_ENABLED": "true"},
		"another database":  {"KC_DB": "mariadb"},
		"TLS management":    {"KC_HTTP_MANAGEMENT_SCHEME": "inherited"},
	} {
		if _, err := loadConfig(f, composeEnv(extra)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := loadConfig("", composeEnv(nil)); err == nil || !strings.Contains(err.Error(), "db-password") {
		t.Errorf("without the config file: %v", err)
	}
}

func TestJDBCURLKeepsVerifiedTLS(t *testing.T) {
	dsn, err := jdbcToPGX("jdbc:postgresql://postgres:5432/keycloak?sslmode=verify-full&sslrootcert=/ca.crt", "keycloak")
	if err != nil || !strings.Contains(dsn, "sslmode=verify-full") || !strings.Contains(dsn, "sslrootcert=%2Fca.crt") || !strings.HasPrefix(dsn, "postgres://keycloak@postgres:5432/keycloak") {
		t.Fatalf("%q, %v", dsn, err)
	}
	if _, err := jdbcToPGX("jdbc:postgresql://u:p@postgres/keycloak", "keycloak"); err == nil {
		t.Error("credentials in the URL accepted")
	}
}

func TestPasswordPolicyOfTheRealm(t *testing.T) {
	const policy = "length(12) and upperCase(1) and lowerCase(1) and digits(1) and specialChars(1) and notUsername and passwordHistory(5)"
	if err := checkPolicy(policy, "mifos", "Lab-signin-proof-1"); err != nil {
		t.Errorf("a good password: %v", err)
	}
	for _, bad := range []string{"short-A1", "no-digits-Abcdef", "NODOWNCASE-123", "nospecialAbc123"} {
		if err := checkPolicy(policy, "mifos", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := checkPolicy("forceExpiredPasswordChange(30)", "u", "x"); err == nil {
		t.Error("an unknown policy accepted")
	}
}

// TestMetricsOnlyWhenEnabled: the management port serves /metrics in
// Prometheus' text format when metrics-enabled is set (Prometheus scrapes
// it), and not otherwise.
func TestMetricsOnlyWhenEnabled(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		s := &server{cfg: config{MetricsEnabled: enabled, ManagementPath: ""}}
		rec := httptest.NewRecorder()
		s.management().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if enabled && (rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "# TYPE process_start_time_seconds gauge")) {
			t.Errorf("metrics enabled: %d %q", rec.Code, rec.Body.String())
		}
		if !enabled && rec.Code != http.StatusNotFound {
			t.Errorf("metrics disabled: /metrics answered %d", rec.Code)
		}
	}
}
