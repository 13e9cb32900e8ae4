package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// A link left at a report's path (in a shared directory, say) is replaced,
// never followed, and the reports are readable by their owner only.
func TestReportsReplaceLinksAndArePrivate(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"evidence.md", "evidence.html"} {
		if err := os.Symlink(victim, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	a := &app{f: testFactory(), io: &Streams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, project: "fineract", output: formatText}
	rs := []validate.Result{{ID: "tls-gateway-version", Title: "Gateway refuses TLS below 1.3", Status: validate.Pass, Evidence: "TLS 1.2 refused"}}
	if err := writeReports(a, dir, "bank.example", rs); err != nil {
		t.Fatal(err)
	}
	if body, _ := os.ReadFile(victim); string(body) != "keep\n" {
		t.Errorf("the report was written through a link: the link's target now holds %d bytes", len(body))
	}
	for _, name := range []string{"evidence.md", "evidence.html"} {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
			t.Errorf("%s: mode %v, size %d; want a non-empty regular file with mode 0600", name, fi.Mode(), fi.Size())
		}
	}
}

// The evidence report is dated by the factory's clock, the time the
// checklist was run.
func TestReportIsDatedByTheClock(t *testing.T) {
	dir := t.TempDir()
	a := &app{f: testFactory(), io: &Streams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, project: "fineract", output: formatText}
	rs := []validate.Result{{ID: "tls-gateway-version", Title: "Gateway refuses TLS below 1.3", Status: validate.Pass, Evidence: "TLS 1.2 refused"}}
	if err := writeReports(a, dir, "bank.example", rs); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "evidence.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "generated " + testClock.Format(time.RFC3339); !bytes.Contains(md, []byte(want)) {
		t.Errorf("evidence.md does not say %q:\n%s", want, md)
	}
}
