package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/compose/composetest"
	"github.com/fineract-installer/fineract-installer/steps/audit"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

func readAudit(t *testing.T, dir string) audit.Report {
	t.Helper()
	data, err := audit.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return audit.Verify(data, nil)
}

// A changing command appends its entry whatever happens: what it removed,
// who ran it with which flags, the result; a rerun with nothing left to do
// says nothing changed; `audit verify` passes on the untouched log and
// names the entry once a line is edited.
func TestChangingCommandsAreAudited(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stack")
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}
	f := withEngine(shop())
	f.Getenv = func(k string) string {
		return map[string]string{"SUDO_UID": "1000", "SUDO_USER": "alice"}[k]
	}
	if r := runWith(t, f, false, "", "uninstall", "--yes", "--project", "fakeshop", "--dir", dir); r.code != ExitOK {
		t.Fatalf("uninstall: exit %d %s", r.code, r.err)
	}
	// The stack is gone: the same command again finds nothing to remove.
	if r := runWith(t, withEngine(composetest.New()), false, "", "uninstall", "--yes", "--project", "fakeshop", "--dir", dir); r.code != ExitOK {
		t.Fatalf("uninstall again: exit %d %s", r.code, r.err)
	}
	rep := readAudit(t, dir)
	if !rep.OK() || len(rep.Entries) != 2 {
		t.Fatalf("%d entries, problems %+v; want 2 and none", len(rep.Entries), rep.Problems)
	}
	first, second := rep.Entries[0].Entry, rep.Entries[1].Entry
	if first.Command != "uninstall" || first.Result != audit.ResultOK || !first.Time.Equal(testClock) {
		t.Errorf("first entry %+v", first)
	}
	if want := []string{"--dir=" + dir, "--project=fakeshop", "--yes=true"}; !slices.Equal(first.Args, want) {
		t.Errorf("args %q, want %q", first.Args, want)
	}
	if first.User.UID != os.Getuid() || first.User.SudoUID != "1000" || first.User.SudoUser != "alice" {
		t.Errorf("user %+v, want this uid and the sudo user alice", first.User)
	}
	var removed []string
	for _, c := range first.Changes {
		if c.Resource == "container" && c.Action == "remove" && !c.Failed {
			removed = append(removed, c.Subject)
		}
	}
	slices.Sort(removed)
	if !first.Changed || !slices.Equal(removed, []string{"api", "web"}) {
		t.Errorf("first entry's changes %+v, want services api and web removed", first.Changes)
	}
	if second.Changed || len(second.Changes) != 0 || second.Result != audit.ResultOK {
		t.Errorf("the rerun that changed nothing recorded %+v", second)
	}

	if r := run(t, "", "audit", "verify", "--dir", dir); r.code != ExitOK || !strings.Contains(r.out, "2 entries, chain intact") {
		t.Errorf("verify of the untouched log: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r := run(t, "", "audit", "show", "-o", "json", "--dir", dir)
	var shown []auditEntryRecord
	for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
		var rec struct {
			Type string `json:"type"`
			auditEntryRecord
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.Type != typeAuditEntry {
			t.Fatalf("audit show -o json wrote %q (%v)", l, err)
		}
		shown = append(shown, rec.auditEntryRecord)
	}
	if r.code != ExitOK || len(shown) != 2 || shown[1].Entry.Prev != shown[0].Hash {
		t.Errorf("audit show -o json: exit %d, %+v", r.code, shown)
	}
	if r := run(t, "", "audit", "show", "--dir", dir); !strings.Contains(r.out, "uninstall --dir="+dir) || !strings.Contains(r.out, "nothing changed") {
		t.Errorf("audit show:\n%s", r.out)
	}

	path := installation.New(dir, "").AuditLogFile()
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), `"result":"ok"`, `"result":"failed"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", "audit", "verify", "--dir", dir)
	if r.code != ExitFailed || !strings.Contains(r.out, "edited: entry 1 at line 1") {
		t.Errorf("verify of an edited log: exit %d, want %d naming entry 1 at line 1\n%s%s", r.code, ExitFailed, r.out, r.err)
	}
	r = run(t, "", "audit", "verify", "-o", "json", "--dir", dir)
	var doc auditVerifyDoc
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || doc.OK || len(doc.Problems) != 1 || doc.Problems[0].Line != 1 {
		t.Errorf("verify -o json of an edited log: %s (%v)", r.out, err)
	}
}

// removeFails is an engine on which removing a container fails.
type removeFails struct{ *composetest.API }

func (removeFails) ContainerRemove(context.Context, string, container.RemoveOptions) error {
	return errors.New("the engine refused")
}

// A run that fails is recorded with its result and cause.
func TestAFailedRunIsAudited(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stack")
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}
	f := testFactory()
	f.Engine = func(context.Context) (*compose.Engine, error) { return compose.New(removeFails{shop()}), nil }
	if r := runWith(t, f, false, "", "uninstall", "--yes", "--project", "fakeshop", "--dir", dir); r.code != ExitFailed {
		t.Fatalf("uninstall on an engine that refuses: exit %d, want %d", r.code, ExitFailed)
	}
	rep := readAudit(t, dir)
	if len(rep.Entries) != 1 {
		t.Fatalf("%d entries after a failed run, want 1", len(rep.Entries))
	}
	e := rep.Entries[0].Entry
	if e.Result != audit.ResultFailed || !strings.Contains(e.Cause, "the engine refused") {
		t.Errorf("the failed run recorded %+v", e)
	}
}

// A command that could not record its run changes nothing: with a link
// in the audit log's place, uninstall removes no container.
func TestAChangeThatCannotBeRecordedIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stack")
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(t.TempDir(), "elsewhere"), installation.New(dir, "").AuditLogFile()); err != nil {
		t.Fatal(err)
	}
	api := shop()
	r := runWith(t, withEngine(api), false, "", "uninstall", "--yes", "--project", "fakeshop", "--dir", dir)
	if r.code != ExitFailed || !strings.Contains(r.err, "changes nothing it cannot record") {
		t.Errorf("exit %d %q, want exit 1 saying nothing is changed unrecorded", r.code, r.err)
	}
	if got := api.Removed(); len(got) != 0 {
		t.Errorf("removed %v without a record", got)
	}
}

// No flag value that may carry a secret reaches the log: every flag of
// every command is given a marked value, and only the flags known to
// hold none (recordedFlags, and bool, int and duration flags) keep theirs.
func TestAuditedArgumentsCarryNoSecretValue(t *testing.T) {
	a := &app{f: testFactory()}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Runnable() {
			c.Flags().VisitAll(func(f *pflag.Flag) {
				switch f.Value.Type() {
				case "bool", "int", "count":
				case "duration":
					// A length of time holds no secret: recorded as given.
					if err := c.Flags().Set(f.Name, "1m"); err != nil {
						t.Fatal(err)
					}
				default:
					if err := c.Flags().Set(f.Name, "SECRET-"+f.Name); err != nil {
						t.Fatal(err)
					}
				}
			})
			_, args := invocation(c, nil)
			for _, arg := range args {
				name, value, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
				if strings.Contains(value, "SECRET-") && !recordedFlags[name] {
					t.Errorf("%s records --%s's value: %s", c.CommandPath(), name, arg)
				}
			}
			for _, secret := range []string{"passphrase-file", "unseal-passphrase-file", "unseal-keys-file", "key"} {
				if f := c.Flags().Lookup(secret); f != nil && !slices.Contains(args, "--"+secret+"="+notRecorded) {
					t.Errorf("%s: --%s is not recorded by name alone: %q", c.CommandPath(), secret, args)
				}
			}
		}
	}
	walk(newRootCmd(a))
	for name := range recordedFlags {
		if strings.Contains(name, "pass") || strings.Contains(name, "key") || strings.Contains(name, "secret") {
			t.Errorf("recordedFlags lists %s, which may carry a secret", name)
		}
	}
}

// `certs generate` issues the stack's certificates into the install dir:
// its entry names each certificate issued, and a rerun that finds them
// all in place records that nothing changed.
func TestCertsGenerateIsAuditedAndItsRerunChangesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stack")
	for i := 0; i < 2; i++ {
		if r := run(t, "", "certs", "generate", "--demo", "--dir", dir); r.code != ExitOK {
			t.Fatalf("certs generate: exit %d %s%s", r.code, r.out, r.err)
		}
	}
	rep := readAudit(t, dir)
	if !rep.OK() || len(rep.Entries) != 2 {
		t.Fatalf("%d entries, problems %+v", len(rep.Entries), rep.Problems)
	}
	first, second := rep.Entries[0].Entry, rep.Entries[1].Entry
	issued := map[string]bool{}
	for _, c := range first.Changes {
		if c.Resource == "certificate" && c.Action == "issue" {
			issued[c.Subject] = true
		}
	}
	if first.Command != "certs generate" || !first.Changed || !issued["ca"] || !issued["gateway"] {
		t.Errorf("first certs generate recorded %+v", first)
	}
	if second.Changed || len(second.Changes) != 0 || len(second.Steps) != 0 {
		t.Errorf("the rerun that found every certificate in place recorded %+v", second)
	}
}
