package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
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
	unreachableVault(t, file)
	kc := []string{"--target", "kubernetes", "--answers", file, "--kubeconfig", cp.Kubeconfig}

	r := run(t, "", append([]string{"plan", "-o", "json"}, kc...)...)
	var plan kubePlanDoc
	if err := json.Unmarshal([]byte(r.out), &plan); err != nil || r.code != ExitChangesPending {
		t.Fatalf("plan before install: exit %d %v: %s %s", r.code, err, r.out, r.err)
	}
	if len(plan.Create) == 0 || len(plan.Change)+len(plan.Unchanged) > 0 {
		t.Errorf("plan before install: %d create, %d change, %d unchanged", len(plan.Create), len(plan.Change), len(plan.Unchanged))
	}

	// The Vault the answers name does not answer: install stops before
	// any object is applied, and so does a token file others may read.
	token := filepath.Join(t.TempDir(), "vault-token")
	if err := os.WriteFile(token, []byte("hvs.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", append([]string{"install", "--yes", "--vault-token-file", token}, kc...)...)
	if r.code != ExitUsage || !strings.Contains(r.err, "--vault-token-file") {
		t.Errorf("install with a token file others may read: exit %d: %s", r.code, r.err)
	}
	if err := os.Chmod(token, 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", append([]string{"install", "--yes", "--wait-timeout", "3s", "-o", "json", "--vault-token-file", token}, kc...)...)
	if r.code == 0 || !strings.Contains(r.out, "127.0.0.1:1") {
		t.Fatalf("install with Vault unreachable: exit %d: %s %s", r.code, r.out, r.err)
	}
	r = run(t, "", append([]string{"plan", "-o", "json"}, kc...)...)
	plan = kubePlanDoc{}
	if err := json.Unmarshal([]byte(r.out), &plan); err != nil || len(plan.Change)+len(plan.Unchanged) > 0 {
		t.Fatalf("plan after an install refused by Vault: %v: %d change, %d unchanged: some object was applied", err, len(plan.Change), len(plan.Unchanged))
	}

	// The rest needs the objects in place; steps/vault's
	// TestInstallKubernetesAgainstLabCluster runs the install with a real
	// Vault.
	c, err := kubeapply.Connect(t.Context(), kubeapply.Kubeconfig{File: cp.Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	m := renderedManifests(t, file, "fineract")
	if _, err := c.Apply(t.Context(), m.Objects, nil); err != nil {
		t.Fatal(err)
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

// unreachableVault points the answers' Vault at a port nothing listens on.
func unreachableVault(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(data), "https://10.20.0.5:8200", "https://127.0.0.1:1")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// renderedManifests renders the answers file as install does.
func renderedManifests(t *testing.T, file, project string) kube.Manifests {
	t.Helper()
	ans, err := answers.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	m, err := kube.Render(ans, assets.Options{Project: project, SecretsDir: installdir.SecretsDir(project)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
