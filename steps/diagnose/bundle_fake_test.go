package diagnose

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose/composetest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/audit"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// leakyStack is an installation whose engine (a fake: what the containers
// print and hold is the test's choice) shows a Vault value in several
// forms: in a container's environment, printed raw, wrapped over two
// lines and hex-encoded.
func leakyStack(t *testing.T) (env *install.Env, api *composetest.API, values map[string]string) {
	t.Helper()
	secretsDir := t.TempDir()
	services, values := deliver(t, secretsDir, "postgres", "kibana")
	key := values[kibanaKeyName]
	t0 := time.Date(2031, 2, 3, 10, 0, 0, 0, time.UTC)
	api = composetest.New()
	api.Version = types.Version{Version: "20.10.24", APIVersion: "1.41", Os: "linux", Arch: "amd64"}
	api.Containers = []composetest.Container{
		{ID: "c-kibana", Project: "diagtest", Service: "kibana", State: container.StateRunning,
			Env: []string{"K=" + key, "PATH=/usr/bin"},
			Logs: []composetest.LogLine{
				{Time: t0, Text: "key " + key},
				{Time: t0.Add(time.Second), Text: "wrapped " + key[:20]},
				{Time: t0.Add(2 * time.Second), Text: "        " + key[20:] + " (end)"},
				{Time: t0.Add(3 * time.Second), Stderr: true, Text: "hex " + hex.EncodeToString([]byte(key))},
			}},
		{ID: "c-app", Project: "diagtest", Service: "app", State: container.StateExited, ExitCode: 1,
			Logs: []composetest.LogLine{{Time: t0, Text: "started"}}},
	}
	a := answers.Defaults(answers.Production)
	a.Host.Hostname = "bank.example.test"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "answers.yaml"), []byte("profile: production\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A step's error that quoted a database password, kept in the state.
	leak := `{"steps":{"services":{"status":"failed","error":"connect: password ` + values["banking/databases/postgres#superuser_password"] + ` refused"}}}`
	if err := os.WriteFile(installation.New(dir, "diagtest").StateFile(), []byte(leak), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Append(dir, audit.Entry{Command: "install", Args: []string{"--yes=true"}, Result: audit.ResultOK}); err != nil {
		t.Fatal(err)
	}
	env = &install.Env{Answers: a, Installation: installation.New(dir, "diagtest"), Engine: composetest.Engine(api),
		Bundle: assets.Bundle{Services: services}, SecretsDir: secretsDir}
	return env, api, values
}

// The bundle holds what support needs (each section, every container, each
// service's logs) and no form of a value Vault keeps; the manifest counts
// what was removed.
func TestBundleContentsAndRedaction(t *testing.T) {
	env, _, values := leakyStack(t)
	key := values[kibanaKeyName]
	var out bytes.Buffer
	m, err := Write(context.Background(), env, &out, Options{LogLines: 100, Version: "v9.9.9-test"})
	if err != nil {
		t.Fatal(err)
	}
	files := untar(t, out.Bytes())
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"MANIFEST.json", "answers.yaml", "audit.jsonl", "containers/app.json", "containers/kibana.json", "events.json", "host.json",
		"logs/app.log", "logs/kibana.log", "networks.json", "preflight.json", "state.json", "status.json", "validate.json", "vault-record.json"}
	if !slices.Equal(names, want) {
		t.Errorf("bundle files %v, want %v", names, want)
	}
	for _, form := range []string{key, key[:20], key[20:], hex.EncodeToString([]byte(key)), values["banking/databases/postgres#superuser_password"]} {
		for name, data := range files {
			if strings.Contains(data, form) {
				t.Errorf("%q survived in %s", form, name)
			}
		}
	}
	if log := files["logs/kibana.log"]; strings.Count(log, "[REDACTED:known-value]") != 3 || !strings.Contains(log, "2031-02-03T10:00:03Z stderr hex [REDACTED:known-value]\n") {
		t.Errorf("logs/kibana.log:\n%s", log)
	}
	if c := files["containers/kibana.json"]; !strings.Contains(c, `"K=[REDACTED:environment-value]"`) || !strings.Contains(c, `"PATH=[REDACTED:environment-value]"`) {
		t.Errorf("containers/kibana.json keeps an environment value:\n%s", c)
	}
	if files["answers.yaml"] != "profile: production\n" || !strings.Contains(files["state.json"], `"error":"connect: password [REDACTED:known-value] refused"`) ||
		!strings.HasPrefix(files["vault-record.json"], "not available: ") {
		t.Errorf("answers.yaml %q, state.json %q, vault-record.json %q", files["answers.yaml"], files["state.json"], files["vault-record.json"])
	}
	if log := files["audit.jsonl"]; !strings.Contains(log, `"seq":1,`) || !strings.Contains(log, `"command":"install","args":["--yes=true"]`) {
		t.Errorf("audit.jsonl: %q", log)
	}
	var host map[string]any
	if err := json.Unmarshal([]byte(files["host.json"]), &host); err != nil || host["installer"] != "v9.9.9-test" || host["docker"].(map[string]any)["version"] != "20.10.24" {
		t.Errorf("host.json: %v\n%s", err, files["host.json"])
	}
	if !strings.Contains(files["validate.json"], "read the stack's CA") {
		t.Errorf("validate.json does not say why the checklist did not run:\n%s", files["validate.json"])
	}
	if m.Redacted["known-value"] != 4 || m.Redacted["environment-value"] != 2 || len(m.Notes) != 0 {
		t.Errorf("manifest: %+v", m)
	}
	var manifest Manifest
	err = json.Unmarshal([]byte(files["MANIFEST.json"]), &manifest)
	slices.Sort(manifest.Files)
	if err != nil || !slices.Equal(manifest.Files, want[1:]) || manifest.Redacted["known-value"] != 4 {
		t.Errorf("MANIFEST.json: %v %s", err, files["MANIFEST.json"])
	}
}

// With Vault sealed nothing delivered can be read: the bundle is still
// written, redacted by patterns, and says so; a service whose logs cannot
// be read gets an error file instead of its log.
func TestBundleWhenSecretsAndLogsAreUnreadable(t *testing.T) {
	env, api, _ := leakyStack(t)
	env.SecretsDir = filepath.Join(t.TempDir(), "sealed")
	api.Containers[1].LogsErr = errors.New("log driver none")
	var out bytes.Buffer
	m, err := Write(context.Background(), env, &out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Notes) != 1 || !strings.Contains(m.Notes[0], "redaction relied on patterns only") {
		t.Errorf("notes %q", m.Notes)
	}
	files := untar(t, out.Bytes())
	if !strings.Contains(files["logs/ERROR.txt"], "log driver none") {
		t.Errorf("logs/ERROR.txt: %q (files %v)", files["logs/ERROR.txt"], m.Files)
	}
	if !strings.Contains(files["containers/kibana.json"], "K=[REDACTED:environment-value]") {
		t.Error("environment values are kept when Vault is sealed")
	}
}

// A bundle that cannot be written is an error naming the bundle.
func TestBundleWriteErrorIsReported(t *testing.T) {
	env, _, _ := leakyStack(t)
	_, err := Write(context.Background(), env, failingWriter{}, Options{})
	if err == nil || !strings.Contains(err.Error(), "write support bundle") || !errors.Is(err, errDiskFull) {
		t.Fatalf("Write to a failing writer: %v", err)
	}
}

var errDiskFull = errors.New("no space left on device")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }
