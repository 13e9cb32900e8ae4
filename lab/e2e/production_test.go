package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

var (
	shownShare = regexp.MustCompile(`share #(\d+): (\S+)`)
	askedShare = regexp.MustCompile(`enter key share #(\d+)`)
)

// The production profile in a real terminal: Vault's five shares are shown
// once, the test writes them down from the screen and types back the one
// it is asked for, as a key holder would. The install then finishes with
// every check passing, no share is left on disk, and after a Vault restart
// a wrong share is refused before three right ones unseal it.
func TestProductionInstallWithKeyCeremony(t *testing.T) {
	s := newStack(t, 11)
	ctx := ctxFor(t, 20*time.Minute)
	s.ans.Profile = answers.Production
	s.ans.Vault = answers.Vault{KeyShares: 5, KeyThreshold: 3, Custody: answers.CustodyShow}
	data, err := yamlOf(s.ans)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.answers, data, 0o600); err != nil {
		t.Fatal(err)
	}

	term := labtest.StartTerminal(t, fmt.Sprintf("NO_COLOR=1 %s install --answers %s --yes --project %s --dir %s; echo INSTALL-EXIT=$?", s.bin, s.answers, s.project, s.dir), 120, 50)
	screen := term.WaitForWithin("Press Enter once every share is recorded", 5*time.Minute)
	shares := map[int]string{}
	for _, m := range shownShare.FindAllStringSubmatch(screen, -1) {
		n, _ := strconv.Atoi(m[1])
		shares[n] = m[2]
	}
	if len(shares) != 5 {
		t.Fatalf("the ceremony showed %d shares, want 5:\n%s", len(shares), screen)
	}
	term.Expect(screen, "Any 3 of these 5 shares unseal Vault")
	term.Keys("Enter")

	screen = term.WaitFor("enter key share #")
	if strings.Contains(screen, shares[1]) {
		t.Errorf("a share is still on the terminal after the ceremony screen closed:\n%s", screen)
	}
	m := askedShare.FindStringSubmatch(screen)
	asked, _ := strconv.Atoi(m[1])
	term.Text(shares[asked])
	term.Keys("Enter")
	// Once Fineract runs, the administrator's password the installer set
	// is shown once on a screen of its own, then gone.
	screen = term.WaitForWithin("Press Enter once they are recorded", 10*time.Minute)
	password := s.adminPassword(t)
	term.Expect(screen, "password: "+password)
	term.Keys("Enter")
	screen = term.WaitForWithin("INSTALL-EXIT=", 10*time.Minute)
	if strings.Contains(screen, password) {
		t.Errorf("the administrator's password is still on the terminal after its screen closed:\n%s", screen)
	}
	if !strings.Contains(screen, "INSTALL-EXIT=0") {
		t.Fatalf("production install did not finish:\n%s", screen)
	}

	checks := map[string]string{}
	r := s.run(ctx, "validate", "-o", "json")
	var list []struct{ ID, Status, Evidence string }
	if err := checklistResults(r.stdout, &list); err != nil || r.code != 0 {
		t.Fatalf("validate after the production install: exit %d %v\n%s", r.code, err, r.stdout)
	}
	for _, c := range list {
		checks[c.ID] = c.Status + ": " + c.Evidence
	}
	if got := checks["vault-root-token"]; !strings.HasPrefix(got, "pass") {
		t.Errorf("root token after a production install: %s", got)
	}
	if got := checks["vault-status"]; !strings.Contains(got, "3 of 5 shares needed") {
		t.Errorf("vault-status: %s", got)
	}

	// "Shown once, never stored": no share in any file of the install.
	if _, err := os.Stat(filepath.Join(s.dir, "vault", "unseal-keys.enc")); !os.IsNotExist(err) {
		t.Errorf("a production install wrote a custody file: %v", err)
	}
	_ = filepath.WalkDir(s.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(path)
		for n, share := range shares {
			if strings.Contains(string(b), share) {
				t.Errorf("share #%d is stored in %s", n, path)
			}
		}
		return nil
	})

	// A restart seals Vault. A made-up share among two right ones is
	// refused; three right ones unseal it and the secrets come back.
	timeout := 10
	if err := s.engine.API().ContainerRestart(ctx, s.project+"-vault-1", container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	keys := func(lines ...string) string {
		f := filepath.Join(t.TempDir(), "keys")
		if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	forged := make([]byte, len(mustDecode(t, shares[1])))
	_, _ = rand.Read(forged)
	r = s.run(ctx, "unseal", "--unseal-keys-file", keys(shares[1], base64.StdEncoding.EncodeToString(forged), shares[3]))
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "did not combine to Vault's unseal key") {
		t.Errorf("unseal with a made-up share: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = s.run(ctx, "unseal", "--unseal-keys-file", keys(shares[2], shares[4], shares[5]))
	if r.code != 0 {
		t.Fatalf("unseal with three shares: exit %d\n%s%s", r.code, tail(r.stdout, 20), r.stderr)
	}
	if r = s.run(ctx, "validate"); r.code != 0 {
		t.Errorf("validate after the production unseal: exit %d\n%s", r.code, r.stdout)
	}
}

func mustDecode(t *testing.T, share string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(share)
	if err != nil {
		t.Fatalf("share %q is not base64: %v", share, err)
	}
	return b
}
