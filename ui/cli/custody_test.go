package cli

import (
	"bytes"
	"context"
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
	return &app{f: testFactory(), io: &Streams{In: strings.NewReader(stdin), Out: &out, InTTY: tty, OutTTY: tty}, output: formatText}, &out
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
	if _, err := custodyPassphrase(installing, a.prompter()); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("want the mismatch refused, got %v", err)
	}
	a, out := custodyApp(true, " same passphrase \n same passphrase \n")
	if p, err := custodyPassphrase(installing, a.prompter()); err != nil || string(p) != " same passphrase " {
		t.Errorf("got %q %v", p, err)
	}
	if strings.Count(out.String(), "custody passphrase: ") != 2 {
		t.Errorf("a new passphrase is asked twice: %q", out)
	}
	// Opening the existing custody file asks once and takes any passphrase.
	a, out = custodyApp(true, "short\n")
	if p, err := custodyPassphrase(custodyOptions{}, a.prompter()); err != nil || string(p) != "short" || strings.Count(out.String(), "passphrase: ") != 1 {
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
	keys, err := askShares(t.Context(), a.prompter(), fileShares, vaultStatus(2))
	if err != nil || strings.Join(keys, ",") != "AAAA,BBBB" {
		t.Errorf("got %v %v", keys, err)
	}
	if _, err := askShares(t.Context(), a.prompter(), nil, vaultStatus(2)); err == nil || !strings.Contains(err.Error(), "--unseal-keys-file") {
		t.Errorf("no terminal and no file: %v", err)
	}
	os.WriteFile(f, []byte("# only a comment\n"), 0o600)
	if _, err := readKeySharesFile(f); exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "holds no key share") {
		t.Errorf("a file without shares: %v", err)
	}
}

func vaultStatus(threshold int) vault.Status { return vault.Status{Threshold: threshold, Shares: 5} }

// recordingPrompter answers Secret with the next of its answers and
// records the questions.
type recordingPrompter struct {
	answers []string
	asked   []string
}

func (p *recordingPrompter) Secret(_ context.Context, prompt string) ([]byte, error) {
	p.asked = append(p.asked, prompt)
	if len(p.answers) == 0 {
		return nil, errors.New("no more answers")
	}
	a := p.answers[0]
	p.answers = p.answers[1:]
	return []byte(a), nil
}
func (p *recordingPrompter) Show(context.Context, []string, int) error { return nil }
func (p *recordingPrompter) Ask(context.Context, int) (string, error) {
	return "", errors.New("not asked here")
}

// The custody a command runs with asks every question through the
// prompter it was given: the wizard's (the deploy screen) types the shares
// of a sealed Vault there, and nothing reads the terminal's input behind
// its back.
func TestCustodyAsksThroughItsPrompter(t *testing.T) {
	t.Setenv(passphraseEnv, "")
	prod := &install.Env{Answers: answers.Defaults(answers.Production), Installation: installation.New(t.TempDir(), "fineract")}
	in := strings.NewReader("typed-on-stdin\n")
	a := &app{io: &Streams{In: in, Out: &bytes.Buffer{}, InTTY: true, OutTTY: true}, output: formatText}
	screen := &recordingPrompter{answers: []string{" share-one ", "share-two"}}
	c, err := custodyWith(a, prod, custodyOptions{installing: true}, screen)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := c.Shares(t.Context(), vault.Status{Shares: 5, Threshold: 2})
	if err != nil || strings.Join(keys, ",") != "share-one,share-two" {
		t.Fatalf("shares %q: %v", keys, err)
	}
	if len(screen.asked) != 2 || !strings.Contains(screen.asked[1], "Key share 2 of 2") {
		t.Errorf("questions %q", screen.asked)
	}
	if in.Len() != len("typed-on-stdin\n") {
		t.Error("the custody read the terminal's input instead of asking through its prompter")
	}

	// A demo custody passphrase asked already (on the wizard's form) is
	// taken as given, and still has to be strong for a new custody file.
	demo := &install.Env{Answers: answers.Defaults(answers.Demo), Installation: installation.New(t.TempDir(), "fineract")}
	if _, err := custodyWith(a, demo, custodyOptions{installing: true, passphrase: []byte("correct horse battery staple")}, screen); err != nil {
		t.Errorf("the wizard's passphrase: %v", err)
	}
	if _, err := custodyWith(a, demo, custodyOptions{installing: true, passphrase: []byte("short")}, screen); !errors.Is(err, passphrase.ErrWeak) {
		t.Errorf("a weak passphrase from the wizard: %v", err)
	}
	if in.Len() != len("typed-on-stdin\n") || len(screen.asked) != 2 {
		t.Errorf("a passphrase given was asked again: %q", screen.asked)
	}
}

// Shares encrypted to the key holders' PGP keys are handed out and kept
// next to the Vault record, in a file of their own: mode 0600 whatever was
// there before, and a link planted at its name is replaced, not followed.
func TestEncryptedSharesAreKeptInAFileOfTheirOwn(t *testing.T) {
	env := &install.Env{Answers: answers.Defaults(answers.Production), Installation: installation.New(t.TempDir(), "fineract")}
	env.Answers.Vault.PGPKeys = []string{"a", "b", "c"}
	if err := os.MkdirAll(env.VaultDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "elsewhere")
	os.WriteFile(elsewhere, []byte("not the installer's\n"), 0o644)
	path := filepath.Join(env.VaultDir(), "encrypted-shares.txt")
	if err := os.Symlink(elsewhere, path); err != nil {
		t.Fatal(err)
	}
	a, out := custodyApp(false, "")
	c, err := custodyFor(a, env, custodyOptions{installing: true})
	if err != nil {
		t.Fatal(err)
	}
	r := &vault.InitResult{Keys: []string{"wcBMA-one", "wcBMA-two", "wcBMA-three"}, Shares: 3, Threshold: 2}
	if err := c.Keep(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(elsewhere); string(b) != "not the installer's\n" {
		t.Errorf("the file a link pointed to was written: %q", b)
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v", path, fi.Mode(), err)
	}
	saved, _ := os.ReadFile(path)
	for _, k := range r.Keys {
		if !strings.Contains(string(saved), k) || !strings.Contains(out.String(), k) {
			t.Errorf("share %s is not both saved and shown:\n%s\n%s", k, saved, out)
		}
	}
}
