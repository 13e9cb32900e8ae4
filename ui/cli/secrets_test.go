package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"gopkg.in/yaml.v3"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/backup/archive"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

// TestInstallWithAWeakCustodyPassphraseChangesNothing replays the bricked
// Vault: a demo install took FINERACT_UNSEAL_PASSPHRASE=short, initialised
// Vault, and only then failed to write the custody file, losing the only
// copy of the unseal key. The passphrase is input: it must be refused as
// such (exit 2) before the install dir, the lock or anything in Docker
// exists.
func TestInstallWithAWeakCustodyPassphraseChangesNothing(t *testing.T) {
	var b [3]byte
	_, _ = rand.Read(b[:])
	project := "fit-weak-custody-" + hex.EncodeToString(b[:])
	base := t.TempDir()
	dir := filepath.Join(base, "stack")

	t.Setenv(passphraseEnv, "short")
	r := run(t, "", "install", "--demo", "--yes", "--dir", dir, "--project", project, "--no-color")
	if r.code != ExitUsage || !strings.Contains(r.err, "demo custody passphrase") || !strings.Contains(r.err, "at least 12 characters (it has 5)") {
		t.Fatalf("exit %d, stderr %q; want exit 2 naming the custody passphrase rule", r.code, r.err)
	}
	if entries, err := os.ReadDir(base); err != nil || len(entries) != 0 {
		t.Errorf("the refused install created %v (%v) next to its install dir", entries, err)
	}
	if _, err := os.Stat(filepath.Dir(installdir.SecretsDir(project))); !os.IsNotExist(err) {
		t.Errorf("the refused install created its secrets dir: %v", err)
	}
	noDockerObjects(t, project)
}

// noDockerObjects checks that the engine holds nothing of project.
func noDockerObjects(t *testing.T, project string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := compose.Connect(ctx)
	if err != nil {
		if labtest.Required() {
			t.Fatalf("this check needs a Docker engine: %v", err)
		}
		t.Logf("no Docker engine, so none of its objects can exist: %v", err)
		return
	}
	defer e.Close()
	f := filters.NewArgs(filters.Arg("label", "com.docker.compose.project="+project))
	cs, err := e.API().ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := e.API().NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := e.API().VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs)+len(ns)+len(vs.Volumes) != 0 {
		t.Errorf("project %s has %d containers, %d networks and %d volumes", project, len(cs), len(ns), len(vs.Volumes))
		_ = e.Down(ctx, project, compose.DownOptions{Volumes: true}, nil)
	}
}

// TestGroupReadableBackupPassphraseFileIsRefused: the backup passphrase
// file gets the same rule as the unseal passphrase file, owner-only.
func TestGroupReadableBackupPassphraseFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	pass := []byte("correct horse battery staple")
	fib := filepath.Join(dir, "backup.fib")
	f, err := os.Create(fib)
	if err != nil {
		t.Fatal(err)
	}
	w, err := archive.Create(f, pass, archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	passFile := filepath.Join(dir, "backup.pass")
	if err := os.WriteFile(passFile, append(pass, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "", "backup", "verify", fib, "--passphrase-file", passFile); r.code != 0 {
		t.Fatalf("owner-only passphrase file: exit %d %s", r.code, r.err)
	}
	if err := os.Chmod(passFile, 0o640); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"backup", "verify", fib, "--passphrase-file", passFile},
		{"restore", fib, "--passphrase-file", passFile, "--dir", filepath.Join(dir, "stack"), "--yes"},
	} {
		r := run(t, "", args...)
		if r.code != ExitUsage || !strings.Contains(r.err, "--passphrase-file: ") || !strings.Contains(r.err, "chmod 600 "+passFile) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 asking for chmod 600", args[:2], r.code, r.err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "stack")); !os.IsNotExist(err) {
		t.Errorf("the refused restore created its install dir: %v", err)
	}
}

// TestUnsafeUnsealKeysFileIsRefused: the unseal keys file holds plain key
// shares, so it gets the secret file rules, and a bounded read.
func TestUnsafeUnsealKeysFileIsRefused(t *testing.T) {
	labtest.Engine(t) // unseal connects to the engine before it reads the custody options
	dir := filepath.Join(t.TempDir(), "stack")
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(answers.Defaults(answers.Production))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"answers.yaml": data, "vault/record.json": []byte("{}\n")} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keys := filepath.Join(t.TempDir(), "keys")
	shares := "# two of three\nc2hhcmUtb25l\nc2hhcmUtdHdv\n"
	cases := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"readable by all", shares, 0o644, "chmod 600 " + keys},
		{"readable by its group", shares, 0o640, "chmod 600 " + keys},
		{"larger than the limit", shares + strings.Repeat("# padding\n", passphrase.MaxKeySharesFileBytes/10), 0o600, "at most 65536"},
	}
	for _, c := range cases {
		if err := os.WriteFile(keys, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(keys, c.mode); err != nil {
			t.Fatal(err)
		}
		r := run(t, "", "unseal", "--dir", dir, "--project", "fit-unsafe-keys", "--unseal-keys-file", keys, "--no-color")
		if r.code != ExitUsage || !strings.Contains(r.err, "--unseal-keys-file: ") || !strings.Contains(r.err, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 saying %q", c.name, r.code, r.err, c.want)
		}
	}
	lock, err := installation.New(dir, "").LockFile()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Errorf("the refused unseal took the install lock: %v", err)
	}
}
