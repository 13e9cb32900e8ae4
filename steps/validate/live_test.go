package validate_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/lab/labimages"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// These tests run the messaging and monitoring checks against the lab's
// images of the installer's rendered stack: once as rendered (the checks
// pass) and once deliberately broken (the check fails, naming why).

func target(t *testing.T, s *labimages.Stack) *validate.Target {
	t.Helper()
	ca, err := os.ReadFile(s.PKIPath("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return &validate.Target{Engine: s.Engine, Project: s.Project, Expect: s.Bundle, Answers: s.Answers,
		CA: ca, Dir: s.Dir, SecretsDir: s.SecretsDir}
}

// runCheck runs one check of a list by its ID on a fresh target (checks
// cache what they inspect per target).
func runCheck(t *testing.T, s *labimages.Stack, checks []validate.Check, id string) validate.Result {
	t.Helper()
	for _, c := range checks {
		if c.ID == id {
			rs := validate.Run(context.Background(), target(t, s), []validate.Check{c})
			if len(rs) != 1 {
				t.Fatalf("check %s did not apply to the stack", id)
			}
			t.Logf("%s: %s: %s", id, rs[0].Status, rs[0].Evidence)
			return rs[0]
		}
	}
	t.Fatalf("no check %s", id)
	return validate.Result{}
}

// replaceLine rewrites one setting of a rendered configuration file.
func replaceLine(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMessagingChecksOnTheLabStack(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	labimages.Require(t, e, "kafka", "redis")
	s := labimages.NewStack(t, e, answers.GroupMessaging)
	s.Up(t, "kafka", "redis")
	for _, id := range []string{"messaging-kafka", "messaging-redis"} {
		if r := runCheck(t, s, validate.MessagingChecks(), id); r.Status != validate.Pass {
			t.Errorf("%s on the rendered stack: %s: %s", id, r.Status, r.Evidence)
		}
	}
	// Both listeners are TLS 1.3 only (ssl.enabled.protocols, tls-protocols)
	// and are held to it. The other services of the stack are not started
	// here: not reaching them is no refusal of TLS 1.2.
	r := runCheck(t, s, validate.TLSChecks(), "tls-internal-version")
	for _, want := range []string{"kafka:9092 refused TLS 1.2 (", "redis:6379 refused TLS 1.2 (", "vault:8200 could not be reached"} {
		if !strings.Contains(r.Evidence, want) {
			t.Errorf("tls-internal-version: no %q in %s", want, r.Evidence)
		}
	}
}

// Kafka that asks for no client certificate (ssl.client.auth=none) still
// refuses plain clients, but answers any TLS client.
func TestKafkaCheckFailsWithoutClientAuthentication(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	labimages.Require(t, e, "kafka")
	s := labimages.NewStack(t, e, answers.GroupMessaging)
	replaceLine(t, s.Dir+"/config/kafka/server.properties", "ssl.client.auth=required", "ssl.client.auth=none")
	s.Up(t, "kafka")
	r := runCheck(t, s, validate.MessagingChecks(), "messaging-kafka")
	if r.Status != validate.Fail || !strings.Contains(r.Evidence, "answered a TLS client that showed no certificate") {
		t.Errorf("Kafka without client authentication: %s: %s", r.Status, r.Evidence)
	}
}

// Redis with its plain port open and protected mode off answers anyone on
// the network.
func TestRedisCheckFailsOnPlainRedis(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	labimages.Require(t, e, "redis")
	s := labimages.NewStack(t, e, answers.GroupMessaging)
	conf := s.Dir + "/config/redis/redis.conf"
	replaceLine(t, conf, "port 0\ntls-port 6379", "port 6379\ntls-port 0")
	replaceLine(t, conf, "protected-mode yes", "protected-mode no")
	s.Start(t, "redis") // its healthcheck speaks TLS: not waited for
	var r validate.Result
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		// Until Redis listens the check fails on the connection.
		if r = runCheck(t, s, validate.MessagingChecks(), "messaging-redis"); !strings.Contains(r.Evidence, "cannot reach") {
			break
		}
	}
	if r.Status != validate.Fail || !strings.Contains(r.Evidence, "answered a plain-text PING") {
		t.Errorf("plain Redis: %s: %s", r.Status, r.Evidence)
	}
}

// TestMonitoringChecksOnTheLabStack runs the monitoring group next to the
// core services Prometheus scrapes: the checks pass; then a scraped
// service stops, and Grafana's data source is pointed at a wrong URL.
func TestMonitoringChecksOnTheLabStack(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	labimages.Require(t, e, "vault", "postgres", "fineract", "prometheus", "postgres-exporter", "grafana")
	s := labimages.NewStack(t, e, answers.GroupMonitoring)
	s.Start(t, "vault") // healthy only once unsealed
	s.InitVault(t)
	s.Up(t, "postgres-exporter", "fineract", "prometheus", "grafana")
	checks := validate.MonitoringChecks()
	if r := runCheck(t, s, checks, "monitoring-targets"); r.Status != validate.Pass {
		t.Errorf("targets on the rendered stack: %s: %s", r.Status, r.Evidence)
	}
	if r := runCheck(t, s, checks, "monitoring-grafana"); r.Status != validate.Pass {
		t.Errorf("Grafana's data source on the rendered stack: %s: %s", r.Status, r.Evidence)
	}
	r := runCheck(t, s, validate.TLSChecks(), "tls-internal-version")
	for _, want := range []string{"prometheus:9090 refused TLS 1.2 (", "grafana:3000 refused TLS 1.2 (", "postgres-exporter:9187 refused TLS 1.2 ("} {
		if !strings.Contains(r.Evidence, want) {
			t.Errorf("tls-internal-version: no %q in %s", want, r.Evidence)
		}
	}

	t.Run("a target's service stopped", func(t *testing.T) {
		ctx := context.Background()
		if err := e.API().ContainerStop(ctx, s.ContainerID(t, "postgres-exporter"), container.StopOptions{}); err != nil {
			t.Fatal(err)
		}
		// Prometheus notices at its next scrape (every 30 s).
		var r validate.Result
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Second) {
			if r = runCheck(t, s, checks, "monitoring-targets"); r.Status == validate.Fail {
				break
			}
		}
		if r.Status != validate.Fail || !strings.Contains(r.Evidence, "postgres https://postgres-exporter:9187/metrics is down") || r.Subject != "postgres" {
			t.Errorf("with postgres-exporter stopped: %s: %s (subject %q)", r.Status, r.Evidence, r.Subject)
		}
	})

	t.Run("a data source with a wrong URL", func(t *testing.T) {
		replaceLine(t, s.Dir+"/config/grafana/datasources.yml", "url: https://prometheus:9090", "url: https://prometheus:9091")
		ctx := context.Background()
		if err := e.API().ContainerRestart(ctx, s.ContainerID(t, "grafana"), container.StopOptions{}); err != nil {
			t.Fatal(err)
		}
		var r validate.Result
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Second) {
			// Until Grafana listens again the check fails on the API call.
			if r = runCheck(t, s, checks, "monitoring-grafana"); r.Status == validate.Fail && strings.Contains(r.Evidence, "ERROR") {
				break
			}
		}
		if r.Status != validate.Fail || !strings.Contains(r.Evidence, "https://prometheus:9091") || !strings.Contains(r.Evidence, "There was an error returned querying the Prometheus API") {
			t.Errorf("data source with a wrong URL: %s: %s", r.Status, r.Evidence)
		}
	})
}
