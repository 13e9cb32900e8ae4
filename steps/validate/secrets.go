package validate

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/delivered"
	"github.com/fineract-installer/fineract-installer/steps/diagnose/redact"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// SecretChecks look for every secret value where it must never be.
func SecretChecks() []Check {
	return []Check{
		{ID: "secrets-leakage", Area: AreaSecrets, Title: "No secret appears in files, environments or logs", Controls: []Control{ControlSecrets}, Run: checkLeakage},
		{ID: "backups-fresh", Area: AreaBackups, Title: "A recent backup exists", Controls: []Control{ControlBackup, ControlAtRest}, Run: checkBackupFresh},
	}
}

// notSecretFiles in the install dir may hold secrets by design: encrypted
// or key material that is not a Vault value, and the passwords handed
// out to the operator, which checkLeakage reports on its own.
func notSecretFile(rel string) bool {
	in := installation.Relative()
	if rel == in.CustodyFile() || rel == in.EncryptedSharesFile() {
		return true
	}
	for _, h := range installation.Handouts() {
		if rel == in.HandoutFile(h, false) || rel == in.HandoutFile(h, true) {
			return true
		}
	}
	return strings.HasPrefix(rel, in.BackupsDir()+"/")
}

func checkLeakage(ctx context.Context, t *Target) Finding {
	const fix = "run as root; after a reboot run `fineract-installer unseal` first, which also delivers the secrets again"
	values, readErr := delivered.Secrets(ctx, t.Expect.SecretHolders(), t.SecretsDir)
	if len(values) == 0 {
		return fail(fmt.Sprintf("cannot read the delivered secrets in %s: %v", t.SecretsDir, readErr), fix)
	}
	leaks, err := newLeakSearch(values)
	if err != nil {
		return fail(err.Error(), "")
	}
	files := leaks.installDir(t.Dir)
	cs, err := t.inspectAll(ctx)
	if err != nil {
		return fail(err.Error(), "")
	}
	for svc, c := range cs {
		leaks.container(svc, c)
	}
	logs, err := serviceLogs(ctx, t.Engine, t.Project)
	if err != nil {
		return fail(err.Error(), "check that the Docker engine runs: `fineract-installer status`")
	}
	for _, svc := range slices.Sorted(maps.Keys(logs)) {
		leaks.search("logs of "+svc, logs[svc])
	}
	f := leaks.finding(fmt.Sprintf("%d secret values searched, also encoded and split over lines, in %d install-dir files and the environment, labels, command and last 5000 log lines of %d containers", len(values), files, len(cs)))
	for _, h := range installation.Handouts() {
		name := t.installation().HandoutFile(h, false)
		if _, err := os.Lstat(name); err == nil && f.Status != Fail {
			// Put there for the operator, who was told to delete it.
			f = Finding{Status: Warn, Evidence: f.Evidence + "; " + name + " still holds passwords the installer handed out",
				Fix: "record them somewhere safe and delete the file (`fineract-installer credentials` shows them again)"}
		}
	}
	if readErr != nil {
		// What could not be read was not searched for.
		f.Status, f.Evidence = Fail, f.Evidence+"; not every delivered secret could be read: "+readErr.Error()
		if f.Fix == "" {
			f.Fix = fix
		}
	}
	return f
}

// maxLogBytes bounds what is searched of one service's log.
const maxLogBytes = 32 << 20

// serviceLogs returns each service's last 5000 log lines, stdout and
// stderr apart from the engine's framing, joined by line breaks.
func serviceLogs(ctx context.Context, e *compose.Engine, project string) (map[string][]byte, error) {
	logs := map[string][]byte{}
	err := e.Logs(ctx, project, compose.LogOptions{Tail: 5000}, func(l compose.LogLine) {
		if b := logs[l.Service]; len(b)+len(l.Text) < maxLogBytes {
			logs[l.Service] = append(append(b, l.Text...), '\n')
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read the services' logs: %w", err)
	}
	return logs, nil
}

// leakSearch looks for the values Vault holds in what checkLeakage reads,
// in every form the support bundle's redaction recognises: raw, encoded,
// re-cased and split over lines.
type leakSearch struct {
	known *redact.Redactor
	found map[string]bool // where a value was found
}

func newLeakSearch(values [][]byte) (*leakSearch, error) {
	r, err := redact.New(values, redact.Options{})
	if err != nil {
		return nil, fmt.Errorf("prepare the search for secret values: %w", err)
	}
	return &leakSearch{known: r, found: map[string]bool{}}, nil
}

// search notes where if data holds a value.
func (s *leakSearch) search(where string, data []byte) {
	if s.known.HasKnownValue(data) {
		s.found[where] = true
	}
}

// installDir searches every regular file under dir but the encrypted
// backups and key material, and returns how many it read.
func (s *leakSearch) installDir(dir string) int {
	files := 0
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if notSecretFile(rel) || strings.HasSuffix(rel, ".key") || strings.HasSuffix(rel, ".pem") {
			return nil
		}
		if data, err := os.ReadFile(p); err == nil {
			files++
			s.search("install dir: "+rel, data)
		}
		return nil
	})
	return files
}

// container searches what docker inspect shows of a service's container.
func (s *leakSearch) container(svc string, c container.InspectResponse) {
	if c.Config == nil {
		return
	}
	s.search("environment of "+svc, []byte(strings.Join(c.Config.Env, "\n")))
	s.search("labels of "+svc, []byte(fmt.Sprint(c.Config.Labels)))
	s.search("command of "+svc, []byte(strings.Join(append(slices.Clone(c.Config.Entrypoint), c.Config.Cmd...), " ")))
}

// finding passes when nothing was found, else fails naming where.
func (s *leakSearch) finding(evidence string) Finding {
	if len(s.found) == 0 {
		return pass(evidence + "; none found")
	}
	where := slices.Sorted(maps.Keys(s.found))
	return Finding{Status: Fail, Evidence: evidence + "; found in: " + strings.Join(where, ", "), Fix: "remove the value from there and rotate the secret", Subject: strings.Join(where, ", ")}
}

// BackupInterval is how old the newest backup may be before a warning.
const BackupInterval = 24 * time.Hour

func checkBackupFresh(ctx context.Context, t *Target) Finding {
	dir := t.installation().BackupsDir()
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
