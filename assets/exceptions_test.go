package assets

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/fineract-installer/fineract-installer/lab/readme"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// healthcheckText is a service's healthcheck command as one string.
func healthcheckText(s types.ServiceConfig) string {
	if s.HealthCheck == nil {
		return ""
	}
	return strings.Join(s.HealthCheck.Test, " ")
}

var (
	plainProbe      = regexp.MustCompile(`http://|/dev/tcp/\S+.*HTTP/1`)
	unverifiedProbe = regexp.MustCompile(`(^|\s)-[a-zA-Z]*k[a-zA-Z]*(\s|$)|--no-check-certificate|--insecure`)
	loopbackProbe   = regexp.MustCompile(`//(127\.0\.0\.1|localhost)[:/]|/dev/tcp/127\.0\.0\.1/`)
)

// README's hardening table lists where a service cannot meet a rule; each
// row is checked against what the installer renders (every group, both
// profiles), and every service whose healthcheck skips TLS or its
// verification must have a row saying so: a row without its check, or an
// exception without its row, fails. The gateway's healthcheck
// (`curl -k`) was such an exception README did not list.
func TestHardeningExceptionsAreAsREADMESays(t *testing.T) {
	doc, err := readme.Load("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, row := range readme.Table(doc.Section("### Hardening rules and their exceptions")) {
		var services []string
		for _, s := range strings.Split(strings.TrimSuffix(row[0], " (metrics)"), ",") {
			services = append(services, strings.TrimSpace(s))
		}
		rows[row[1]] = append(rows[row[1]], services...)
	}
	for _, c := range []combo{{groups: answers.Groups[1:], profile: answers.Production}, {groups: answers.Groups[1:], profile: answers.Demo}} {
		rc := newRuleCtx(t, c)
		svc := func(name string) types.ServiceConfig {
			s, ok := rc.p.Services[name]
			if !ok {
				t.Fatalf("%s: no service %s", c, name)
			}
			return s
		}
		checks := map[string]func(service string) string{
			"read-only root": func(name string) string {
				if svc(name).ReadOnly || !strings.Contains(serviceBlock(rc.compose, name), "# read_only is off:") {
					return "its root is read-only, or the compose file does not say why it is not"
				}
				return ""
			},
			"non-root user": func(name string) string {
				s := svc(name)
				ro := slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
					return v.Source == "/var/lib/docker/containers" && v.ReadOnly
				})
				if s.User != "0:0" || !slices.Equal(s.CapDrop, []string{"ALL"}) || len(s.CapAdd) > 0 || !ro {
					return "it is not root with no capability and the container logs mounted read-only"
				}
				return ""
			},
			"TLS on the management port": func(name string) string {
				env := svc(name).Environment
				if v := env["KC_HTTP_MANAGEMENT_SCHEME"]; v == nil || *v != "http" || env["KC_HTTP_ENABLED"] == nil || *env["KC_HTTP_ENABLED"] != "false" {
					return "the management port is not plain HTTP, or the main listener is not HTTPS only"
				}
				return ""
			},
			"TLS for the healthcheck": func(name string) string {
				hc := healthcheckText(svc(name))
				listener := map[string]string{
					"web-app":  fileText(t, rc.b, "config/web-app/nginx.conf"),
					"logstash": fileText(t, rc.b, "config/logstash/logstash.yml"),
					"filebeat": fileText(t, rc.b, "config/filebeat/filebeat.yml"),
				}[name]
				if !plainProbe.MatchString(hc) || !loopbackProbe.MatchString(hc) ||
					!regexp.MustCompile(`listen 127\.0\.0\.1:|http\.host: (127\.0\.0\.1|localhost)`).MatchString(listener) {
					return "the healthcheck is not a plain probe of a loopback-only listener"
				}
				return ""
			},
			"healthcheck verification": func(name string) string {
				if hc := healthcheckText(svc(name)); !unverifiedProbe.MatchString(hc) || !loopbackProbe.MatchString(hc) || !strings.Contains(hc, "https://") {
					return "the healthcheck does not probe its own TLS listener without verification"
				}
				return ""
			},
			"healthcheck over TLS": func(name string) string {
				if hc := healthcheckText(svc(name)); !plainProbe.MatchString(hc) || !strings.Contains(hc, "400 Bad Request") {
					return "the healthcheck does not send plain HTTP to the TLS port and expect 400"
				}
				return ""
			},
			"scraped by Prometheus": func(name string) string {
				if regexp.MustCompile(`targets: \["` + name + `:`).MatchString(fileText(t, rc.b, "config/prometheus/prometheus.yml")) {
					return "Prometheus scrapes it"
				}
				return ""
			},
		}
		var rules []string
		for rule := range rows {
			rules = append(rules, rule)
		}
		sort.Strings(rules)
		for _, rule := range rules {
			check, ok := checks[rule]
			if !ok {
				t.Errorf("README's hardening table has a rule %q this test does not check", rule)
				continue
			}
			for _, name := range rows[rule] {
				if msg := check(name); msg != "" {
					t.Errorf("%s: README says %s cannot meet %q: %s", c, name, rule, msg)
				}
			}
		}
		// Every probe that skips TLS, or its verification, has its row.
		for name, s := range rc.p.Services {
			hc := healthcheckText(s)
			documented := func(rules ...string) bool {
				for _, r := range rules {
					if slices.Contains(rows[r], name) {
						return true
					}
				}
				return false
			}
			if plainProbe.MatchString(hc) && !documented("TLS for the healthcheck", "TLS on the management port", "healthcheck over TLS") {
				t.Errorf("%s: %s's healthcheck is plain (%s), and README's hardening table does not say why", c, name, hc)
			}
			if unverifiedProbe.MatchString(hc) && !documented("healthcheck verification") {
				t.Errorf("%s: %s's healthcheck does not verify TLS (%s), and README's hardening table does not say why", c, name, hc)
			}
		}
	}
}
