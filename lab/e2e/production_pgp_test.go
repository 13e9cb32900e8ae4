package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/fineract-installer/fineract-installer/assets"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// Production without a terminal, as a trainer's script or CI runs it, with
// every service group: the shares are handed out encrypted to the key
// holders' PGP keys, printed in the JSON stream and saved, and the install
// stops there saying what to do. Three holders decrypt theirs; the same
// command with --unseal-keys-file finishes the install, and the whole
// checklist, every group's checks included, passes. The wall time and the
// peak memory are logged (and written to $FINERACT_BENCH_OUT when set, for
// bench/allgroups.sh).
func TestProductionInstallWithPGPKeyHolders(t *testing.T) {
	s := newStack(t, 13, answers.GroupIdentity, answers.GroupMessaging, answers.GroupMonitoring, answers.GroupLogging)
	ctx := ctxFor(t, 30*time.Minute)
	start := time.Now()
	holders := []*labtest.KeyHolder{labtest.NewKeyHolder(t), labtest.NewKeyHolder(t), labtest.NewKeyHolder(t)}
	s.ans.Profile = answers.Production
	s.ans.Vault = answers.Vault{KeyShares: 3, KeyThreshold: 2, Custody: answers.CustodyShow}
	for _, h := range holders {
		s.ans.Vault.PGPKeys = append(s.ans.Vault.PGPKeys, h.PublicKey)
	}
	// The operator gets the passwords the install sets encrypted to a key
	// of their own.
	operator := labtest.NewKeyHolder(t)
	s.ans.Credentials.PGPKey = operator.PublicKey
	data, err := yamlOf(s.ans)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.answers, data, 0o600); err != nil {
		t.Fatal(err)
	}

	first := s.install(ctx)
	var encrypted []string
	sc := bufio.NewScanner(strings.NewReader(first.stdout))
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct {
			Type      string   `json:"type"`
			Encrypted []string `json:"encrypted_shares"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Type == "vault_shares" {
			encrypted = rec.Encrypted
		}
	}
	var stop, how string
	for _, e := range events(t, first.stdout) {
		if e.Kind == steps.KindFailed {
			stop, how = e.Cause, e.Hint
		}
	}
	t.Logf("first run: exit %d: %s; hint: %s", first.code, stop, how)
	if len(encrypted) != 3 {
		t.Fatalf("want three encrypted shares in the JSON stream, got %d (exit %d)\n%s", len(encrypted), first.code, first.stderr)
	}
	if first.code != 1 || strings.Contains(stop, "\n") || !strings.Contains(how, "--unseal-keys-file FILE, one decrypted share per line") || !strings.Contains(how, "encrypted-shares.txt") {
		t.Errorf("the first run must stop, saying why in its cause and how to go on in its hint: exit %d %q %q", first.code, stop, how)
	}
	saved, err := os.ReadFile(filepath.Join(s.dir, "vault", "encrypted-shares.txt"))
	if err != nil || !strings.Contains(string(saved), encrypted[0]) {
		t.Errorf("encrypted shares not saved in the install dir: %v", err)
	}

	// Two holders decrypt their shares on their own machines.
	keys := filepath.Join(t.TempDir(), "keys")
	var plain []string
	for i := range 2 {
		plain = append(plain, holders[i].Decrypt(encrypted[i]))
	}
	if err := os.WriteFile(keys, []byte(strings.Join(plain, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := s.run(ctx, "install", "--answers", s.answers, "--yes", "-o", "json", "--unseal-keys-file", keys)
	if r.code != 0 {
		var why []string
		for _, e := range events(t, r.stdout) {
			if e.Kind == steps.KindWarning || e.Kind == steps.KindFailed {
				why = append(why, e.Message+e.Cause)
			}
		}
		t.Fatalf("install with the decrypted shares: exit %d %s\nwarnings and failures:\n%s", r.code, r.stderr, strings.Join(why, "\n"))
	}
	installed := time.Since(start)
	checkEncryptedHandout(t, s, operator, r.stdout)
	installerRSS := max(first.maxRSS, r.maxRSS)
	// One checklist (each run signs in through Keycloak, within the
	// gateway's sign-in rate limit): every group's own checks ran and
	// nothing failed.
	r = s.run(ctx, "validate", "-o", "json")
	var checks []struct{ ID, Status, Evidence, Group string }
	if err := checklistResults(r.stdout, &checks); err != nil {
		t.Fatalf("validate -o json: exit %d: %v\n%s", r.code, err, r.stdout)
	}
	if r.code != 0 {
		t.Errorf("validate: exit %d", r.code)
	}
	perGroup := map[string]int{}
	for _, c := range checks {
		perGroup[c.Group]++
		if c.Status == "fail" {
			t.Errorf("check %s failed: %s", c.ID, c.Evidence)
		}
	}
	for _, g := range []string{answers.GroupIdentity, answers.GroupMessaging, answers.GroupMonitoring, answers.GroupLogging} {
		if perGroup[g] == 0 {
			t.Errorf("validate ran no check of the %s group", g)
		}
	}
	peak := stackPeakMemory(t, s)
	line := fmt.Sprintf("production, every group (%d services): installed in %s (two runs: stop for the key holders, then finish), validated; peak memory of the containers %d MiB (sum of each one's peak), installer %d MiB",
		len(s.bundle.Services), installed.Round(time.Second), peak>>20, installerRSS>>20)
	t.Log(line)
	if out := os.Getenv("FINERACT_BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(line+"\n"), 0o644); err != nil {
			t.Error(err)
		}
	}
	// The first run's root token was never held by anyone again; the
	// second revoked it (validate's vault-root-token passed above).
	if !strings.Contains(r.stdout, "The initial root token is revoked") {
		t.Errorf("validate output lacks the root token check:\n%s", r.stdout)
	}
}

// checkEncryptedHandout finds the passwords the install set in the JSON
// stream only as a PGP message the operator's key opens: Fineract's
// administrator (the realm's user) and Keycloak's bootstrap admin. No
// clear-text copy is left in the install dir.
func checkEncryptedHandout(t *testing.T, s *stack, operator *labtest.KeyHolder, stdout string) {
	t.Helper()
	password := s.adminPassword(t)
	if strings.Contains(stdout, password) {
		t.Fatal("the administrator's password is in the JSON stream in the clear")
	}
	var msg string
	for _, line := range strings.Split(stdout, "\n") {
		var rec struct{ Type, Encrypted string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Type == "credentials" {
			msg = rec.Encrypted
		}
	}
	if msg == "" {
		t.Fatal("no encrypted credentials record in the JSON stream")
	}
	plain := operator.DecryptArmored(msg)
	for _, want := range []string{"password: " + password, "Keycloak bootstrap admin", "user:     " + assets.KeycloakAdminUser} {
		if !strings.Contains(plain, want) {
			t.Errorf("the decrypted handout lacks %q", want)
		}
	}
	if _, err := os.Stat(installation.New(s.dir, "").HandoutFile(installation.InitialCredentials, false)); !os.IsNotExist(err) {
		t.Errorf("a clear-text %s was written although credentials.pgp_key is set (%v)", installation.New(s.dir, "").HandoutFile(installation.InitialCredentials, false), err)
	}
}

// stackPeakMemory sums the peak memory use the engine reports for each of
// the stack's containers (cgroup v1 max_usage; the current usage where the
// engine reports no peak): an upper bound of the stack's own peak.
func stackPeakMemory(t *testing.T, s *stack) uint64 {
	t.Helper()
	ctx := context.Background()
	st, err := s.engine.Status(ctx, s.project)
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for _, c := range st {
		resp, err := s.engine.API().ContainerStatsOneShot(ctx, c.ID)
		if err != nil {
			t.Fatalf("stats of %s: %v", c.Service, err)
		}
		var stats container.StatsResponse
		err = json.NewDecoder(resp.Body).Decode(&stats)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("stats of %s: %v", c.Service, err)
		}
		sum += max(stats.MemoryStats.MaxUsage, stats.MemoryStats.Usage)
	}
	return sum
}
