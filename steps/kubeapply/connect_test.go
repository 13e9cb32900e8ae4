package kubeapply

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps"
)

const twoContexts = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: "t"}
contexts:
- name: staging
  context: {cluster: a, user: u}
- name: prod
  context: {cluster: a, user: u}
current-context: staging
`

func TestKubeconfigErrorsSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config")
	if err := os.WriteFile(file, []byte(twoContexts), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, name, err := Kubeconfig{File: file}.RESTConfig()
	if err != nil || name != "staging" || cfg.Host != "https://127.0.0.1:1" {
		t.Fatalf("current context: %v %q %v", cfg, name, err)
	}
	if _, name, err := (Kubeconfig{File: file, Context: "prod"}).RESTConfig(); err != nil || name != "prod" {
		t.Errorf("--context prod: %q %v", name, err)
	}
	cases := []struct {
		k           Kubeconfig
		cause, hint string
	}{
		{Kubeconfig{File: filepath.Join(dir, "missing")}, "does not exist", "--kubeconfig FILE"},
		{Kubeconfig{File: file, Context: "dev"}, `context "dev" is not in`, "one of: prod, staging"},
	}
	for _, c := range cases {
		_, _, err := c.k.RESTConfig()
		x := steps.Explain(err)
		if !errors.Is(err, ErrKubeconfig) || !strings.Contains(x.Cause, c.cause) || !strings.Contains(x.Hint, c.hint) {
			t.Errorf("%+v: %v; cause %q hint %q", c.k, err, x.Cause, x.Hint)
		}
	}
	// Without --kubeconfig the file comes from KUBECONFIG, as for kubectl.
	t.Setenv("KUBECONFIG", file)
	if _, name, err := (Kubeconfig{}).RESTConfig(); err != nil || name != "staging" {
		t.Errorf("$KUBECONFIG: %q %v", name, err)
	}
	t.Setenv("KUBECONFIG", filepath.Join(dir, "none"))
	t.Setenv("HOME", dir)
	if _, _, err := (Kubeconfig{}).RESTConfig(); !errors.Is(err, ErrKubeconfig) || !strings.Contains(steps.Explain(err).Hint, "--kubeconfig FILE") {
		t.Errorf("no kubeconfig anywhere: %v", err)
	}
}
