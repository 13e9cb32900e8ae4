package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/passphrase"
	"github.com/fineract-installer/fineract-installer/steps/vault"
)

func custodyApp(tty bool, stdin string) (*app, *bytes.Buffer) {
	var out bytes.Buffer
	return &app{io: &Streams{In: strings.NewReader(stdin), Out: &out, InTTY: tty, OutTTY: tty}, output: formatText}, &out
}

func TestCustodyChoices(t *testing.T) {
	t.Setenv(passphraseEnv, "")
	demo := &install.Env{Installation: installation.New(t.TempDir(), ""), Answers: answers.Defaults(answers.Demo)}
	prod := &install.Env{Installation: installation.New(t.TempDir(), ""), Answers: answers.Defaults(answers.Production)}

	a, _ := custodyApp(false, "")
	if _, err := custodyFor(a, demo, custodyOptions{}); err == nil || exitCode(err) != ExitUsage || !strings.Contains(err.Error(), passphraseEnv) {
		t.Errorf("demo without a passphrase and no terminal: %v", err)
	}
	t.Setenv(passphraseEnv, "correct horse battery staple")
	if c, err := custodyFor(a, demo, custodyOptions{}); err != nil || c.Keep == nil || c.Shares == nil {
		t.Errorf("demo with the passphrase in the environment: %v", err)
	}
	if _, ok := os.LookupEnv(passphraseEnv); ok {
		t.Errorf("$%s is left for the programs the installer starts", passphraseEnv)
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
	if c, err := custodyFor(a, &prodPGP, custodyOptions{installing: true}); err != nil || c.Keep == nil {
		t.Errorf("installing production with PGP keys and no terminal: %v", err)
	}
	// A day-2 command without a terminal or a keys file has no way to get
	// the shares: refused before anything changes, with the exit code of a
	// missing demo passphrase.
	for _, env := range []*install.Env{prod, &prodPGP} {
		if _, err := custodyFor(a, env, custodyOptions{}); err == nil || exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "--unseal-keys-file") {
			t.Errorf("a day-2 command in production without a terminal or keys file: exit %d: %v", exitCode(err), err)
		}
	}
	tty, _ := custodyApp(true, "")
	if c, err := custodyFor(tty, prod, custodyOptions{}); err != nil || c.Keep == nil || c.Shares == nil {
		t.Errorf("production in a terminal: %v", err)
	}
}

func TestDemoPassphraseMustMatchTwice(t *testing.T) {
	t.Setenv(passphraseEnv, "")
	installing := custodyOptions{installing: true}
	a, _ := custodyApp(true, "first passphrase\nsecond passphrase\n")
	if _, err := custodyPassphrase(a, installing); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("want the mismatch refused, got %v", err)
	}
	a, out := custodyApp(true, " same passphrase \n same passphrase \n")
	if p, err := custodyPassphrase(a, installing); err != nil || string(p) != " same passphrase " {
		t.Errorf("got %q %v", p, err)
	}
	if strings.Count(out.String(), "custody passphrase: ") != 2 {
		t.Errorf("a new passphrase is asked twice: %q", out)
	}
	// Opening the existing custody file asks once and takes any passphrase.
	a, out = custodyApp(true, "short\n")
	if p, err := custodyPassphrase(a, custodyOptions{}); err != nil || string(p) != "short" || strings.Count(out.String(), "passphrase: ") != 1 {
		t.Errorf("unsealing: %q %v, prompts %q", p, err, out)
	}
}

// A run that may initialise Vault refuses a weak custody passphrase from
// any source before it builds anything: once Vault is initialised, a
// custody file that cannot be written loses its only key.
func TestInstallingRefusesAWeakCustodyPassphrase(t *testing.T) {
	demo := &install.Env{Installation: installation.New(t.TempDir(), ""), Answers: answers.Defaults(answers.Demo)}
	weakFile := filepath.Join(t.TempDir(), "pass")
	os.WriteFile(weakFile, []byte("123456789012345\n"), 0o600)
	for name, o := range map[string]custodyOptions{"file": {passphraseFile: weakFile}, "environment": {}} {
		t.Setenv(passphraseEnv, "short")
		a, _ := custodyApp(false, "")
		o.installing = true
		if _, err := custodyFor(a, demo, o); exitCode(err) != ExitUsage || !errors.Is(err, passphrase.ErrWeak) {
			t.Errorf("%s: %v", name, err)
		}
		// Unsealing an existing custody file takes the same passphrase.
		t.Setenv(passphraseEnv, "short")
		o.installing = false
		if _, err := custodyFor(a, demo, o); err != nil {
			t.Errorf("%s, not installing: %v", name, err)
		}
	}
}

func TestSharesFromFileSkipCommentsAndBlanks(t *testing.T) {
	f := filepath.Join(t.TempDir(), "shares")
	os.WriteFile(f, []byte("# from the safe\nAAAA\n\n  BBBB \n"), 0o600)
	a, _ := custodyApp(false, "")
	fileShares, err := readKeySharesFile(f)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := askShares(a, fileShares, vaultStatus(2))
	if err != nil || strings.Join(keys, ",") != "AAAA,BBBB" {
		t.Errorf("got %v %v", keys, err)
	}
	if _, err := askShares(a, nil, vaultStatus(2)); err == nil || !strings.Contains(err.Error(), "--unseal-keys-file") {
		t.Errorf("no terminal and no file: %v", err)
	}
	os.WriteFile(f, []byte("# only a comment\n"), 0o600)
	if _, err := readKeySharesFile(f); exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "holds no key share") {
		t.Errorf("a file without shares: %v", err)
	}
}

func vaultStatus(threshold int) vault.Status { return vault.Status{Threshold: threshold, Shares: 5} }
