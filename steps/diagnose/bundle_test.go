package diagnose

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// deliver renders a stack with the logging group and writes the secret
// files of the named services as the vault step does (Kibana's keys as
// YAML settings). It returns those services and the value of each Vault
// key.
func deliver(t *testing.T, secretsDir string, names ...string) ([]assets.Service, map[string]string) {
	t.Helper()
	a := answers.Defaults(answers.Production)
	a.Groups = []string{answers.GroupCore, answers.GroupLogging}
	a.Host.Hostname = "bank.example.test"
	b, err := assets.Render(a, assets.Options{Project: "fineract", SecretsDir: secretsDir})
	if err != nil {
		t.Fatal(err)
	}
	var services []assets.Service
	values := map[string]string{}
	for _, name := range names {
		svc, ok := b.Service(name)
		if !ok {
			t.Fatalf("no %s in the rendered stack", name)
		}
		services = append(services, svc)
		if err := os.MkdirAll(filepath.Join(secretsDir, name), 0o700); err != nil {
			t.Fatal(err)
		}
		i := 0
		files, err := svc.SecretFileContents(func(need assets.SecretNeed) string {
			key := need.VaultPath + "#" + need.Key
			if values[key] == "" {
				values[key] = fmt.Sprintf("%s%02dX%s", strings.ToUpper(name[:3]), i, strings.Repeat("m4Kp", need.Generate.Length))[:need.Generate.Length]
			}
			i++
			return values[key]
		})
		if err != nil {
			t.Fatal(err)
		}
		for file, data := range files {
			if err := os.WriteFile(filepath.Join(secretsDir, name, file), data, 0o400); err != nil {
				t.Fatal(err)
			}
		}
	}
	return services, values
}

const kibanaKeyName = "banking/services/kibana#saved_objects_encryption_key"

func TestNewRedactorKnowsEveryFormat(t *testing.T) {
	dir := t.TempDir()
	services, values := deliver(t, dir, "postgres", "kibana")
	r, notes, err := newRedactor(context.Background(), services, dir)
	if err != nil || len(notes) != 0 {
		t.Fatalf("%v %v", err, notes)
	}
	key := values[kibanaKeyName]
	for _, in := range []string{key, strings.ToUpper(key), hex.EncodeToString([]byte(key)), key[:9] + "\n  " + key[9:]} {
		if out, _ := r.RedactString("x " + in + " y"); out != "x [REDACTED:known-value] y" {
			t.Errorf("%q -> %q", in, out)
		}
	}
	// A file that cannot be read is noted; the others still count.
	if err := os.Remove(filepath.Join(dir, "postgres", "superuser_password")); err != nil {
		t.Fatal(err)
	}
	r, notes, err = newRedactor(context.Background(), services, dir)
	if err != nil || len(notes) != 1 || !strings.Contains(notes[0], "not every delivered secret was readable") || !strings.Contains(notes[0], "superuser_password") {
		t.Fatalf("%v %q", err, notes)
	}
	if !r.HasKnownValue([]byte(key)) {
		t.Error("the Kibana key is no longer known")
	}
	_, notes, _ = newRedactor(context.Background(), services, filepath.Join(dir, "sealed"))
	if len(notes) != 1 || !strings.Contains(notes[0], "patterns only") {
		t.Fatalf("%q", notes)
	}
}

// TestBundleRedactsEveryVaultValue replays a leak of a value Vault keeps
// in a format other than raw: a Kibana encryption key (delivered as a
// YAML setting) printed by a container raw, wrapped over two lines and
// hex-encoded, and written into another's command. No form of it may
// reach the support bundle.
func TestBundleRedactsEveryVaultValue(t *testing.T) {
	secretsDir := t.TempDir()
	services, values := deliver(t, secretsDir, "postgres", "kibana")
	key := values[kibanaKeyName]
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	yaml := labtest.Hardened + `
services:
  kibana:
    image: ` + img + `
    <<: *hardened
    environment:
      K: "` + key + `"
    # The shell splits the key, so the pieces are only in the output.
    command: ["sh", "-c", "r=$${K#????????????????????}; echo \"key $$K\"; echo \"wrapped $${K%\"$$r\"}\"; echo \"        $$r (end)\"; echo 'hex ` + hex.EncodeToString([]byte(key)) + `'; sleep 3600"]
  app:
    image: ` + img + `
    <<: *hardened
    command: ["sh", "-c", "sleep 3600 # ` + strings.ToUpper(key) + `"]
`
	_, load := labtest.WriteProject(t, project, yaml, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := e.Up(ctx, load(), compose.UpOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	for printed := false; !printed; {
		_ = e.Logs(ctx, project, compose.LogOptions{Services: []string{"kibana"}}, func(l compose.LogLine) {
			printed = printed || strings.Contains(l.Text, "hex ")
		})
		select {
		case <-ctx.Done():
			t.Fatal("the container printed nothing")
		case <-time.After(200 * time.Millisecond):
		}
	}
	a := answers.Defaults(answers.Production)
	a.Host.Hostname = "bank.example.test"
	env := &install.Env{Installation: installation.New(t.TempDir(), project), Answers: a, Engine: e,
		Bundle: assets.Bundle{Services: services}, SecretsDir: secretsDir}
	var out bytes.Buffer
	m, err := Write(ctx, env, &out, Options{LogLines: 100, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	files := untar(t, out.Bytes())
	for _, form := range []string{key, key[:20], key[20:], strings.ToUpper(key), hex.EncodeToString([]byte(key)), values["banking/databases/postgres#superuser_password"]} {
		for name, data := range files {
			if i := strings.Index(data, form); i >= 0 {
				t.Errorf("%q survived in %s: %q", form, name, data[max(i-200, 0):min(i+200, len(data))])
			}
		}
	}
	log := files["logs/kibana.log"]
	if strings.Count(log, "[REDACTED:known-value]") != 3 || !strings.Contains(log, "stdout wrapped [REDACTED:known-value]\n") || !strings.Contains(log, "(end)") {
		t.Errorf("logs/kibana.log:\n%s", log)
	}
	if !strings.Contains(files["containers/app.json"], "# [REDACTED:known-value]") {
		t.Errorf("the command in containers/app.json is not redacted:\n%s", files["containers/app.json"])
	}
	if m.Redacted["known-value"] < 4 || len(m.Notes) != 0 {
		t.Errorf("manifest: %+v", m)
	}
	var manifest Manifest
	if err := json.Unmarshal([]byte(files["MANIFEST.json"]), &manifest); err != nil || manifest.Redacted["known-value"] != m.Redacted["known-value"] {
		t.Errorf("MANIFEST.json: %v %s", err, files["MANIFEST.json"])
	}
}

func untar(t *testing.T, b []byte) map[string]string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = string(data)
	}
}
