package assets

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

func envMap(s types.ServiceConfig) map[string]string {
	out := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// checkFineract returns every Fineract trap the service falls into.
func checkFineract(s types.ServiceConfig, installerProps string) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	env := envMap(s)
	for _, k := range []string{"SPRING_PROFILES_ACTIVE", "SPRING_PROFILES_INCLUDE", "SPRING_PROFILES_DEFAULT"} {
		for _, p := range strings.Split(env[k], ",") {
			if p = strings.ToLower(strings.TrimSpace(p)); p == "test" || p == "diagnostics" {
				fail("%s enables the %s profile", k, p)
			}
		}
	}
	if _, ok := env["SPRING_PROFILES_ACTIVE"]; !ok {
		fail("SPRING_PROFILES_ACTIVE is not set explicitly")
	}
	for _, k := range []string{"JAVA_TOOL_OPTIONS", "JAVA_OPTS", "JDK_JAVA_OPTIONS"} {
		v := strings.ToLower(env[k])
		for _, bad := range []string{"jdwp", "-xdebug", "-xrunjdwp", "tieredstopatlevel=1"} {
			if strings.Contains(v, bad) {
				fail("%s carries %s (debug agent or development JIT)", k, bad)
			}
		}
	}
	want := map[string]string{
		"SPRINGDOC_API_DOCS_ENABLED":               "false",
		"SPRINGDOC_SWAGGER_UI_ENABLED":             "false",
		"FINERACT_INSECURE_HTTP_CLIENT":            "false",
		"FINERACT_HIKARI_DRIVER_SOURCE_CLASS_NAME": "org.postgresql.Driver",
		"FINERACT_DEFAULT_TENANTDB_PORT":           "5432",
		"FINERACT_SERVER_SSL_ENABLED":              "true",
		"FINERACT_SERVER_PORT":                     "8443",
	}
	for k, v := range want {
		if env[k] != v {
			fail("%s=%q, want %q", k, env[k], v)
		}
	}
	url := env["FINERACT_HIKARI_JDBC_URL"]
	if !strings.HasPrefix(url, "jdbc:postgresql://postgres:5432/") || !strings.Contains(url, "sslmode=verify-full") || !strings.Contains(url, "sslrootcert=") {
		fail("FINERACT_HIKARI_JDBC_URL %q is not PostgreSQL with sslmode=verify-full", url)
	}
	if p := env["FINERACT_DEFAULT_TENANTDB_CONN_PARAMS"]; !strings.Contains(p, "sslmode=verify-full") || !strings.Contains(p, "sslrootcert=") {
		fail("tenant connection parameters %q do not verify the server", p)
	}
	for _, k := range []string{"FINERACT_HIKARI_PASSWORD", "FINERACT_DEFAULT_TENANTDB_PWD", "FINERACT_DEFAULT_TENANTDB_MASTER_PASSWORD", "FINERACT_DEFAULT_MASTER_PASSWORD", "FINERACT_SERVER_SSL_KEY_STORE_PASSWORD"} {
		if _, ok := env[k]; ok {
			fail("%s is in the environment; it must come from the config tree", k)
		}
	}
	if !strings.Contains(env["SPRING_CONFIG_IMPORT"], "configtree:/run/secrets/") {
		fail("secrets are not imported as a config tree from /run/secrets/")
	}
	var targets []string
	for _, ref := range s.Secrets {
		targets = append(targets, ref.Target)
	}
	for _, k := range []string{"FINERACT_HIKARI_PASSWORD", "FINERACT_DEFAULT_TENANTDB_PWD", "FINERACT_DEFAULT_TENANTDB_MASTER_PASSWORD"} {
		if !slices.Contains(targets, k) {
			fail("secret file %s is not mounted (the master password must exist before the first start)", k)
		}
	}
	for _, e := range strings.Split(env["FINERACT_MANAGEMENT_ENDPOINT_WEB_EXPOSURE_INCLUDE"], ",") {
		if !slices.Contains([]string{"health", "info", "prometheus"}, e) {
			fail("actuator endpoint %q is exposed", e)
		}
	}
	if !strings.Contains(installerProps, "server.ssl.bundle=fineract") || !strings.Contains(installerProps, "private-key=file:/etc/fineract/tls/fineract.key") {
		fail("the TLS listener does not use the installer's certificate")
	}
	if hc := s.HealthCheck; hc == nil || hc.StartPeriod == nil || time.Duration(*hc.StartPeriod) < 10*time.Minute {
		fail("the healthcheck does not leave 10 minutes for the first start's migrations")
	} else if !strings.Contains(strings.Join(hc.Test, " "), "/fineract-provider/actuator/health") {
		fail("the healthcheck does not ask actuator health")
	}
	return bad
}

func TestFineractAvoidsKnownTraps(t *testing.T) {
	for _, c := range allCombos() {
		t.Run(c.String(), func(t *testing.T) {
			rc := newRuleCtx(t, c)
			for _, msg := range checkFineract(rc.p.Services["fineract"], fileText(t, rc.b, "config/fineract/installer.properties")) {
				t.Error(msg)
			}
			env := envMap(rc.p.Services["fineract"])
			if rc.a.HasGroup(answers.GroupIdentity) {
				if env["FINERACT_SECURITY_OAUTH_ENABLED"] != "true" || env["FINERACT_SECURITY_BASICAUTH_ENABLED"] != "false" {
					t.Error("with Keycloak, Fineract must take OAuth bearer tokens and no basic auth")
				}
				if env["FINERACT_SERVER_OAUTH_RESOURCE_URL"] != "https://bank.example.test/auth/realms/fineract" {
					t.Errorf("issuer %q is not the public Keycloak realm URL", env["FINERACT_SERVER_OAUTH_RESOURCE_URL"])
				}
			}
			if rc.a.HasGroup(answers.GroupMessaging) {
				for _, k := range []string{"FINERACT_EXTERNAL_EVENTS_KAFKA_PRODUCER_EXTRA_PROPERTIES", "FINERACT_EXTERNAL_EVENTS_KAFKA_ADMIN_EXTRA_PROPERTIES"} {
					if !strings.Contains(env[k], "security.protocol=SSL") || !strings.Contains(env[k], "ssl.keystore.location=/etc/fineract/tls/fineract.pem") {
						t.Errorf("%s does not use mutual TLS: %q", k, env[k])
					}
				}
			}
		})
	}
}

func TestFineractCheckerCatchesTraps(t *testing.T) {
	rc := newRuleCtx(t, combo{groups: []string{answers.GroupMessaging}, profile: answers.Production})
	props := fileText(t, rc.b, "config/fineract/installer.properties")
	base := rc.p.Services["fineract"]
	if msgs := checkFineract(base, props); len(msgs) > 0 {
		t.Fatalf("rendered service already falls into traps: %v", msgs)
	}
	with := func(k, v string) types.ServiceConfig {
		s := base
		env := types.MappingWithEquals{}
		for ek, ev := range base.Environment {
			env[ek] = ev
		}
		env[k] = &v
		s.Environment = env
		return s
	}
	cases := []struct {
		name string
		s    types.ServiceConfig
		want string
	}{
		{"test profile", with("SPRING_PROFILES_ACTIVE", "test,diagnostics"), "test profile"},
		{"diagnostics included", with("SPRING_PROFILES_INCLUDE", "diagnostics"), "diagnostics profile"},
		{"JDWP agent", with("JAVA_TOOL_OPTIONS", "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:5005"), "jdwp"},
		{"swagger", with("SPRINGDOC_SWAGGER_UI_ENABLED", "true"), "SPRINGDOC_SWAGGER_UI_ENABLED"},
		{"insecure client", with("FINERACT_INSECURE_HTTP_CLIENT", "true"), "FINERACT_INSECURE_HTTP_CLIENT"},
		{"MariaDB driver", with("FINERACT_HIKARI_DRIVER_SOURCE_CLASS_NAME", "org.mariadb.jdbc.Driver"), "DRIVER"},
		{"no TLS to Postgres", with("FINERACT_HIKARI_JDBC_URL", "jdbc:postgresql://postgres:5432/fineract_tenants?sslmode=disable"), "verify-full"},
		{"master password in env", with("FINERACT_DEFAULT_TENANTDB_MASTER_PASSWORD", "/x"), "config tree"},
		{"env actuator", with("FINERACT_MANAGEMENT_ENDPOINT_WEB_EXPOSURE_INCLUDE", "health,env"), "\"env\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs := checkFineract(tc.s, props)
			if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, tc.want) }) {
				t.Errorf("want a message containing %q, got %v", tc.want, msgs)
			}
		})
	}
	if msgs := checkFineract(base, strings.ReplaceAll(props, "server.ssl.bundle=fineract", "")); len(msgs) == 0 {
		t.Error("dropping the TLS bundle was not reported")
	}
}

func TestWebAppGetsThePublicURL(t *testing.T) {
	for _, c := range allCombos() {
		a := answersFor(c)
		a.Gateway.HTTPSPort = 8443
		b := mustRender(t, a)
		js := fileText(t, b, "config/web-app/env.js")
		const public = "https://bank.example.test:8443"
		for _, key := range []string{"fineractApiUrl", "fineractApiUrls"} {
			if !strings.Contains(js, "window['env']['"+key+"'] = \""+public+"\";") {
				t.Errorf("%s: %s is not the gateway's public URL %s", c, key, public)
			}
		}
		for _, internal := range []string{"https://fineract", "fineract:8443", "keycloak:", "web-app:", "localhost"} {
			if strings.Contains(js, internal) {
				t.Errorf("%s: env.js points the browser at an internal address (%s)", c, internal)
			}
		}
		if a.HasGroup(answers.GroupIdentity) && !strings.Contains(js, "['oauthAuthorizeUrl'] = \""+public+"/auth/realms/fineract/protocol/openid-connect/auth\"") {
			t.Errorf("%s: the authorization endpoint is not under the public realm URL", c)
		}
	}
}
