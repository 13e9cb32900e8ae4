package labimages

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/elastic"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// loggingCheck runs one of validate's logging checks against the stack.
func loggingCheck(t *testing.T, s *Stack, id string) validate.Result {
	t.Helper()
	ca, err := os.ReadFile(s.PKIPath("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	target := &validate.Target{Engine: s.Engine, Project: s.Project, Expect: s.Bundle, Answers: s.Answers,
		CA: ca, Dir: s.Dir, SecretsDir: s.SecretsDir}
	for _, c := range validate.LoggingChecks() {
		if c.ID == id {
			if !target.Applies(c) {
				t.Fatalf("check %s does not apply to a stack with the logging group", id)
			}
			rs := validate.Run(context.Background(), target, []validate.Check{c})
			t.Logf("%s: %s: %s (fix: %s)", id, rs[0].Status, rs[0].Evidence, rs[0].Fix)
			return rs[0]
		}
	}
	t.Fatalf("no logging check %s", id)
	return validate.Result{}
}

// TestLoggingGroupDeliversAndKeepsLogs runs the logging group's stand-in
// images with the installer's rendered configuration (mutual TLS from
// Filebeat to Logstash to Elasticsearch, PKI realm, bootstrap password),
// applies the retention with the install step and runs validate's logging
// checks: both pass on the working stack; the retention check fails when
// Elasticsearch holds another age and the install step repairs it; the
// delivery check fails once Filebeat is stopped.
func TestLoggingGroupDeliversAndKeepsLogs(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	Require(t, e, "postgres", "fineract", "elasticsearch", "logstash", "filebeat")
	s := NewStack(t, e, answers.GroupLogging)
	if s.Answers.LogRetentionDays != answers.DefaultLogRetentionDaysDemo {
		t.Fatalf("the demo stack keeps logs %d days, want the demo default", s.Answers.LogRetentionDays)
	}
	s.Up(t, "fineract", "filebeat") // elasticsearch and logstash healthy first (curl healthchecks)
	ctx := context.Background()
	env := &install.Env{Installation: installation.New(s.Dir, s.Project), Answers: s.Answers, Engine: s.Engine, Bundle: s.Bundle, SecretsDir: s.SecretsDir}
	step := install.LogRetentionStep{Env: env}

	// Before the step, Elasticsearch has only its built-in logs template:
	// the retention check fails and the step has work to do.
	if r := loggingCheck(t, s, "logging-retention"); r.Status != validate.Fail {
		t.Errorf("before the log-retention step: %s, want a failure", r.Status)
	}
	if done, err := step.Check(ctx); err != nil || done {
		t.Fatalf("before the log-retention step its Check says done=%t (%v)", done, err)
	}
	runStep(t, step)

	if r := loggingCheck(t, s, "logging-delivery"); r.Status != validate.Pass {
		s.DumpLogs(t, 30)
		t.Fatalf("logging-delivery: %s: %s", r.Status, r.Evidence)
	}
	if r := loggingCheck(t, s, "logging-retention"); r.Status != validate.Pass {
		t.Fatalf("logging-retention: %s: %s", r.Status, r.Evidence)
	}
	if done, err := step.Check(ctx); err != nil || !done {
		t.Errorf("after the log-retention step its Check says done=%t (%v)", done, err)
	}

	// Another age in Elasticsearch: the check names it, the step repairs it.
	other := *s.Bundle.Logs
	other.RetentionDays = s.Answers.LogRetentionDays + 23
	c := esClient(t, s)
	if err := c.Do(ctx, http.MethodPut, "/_ilm/policy/"+other.Policy, other.PolicyBody(), nil); err != nil {
		t.Fatal(err)
	}
	r := loggingCheck(t, s, "logging-retention")
	if r.Status != validate.Fail || !strings.Contains(r.Evidence, other.DeleteAfter()) {
		t.Errorf("with a policy of %s: %s: %s, want a failure naming it", other.DeleteAfter(), r.Status, r.Evidence)
	}
	if done, _ := step.Check(ctx); done {
		t.Error("with another age in Elasticsearch the log-retention step's Check says done")
	}
	runStep(t, step)
	if r := loggingCheck(t, s, "logging-retention"); r.Status != validate.Pass {
		t.Errorf("after the step ran again: %s: %s", r.Status, r.Evidence)
	}

	// Filebeat stopped: nothing ships the logs any more.
	timeout := 10
	if err := e.API().ContainerStop(ctx, s.ContainerID(t, "filebeat"), container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	if r := loggingCheck(t, s, "logging-delivery"); r.Status != validate.Fail {
		t.Errorf("with Filebeat stopped: %s: %s, want a failure", r.Status, r.Evidence)
	}
}

func runStep(t *testing.T, st steps.Step) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := (&steps.Runner{Plan: (&steps.Plan{}).Then(st)}).Run(ctx); err != nil {
		t.Fatalf("step %s: %v", st.ID(), err)
	}
}

func esClient(t *testing.T, s *Stack) *elastic.Client {
	t.Helper()
	svc, _ := s.Bundle.Service(elastic.Service)
	ca, err := os.ReadFile(s.PKIPath("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := elastic.Connect(context.Background(), s.Engine, s.Project, svc, ca, s.SecretsDir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestKibanaImage runs the Kibana stand-in with the rendered kibana.yml and
// the encryption-key files: healthy by the assets' healthcheck (401 from
// the status API is healthy), HTTPS under /kibana only, and the status
// API open to credentials Elasticsearch accepts.
func TestKibanaImage(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	Require(t, e, "elasticsearch", "kibana")
	s := NewStack(t, e, answers.GroupLogging)
	s.Up(t, "kibana") // elasticsearch healthy first; then curl | grep 200|401
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DialContext: s.DialContext, TLSClientConfig: s.TLS("kibana")}}
	get := func(path, user, pass string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, "https://kibana:5601"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	password := s.Secret(t, "elasticsearch", "elastic_password")
	for _, c := range []struct {
		path, user, pass string
		want             int
	}{
		{"/kibana/api/status", "", "", http.StatusUnauthorized},
		{"/kibana/api/status", "elastic", "not-the-password", http.StatusUnauthorized},
		{"/kibana/api/status", "elastic", password, http.StatusOK},
		{"/api/status", "elastic", password, http.StatusNotFound}, // server.rewriteBasePath: only under /kibana
	} {
		if got := get(c.path, c.user, c.pass); got != c.want {
			t.Errorf("GET %s as %q: HTTP %d, want %d", c.path, c.user, got, c.want)
		}
	}
}
