package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

func TestMain(m *testing.M) { labtest.KubeMain(m) }

// The Kubernetes target's commands against a real API server: plan says
// everything is to create (exit 5), install applies and then fails its
// wait with what to check (no node runs pods here), plan then says
// nothing changes (exit 0), status lists the workloads, uninstall
// deletes them.
func TestKubernetesTargetAgainstAnAPIServer(t *testing.T) {
	cp := labtest.SharedControlPlane(t)
	file := kubeAnswersFile(t, "cli-kube")
	kc := []string{"--target", "kubernetes", "--answers", file, "--kubeconfig", cp.Kubeconfig}

	r := run(t, "", append([]string{"plan", "-o", "json"}, kc...)...)
	var plan kubePlanDoc
	if err := json.Unmarshal([]byte(r.out), &plan); err != nil || r.code != ExitChangesPending {
		t.Fatalf("plan before install: exit %d %v: %s %s", r.code, err, r.out, r.err)
	}
	if len(plan.Create) == 0 || len(plan.Change)+len(plan.Unchanged) > 0 {
		t.Errorf("plan before install: %d create, %d change, %d unchanged", len(plan.Create), len(plan.Change), len(plan.Unchanged))
	}

	r = run(t, "", append([]string{"install", "--yes", "--wait-timeout", "3s", "-o", "json"}, kc...)...)
	if r.code != ExitFailed {
		t.Fatalf("install without nodes: exit %d: %s", r.code, r.err)
	}
	var applied, failed bool
	for _, line := range strings.Split(strings.TrimSpace(r.out), "\n") {
		var e struct {
			Kind, Step, Resource, Action, Status, Hint string
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if e.Step == "kube-apply" && e.Kind == "done" {
			applied = true
		}
		if e.Step == "kube-wait" && e.Kind == "failed" && strings.Contains(e.Hint, "kubectl get pods -n cli-kube") {
			failed = true
		}
	}
	if !applied || !failed {
		t.Errorf("install events: applied %v, wait failed with the hint %v:\n%s", applied, failed, r.out)
	}

	r = run(t, "", append([]string{"plan"}, kc...)...)
	if r.code != 0 || !strings.Contains(r.out, "unchanged") || strings.Contains(r.out, "to change") {
		t.Errorf("plan after install: exit %d: %s %s", r.code, r.out, r.err)
	}

	r = run(t, "", append([]string{"status", "-o", "json"}, kc...)...)
	var st kubeStatusDoc
	if err := json.Unmarshal([]byte(r.out), &st); err != nil || r.code != ExitFailed {
		t.Fatalf("status: exit %d %v: %s %s", r.code, err, r.out, r.err)
	}
	if st.State != stackDegraded || len(st.Workloads) == 0 {
		t.Errorf("status: %s with %d workloads", st.State, len(st.Workloads))
	}

	r = run(t, "", append([]string{"uninstall"}, kc...)...)
	if r.code != ExitUsage || !strings.Contains(r.err, "--yes") {
		t.Errorf("uninstall without a terminal or --yes: exit %d: %s", r.code, r.err)
	}
	r = run(t, "", append([]string{"uninstall", "--yes", "--purge"}, kc...)...)
	if r.code != 0 {
		t.Fatalf("uninstall: exit %d: %s", r.code, r.err)
	}
	r = run(t, "", append([]string{"status", "-o", "json"}, kc...)...)
	if err := json.Unmarshal([]byte(r.out), &st); err != nil || st.State != stackNotInstalled {
		t.Errorf("status after uninstall: %v %s", err, r.out)
	}

	// An unknown user is refused, with how to check the credentials.
	bad := filepath.Join(t.TempDir(), "kubeconfig")
	data, err := os.ReadFile(cp.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(strings.ReplaceAll(string(data), cp.Token, "not-a-token")), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", "plan", "--target", "kubernetes", "--answers", file, "--kubeconfig", bad)
	if r.code != ExitFailed || !strings.Contains(r.err, "refused the credentials") || !strings.Contains(r.err, "auth whoami") {
		t.Errorf("bad token: exit %d: %s", r.code, r.err)
	}
}
