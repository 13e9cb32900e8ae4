package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/vault"
)

func custodyApp(tty bool, stdin string) (*app, *bytes.Buffer) {
	var out bytes.Buffer
	return &app{io: &Streams{In: strings.NewReader(stdin), Out: &out, InTTY: tty, OutTTY: tty}, output: formatText}, &out
}

func TestCustodyChoices(t *testing.T) {
	t.Setenv(passphraseEnv, "")
	demo := &install.Env{Answers: answers.Defaults(answers.Demo), Dir: t.TempDir()}
	prod := &install.Env{Answers: answers.Defaults(answers.Production), Dir: t.TempDir()}

	a, _ := custodyApp(false, "")
	if _, err := custodyFor(a, demo, custodyOptions{}); err == nil || exitCode(err) != ExitUsage || !strings.Contains(err.Error(), passphraseEnv) {
		t.Errorf("demo without a passphrase and no terminal: %v", err)
	}
	t.Setenv(passphraseEnv, "correct horse battery staple")
	if c, err := custodyFor(a, demo, custodyOptions{}); err != nil || c.Keep == nil || c.Shares == nil {
		t.Errorf("demo with the passphrase in the environment: %v", err)
	}
	pf := filepath.Join(t.TempDir(), "pass")
	os.WriteFile(pf, []byte("another long passphrase\n"), 0o600)
	if _, err := custodyFor(a, demo, custodyOptions{passphraseFile: pf}); err != nil {
		t.Errorf("demo with a passphrase file: %v", err)
	}

	if _, err := custodyFor(a, prod, custodyOptions{installing: true}); err == nil || !strings.Contains(err.Error(), "vault.pgp_keys") {
		t.Errorf("installing production without a terminal or PGP keys must be refused: %v", err)
	}
	// Day-2 commands only need shares, which a keys file can give.
	keys := filepath.Join(t.TempDir(), "keys")
	os.WriteFile(keys, []byte("# two of three\nshare-one\nshare-two\n"), 0o600)
	c, err := custodyFor(a, prod, custodyOptions{keysFile: keys})
	if err != nil {
		t.Fatalf("unsealing production from a keys file without a terminal: %v", err)
	}
	if got, err := c.Shares(t.Context(), vault.Status{Threshold: 2}); err != nil || strings.Join(got, ",") != "share-one,share-two" {
		t.Errorf("shares from the keys file: %v %v", got, err)
	}
	if err := c.Keep(t.Context(), &vault.InitResult{}); err == nil || !strings.Contains(err.Error(), "key ceremony") {
		t.Errorf("a day-2 command must never hold a ceremony: %v", err)
	}
	prodPGP := *prod
	prodPGP.Answers.Vault.PGPKeys = []string{"a", "b", "c", "d", "e"}
	if c, err := custodyFor(a, &prodPGP, custodyOptions{}); err != nil || c.Keep == nil {
		t.Errorf("production with PGP keys and no terminal: %v", err)
	}
	tty, _ := custodyApp(true, "")
	if c, err := custodyFor(tty, prod, custodyOptions{}); err != nil || c.Keep == nil || c.Shares == nil {
		t.Errorf("production in a terminal: %v", err)
	}
}

func TestDemoPassphraseMustMatchTwice(t *testing.T) {
	t.Setenv(passphraseEnv, "")
	a, _ := custodyApp(true, "first passphrase\nsecond passphrase\n")
	if _, err := custodyPassphrase(a, custodyOptions{}, true); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("want the mismatch refused, got %v", err)
	}
	a, _ = custodyApp(true, "same passphrase\nsame passphrase\n")
	if p, err := custodyPassphrase(a, custodyOptions{}, true); err != nil || string(p) != "same passphrase" {
		t.Errorf("got %q %v", p, err)
	}
}

func TestSharesFromFileSkipCommentsAndBlanks(t *testing.T) {
	f := filepath.Join(t.TempDir(), "shares")
	os.WriteFile(f, []byte("# from the safe\nAAAA\n\nBBBB\n"), 0o600)
	a, _ := custodyApp(false, "")
	keys, err := askShares(a, custodyOptions{keysFile: f}, vaultStatus(2))
	if err != nil || strings.Join(keys, ",") != "AAAA,BBBB" {
		t.Errorf("got %v %v", keys, err)
	}
	if _, err := askShares(a, custodyOptions{}, vaultStatus(2)); err == nil || !strings.Contains(err.Error(), "--unseal-keys-file") {
		t.Errorf("no terminal and no file: %v", err)
	}
}

func vaultStatus(threshold int) vault.Status { return vault.Status{Threshold: threshold, Shares: 5} }
