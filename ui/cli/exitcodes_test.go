package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"gopkg.in/yaml.v3"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/backup/archive"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// A damaged archive is the same cause whichever command meets it, so it
// gets the same exit code, README's for bad input: `backup verify` said 1
// where `restore` said 2.
func TestDamagedArchiveExitsTwoFromVerifyAndRestore(t *testing.T) {
	const pass = "a backup passphrase for the test"
	var b bytes.Buffer
	w, err := archive.Create(&b, []byte(pass), archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddBytes("install/answers.yaml", 0o640, []byte("version: 1\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	data[len(data)-20] ^= 0x01 // inside the last chunk's tag
	file := filepath.Join(t.TempDir(), "backup.fib")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "stack")
	for _, args := range [][]string{
		{"backup", "verify", file},
		{"restore", file, "--yes", "--dir", dir},
	} {
		t.Setenv(backupPassphraseEnv, pass) // read and removed by each run
		r := run(t, "", args...)
		if r.code != ExitUsage || !strings.Contains(r.err, "does not authenticate") {
			t.Errorf("%v on a damaged archive: exit %d, want %d\n%s", args, r.code, ExitUsage, r.err)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the refused restore made the install dir: %v", err)
	}
}

// With no source for the custody secret and no terminal, `unseal` is
// refused before it touches anything, with the same exit code whether the
// secret is the demo passphrase or the production key shares: before, the
// production run started Vault, then failed inside a step with exit 1.
func TestMissingCustodySecretExitsTwoInBothProfiles(t *testing.T) {
	e := labtest.Engine(t)
	t.Setenv(passphraseEnv, "")
	os.Unsetenv(passphraseEnv)
	for i, profile := range []answers.Profile{answers.Demo, answers.Production} {
		t.Run(string(profile), func(t *testing.T) {
			project := labtest.Project(t, e)
			dir := filepath.Join(t.TempDir(), "stack")
			a := answers.Defaults(profile)
			a.InstallDir = dir
			a.Gateway.HTTPSPort, a.Gateway.HTTPPort = 18560+i, 18570+i
			for j, seg := range []*answers.Segment{&a.Network.DMZ, &a.Network.App, &a.Network.Data, &a.Network.Monitoring} {
				*seg = answers.Segment{Name: fmt.Sprintf("%s-%d", project, j), Subnet: fmt.Sprintf("10.231.%d.%d/26", 246+i, 64*j)}
			}
			writeInstallDir(t, dir, a)
			r := run(t, "", "unseal", "--dir", dir, "--project", project)
			if r.code != ExitUsage {
				t.Errorf("%s unseal without its custody secret: exit %d, want %d\n%s%s", profile, r.code, ExitUsage, r.out, r.err)
			}
			args := filters.NewArgs(filters.Arg("label", compose.LabelProject+"="+project))
			if cs, _ := e.API().ContainerList(context.Background(), container.ListOptions{All: true, Filters: args}); len(cs) != 0 {
				t.Errorf("the refused unseal created %d containers", len(cs))
			}
			if ns, _ := e.API().NetworkList(context.Background(), network.ListOptions{Filters: args}); len(ns) != 0 {
				t.Errorf("the refused unseal created %d networks", len(ns))
			}
		})
	}
}

// writeInstallDir makes dir look like an installation whose Vault was
// initialised: the marker, the answers and Vault's record.
func writeInstallDir(t *testing.T, dir string, a answers.Answers) {
	t.Helper()
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "answers.yaml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "vault"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vault", "record.json"), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// `backup verify -o json` writes the documented snake_case names; it
// wrote Go's field names (Version, FileID, Metadata), which README never
// documented.
func TestBackupVerifyJSONUsesTheDocumentedNames(t *testing.T) {
	const pass = "a backup passphrase for the test"
	var b bytes.Buffer
	w, err := archive.Create(&b, []byte(pass), archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddBytes("install/answers.yaml", 0o640, []byte("version: 1\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "backup.fib")
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(backupPassphraseEnv, pass)
	r := run(t, "", "backup", "verify", file, "-o", "json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || r.code != 0 {
		t.Fatalf("backup verify -o json: exit %d %v\n%s%s", r.code, err, r.out, r.err)
	}
	for _, k := range []string{"file", "format", "file_id", "created", "key_slots", "chunks", "payload_bytes", "archive_bytes", "entries"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("backup verify -o json lacks %q:\n%s", k, r.out)
		}
	}
	for k := range doc {
		if k != strings.ToLower(k) {
			t.Errorf("backup verify -o json has a field %q that is not snake_case", k)
		}
	}
}
