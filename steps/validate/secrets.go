package validate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/assets"
)

// SecretChecks look for every secret value where it must never be.
func SecretChecks() []Check {
	return []Check{
		{ID: "secrets-leakage", Area: AreaSecrets, Title: "No secret appears in files, environments or logs", Controls: []Control{ControlSecrets}, Run: checkLeakage},
		{ID: "backups-fresh", Area: AreaBackups, Title: "A recent backup exists", Controls: []Control{ControlBackup, ControlAtRest}, Run: checkBackupFresh},
	}
}

// minSecretLen skips values too short to search for without false hits;
// every generated secret is far longer.
const minSecretLen = 12

// SecretValues reads the delivered secret files that hold a value as it
// is (the formatted ones hold a hash or the same value again): every value
// the services receive from Vault. It returns what it could read and the
// first error.
func SecretValues(services []assets.Service, secretsDir string) ([][]byte, error) {
	var out [][]byte
	var firstErr error
	seen := map[string]bool{}
	for _, svc := range services {
		for _, n := range svc.Secrets {
			if n.Format != assets.FormatRaw && n.Format != "" {
				continue
			}
			data, err := os.ReadFile(filepath.Join(secretsDir, svc.Name, n.File))
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			v := bytes.TrimSpace(data)
			if len(v) >= minSecretLen && !seen[string(v)] {
				seen[string(v)] = true
				out = append(out, v)
			}
		}
	}
	return out, firstErr
}

// notSecretFiles in the install dir may hold secrets by design: encrypted
// or key material that is not a Vault value.
func notSecretFile(rel string) bool {
	return strings.HasPrefix(rel, "backups/") || rel == "vault/unseal-keys.enc" || rel == "vault/encrypted-shares.txt"
}

func checkLeakage(ctx context.Context, t *Target) Finding {
	values, err := SecretValues(t.Expect.Services, t.SecretsDir)
	if err != nil || len(values) == 0 {
		return fail(fmt.Sprintf("cannot read the delivered secrets in %s: %v", t.SecretsDir, err), "run as root; after a reboot run `fineract-installer unseal` first")
	}
	found := map[string]bool{}
	search := func(where string, data []byte) {
		for _, v := range values {
			if bytes.Contains(data, v) {
				found[where] = true
			}
		}
	}
	files := 0
	_ = filepath.WalkDir(t.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(t.Dir, p)
		if notSecretFile(rel) || strings.HasSuffix(rel, ".key") || strings.HasSuffix(rel, ".pem") {
			return nil
		}
		if data, err := os.ReadFile(p); err == nil {
			files++
			search("install dir: "+rel, data)
		}
		return nil
	})
	cs, err := t.inspectAll(ctx)
	if err != nil {
		return fail(err.Error(), "")
	}
	for svc, c := range cs {
		search("environment of "+svc, []byte(strings.Join(c.Config.Env, "\n")))
		search("labels of "+svc, []byte(fmt.Sprint(c.Config.Labels)))
		search("command of "+svc, []byte(strings.Join(append(c.Config.Entrypoint, c.Config.Cmd...), " ")))
		if rc, err := t.Engine.API().ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "5000"}); err == nil {
			data, _ := io.ReadAll(io.LimitReader(rc, 32<<20))
			rc.Close()
			search("logs of "+svc, data)
		}
	}
	evidence := fmt.Sprintf("%d secret values searched in %d install-dir files and the environment, labels, command and last 5000 log lines of %d containers", len(values), files, len(cs))
	if len(found) > 0 {
		var where []string
		for w := range found {
			where = append(where, w)
		}
		sort.Strings(where)
		return Finding{Status: Fail, Evidence: evidence + "; found in: " + strings.Join(where, ", "), Fix: "remove the value from there and rotate the secret", Subject: strings.Join(where, ", ")}
	}
	return pass(evidence + "; none found")
}

// BackupInterval is how old the newest backup may be before a warning.
const BackupInterval = 24 * time.Hour

func checkBackupFresh(ctx context.Context, t *Target) Finding {
	dir := filepath.Join(t.Dir, "backups")
	entries, err := os.ReadDir(dir)
	var newest time.Time
	var name string
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && fi.ModTime().After(newest) {
			newest, name = fi.ModTime(), e.Name()
		}
	}
	if err != nil || newest.IsZero() {
		return Finding{Status: Warn, Evidence: "no backup in " + dir, Fix: "run `fineract-installer backup` (and schedule it)"}
	}
	age := time.Since(newest).Round(time.Minute)
	evidence := fmt.Sprintf("newest %s, %s old", name, age)
	if age > BackupInterval {
		return Finding{Status: Warn, Evidence: evidence, Fix: fmt.Sprintf("back up at least every %s: `fineract-installer backup`", BackupInterval)}
	}
	return pass(evidence)
}
