package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
	"github.com/fineract-installer/fineract-installer/steps/kubecheck"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// `validate --target kubernetes` against a real API server: with the
// manifests applied it prints the checklist in JSON, exits 1 because no
// workload is ready (no node runs pods here) and writes the evidence
// report; a Secret created in the stack's namespace turns its check to
// fail, named in the JSON.
func TestValidateKubernetesAgainstAnAPIServer(t *testing.T) {
	cp := labtest.SharedControlPlane(t)
	file := kubeAnswersFile(t, "cli-validate")
	kc := []string{"--target", "kubernetes", "--answers", file, "--kubeconfig", cp.Kubeconfig}
	c, err := kubeapply.Connect(t.Context(), kubeapply.Kubeconfig{File: cp.Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	m := renderedManifests(t, file, "fineract")
	if _, err := c.Apply(t.Context(), m.Objects, nil); err != nil {
		t.Fatal(err)
	}
	// The API server's admission learns of a new policy binding from its
	// own cache, moments after the apply; the checklist runs once it has.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		res, _ := kubecheck.ByID(t.Context(), c, m, "kube-admission-refuses")
		if res.Status == validate.Pass {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the admission policy is not in force 30s after the apply: %s", res.Evidence)
		}
	}

	report := filepath.Join(t.TempDir(), "evidence")
	r := run(t, "", append([]string{"validate", "-o", "json", "--report", report}, kc...)...)
	var doc checklistRecord
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || r.code != ExitFailed {
		t.Fatalf("validate: exit %d %v: %s %s", r.code, err, r.out, r.err)
	}
	status := map[string]validate.Status{}
	for _, res := range doc.Results {
		status[res.ID] = res.Status
	}
	want := map[string]validate.Status{
		"kube-pod-security": validate.Pass, "kube-admission-policy": validate.Pass, "kube-admission-refuses": validate.Pass,
		"kube-network-policies": validate.Pass, "kube-no-secrets": validate.Pass, "kube-drift": validate.Pass,
		"kube-workloads-ready": validate.Fail, "kube-gateway-exposed": validate.Warn,
	}
	for id, s := range want {
		if status[id] != s {
			t.Errorf("%s: %q, want %q", id, status[id], s)
		}
	}
	if len(doc.Results) != len(want) || doc.Fail != 1 || doc.Warn != 1 || doc.Pass != len(want)-2 {
		t.Errorf("checklist: %d results, %d pass, %d warn, %d fail", len(doc.Results), doc.Pass, doc.Warn, doc.Fail)
	}
	for _, f := range []string{"evidence.md", "evidence.html"} {
		data, err := os.ReadFile(filepath.Join(report, f))
		if err != nil || !strings.Contains(string(data), "No Kubernetes Secret in the stack") {
			t.Errorf("%s: %v: the report lacks the checks", f, err)
		}
	}

	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "stray", Namespace: m.Namespaces[0]}, StringData: map[string]string{"k": "v"}}
	if _, err := cs.CoreV1().Secrets(sec.Namespace).Create(t.Context(), sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", append([]string{"validate", "-o", "json"}, kc...)...)
	doc = checklistRecord{}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || r.code != ExitFailed {
		t.Fatalf("validate with a Secret: exit %d %v: %s %s", r.code, err, r.out, r.err)
	}
	for _, res := range doc.Results {
		if res.ID == "kube-no-secrets" && (res.Status != validate.Fail || !strings.Contains(res.Evidence, "Secret "+sec.Namespace+"/stray (type Opaque)")) {
			t.Errorf("kube-no-secrets with a Secret: %s: %s", res.Status, res.Evidence)
		}
	}

	// The text checklist, and an API server that does not answer (exit 3).
	r = run(t, "", append([]string{"validate"}, kc...)...)
	if r.code != ExitFailed || !strings.Contains(r.out, "Validation checklist:") || !strings.Contains(r.out, "stray") {
		t.Errorf("validate text: exit %d: %s %s", r.code, r.out, r.err)
	}
	down := filepath.Join(t.TempDir(), "kubeconfig")
	data, err := os.ReadFile(cp.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(down, []byte(strings.ReplaceAll(string(data), cp.URL, "https://127.0.0.1:1")), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", "validate", "--target", "kubernetes", "--answers", file, "--kubeconfig", down)
	if r.code != ExitHostNotOK {
		t.Errorf("validate with the API server down: exit %d: %s", r.code, r.err)
	}
}
