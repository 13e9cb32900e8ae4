package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/install"
)

// planOf runs `plan -o json` with extra arguments and decodes its plan.
func planOf(t *testing.T, s *stack, args ...string) (install.Changes, int) {
	t.Helper()
	r := s.run(ctxFor(t, 5*time.Minute), append([]string{"plan", "-o", "json"}, args...)...)
	var c install.Changes
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatalf("plan %v: exit %d, no plan: %v\n%s\n%s", args, r.code, err, r.stdout, r.stderr)
	}
	return c, r.code
}

// changedServices lists the services a plan would change.
func changedServices(c install.Changes) []string {
	var out []string
	for _, s := range c.Stack.Services {
		if s.Changes() {
			out = append(out, s.Service+" "+string(s.Action)+": "+strings.Join(s.Reasons, "; "))
		}
	}
	return out
}

// TestPlanMatchesWhatInstallChanges installs the stack, then checks that
// a plan of the installation with its own answers reports no change (exit
// 0); that after one answer changes (the gateway's TLS versions, which
// reach its nginx configuration) the plan names exactly the gateway and
// its configuration file (exit 5); and that installing with those answers
// replaces exactly the gateway's container, after which the plan is empty
// again.
func TestPlanMatchesWhatInstallChanges(t *testing.T) {
	s := newStack(t, 53)
	ctx := ctxFor(t, 25*time.Minute)
	if r := s.install(ctx); r.code != 0 {
		t.Fatalf("install: exit %d\n%s", r.code, tail(r.stderr+r.stdout, 40))
	}

	c, code := planOf(t, s)
	if code != 0 || c.Pending() {
		t.Fatalf("plan right after the install: exit %d, services %v, steps %+v, stops %v", code, changedServices(c), c.Steps, c.Stops)
	}

	ans := s.ans
	ans.Gateway.AllowTLS12 = !ans.Gateway.AllowTLS12
	data, err := yamlOf(ans)
	if err != nil {
		t.Fatal(err)
	}
	changedAnswers := filepath.Join(filepath.Dir(s.answers), "answers-tls12.yaml")
	if err := os.WriteFile(changedAnswers, data, 0o600); err != nil {
		t.Fatal(err)
	}
	before := containerIDs(t, s)
	c, code = planOf(t, s, "--answers", changedAnswers)
	got := changedServices(c)
	// The gateway's nginx.conf is a single-file bind mount.
	if want := "gateway recreate: file /etc/nginx/nginx.conf changed"; code != 5 || !slices.Equal(got, []string{want}) {
		t.Fatalf("plan with allow_tls12 changed: exit %d, changes %q; want exit 5 and only %q", code, got, want)
	}
	var runs []string
	for _, st := range c.Steps {
		if st.Run && !st.ObservesOnly {
			runs = append(runs, st.ID)
		}
	}
	if !slices.Contains(runs, "render") || !slices.Contains(runs, "services") {
		t.Errorf("plan with a changed answer runs steps %v; want render and services among them", runs)
	}

	text := s.run(ctx, "plan", "--answers", changedAnswers)
	if text.code != 5 || !strings.Contains(text.stdout, "~ gateway: recreate (file /etc/nginx/nginx.conf changed)") {
		t.Errorf("plan in text: exit %d\n%s%s", text.code, text.stdout, text.stderr)
	}
	t.Logf("plan with allow_tls12 changed:\n%s", text.stdout)

	if r := s.run(ctx, "install", "--answers", changedAnswers, "--yes", "-o", "json"); r.code != 0 {
		t.Fatalf("install with the changed answers: exit %d\n%s", r.code, tail(r.stderr+r.stdout, 40))
	}
	after := containerIDs(t, s)
	for svc, id := range before {
		replaced := after[svc] != id
		if replaced != (svc == "gateway") {
			t.Errorf("install after the plan: %s replaced=%t (%s -> %s); the plan said only the gateway changes", svc, replaced, id, after[svc])
		}
	}
	if c, code := planOf(t, s, "--answers", changedAnswers); code != 0 || c.Pending() {
		t.Errorf("plan after installing the changed answers: exit %d, services %v", code, changedServices(c))
	}
}
