package validate

import (
	"os"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/audit"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// The checklist's audit-log check passes on an intact chain, naming its
// head, and fails naming the entry once a line is edited.
func TestAuditLogCheck(t *testing.T) {
	dir := t.TempDir()
	target := &Target{Dir: dir}
	if f := checkAuditLog(t.Context(), target); f.Status != Pass || !strings.Contains(f.Evidence, "no entries yet") {
		t.Errorf("no log yet: %+v", f)
	}
	for _, c := range []string{"install", "backup", "unseal"} {
		if _, err := audit.Append(dir, audit.Entry{Command: c, Result: audit.ResultOK}); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := audit.Read(dir)
	head := audit.Verify(data, nil).Head
	if f := checkAuditLog(t.Context(), target); f.Status != Pass || !strings.Contains(f.Evidence, "3 entries, chain intact; head 3:"+head.Hash) {
		t.Errorf("an intact log: %+v", f)
	}
	path := installation.New(dir, "").AuditLogFile()
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), `"command":"backup"`, `"command":"status"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if f := checkAuditLog(t.Context(), target); f.Status != Fail || !strings.Contains(f.Evidence, "edited: entry 2 at line 2") {
		t.Errorf("an edited log: %+v", f)
	}
}
