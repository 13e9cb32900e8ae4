package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// login posts the web app's sign-in to Fineract through the gateway. The
// gateway lets 10 sign-ins a minute through; like a person, the test
// waits when it is told to (429).
func (s *stack) login(t *testing.T, user, password string) int {
	t.Helper()
	for start := time.Now(); ; time.Sleep(2 * time.Second) {
		code, _ := s.apiAs(t, "", "", http.MethodPost, "/fineract-provider/api/v1/authentication", fmt.Sprintf(`{"username":%q,"password":%q}`, user, password))
		if code != http.StatusTooManyRequests || time.Since(start) > 90*time.Second {
			return code
		}
	}
}

// TestFineractsDefaultLoginIsClosed installs the demo without a terminal:
// the default login is refused through the gateway and the installer's
// works; the password reaches the operator only in a root-only file named
// in the JSON stream; a run that lost its record recovers; a password
// changed by hand stops the install with a hint and changes nothing; and
// validate fails once the default login is open again.
func TestFineractsDefaultLoginIsClosed(t *testing.T) {
	s := newStack(t, 15)
	ctx := ctxFor(t, 20*time.Minute)
	r := s.install(ctx)
	if r.code != 0 {
		t.Fatalf("install exit %d\n%s\n%s", r.code, r.stderr, tail(r.stdout, 30))
	}
	// Fineract's first start replaced the default tenant's TLS settings
	// (its changelog 0005, which the stand-in replays); the install set
	// them back.
	if !strings.Contains(r.stdout, "tenant connection(s) back to sslmode=verify-full") {
		var lines []string
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.Contains(l, "tenant-tls") {
				lines = append(lines, l)
			}
		}
		t.Errorf("the install did not set the tenant connection's TLS parameters back:\n%s", strings.Join(lines, "\n"))
	}
	password := s.adminPassword(t)
	if strings.Contains(r.stdout+r.stderr, password) {
		t.Fatal("the administrator's password is in the install's output")
	}
	var handout struct {
		Type, File string
		Users      []string
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, `"type":"credentials"`) {
			if err := json.Unmarshal([]byte(line), &handout); err != nil {
				t.Fatal(err)
			}
		}
	}
	if handout.File != installation.New(s.dir, "").HandoutFile(installation.InitialCredentials, false) {
		t.Fatalf("no credentials record naming the file in the JSON stream:\n%s", tail(r.stdout, 20))
	}
	fi, err := os.Stat(handout.File)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v, want mode 0600", handout.File, err, fi.Mode())
	}
	if data, _ := os.ReadFile(handout.File); !strings.Contains(string(data), "password: "+password) {
		t.Errorf("the file does not hold the administrator's password:\n%s", data)
	}

	// The demo install's last act, the default tenant's snapshot, ends
	// Fineract's database sessions; its pool replaces a session idle for
	// more than half a second (as HikariCP does), so wait for health UP.
	for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(time.Second) {
		if code, _ := s.apiAs(t, "", "", http.MethodGet, "/fineract-provider/actuator/health", ""); code == http.StatusOK {
			break
		}
	}
	if code := s.login(t, assets.FineractAdminUser, assets.FineractDefaultPassword); code != http.StatusUnauthorized {
		t.Errorf("default login through the gateway: %d, want 401\n%s", code, tail(s.run(ctx, "logs", "fineract", "--tail", "30").stdout, 30))
	}
	if code := s.login(t, assets.FineractAdminUser, password); code != http.StatusOK {
		t.Errorf("the installer's administrator login: %d, want 200", code)
	}
	if code, body := s.api(t, http.MethodGet, "/fineract-provider/api/v1/lab/rows", ""); code != http.StatusOK {
		t.Errorf("API call as the administrator: %d %s", code, body)
	}

	// Lost record (a run stopped after the change, before it was written):
	// the rerun finds the passwords set, changes nothing and hands out again.
	if err := os.Remove(filepath.Join(s.dir, "frontdoor.json")); err != nil {
		t.Fatal(err)
	}
	os.Remove(handout.File)
	if r = s.install(ctx); r.code != 0 {
		t.Fatalf("rerun without the record: exit %d\n%s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	if strings.Contains(r.stdout, "replaced the default password") {
		t.Error("the rerun replaced passwords that were already Vault's")
	}
	if _, err := os.Stat(handout.File); err != nil {
		t.Errorf("the rerun did not hand the password out again: %v", err)
	}
	if code := s.login(t, assets.FineractAdminUser, password); code != http.StatusOK {
		t.Errorf("after the rerun the administrator login answers %d", code)
	}

	// The tenant connection without TLS verification again: validate
	// fails postgres-tenant-tls, and a rerun sets it back.
	tenantParams(t, s, "serverTimezone=UTC")
	if st := checkStatus(t, s, "postgres-tenant-tls"); !strings.HasPrefix(st, "fail") || !strings.Contains(st, "serverTimezone=UTC") {
		t.Errorf("postgres-tenant-tls with the parameters replaced: %s", st)
	}
	if r = s.install(ctx); r.code != 0 || !strings.Contains(r.stdout, "tenant connection(s) back to sslmode=verify-full") {
		t.Fatalf("rerun after the parameters were replaced: exit %d\n%s", r.code, tail(r.stdout, 20))
	}
	if st := checkStatus(t, s, "postgres-tenant-tls"); !strings.HasPrefix(st, "pass") {
		t.Errorf("postgres-tenant-tls after the rerun: %s", st)
	}

	// Someone changes the administrator's password by hand: the installer
	// stops with the reason and a hint, and changes nothing.
	setPassword(t, s, password, "Changed-by-hand1")
	if err := os.Remove(filepath.Join(s.dir, "frontdoor.json")); err != nil {
		t.Fatal(err)
	}
	r = s.install(ctx)
	if r.code == 0 || !strings.Contains(r.stdout, "neither the default password nor the one in Vault") || !strings.Contains(r.stdout, "fineract-installer credentials") {
		t.Errorf("install with a hand-changed password: exit %d\n%s", r.code, tail(r.stdout, 10))
	}
	if code := s.login(t, assets.FineractAdminUser, "Changed-by-hand1"); code != http.StatusOK {
		t.Errorf("the hand-set password no longer works (%d): the installer changed it", code)
	}

	// The default login open again: validate fails both front-door checks.
	setPassword(t, s, "Changed-by-hand1", assets.FineractDefaultPassword)
	r = s.run(ctx, "validate", "-o", "json")
	var checks []struct{ ID, Status, Evidence string }
	if err := checklistResults(r.stdout, &checks); err != nil {
		t.Fatalf("validate: %v\n%s", err, r.stdout)
	}
	status := map[string]string{}
	for _, c := range checks {
		status[c.ID] = c.Status + ": " + c.Evidence
	}
	for _, id := range []string{"fineract-default-login", "fineract-admin-login"} {
		if !strings.HasPrefix(status[id], "fail") {
			t.Errorf("%s with the default password back: %s", id, status[id])
		}
	}
	if !strings.HasPrefix(status["fineract-gateway-only"], "pass") {
		t.Errorf("fineract-gateway-only: %s", status["fineract-gateway-only"])
	}
	if r.code == 0 {
		t.Error("validate exit 0 with the default login open")
	}
	if t.Failed() {
		t.Logf("validate: %s\n%s", r.stderr, tail(r.stdout, 40))
	}
}

// tenantParams rewrites the default tenant's connection parameters in
// Fineract's tenant store, as Fineract's changelog 0005 does.
func tenantParams(t *testing.T, s *stack, params string) {
	t.Helper()
	pg, _ := s.bundle.Service("postgres")
	res, err := s.engine.Exec(context.Background(), s.project, "postgres", pg.User(), []string{"psql", "-X", "-v", "ON_ERROR_STOP=1",
		"-h", "/var/run/postgresql", "-U", "postgres", "-d", "fineract_tenants", "-c",
		"UPDATE tenant_server_connections SET schema_connection_parameters = '" + params + "'"}, nil, nil)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("update the tenant store: %v %s", err, res.Stderr)
	}
}

// checkStatus runs validate and returns one check's "status: evidence".
func checkStatus(t *testing.T, s *stack, id string) string {
	t.Helper()
	r := s.run(context.Background(), "validate", "-o", "json")
	var checks []struct{ ID, Status, Evidence string }
	if err := checklistResults(r.stdout, &checks); err != nil {
		t.Fatalf("validate: exit %d: %v\n%s\n%s", r.code, err, r.stderr, tail(r.stdout, 20))
	}
	for _, c := range checks {
		if c.ID == id {
			return c.Status + ": " + c.Evidence
		}
	}
	return "missing"
}

// setPassword sets the administrator's password through the API, as a
// person would in the web app.
func setPassword(t *testing.T, s *stack, current, next string) {
	t.Helper()
	code, body := s.apiAs(t, assets.FineractAdminUser, current, http.MethodPut, "/fineract-provider/api/v1/users/1",
		fmt.Sprintf(`{"password":%q,"repeatPassword":%q}`, next, next))
	if code != http.StatusOK {
		t.Fatalf("PUT /users/1: %d %s", code, body)
	}
}
