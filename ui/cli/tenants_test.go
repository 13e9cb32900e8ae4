package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// TestTenantsAddRefusesBadNamesBeforeAnything: bad names are a usage
// error that says what a name may be, found before the install dir or the
// engine is looked at, so nothing is created.
func TestTenantsAddRefusesBadNamesBeforeAnything(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "install")
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"Alice"}, "must start with a lower-case letter"},
		{[]string{"alice", "bob-1"}, `"bob-1" must start with a lower-case letter`},
		{[]string{"x';DROP DATABASE x;--"}, "must start with a lower-case letter"},
		{[]string{"default"}, "taken by the default tenant"},
		{[]string{strings.Repeat("a", 33)}, "at most 32"},
		{[]string{"alice", "alice"}, "given twice"},
		{nil, "name at least one tenant"},
		{[]string{"--count", "0"}, "name at least one tenant"},
		{[]string{"--count", "-2"}, "outside 1..24"},
		{[]string{"--count", "25"}, "outside 1..24"},
		{[]string{"--count", "3", "--prefix", "Student"}, "must start with a lower-case letter"},
		{[]string{"--count", "3", "alice"}, "not both"},
	} {
		r := run(t, "", append([]string{"--dir", dir, "tenants", "add"}, c.args...)...)
		if r.code != ExitUsage || !strings.Contains(r.err, c.msg) {
			t.Errorf("tenants add %q: exit %d stderr %q; want exit 2 and %q", c.args, r.code, r.err, c.msg)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the install dir was touched: %v", err)
	}
}

func TestTenantsRemoveRefusesTheDefaultTenantAndBadNames(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "install")
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"default", "--yes"}, "default tenant is part of the installation"},
		{[]string{"Bad!", "--yes"}, "must start with a lower-case letter"},
		{nil, "name the tenant to remove"},
	} {
		r := run(t, "", append([]string{"--dir", dir, "tenants", "remove"}, c.args...)...)
		if r.code != ExitUsage || !strings.Contains(r.err, c.msg) {
			t.Errorf("tenants remove %q: exit %d stderr %q; want exit 2 and %q", c.args, r.code, r.err, c.msg)
		}
	}
}

// productionInstallDir makes an install dir holding production answers
// and nothing running.
func productionInstallDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "install")
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "answers", "init", "--profile", "production")
	if r.code != 0 {
		t.Fatalf("answers init: %d %s", r.code, r.err)
	}
	if _, err := answers.Parse("init.yaml", []byte(r.out)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "answers.yaml"), []byte(r.out), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDemoCommandsAreRefusedOnProduction: snapshot and reset are usage
// errors on the production profile, stopped before PostgreSQL is asked
// anything (the project has no PostgreSQL running, which would otherwise
// fail with exit 1).
func TestDemoCommandsAreRefusedOnProduction(t *testing.T) {
	labtest.Engine(t)
	dir := productionInstallDir(t)
	project := "fit-demo-prod-refused"
	for _, args := range [][]string{{"demo", "reset"}, {"demo", "reset", "student1"}, {"demo", "snapshot"}} {
		r := run(t, "", append([]string{"--dir", dir, "--project", project}, args...)...)
		if r.code != ExitUsage || !strings.Contains(r.err, "production profile never allows") || !strings.Contains(r.err, "nothing was changed") {
			t.Errorf("%v on production: exit %d stderr %q; want exit 2 and the reason", args, r.code, r.err)
		}
	}
}
