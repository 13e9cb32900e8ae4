package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// Production without a terminal, as a trainer's script or CI runs it: the
// shares are handed out encrypted to the key holders' PGP keys, printed in
// the JSON stream and saved, and the install stops there saying what to do.
// Three holders decrypt theirs; the same command with --unseal-keys-file
// finishes the install.
func TestProductionInstallWithPGPKeyHolders(t *testing.T) {
	s := newStack(t, 13)
	ctx := ctxFor(t, 20*time.Minute)
	holders := []*labtest.KeyHolder{labtest.NewKeyHolder(t), labtest.NewKeyHolder(t), labtest.NewKeyHolder(t)}
	s.ans.Profile = answers.Production
	s.ans.Vault = answers.Vault{KeyShares: 3, KeyThreshold: 2, Custody: answers.CustodyShow}
	for _, h := range holders {
		s.ans.Vault.PGPKeys = append(s.ans.Vault.PGPKeys, h.PublicKey)
	}
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
		t.Fatalf("install with the decrypted shares: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	if r = s.run(ctx, "validate"); r.code != 0 {
		t.Errorf("validate: exit %d\n%s", r.code, r.stdout)
	}
	// The first run's root token was never held by anyone again; the
	// second revoked it (validate's vault-root-token passed above).
	if !strings.Contains(r.stdout, "The initial root token is revoked") {
		t.Errorf("validate output lacks the root token check:\n%s", r.stdout)
	}
}
