package main

import (
	"bufio"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The installer's fineract service: FINERACT_* variables, a config tree of
// secrets and installer.properties with a PEM SSL bundle.
func installerEnv(t *testing.T) (env []string, dir string) {
	t.Helper()
	dir = t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	write(t, filepath.Join(secrets, "FINERACT_HIKARI_PASSWORD"), "storepw")
	write(t, filepath.Join(secrets, "FINERACT_DEFAULT_TENANTDB_PWD"), "tenantpw\n")
	write(t, filepath.Join(secrets, "FINERACT_DEFAULT_TENANTDB_MASTER_PASSWORD"), "master")
	// Kubernetes-style links are not properties.
	write(t, filepath.Join(secrets, "..data", "FINERACT_HIKARI_PASSWORD"), "ignored")
	props := filepath.Join(dir, "installer.properties")
	write(t, props, strings.Join([]string{
		"# comment",
		"server.ssl.bundle=fineract",
		"spring.ssl.bundle.pem.fineract.keystore.certificate=file:" + filepath.Join(dir, "tls.crt"),
		"spring.ssl.bundle.pem.fineract.keystore.private-key=file:" + filepath.Join(dir, "tls.key"),
		"spring.ssl.bundle.pem.fineract.options.enabled-protocols=TLSv1.3",
	}, "\n")+"\n")
	env = []string{
		"SPRING_CONFIG_IMPORT=configtree:" + secrets + "/,file:" + props,
		"FINERACT_HIKARI_DRIVER_SOURCE_CLASS_NAME=org.postgresql.Driver",
		"FINERACT_HIKARI_JDBC_URL=jdbc:postgresql://postgres:5432/fineract_tenants?sslmode=verify-full&sslrootcert=/etc/fineract/tls/ca.crt",
		"FINERACT_HIKARI_USERNAME=fineract",
		"FINERACT_DEFAULT_TENANTDB_HOSTNAME=postgres",
		"FINERACT_DEFAULT_TENANTDB_PORT=5432",
		"FINERACT_DEFAULT_TENANTDB_UID=fineract",
		"FINERACT_DEFAULT_TENANTDB_CONN_PARAMS=sslmode=verify-full&sslrootcert=/etc/fineract/tls/ca.crt",
		"FINERACT_DEFAULT_TENANTDB_NAME=fineract_default",
		"FINERACT_SERVER_PORT=8443",
		"FINERACT_MANAGEMENT_PROMETHEUS_ENABLED=true",
	}
	return env, dir
}

func TestConfigAsTheInstallerRendersIt(t *testing.T) {
	env, _ := installerEnv(t)
	p, err := newProps(env)
	if err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Password != "storepw" || c.Tenant.Password != "tenantpw" {
		t.Errorf("passwords from the config tree: store %q, tenant %q", c.Store.Password, c.Tenant.Password)
	}
	if c.Store.Username != "fineract" || c.Tenant.Username != "fineract" || c.Tenant.Port != 5432 {
		t.Errorf("users/port: %+v %+v", c.Store, c.Tenant)
	}
	if c.Port != 8443 || c.ContextPath != "/fineract-provider" || !c.TLS.Enabled {
		t.Errorf("server: port %d, path %q, tls %v", c.Port, c.ContextPath, c.TLS.Enabled)
	}
	if c.TLS.Bundle != "fineract" || c.TLS.MinVersion != tls.VersionTLS13 || c.TLS.MaxVersion != tls.VersionTLS13 {
		t.Errorf("TLS settings: %+v", c.TLS)
	}
	if !c.exposed("prometheus") || !c.PrometheusOn || !c.BasicAuth || c.OAuth {
		t.Errorf("management/security: %+v", c)
	}
	if got, want := c.tenantJDBCURL(), "jdbc:postgresql://postgres:5432/fineract_default?sslmode=verify-full&sslrootcert=/etc/fineract/tls/ca.crt"; got != want {
		t.Errorf("tenant JDBC URL %q, want %q", got, want)
	}
	if c.ShutdownTimeout != 30*time.Second {
		t.Errorf("shutdown timeout %s", c.ShutdownTimeout)
	}
}

// Spring's order: the environment beats the imports, a later import beats
// an earlier one, Fineract's defaults come last.
func TestPropertyPrecedence(t *testing.T) {
	env, dir := installerEnv(t)
	later := filepath.Join(dir, "later.properties")
	write(t, later, "FINERACT_HIKARI_PASSWORD=fromlater\nserver.port : 9443\n")
	for i, kv := range env {
		if strings.HasPrefix(kv, "SPRING_CONFIG_IMPORT=") {
			env[i] = kv + ",optional:file:" + filepath.Join(dir, "missing.properties") + ",file:" + later
		}
		if strings.HasPrefix(kv, "FINERACT_SERVER_PORT=") {
			env[i] = "FINERACT_SERVER_PORT=7443"
		}
	}
	env = append(env, "FINERACT_DEFAULT_TENANTDB_PWD=fromenv")
	p, err := newProps(env)
	if err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Password != "fromlater" {
		t.Errorf("a later import should win: %q", c.Store.Password)
	}
	if c.Tenant.Password != "fromenv" {
		t.Errorf("the environment should win over the config tree: %q", c.Tenant.Password)
	}
	// server.port set in an import wins over ${FINERACT_SERVER_PORT}.
	if c.Port != 9443 {
		t.Errorf("server.port %d, want 9443", c.Port)
	}
	// Nothing set: Fineract's defaults.
	p, err = newProps(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err = loadConfig(p)
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL only") {
		t.Errorf("defaults (MariaDB driver) should be refused: %v", err)
	}
	if c.Store.JDBCURL != "jdbc:mariadb://localhost:3306/fineract_tenants" || c.Tenant.Port != 3306 || c.Tenant.Timezone != "Asia/Kolkata" || c.Port != 8443 {
		t.Errorf("defaults: %+v", c)
	}
}

func TestMissingImportFails(t *testing.T) {
	if _, err := newProps([]string{"SPRING_CONFIG_IMPORT=configtree:/nonexistent/secrets/"}); err == nil {
		t.Error("a missing config tree should fail the start, as in Spring")
	}
	if _, err := newProps([]string{"SPRING_CONFIG_IMPORT=optional:configtree:/nonexistent/secrets/"}); err != nil {
		t.Errorf("an optional missing config tree is fine: %v", err)
	}
	if _, err := newProps([]string{"SPRING_CONFIG_IMPORT=file:/x/application.yml"}); err == nil {
		t.Error("YAML imports are not supported and must say so")
	}
}

func TestParseProperties(t *testing.T) {
	src := "# c\n! c\n  a = 1\nb:2\nc 3\nd=multi \\\n    line\ne=tab\\tand\\u0041\nf\n"
	got, err := parseProperties(bufio.NewReader(strings.NewReader(src)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "1", "b": "2", "c": "3", "d": "multi line", "e": "tab\tandA", "f": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
}

func TestParseJDBC(t *testing.T) {
	tg, err := parseJDBC("jdbc:postgresql://db.example:6543/tenants?sslmode=verify-full&sslrootcert=/ca.crt&ApplicationName=fin&connectTimeout=5&tcpKeepAlive=true")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Host != "db.example" || tg.Port != 6543 || tg.Database != "tenants" {
		t.Errorf("target %+v", tg)
	}
	for k, v := range map[string]string{"sslmode": "verify-full", "sslrootcert": "/ca.crt", "application_name": "fin", "connect_timeout": "5"} {
		if tg.Params.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, tg.Params.Get(k), v)
		}
	}
	if len(tg.Ignored) != 1 || tg.Ignored[0] != "tcpKeepAlive" {
		t.Errorf("ignored %v", tg.Ignored)
	}
	cfg, err := poolConfig(tg, "fineract", "p@ss word", 5, time.Second)
	if err == nil {
		t.Error("a missing sslrootcert file must fail, not fall back to no verification")
	}
	_ = cfg

	// pgjdbc: ssl=true means verify-full.
	tg, err = parseJDBC("jdbc:postgresql://db/x?ssl=true")
	if err != nil || tg.Params.Get("sslmode") != "verify-full" || tg.Port != 5432 {
		t.Errorf("ssl=true: %+v %v", tg, err)
	}
	for _, bad := range []string{
		"jdbc:mariadb://db:3306/x",
		"jdbc:postgresql://db:5432/",
		"jdbc:postgresql://db/x?password=secret",
		"jdbc:postgresql://u:secret@db/x",
	} {
		if _, err := parseJDBC(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error repeats the password: %v", bad, err)
		}
	}
}

func TestPoolConfigVerifiesServerName(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	cert, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	write(t, ca, string(pemCert(cert.Certificate[0])))
	tg, err := parseJDBC("jdbc:postgresql://postgres:5432/fineract_tenants?sslmode=verify-full&sslrootcert=" + ca)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := poolConfig(tg, "fineract", "p@ss word", 7, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.ConnConfig
	if cc.Password != "p@ss word" || cc.User != "fineract" || cc.Database != "fineract_tenants" || cfg.MaxConns != 7 {
		t.Errorf("config %+v", cc)
	}
	if cc.TLSConfig == nil || cc.TLSConfig.ServerName != "postgres" || cc.TLSConfig.RootCAs == nil || len(cc.Fallbacks) != 0 {
		t.Errorf("verify-full must check the name postgres against the CA, with no plain-text fallback: %+v", cc.TLSConfig)
	}
	if cc.ConnectTimeout != 3*time.Second {
		t.Errorf("connect timeout %s", cc.ConnectTimeout)
	}
}

func TestServerTLSFromBundle(t *testing.T) {
	env, dir := installerEnv(t)
	cert, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "tls.crt"), string(pemCert(cert.Certificate[0])))
	write(t, filepath.Join(dir, "tls.key"), string(pemKey(t, cert)))
	p, err := newProps(env)
	if err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := c.TLS.serverTLS(func(msg string) { t.Errorf("unexpected warning: %s", msg) })
	if err != nil {
		t.Fatal(err)
	}
	if tc.MinVersion != tls.VersionTLS13 || len(tc.Certificates) != 1 {
		t.Errorf("TLS config: min %x, %d certificates", tc.MinVersion, len(tc.Certificates))
	}

	// Without a bundle: Fineract's built-in keystore, which the stand-in
	// replaces with a throwaway certificate and says so.
	p, _ = newProps([]string{"FINERACT_HIKARI_DRIVER_SOURCE_CLASS_NAME=org.postgresql.Driver"})
	s, err := loadTLSSettings(p)
	if err != nil {
		t.Fatal(err)
	}
	warned := false
	if _, err := s.serverTLS(func(string) { warned = true }); err != nil || !warned {
		t.Errorf("default keystore: %v, warned %v", err, warned)
	}
	p, _ = newProps([]string{"FINERACT_SERVER_SSL_KEY_STORE=file:/x/keystore.p12"})
	s, _ = loadTLSSettings(p)
	if _, err := s.serverTLS(func(string) {}); err == nil {
		t.Error("a key store file is not supported and must say so")
	}
	// Spring's relaxed name of server.ssl.enabled-protocols.
	p, _ = newProps([]string{"SERVER_SSL_ENABLEDPROTOCOLS=TLSv1.1"})
	if _, err := loadTLSSettings(p); err == nil {
		t.Error("TLSv1.1 must be refused")
	}
}
