package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps"
)

// withoutEnv is the stack's command environment without one variable.
func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// Rotating Vault's certificate recreates Vault, which comes back sealed.
// Before, the rotation then waited for Vault's healthcheck until its
// 15-minute budget ran out. Now a rotation that restarts Vault reads the
// custody first, as `unseal` does: without any way to unseal (no demo
// passphrase, no terminal) it is refused with exit 2 before anything
// changes; with the passphrase in the environment it unseals Vault,
// delivers the secrets again, and the stack validates.
func TestCertsRotateVaultUnsealsWithTheInstallationsCustody(t *testing.T) {
	s := newStack(t, 37)
	ctx := ctxFor(t, 20*time.Minute)
	if r := s.install(ctx); r.code != 0 {
		t.Fatalf("install: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	before := containerIDs(t, s)
	certFile := filepath.Join(s.dir, "pki", "vault.crt")
	cert, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}

	// Both runs are bounded well below the 15-minute health wait a
	// rotation of Vault used to end in.
	bounded := func() context.Context {
		c, cancel := context.WithTimeout(ctx, 3*time.Minute)
		t.Cleanup(cancel)
		return c
	}
	refused := s.command(bounded(), "certs", "rotate", "vault", "--yes", "-o", "json")
	refused.Env = withoutEnv(refused.Env, "FINERACT_UNSEAL_PASSPHRASE")
	out, err := refused.CombinedOutput()
	if code := refused.ProcessState.ExitCode(); code != 2 || err == nil || !strings.Contains(string(out), "FINERACT_UNSEAL_PASSPHRASE") {
		t.Errorf("rotating Vault with no way to unseal it: want exit 2 naming the passphrase's sources, got exit %d\n%s", code, out)
	}
	if now, _ := os.ReadFile(certFile); string(now) != string(cert) {
		t.Error("the refused rotation reissued Vault's certificate")
	}
	if after := containerIDs(t, s); after["vault"] != before["vault"] {
		t.Error("the refused rotation recreated Vault")
	}

	r := s.run(bounded(), "certs", "rotate", "vault", "--yes", "-o", "json")
	if r.code != 0 {
		t.Fatalf("certs rotate vault with the custody passphrase: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	done := map[string]bool{}
	for _, e := range events(t, r.stdout) {
		if e.Kind == steps.KindDone {
			done[e.Step] = true
		}
	}
	for _, step := range []string{"rotate", "vault-start", "vault"} {
		if !done[step] {
			t.Errorf("rotation step %s did not finish: %v", step, done)
		}
	}
	if now, _ := os.ReadFile(certFile); string(now) == string(cert) {
		t.Error("Vault's certificate was not reissued")
	}
	for svc, id := range containerIDs(t, s) {
		if changed := before[svc] != id; changed != (svc == "vault") {
			t.Errorf("after rotating Vault's certificate, %s changed=%t", svc, changed)
		}
	}
	if r = s.run(ctx, "validate"); r.code != 0 {
		t.Errorf("validate after rotating Vault's certificate: exit %d\n%s", r.code, r.stdout)
	}
}

// A service that fails to start after a rotation (here PostgreSQL, whose
// data directory says it was made by another major version): the JSON
// stream's failed event names the service, carries its last log lines in
// `logs` and the advice in `hint`, and the cause is one line. `status`
// then says the stack is degraded and exits 1; after `uninstall` it says
// the stack is uninstalled, still exits 1, and its JSON has no zero times.
func TestFailedServiceReachesTheJSONStreamAndStatusFollows(t *testing.T) {
	s := newStack(t, 38)
	ctx := ctxFor(t, 20*time.Minute)
	if r := s.install(ctx); r.code != 0 {
		t.Fatalf("install: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	vol, err := s.engine.API().VolumeInspect(ctx, s.project+"_postgres-data")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vol.Mountpoint, "PG_VERSION"), []byte("7\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	r := s.run(ctx, "certs", "rotate", "postgres", "--yes", "-o", "json")
	var failure *steps.Event
	evs := events(t, r.stdout)
	for i := range evs {
		if evs[i].Kind == steps.KindFailed {
			failure = &evs[i]
		}
	}
	switch {
	case r.code != 1 || failure == nil:
		t.Fatalf("want exit 1 and a failed event: exit %d\n%s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	case failure.Subject != "postgres" || strings.Contains(failure.Cause, "\n"):
		t.Errorf("the failure must name postgres with a one-line cause: %+v", failure)
	case !strings.Contains(strings.Join(failure.Logs, "\n"), "incompatible with server") || !strings.Contains(failure.Hint, "fineract-installer logs postgres"):
		t.Errorf("the failure must carry postgres' last log lines and a hint: %+v", failure)
	}

	r = s.run(ctx, "status")
	if r.code != 1 || !strings.Contains(r.stdout, "is degraded") {
		t.Errorf("status with postgres down: want exit 1 saying degraded, got exit %d\n%s", r.code, r.stdout)
	}
	if r = s.run(ctx, "uninstall", "--yes"); r.code != 0 {
		t.Fatalf("uninstall: exit %d %s", r.code, r.stderr)
	}
	r = s.run(ctx, "status")
	if r.code != 1 || !strings.Contains(r.stdout, "is uninstalled") || strings.Contains(r.stdout, " done") {
		t.Errorf("status after uninstall: want exit 1 saying uninstalled and no step done, got exit %d\n%s", r.code, r.stdout)
	}
	r = s.run(ctx, "status", "-o", "json")
	var doc struct {
		State       string                 `json:"state"`
		Uninstalled time.Time              `json:"uninstalled"`
		Steps       []steps.NamedStepState `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.State != "uninstalled" || doc.Uninstalled.IsZero() || len(doc.Steps) != 0 {
		t.Errorf("status -o json after uninstall: exit %d %v\n%s", r.code, err, r.stdout)
	}
	if strings.Contains(r.stdout, "0001-01-01") {
		t.Errorf("status -o json holds a zero time:\n%s", r.stdout)
	}
}
