package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// kubeAnswersFile writes demo answers with a kubernetes block in
// namespace ns, and the installation CA that signs Vault, and returns the
// answers file.
func kubeAnswersFile(t *testing.T, ns string) string {
	t.Helper()
	dir := t.TempDir()
	a := labtest.KubernetesAnswers(t, answers.Demo, filepath.Join(dir, "install"), ns)
	file := filepath.Join(dir, "answers.yaml")
	if err := answers.Save(file, a); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestRenderKubernetesWritesOneManifestPerObject(t *testing.T) {
	file := kubeAnswersFile(t, "bank")
	out := filepath.Join(t.TempDir(), "manifests")
	r := run(t, "", "render", "--target", "kubernetes", "--answers", file, "--out", out, "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var doc kubeRenderDoc
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Files) == 0 || len(doc.Files) != len(doc.Objects) || doc.Namespaces[0] != "bank" {
		t.Fatalf("render doc: %d files, %d objects, namespaces %v", len(doc.Files), len(doc.Objects), doc.Namespaces)
	}
	first := map[string][]byte{}
	for i, f := range doc.Files {
		data, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatalf("listed file not written: %v", err)
		}
		first[f] = data
		var obj struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
		}
		if err := yaml.Unmarshal(data, &obj); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if o := doc.Objects[i]; obj.Kind != o.Kind || obj.Metadata.Name != o.Name || obj.Metadata.Namespace != o.Namespace {
			t.Errorf("%s holds %s %s/%s, listed as %s", f, obj.Kind, obj.Metadata.Namespace, obj.Metadata.Name, o)
		}
	}

	// A rerun into its own directory replaces the same files with the
	// same content and keeps what the user put there.
	mine := filepath.Join(out, "NOTES.txt")
	if err := os.WriteFile(mine, []byte("ours"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", "render", "--target", "kubernetes", "--answers", file, "--out", out)
	if r.code != 0 {
		t.Fatalf("rerun: exit %d: %s", r.code, r.err)
	}
	for f, data := range first {
		again, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || string(again) != string(data) {
			t.Errorf("%s differs on a rerun: %v", f, err)
		}
	}
	if got, err := os.ReadFile(mine); err != nil || string(got) != "ours" {
		t.Errorf("a user's file in the render directory was touched: %q %v", got, err)
	}
	if !strings.Contains(r.out, "kubectl apply --server-side") {
		t.Errorf("text output does not say how to apply: %s", r.out)
	}
}

func TestRenderKubernetesRefusesAForeignDirectory(t *testing.T) {
	file := kubeAnswersFile(t, "bank")
	out := t.TempDir()
	theirs := filepath.Join(out, "deployment.yaml")
	if err := os.WriteFile(theirs, []byte("kind: theirs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "render", "--target", "kubernetes", "--answers", file, "--out", out)
	if r.code != ExitUsage || !strings.Contains(r.err, "holds no earlier render") {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 {
		t.Errorf("the foreign directory was changed: %v", entries)
	}
	if got, _ := os.ReadFile(theirs); string(got) != "kind: theirs\n" {
		t.Errorf("a foreign file was overwritten: %q", got)
	}
}

func TestTargetFlagErrors(t *testing.T) {
	file := kubeAnswersFile(t, "bank")
	missing := filepath.Join(t.TempDir(), "no-kubeconfig")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"render", "--target", "swarm", "--demo", "--out", t.TempDir()}, ExitUsage, `--target "swarm" is not known`},
		{[]string{"status", "--kubeconfig", "k.yaml"}, ExitUsage, "--kubeconfig and --context are for --target kubernetes"},
		{[]string{"uninstall", "--context", "prod", "--yes"}, ExitUsage, "--kubeconfig and --context are for --target kubernetes"},
		{[]string{"status", "--answers", file}, ExitUsage, "--answers is for --target kubernetes"},
		{[]string{"validate", "--target", "kubernetes", "--answers", file, "--kubeconfig", missing}, ExitUsage, "kubeconfig " + missing + " does not exist"},
		{[]string{"validate", "--answers", file}, ExitUsage, "--answers is for --target kubernetes"},
		{[]string{"logs", "--init-containers"}, ExitUsage, "--init-containers is for --target kubernetes"},
		{[]string{"logs", "--answers", file}, ExitUsage, "--answers is for --target kubernetes"},
		{[]string{"logs", "--target", "kubernetes", "--answers", file, "--since", "yesterday"}, ExitUsage, `--since "yesterday" is neither a duration`},
		{[]string{"logs", "--target", "kubernetes", "--answers", file, "--since", "-5m"}, ExitUsage, "give a duration above zero"},
		{[]string{"install", "--target", "kubernetes", "--answers", file, "--images-bundle", "x.tar", "--yes"}, ExitUsage, "--images-bundle is for the Docker target"},
		{[]string{"install", "--demo", "--wait-timeout", "1m", "--yes"}, ExitUsage, "--wait-timeout is for --target kubernetes"},
		{[]string{"plan", "--target", "kubernetes", "--answers", file, "--kubeconfig", missing}, ExitUsage, "kubeconfig " + missing + " does not exist"},
		{[]string{"plan", "--target", "kubernetes", "--demo", "--kubeconfig", missing}, ExitUsage, "no kubernetes block"},
	}
	for _, c := range cases {
		r := run(t, "", c.args...)
		if r.code != c.code || !strings.Contains(r.err, c.want) {
			t.Errorf("%v: exit %d, want %d with %q: %s", c.args, r.code, c.code, c.want, r.err)
		}
	}
}

func TestKubeconfigContextErrors(t *testing.T) {
	file := kubeAnswersFile(t, "bank")
	kc := filepath.Join(t.TempDir(), "config")
	const config = `apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: "t"}
contexts:
- name: nowhere
  context: {cluster: nowhere, user: u}
current-context: nowhere
`
	if err := os.WriteFile(kc, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "plan", "--target", "kubernetes", "--answers", file, "--kubeconfig", kc, "--context", "prod")
	if r.code != ExitUsage || !strings.Contains(r.err, `context "prod" is not in `+kc) || !strings.Contains(r.err, "--context NAME with one of: nowhere") {
		t.Errorf("unknown context: exit %d: %s", r.code, r.err)
	}
	r = run(t, "", "plan", "--target", "kubernetes", "--answers", file, "--kubeconfig", kc)
	if r.code != ExitHostNotOK || !strings.Contains(r.err, "unreachable") || !strings.Contains(r.err, "kubectl --context nowhere cluster-info") {
		t.Errorf("unreachable server: exit %d: %s", r.code, r.err)
	}
	// KUBECONFIG is read as kubectl reads it.
	t.Setenv("KUBECONFIG", kc)
	r = run(t, "", "status", "--target", "kubernetes", "--answers", file)
	if r.code != ExitHostNotOK || !strings.Contains(r.err, "127.0.0.1:1") {
		t.Errorf("status with $KUBECONFIG: exit %d: %s", r.code, r.err)
	}
}
