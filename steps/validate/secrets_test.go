package validate

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/delivered"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// kibanaAndPostgres renders a stack with the logging group and writes the
// secret files of its postgres and kibana services as the vault step
// does: raw files, and Kibana's keys as YAML settings.
func kibanaAndPostgres(t *testing.T) (services []assets.Service, secretsDir string, values map[string]string) {
	t.Helper()
	a := answers.Defaults(answers.Production)
	a.Groups = []string{answers.GroupCore, answers.GroupLogging}
	a.Host.Hostname = "bank.example.test"
	b, err := assets.Render(a, assets.Options{Project: "fineract", SecretsDir: "/run/x"})
	if err != nil {
		t.Fatal(err)
	}
	secretsDir, values = t.TempDir(), map[string]string{}
	for _, name := range []string{"postgres", "kibana"} {
		svc, ok := b.Service(name)
		if !ok {
			t.Fatalf("no %s in the rendered stack", name)
		}
		services = append(services, svc)
		if err := os.Mkdir(filepath.Join(secretsDir, name), 0o700); err != nil {
			t.Fatal(err)
		}
		i := 0
		files, err := svc.SecretFileContents(func(need assets.SecretNeed) string {
			key := need.VaultPath + "#" + need.Key
			if values[key] == "" {
				values[key] = fmt.Sprintf("%s%02dZ%s", strings.ToUpper(name[:3]), i, strings.Repeat("q7Rm", need.Generate.Length))[:need.Generate.Length]
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
	return services, secretsDir, values
}

const kibanaKeyName = "banking/services/kibana#security_encryption_key"

// TestLeakSearchFindsEveryForm: every value Vault holds, Kibana's YAML
// setting keys included, is found raw, encoded, re-cased and wrapped.
func TestLeakSearchFindsEveryForm(t *testing.T) {
	services, dir, values := kibanaAndPostgres(t)
	known, err := delivered.Secrets(context.Background(), services, dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newLeakSearch(known)
	if err != nil {
		t.Fatal(err)
	}
	key := values[kibanaKeyName]
	inputs := map[string]string{
		"raw in logs":      "kibana | FATAL encryptionKey " + key + " rejected\n",
		"wrapped in logs":  "kibana | config dump: xpack.security.encryptionKey: \"" + key[:30] + "\n         " + key[30:] + "\"\n",
		"hex in env":       "DEBUG_BLOB=" + hex.EncodeToString([]byte(key)),
		"base64 in labels": "map[debug:" + base64.StdEncoding.EncodeToString([]byte("k="+key)) + "]",
		"upper-cased":      "KEY=" + strings.ToUpper(key),
		"postgres raw":     "psql postgresql://postgres:" + values["banking/databases/postgres#superuser_password"] + "@db/x",
		"ordinary":         "2026-11-23T10:00:00Z INFO kibana ready; xpack.security.encryptionKey set from /run/secrets/security-encryption-key.yml\n",
	}
	for where, data := range inputs {
		s.search(where, []byte(data))
	}
	for where := range inputs {
		if want := where != "ordinary"; s.found[where] != want {
			t.Errorf("%s: found %v, want %v", where, s.found[where], want)
		}
	}
	f := s.finding("searched")
	if f.Status != Fail || !strings.Contains(f.Evidence, "found in: base64 in labels, hex in env, postgres raw, raw in logs, upper-cased, wrapped in logs") {
		t.Errorf("finding %+v", f)
	}
	if strings.Contains(f.Evidence, key) {
		t.Error("the finding carries the value")
	}
	if clean, _ := newLeakSearch(known); clean.finding("x").Status != Pass {
		t.Error("nothing searched yet, but no pass")
	}
}

// TestLeakSearchInstallDir: regular files are searched, key material,
// backups and links are not.
func TestLeakSearchInstallDir(t *testing.T) {
	services, dir, values := kibanaAndPostgres(t)
	known, err := delivered.Secrets(context.Background(), services, dir)
	if err != nil {
		t.Fatal(err)
	}
	key := values[kibanaKeyName]
	install := t.TempDir()
	for name, data := range map[string]string{
		"answers.yaml":             "profile: production\n",
		"config/kibana/extra.yml":  "xpack.security.encryptionKey: \"" + key + "\"\n",
		"pki/kibana.key":           key,
		"backups/2026-11-23.tar":   key,
		"vault/unseal-keys.enc":    key,
		"config/other/debug.json":  `{"k":"` + hex.EncodeToString([]byte(key)) + `"}`,
		"config/other/nothing.txt": "nothing\n",
	} {
		p := filepath.Join(install, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(install, "config", "link")); err != nil {
		t.Fatal(err)
	}
	s, err := newLeakSearch(known)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.installDir(install); n != 4 {
		t.Errorf("searched %d files, want 4", n)
	}
	want := []string{"install dir: config/kibana/extra.yml", "install dir: config/other/debug.json"}
	if len(s.found) != len(want) || !s.found[want[0]] || !s.found[want[1]] {
		t.Errorf("found %v, want %v", s.found, want)
	}
}

// TestLeakageCheckFindsAKibanaKey replays a leak of a value Vault keeps
// in a format other than raw: a Kibana encryption key (delivered as a
// YAML setting) in a container's environment and, wrapped over two
// lines, in another's output. The check must fail naming both places.
func TestLeakageCheckFindsAKibanaKey(t *testing.T) {
	services, secretsDir, values := kibanaAndPostgres(t)
	key := values[kibanaKeyName]
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	yaml := labtest.Hardened + `
services:
  app:
    image: ` + img + `
    <<: *hardened
    command: ["sleep", "3600"]
    environment:
      KIBANA_KEY: "` + key + `"
  chatty:
    image: ` + img + `
    <<: *hardened
    command: ["sh", "-c", "echo 'encryption key: ` + key[:20] + `'; echo '    ` + key[20:] + ` (end)'; sleep 3600"]
`
	_, load := labtest.WriteProject(t, project, yaml, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.Up(ctx, load(), compose.UpOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	// Wait for the output: the check reads the logs once.
	waitFor(t, ctx, func() bool {
		printed := false
		_ = e.Logs(ctx, project, compose.LogOptions{Services: []string{"chatty"}}, func(l compose.LogLine) {
			printed = printed || strings.Contains(l.Text, "(end)")
		})
		return printed
	})
	target := &Target{Engine: e, Project: project, Expect: assets.Bundle{Services: services}, Dir: t.TempDir(), SecretsDir: secretsDir}
	r := results(t, target, []Check{{ID: "leak", Run: checkLeakage, Controls: []Control{ControlSecrets}}})["leak"]
	if r.Status != Fail || !strings.Contains(r.Evidence, "found in: environment of app, logs of chatty") {
		t.Fatalf("leak check: %s %q", r.Status, r.Evidence)
	}
	if strings.Contains(r.Evidence+r.Fix+r.Subject, key) {
		t.Error("the result carries the value")
	}
}

// TestHandedOutPasswordsAreAWarningUntilDeleted: the file the install
// leaves for the operator holds a Vault value by design. The check warns
// until it is deleted, and a leak anywhere else still fails.
func TestHandedOutPasswordsAreAWarningUntilDeleted(t *testing.T) {
	services, secretsDir, values := kibanaAndPostgres(t)
	key := values[kibanaKeyName]
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+`
services:
  quiet:
    image: `+img+`
    <<: *hardened
    command: ["sleep", "3600"]
`, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.Up(ctx, load(), compose.UpOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	target := &Target{Engine: e, Project: project, Expect: assets.Bundle{Services: services}, Dir: dir, SecretsDir: secretsDir}
	check := []Check{{ID: "leak", Run: checkLeakage, Controls: []Control{ControlSecrets}}}
	if r := results(t, target, check)["leak"]; r.Status != Pass {
		t.Fatalf("clean install dir: %s %q", r.Status, r.Evidence)
	}
	if err := os.WriteFile(installation.New(dir, "").HandoutFile(installation.InitialCredentials, false), []byte("password: "+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := results(t, target, check)["leak"]
	if r.Status != Warn || !strings.Contains(r.Evidence, installation.Relative().HandoutFile(installation.InitialCredentials, false)) || !strings.Contains(r.Fix, "delete the file") {
		t.Errorf("handout file present: %s %q (%s)", r.Status, r.Evidence, r.Fix)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := results(t, target, check)["leak"]; r.Status != Fail || !strings.Contains(r.Evidence, "install dir: notes.txt") {
		t.Errorf("a copy elsewhere: %s %q", r.Status, r.Evidence)
	}
}
