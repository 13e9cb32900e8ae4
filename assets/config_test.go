package assets

import (
	"bufio"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// checkHBA returns every way pg_hba.conf lets a connection in without TLS
// and SCRAM, or from outside the data network.
func checkHBA(hba, dataSubnet string, want map[string]bool) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	users := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(hba))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		switch f[0] {
		case "local":
			if len(f) != 4 || f[2] != "postgres" || f[3] != "peer" {
				fail("local line %q: only the postgres OS user, by peer", line)
			}
		case "hostssl":
			if len(f) != 5 {
				fail("hostssl line %q is malformed", line)
				continue
			}
			if f[4] != "scram-sha-256" {
				fail("hostssl line %q does not use scram-sha-256", line)
			}
			if f[3] != dataSubnet {
				fail("hostssl line %q admits %s, not the data network %s", line, f[3], dataSubnet)
			}
			if f[2] == "all" || f[1] == "all" {
				fail("hostssl line %q is not limited to one role and its databases", line)
			}
			// A pattern of roles (the tenants') may only reach each role's
			// own database, and must match whole names.
			if strings.HasPrefix(f[2], "/") && (f[1] != "sameuser" || !strings.HasPrefix(f[2], "/^") || !strings.HasSuffix(f[2], "$")) {
				fail("hostssl line %q admits a pattern of roles beyond each one's own database", line)
			}
			users[f[2]] = true
		default:
			fail("line %q: only hostssl (and local peer) lines are allowed", line)
		}
	}
	for u, w := range want {
		if users[u] != w {
			fail("role %s has a hostssl line: %v, want %v", u, users[u], w)
		}
	}
	return bad
}

// tenantRoles is the pg_hba.conf pattern of the roles of tenants added
// after the install (steps/tenants).
const tenantRoles = "/^fineract_t_[a-z][a-z0-9]*$"

func hbaWant(a answers.Answers) map[string]bool {
	return map[string]bool{
		"fineract":          true,
		tenantRoles:         true,
		"keycloak":          a.HasGroup(answers.GroupIdentity),
		"postgres_exporter": a.HasGroup(answers.GroupMonitoring),
	}
}

func TestPostgresIsTLSOnlyAndAudited(t *testing.T) {
	for _, c := range allCombos() {
		t.Run(c.String(), func(t *testing.T) {
			a := answersFor(c)
			b := mustRender(t, a)
			for _, msg := range checkHBA(fileText(t, b, "config/postgres/pg_hba.conf"), a.Network.Data.Subnet, hbaWant(a)) {
				t.Error(msg)
			}
			conf := confSettings(fileText(t, b, "config/postgres/postgresql.conf"))
			for k, v := range map[string]string{
				"ssl": "on", "ssl_min_protocol_version": "'TLSv1.3'", "password_encryption": "'scram-sha-256'",
				"log_statement": "'mod'", "log_connections": "on", "hba_file": "'/etc/postgresql/pg_hba.conf'",
				"ssl_key_file": "'/etc/postgresql/tls/postgres.key'", "ssl_cert_file": "'/etc/postgresql/tls/postgres.crt'",
			} {
				if conf[k] != v {
					t.Errorf("postgresql.conf %s = %q, want %s", k, conf[k], v)
				}
			}
			script := fileText(t, b, "config/postgres/initdb/10-roles.sh")
			first := strings.Index(script, `\set pw`)
			if quiet := strings.Index(script, "SET log_statement = 'none';"); quiet < 0 || quiet > first {
				t.Error("the roles script sets passwords before turning statement logging off")
			}
			if regexp.MustCompile(`psql[^\n]*-v\s+\w*(pw|pass)`).MatchString(script) || strings.Contains(script, "PGPASSWORD") {
				t.Error("the roles script passes a password on a command line or in the environment")
			}
			for role, want := range hbaWant(a) {
				if role == tenantRoles {
					continue // made by `tenants add`, not by the install
				}
				if got := strings.Contains(script, "ALTER ROLE "+role+" "); got != want {
					t.Errorf("roles script manages %s: %v, want %v", role, got, want)
				}
			}
		})
	}
}

func TestHBACheckerCatchesWeakRules(t *testing.T) {
	a := answersFor(combo{groups: answers.Groups[1:], profile: answers.Production})
	hba := fileText(t, mustRender(t, a), "config/postgres/pg_hba.conf")
	subnet := a.Network.Data.Subnet
	if msgs := checkHBA(hba, subnet, hbaWant(a)); len(msgs) > 0 {
		t.Fatalf("rendered pg_hba.conf already breaks rules: %v", msgs)
	}
	for name, extra := range map[string]string{
		"plain host line":     "host all all all scram-sha-256",
		"md5":                 "hostssl fineract_default fineract " + subnet + " md5",
		"trust":               "hostssl fineract_default fineract " + subnet + " trust",
		"any address":         "hostssl fineract_default fineract 0.0.0.0/0 scram-sha-256",
		"all roles":           "hostssl all all " + subnet + " scram-sha-256",
		"remote superuser":    "local all all trust",
		"no-TLS explicitly":   "hostnossl all all " + subnet + " scram-sha-256",
		"GSS without TLS too": "hostgssenc all all " + subnet + " scram-sha-256",
		"roles to a database": "hostssl fineract_tenants " + tenantRoles + " " + subnet + " scram-sha-256",
		"unanchored pattern":  "hostssl sameuser /fineract_t_ " + subnet + " scram-sha-256",
	} {
		if msgs := checkHBA(hba+extra+"\n", subnet, hbaWant(a)); len(msgs) == 0 {
			t.Errorf("%s (%q) was not reported", name, extra)
		}
	}
}

// confSettings reads `key = value` lines (postgresql.conf style).
func confSettings(src string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// TestServiceHopsUseTLS checks the configuration of every hop between
// services that can run TLS.
func TestServiceHopsUseTLS(t *testing.T) {
	a := answersFor(combo{groups: answers.Groups[1:], profile: answers.Production})
	b := mustRender(t, a)
	p, _ := loadBundle(t, b)
	env := func(svc string) map[string]string { return envMap(p.Services[svc]) }
	props := func(path string) map[string]string { return confSettings(fileText(t, b, path)) }
	hops := []struct {
		hop string
		ok  bool
	}{
		{"gateway -> upstreams: https and verified", strings.Contains(fileText(t, b, "config/gateway/nginx.conf"), "proxy_ssl_verify on;") &&
			!strings.Contains(fileText(t, b, "config/gateway/nginx.conf"), "set $upstream http://")},
		{"fineract -> postgres: verify-full", strings.Contains(env("fineract")["FINERACT_HIKARI_JDBC_URL"], "sslmode=verify-full")},
		{"keycloak -> postgres: verify-full", strings.Contains(env("keycloak")["KC_DB_URL"], "sslmode=verify-full")},
		{"exporter -> postgres: verify-full", strings.Contains(env("postgres-exporter")["DATA_SOURCE_URI"], "sslmode=verify-full")},
		{"keycloak listens on https only", env("keycloak")["KC_HTTP_ENABLED"] == "false" && env("keycloak")["KC_HTTPS_CERTIFICATE_FILE"] != ""},
		{"fineract -> kafka: mutual TLS", strings.Contains(env("fineract")["FINERACT_EXTERNAL_EVENTS_KAFKA_PRODUCER_EXTRA_PROPERTIES"], "security.protocol=SSL")},
		{"kafka listeners: TLS only, client certificates required", props("config/kafka/server.properties")["ssl.client.auth"] == "required" &&
			!strings.Contains(props("config/kafka/server.properties")["listener.security.protocol.map"], "PLAINTEXT") &&
			props("config/kafka/server.properties")["ssl.endpoint.identification.algorithm"] == "https"},
		{"redis: TLS port only, client certificates", strings.Contains(fileText(t, b, "config/redis/redis.conf"), "\nport 0\n") &&
			strings.Contains(fileText(t, b, "config/redis/redis.conf"), "\ntls-auth-clients yes\n")},
		{"vault: TLS 1.3 listener", strings.Contains(fileText(t, b, "config/vault/vault.hcl"), `tls_min_version = "tls13"`) &&
			!strings.Contains(fileText(t, b, "config/vault/vault.hcl"), "tls_disable")},
		{"grafana: https", env("grafana")["GF_SERVER_PROTOCOL"] == "https"},
		{"prometheus: https server", strings.Contains(fileText(t, b, "config/prometheus/web.yml"), "cert_file:")},
		{"prometheus -> fineract, vault, exporter: https", strings.Count(fileText(t, b, "config/prometheus/prometheus.yml"), "scheme: https") == 4},
		{"grafana -> prometheus: https with CA", strings.Contains(fileText(t, b, "config/grafana/datasources.yml"), "url: https://prometheus:9090")},
		{"filebeat -> logstash: TLS", strings.Contains(fileText(t, b, "config/filebeat/filebeat.yml"), "ssl.verification_mode: full")},
		{"logstash beats input: client certificates required", strings.Contains(fileText(t, b, "config/logstash/main.conf"), `ssl_client_authentication => "required"`)},
		{"logstash -> elasticsearch: verified TLS", strings.Contains(fileText(t, b, "config/logstash/main.conf"), `ssl_verification_mode => "full"`)},
		{"kibana -> elasticsearch: verified TLS", strings.Contains(fileText(t, b, "config/kibana/kibana.yml"), "elasticsearch.ssl.verificationMode: full")},
		{"elasticsearch: https", strings.Contains(fileText(t, b, "config/elasticsearch/elasticsearch.yml"), "xpack.security.http.ssl:\n  enabled: true")},
	}
	for _, h := range hops {
		if !h.ok {
			t.Errorf("hop not secured: %s", h.hop)
		}
	}
}

// TestPrincipalsMatchCertificates: Kafka's super users and Elasticsearch's
// role mappings name the subjects the pki step issues.
func TestPrincipalsMatchCertificates(t *testing.T) {
	b := mustRender(t, answersFor(combo{groups: answers.Groups[1:], profile: answers.Demo}))
	cn := func(svc string) string {
		s, _ := b.Service(svc)
		return s.Certs[0].CommonName
	}
	kafka := confSettings(fileText(t, b, "config/kafka/server.properties"))
	for _, svc := range []string{"kafka", "fineract"} {
		if !slices.Contains(strings.Split(kafka["super.users"], ";"), "User:"+cn(svc)) {
			t.Errorf("super.users %q lacks %s's principal %s", kafka["super.users"], svc, cn(svc))
		}
	}
	var mapping map[string][]string
	if err := yaml.Unmarshal([]byte(fileText(t, b, "config/elasticsearch/role_mapping.yml")), &mapping); err != nil {
		t.Fatal(err)
	}
	for role, svc := range map[string]string{"kibana_system": "kibana", "logstash_writer": "logstash", "healthcheck": "elasticsearch"} {
		if !slices.Equal(mapping[role], []string{"CN=" + cn(svc)}) {
			t.Errorf("role %s maps %v, want CN=%s", role, mapping[role], cn(svc))
		}
	}
}

func TestSessionIdleTimeoutIsFifteenMinutes(t *testing.T) {
	a := answersFor(combo{groups: answers.Groups[1:], profile: answers.Production})
	b := mustRender(t, a)
	p, _ := loadBundle(t, b)
	if js := fileText(t, b, "config/web-app/env.js"); !strings.Contains(js, "window['env']['sessionIdleTimeout'] = '900000';") {
		t.Error("web app: sessionIdleTimeout is not 900000 ms")
	}
	var realm struct {
		SSOSessionIdleTimeout int    `json:"ssoSessionIdleTimeout"`
		SSLRequired           string `json:"sslRequired"`
	}
	if err := json.Unmarshal([]byte(fileText(t, b, "config/keycloak/realm-fineract.json")), &realm); err != nil {
		t.Fatalf("realm JSON: %v", err)
	}
	if realm.SSOSessionIdleTimeout != 900 || realm.SSLRequired != "all" {
		t.Errorf("keycloak realm: idle timeout %d s, sslRequired %q; want 900 and all", realm.SSOSessionIdleTimeout, realm.SSLRequired)
	}
	if v := envMap(p.Services["grafana"])["GF_AUTH_LOGIN_MAXIMUM_INACTIVE_LIFETIME_DURATION"]; v != "15m" {
		t.Errorf("grafana: inactive lifetime %q, want 15m", v)
	}
	var kibana map[string]any
	if err := yaml.Unmarshal([]byte(fileText(t, b, "config/kibana/kibana.yml")), &kibana); err != nil {
		t.Fatal(err)
	}
	if v := kibana["xpack.security.session.idleTimeout"]; v != "15m" {
		t.Errorf("kibana: idle timeout %v, want 15m", v)
	}
}

// TestConfigFilesParse parses every YAML and JSON file of every combination.
func TestConfigFilesParse(t *testing.T) {
	for _, c := range allCombos() {
		for _, f := range mustRender(t, answersFor(c)).Files {
			var v any
			var err error
			switch {
			case strings.HasSuffix(f.Path, ".yml") || strings.HasSuffix(f.Path, ".yaml"):
				err = yaml.Unmarshal(f.Data, &v)
			case strings.HasSuffix(f.Path, ".json"):
				err = json.Unmarshal(f.Data, &v)
			default:
				continue
			}
			if err != nil {
				t.Errorf("%s: %s does not parse: %v", c, f.Path, err)
			}
		}
	}
}

// TestEveryConfigFileIsMounted: a rendered file no service mounts is dead
// configuration (or a mount that was forgotten).
func TestEveryConfigFileIsMounted(t *testing.T) {
	for _, c := range allCombos() {
		b := mustRender(t, answersFor(c))
		compose := fileText(t, b, b.ComposeFile)
		for _, f := range b.Files {
			if f.Path != b.ComposeFile && f.AppliedBy == "" && !strings.Contains(compose, "source: ./"+f.Path+",") {
				t.Errorf("%s: %s is rendered but no service mounts it", c, f.Path)
			}
		}
	}
}

// Keycloak reads no *_FILE variables; its secrets reach it in a
// configuration file, never through an environment (a wrapper exporting
// them would put them in /proc/PID/environ of the server process).
func TestKeycloakSecretsComeFromItsConfigFile(t *testing.T) {
	a := answersFor(combo{groups: []string{answers.GroupIdentity}, profile: answers.Production})
	b := mustRender(t, a)
	p, _ := loadBundle(t, b)
	kc := p.Services["keycloak"]
	if len(kc.Entrypoint) != 0 {
		t.Errorf("keycloak's entrypoint is replaced by %q; the image's kc.sh must run with the config file", kc.Entrypoint)
	}
	if !slices.Contains(kc.Command, "--config-file=/run/secrets/keycloak.conf") {
		t.Errorf("keycloak's command %q does not read the secrets' config file", kc.Command)
	}
	for k := range envMap(kc) {
		if strings.Contains(k, "PASSWORD") {
			t.Errorf("keycloak's environment sets %s", k)
		}
	}
	svc, _ := b.Service("keycloak")
	var conf strings.Builder
	for _, n := range svc.Secrets {
		if n.File != "keycloak.conf" {
			t.Errorf("keycloak reads secret file %s besides its config file", n.File)
			continue
		}
		c, err := n.Content("Abc123")
		if err != nil {
			t.Fatal(err)
		}
		conf.Write(c)
	}
	if got, want := conf.String(), "db-password=Abc123\nbootstrap-admin-password=Abc123\n"; got != want {
		t.Errorf("keycloak.conf from its secret parts = %q, want %q", got, want)
	}
}
