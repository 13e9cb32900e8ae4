package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// tenantAPI calls Fineract through the gateway as a browser signed in to
// tenant would, as the tenant's administrator.
func (s *stack) tenantAPI(t *testing.T, tenant, method, path, body string) (int, string) {
	t.Helper()
	return s.request(t, tenant, assets.FineractAdminUser, s.tenantPassword(t, tenant), method, path, body)
}

// tenantPassword is the password the installer set for a tenant's
// administrator: the install's own for the default tenant, else the one
// `tenants add` handed out (without a terminal, in tenant-credentials.txt).
func (s *stack) tenantPassword(t *testing.T, tenant string) string {
	t.Helper()
	if tenant == assets.DefaultTenant {
		return s.adminPassword(t)
	}
	data, err := os.ReadFile(installation.New(s.dir, "").HandoutFile(installation.TenantCredentials, false))
	if err != nil {
		t.Fatalf("the tenants' handed-out passwords: %v", err)
	}
	m := regexp.MustCompile(`(?m)^  tenant:   ` + regexp.QuoteMeta(tenant) + `\n  user:     mifos\n  password: (\S+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s holds no administrator password of tenant %s", installation.New(s.dir, "").HandoutFile(installation.TenantCredentials, false), tenant)
	}
	return string(m[1])
}

const labRows = "/fineract-provider/api/v1/lab/rows"

func (s *stack) addRow(t *testing.T, tenant, note string) {
	t.Helper()
	if code, body := s.tenantAPI(t, tenant, http.MethodPost, labRows, fmt.Sprintf(`{"note":%q}`, note)); code/100 != 2 {
		t.Fatalf("add a row to tenant %s: %d %s", tenant, code, body)
	}
}

func (s *stack) tenantRows(t *testing.T, tenant string) string {
	t.Helper()
	code, body := s.tenantAPI(t, tenant, http.MethodGet, labRows, "")
	if code != http.StatusOK {
		t.Fatalf("rows of tenant %s: %d %s", tenant, code, body)
	}
	return body
}

// tenantsJSON is `tenants list -o json`, one record per line.
func (s *stack) tenantsJSON(t *testing.T, ctx context.Context) string {
	t.Helper()
	r := s.run(ctx, "tenants", "list", "-o", "json")
	if r.code != 0 {
		t.Fatalf("tenants list: exit %d\n%s", r.code, r.stderr)
	}
	return r.stdout
}

// TestTenantsAreIsolatedAndResetAlone: after a demo install, a trainer
// adds three tenants; what one tenant writes the others do not see; a
// reset of one empties it and leaves the others' rows; bad names, unknown
// tenants and the production profile are refused with nothing changed.
func TestTenantsAreIsolatedAndResetAlone(t *testing.T) {
	s := newStack(t, 43)
	ctx := ctxFor(t, 40*time.Minute)
	if r := s.install(ctx); r.code != 0 {
		t.Fatalf("install: exit %d\n%s", r.code, tail(r.stderr, 30))
	}

	// Bad names: usage errors, nothing created.
	before := s.tenantsJSON(t, ctx)
	for _, args := range [][]string{{"Student1"}, {"default"}, {"ok", "bad-name"}, {"--count", "100"}} {
		r := s.run(ctx, append([]string{"tenants", "add"}, args...)...)
		if r.code != 2 {
			t.Errorf("tenants add %v: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
	if after := s.tenantsJSON(t, ctx); after != before {
		t.Errorf("refused adds changed the tenants:\nbefore %s\nafter  %s", before, after)
	}

	start := time.Now()
	if r := s.run(ctx, "tenants", "add", "--count", "3", "--prefix", "student"); r.code != 0 {
		t.Fatalf("tenants add --count 3: exit %d\n%s\n%s", r.code, tail(r.stdout, 30), tail(r.stderr, 30))
	}
	t.Logf("tenants add --count 3: %s", time.Since(start).Round(time.Second))
	list := s.tenantsJSON(t, ctx)
	for _, n := range []string{"default", "student1", "student2", "student3"} {
		if !strings.Contains(list, fmt.Sprintf(`"name":%q`, n)) {
			t.Errorf("tenants list does not show %s:\n%s", n, list)
		}
	}
	if r := s.run(ctx, "status"); !strings.Contains(r.stdout, "student3") || !strings.Contains(r.stdout, "https://"+s.ans.Host.Hostname) {
		t.Errorf("status does not say where student3 signs in:\n%s", r.stdout)
	}

	// Each new tenant's default login is closed; its own administrator's
	// password, handed out once, works.
	for _, n := range []string{"student1", "student2", "student3"} {
		if code, _ := s.request(t, n, assets.FineractAdminUser, assets.FineractDefaultPassword, http.MethodGet, labRows, ""); code != http.StatusUnauthorized {
			t.Errorf("tenant %s with the default password: %d, want 401", n, code)
		}
	}

	// Isolation.
	s.addRow(t, "student1", "written-by-student1")
	s.addRow(t, "student2", "written-by-student2")
	if rows := s.tenantRows(t, "student2"); strings.Contains(rows, "written-by-student1") {
		t.Errorf("student2 sees student1's row: %s", rows)
	}
	if rows := s.tenantRows(t, "default"); strings.Contains(rows, "written-by-student") {
		t.Errorf("the default tenant sees a student's row: %s", rows)
	}

	// Refusals that change nothing: an unknown tenant, the production
	// profile (the same stack seen through production answers).
	if r := s.run(ctx, "demo", "reset", "student1", "nosuchtenant"); r.code != 2 || !strings.Contains(r.stderr, "nosuchtenant") {
		t.Errorf("demo reset of an unknown tenant: exit %d %s", r.code, r.stderr)
	}
	prodDir := filepath.Join(t.TempDir(), "production")
	if err := installdir.Mark(prodDir); err != nil {
		t.Fatal(err)
	}
	prod := s.ans
	prod.Profile = answers.Production
	prod.Vault = answers.Defaults(answers.Production).Vault
	data, err := yamlOf(prod)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(prodDir, "answers.yaml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := s.command(ctx, "demo", "reset")
	cmd.Args = append(cmd.Args, "--dir", prodDir) // the last --dir wins
	if out, err := cmd.CombinedOutput(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "production profile") {
		t.Errorf("demo reset on production: %v\n%s", err, out)
	}
	if rows := s.tenantRows(t, "student1"); !strings.Contains(rows, "written-by-student1") {
		t.Errorf("a refused reset changed student1: %s", rows)
	}

	// Reset student1 alone.
	start = time.Now()
	if r := s.run(ctx, "demo", "reset", "student1"); r.code != 0 {
		t.Fatalf("demo reset student1: exit %d\n%s", r.code, r.stderr)
	}
	t.Logf("demo reset student1: %s", time.Since(start).Round(time.Millisecond))
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(2 * time.Second) {
		code, body := s.tenantAPI(t, "student1", http.MethodGet, labRows, "")
		if code == http.StatusOK {
			if strings.Contains(body, "written-by-student1") {
				t.Errorf("student1 still has its row after the reset: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("student1 does not answer after its reset: %d %s", code, body)
		}
	}
	if rows := s.tenantRows(t, "student2"); !strings.Contains(rows, "written-by-student2") {
		t.Errorf("student2 lost its row in student1's reset: %s", rows)
	}
	// The snapshot was taken after the front door was closed: the reset
	// keeps the handed-out password and the default stays refused.
	if code, _ := s.request(t, "student1", assets.FineractAdminUser, assets.FineractDefaultPassword, http.MethodGet, labRows, ""); code != http.StatusUnauthorized {
		t.Errorf("student1 after its reset, default password: %d, want 401", code)
	}

	// Removal needs confirmation; the default tenant is never removed.
	if r := s.run(ctx, "tenants", "remove", "student3"); r.code != 2 {
		t.Errorf("tenants remove without --yes and no terminal: exit %d", r.code)
	}
	if r := s.run(ctx, "tenants", "remove", "default", "--yes"); r.code != 2 {
		t.Errorf("tenants remove default: exit %d", r.code)
	}
	if r := s.run(ctx, "tenants", "remove", "student3", "--yes"); r.code != 0 {
		t.Errorf("tenants remove student3: exit %d\n%s", r.code, r.stderr)
	}
	if list := s.tenantsJSON(t, ctx); strings.Contains(list, `"name":"student3"`) {
		t.Errorf("student3 is still listed after its removal:\n%s", list)
	}
}
