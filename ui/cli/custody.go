package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/passphrase"
	"github.com/fineract-installer/fineract-installer/steps/vault"
)

// passphraseEnv is the variable a demo install or unseal reads the custody
// file's passphrase from when no file is given.
const passphraseEnv = "FINERACT_UNSEAL_PASSPHRASE"

// custodyOptions are the flags that say where unseal material comes from.
type custodyOptions struct {
	passphraseFile string
	keysFile       string
	// installing says this run may initialise Vault, so it must be able to
	// hand out fresh shares; unseal, backup and restore only ask for them.
	installing bool
	// passphrase is the demo custody passphrase when it was asked already
	// (the wizard asks it on its forms); nil reads it from the flags, the
	// environment or the prompter.
	passphrase []byte
}

// prompter asks the person at the terminal for what only they can give:
// a passphrase, an unseal key share, the word that fresh shares were
// recorded. Every command asks through one: linePrompter on a plain
// terminal, and tui.Ceremony (which has the same methods) while the
// deploy program owns the screen, so nothing reads the terminal behind
// the program's back.
type prompter interface {
	// Secret shows prompt and reads one line without echo.
	Secret(ctx context.Context, prompt string) ([]byte, error)
	// Show shows fresh unseal key shares once and returns when the
	// operator says they are recorded.
	Show(ctx context.Context, shares []string, threshold int) error
	// Ask asks for share index (0-based) back, to prove it was recorded.
	Ask(ctx context.Context, index int) (string, error)
}

// prompter is the line prompter when a person can answer, nil otherwise.
func (a *app) prompter() prompter {
	if !a.io.CanPrompt() {
		return nil
	}
	return linePrompter{a}
}

// custodyFor decides how this run keeps and finds unseal key shares, and
// refuses combinations that would put shares where they must not be. Every
// secret it is given (the custody passphrase, the key shares file) is read
// and checked here, before the command changes anything. It asks on the
// terminal line by line; see custodyWith.
func custodyFor(a *app, env *install.Env, o custodyOptions) (install.Custody, error) {
	return custodyWith(a, env, o, a.prompter())
}

// custodyWith is custodyFor asking through ask, nil when nobody can
// answer. A prompter that only answers while a program runs (the deploy
// screen) must come with o.passphrase for a demo install: the passphrase
// is read now, before anything runs.
func custodyWith(a *app, env *install.Env, o custodyOptions, ask prompter) (install.Custody, error) {
	ans := env.Answers
	fileShares, err := readKeySharesFile(o.keysFile)
	if err != nil {
		return install.Custody{}, err
	}
	switch ans.Vault.Custody {
	case answers.CustodyFile:
		pass, err := custodyPassphrase(o, ask)
		if err != nil {
			return install.Custody{}, err
		}
		return install.Custody{
			Keep:   vault.FileCustody(env.CustodyFile(), pass),
			Shares: vault.CustodyFileShares(env.CustodyFile(), pass),
		}, nil
	case answers.CustodyShow:
		var c install.Custody
		switch {
		case !o.installing && ask == nil && len(fileShares) == 0:
			// Day-2 commands need the shares, and without a terminal or a
			// keys file there is no way to get them: refused now, as a
			// missing demo passphrase is.
			return c, usageError("Vault's key shares are needed to unseal it and hand out its secrets: run in a terminal to type them, or pass --unseal-keys-file FILE (one share per line, mode 0600); nothing was changed")
		case ask != nil:
			c.Keep = vault.ShowAndConfirm(func(ctx context.Context, r *vault.InitResult) error { return ask.Show(ctx, r.Keys, r.Threshold) }, ask.Ask)
		case len(ans.Vault.PGPKeys) > 0:
			// Encrypted to the key holders: safe to print and to keep.
			c.Keep = vault.HandOutEncrypted(env.EncryptedSharesFile(), func(_ context.Context, r *vault.InitResult, text, path string) error {
				return printEncryptedShares(a, r, text, path)
			})
		case !o.installing:
			// Day-2 commands never initialise Vault; they only need shares.
			c.Keep = func(context.Context, *vault.InitResult) error {
				return errors.New("this command does not initialise Vault: run `fineract-installer install` in a terminal to hold the key ceremony")
			}
		default:
			return c, usageError("the production profile shows Vault's key shares once, which needs a terminal; without one, set vault.pgp_keys in the answers so each share is handed out encrypted to its holder")
		}
		c.Shares = func(ctx context.Context, st vault.Status) ([]string, error) {
			keys, err := askShares(ctx, ask, fileShares, st)
			if err != nil && len(ans.Vault.PGPKeys) > 0 {
				// Without a terminal this is where a PGP install pauses.
				err = &steps.Failure{Cause: err.Error(), Err: err, Hint: fmt.Sprintf("the shares went to the key holders encrypted to their PGP keys (also in %s): %d of them decrypt theirs (`echo SHARE | base64 -d | gpg -d`), and the same command with --unseal-keys-file FILE, one decrypted share per line, finishes the install",
					env.EncryptedSharesFile(), st.Threshold)}
			}
			return keys, err
		}
		return c, nil
	}
	return install.Custody{}, usageError("unknown vault.custody %q", ans.Vault.Custody)
}

// custodyPassphrase reads the demo custody passphrase: the one asked
// already, or from --unseal-passphrase-file, $FINERACT_UNSEAL_PASSPHRASE
// or ask. A run that may initialise Vault sets it, so it must be strong
// (and is asked twice); opening an existing custody file takes any.
func custodyPassphrase(o custodyOptions, ask prompter) ([]byte, error) {
	if o.passphrase != nil {
		if o.installing {
			if err := passphrase.CheckNew(o.passphrase); err != nil {
				return nil, withCode(ExitUsage, fmt.Errorf("the demo custody passphrase: %w; nothing was changed", err))
			}
		}
		return o.passphrase, nil
	}
	src := passphrase.Source{What: "demo custody passphrase", File: o.passphraseFile, FileFlag: "--unseal-passphrase-file",
		Env: passphraseEnv, Ask: askSecret(ask)}
	read := src.Existing
	if o.installing {
		read = src.New
	}
	p, err := read()
	switch {
	case errors.Is(err, passphrase.ErrNoSource):
		return nil, usageError("the demo profile keeps Vault's unseal key in a file encrypted with a passphrase; %w", err)
	case err != nil:
		return nil, withCode(ExitUsage, fmt.Errorf("%w; nothing was changed", err))
	}
	return p, nil
}

// secretPrompt asks on the terminal without echo, or is nil when no
// terminal can answer: the Ask of a passphrase.Source.
func secretPrompt(a *app) func(string) ([]byte, error) {
	return askSecret(a.prompter())
}

// askSecret turns a prompter into a passphrase.Source's Ask. A passphrase
// is read while the command checks its input, before any work it could
// cancel has started.
func askSecret(ask prompter) func(string) ([]byte, error) {
	if ask == nil {
		return nil
	}
	return func(prompt string) ([]byte, error) { return ask.Secret(context.Background(), prompt) }
}

// linePrompter asks on a plain terminal, one line at a time.
type linePrompter struct{ a *app }

// Secret shows prompt where the other questions go (CanPrompt makes sure
// a person sees it) and reads a line, without echo when stdin is a
// terminal. The line is returned as typed, without its ending. A read of
// the terminal cannot be interrupted; Ctrl-C ends the program there.
func (p linePrompter) Secret(_ context.Context, prompt string) ([]byte, error) {
	a := p.a
	fmt.Fprint(a.io.Out, prompt)
	if f, ok := a.io.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.io.Out)
		if err != nil {
			return nil, fmt.Errorf("read from the terminal: %w", err)
		}
		return b, nil
	}
	line, err := a.io.ReadLine()
	if err != nil {
		return nil, fmt.Errorf("read from the terminal: %w", err)
	}
	return []byte(line), nil
}

// Ask reads share index back; spaces around it are not part of it.
func (p linePrompter) Ask(ctx context.Context, index int) (string, error) {
	b, err := p.Secret(ctx, fmt.Sprintf("To prove it was recorded, enter key share #%d: ", index+1))
	defer clear(b)
	return strings.TrimSpace(string(b)), err
}

// Show displays the shares once, on the terminal's alternate screen so
// they do not stay in its scrollback, and waits for the operator.
func (p linePrompter) Show(_ context.Context, shares []string, threshold int) error {
	a := p.a
	w := a.io.Out
	fmt.Fprint(w, "\x1b[?1049h\x1b[H\x1b[2J")
	defer fmt.Fprint(w, "\x1b[?1049l")
	pr := a.printer()
	fmt.Fprintln(w, pr.bold.Render("Vault unseal key shares: shown once, never stored by the installer"))
	fmt.Fprintf(w, "\nAny %d of these %d shares unseal Vault. Give each to a different key holder;\nwrite them down or store them offline now. Without them, nobody can unseal\nVault after a restart, and the bank's secrets are lost.\n\n", threshold, len(shares))
	for i, k := range shares {
		fmt.Fprintf(w, "  share #%d: %s\n", i+1, k)
	}
	fmt.Fprintf(w, "\n%s Press Enter once every share is recorded. ", pr.warn.Render("!"))
	_, err := a.io.ReadLine()
	return err
}

// printEncryptedShares prints PGP-encrypted shares (safe to show and
// keep), saved already at path.
func printEncryptedShares(a *app, r *vault.InitResult, text, path string) error {
	if a.printer().json() {
		return a.printer().record(typeVaultShares, sharesRecord{r.Keys, path})
	}
	fmt.Fprint(a.io.Out, text)
	fmt.Fprintf(a.io.Out, "(also saved to %s)\n", path)
	return nil
}

// sharesRecord is the JSON line that hands out PGP-encrypted shares.
type sharesRecord struct {
	Encrypted []string `json:"encrypted_shares"`
	File      string   `json:"file"`
}

// readKeySharesFile reads --unseal-keys-file, one share per line, with
// blank lines and # comments skipped. It is a secret file: the same rules
// as a passphrase file, and a bounded size.
func readKeySharesFile(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	data, err := passphrase.ReadFile(path, passphrase.MaxKeySharesFileBytes)
	if err != nil {
		return nil, withCode(ExitUsage, fmt.Errorf("--unseal-keys-file: %w; nothing was changed", err))
	}
	defer clear(data)
	var keys []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			keys = append(keys, l)
		}
	}
	if len(keys) == 0 {
		return nil, usageError("--unseal-keys-file %s holds no key share (one per line; # starts a comment)", path)
	}
	return keys, nil
}

// askShares returns the shares read from --unseal-keys-file, or asks
// for them, one at a time, through ask.
func askShares(ctx context.Context, ask prompter, fileShares []string, st vault.Status) ([]string, error) {
	if len(fileShares) > 0 {
		return fileShares, nil
	}
	if ask == nil {
		return nil, usageError("Vault is sealed and needs %d key shares: run in a terminal to type them, or pass --unseal-keys-file FILE (one share per line)", st.Threshold)
	}
	var keys []string
	for i := st.Progress; i < st.Threshold; i++ {
		b, err := ask.Secret(ctx, fmt.Sprintf("Vault is sealed (any %d of its %d key shares unseal it). Key share %d of %d: ", st.Threshold, st.Shares, i+1, st.Threshold))
		k := strings.TrimSpace(string(b))
		clear(b)
		if err != nil {
			return nil, err
		}
		if k == "" {
			return nil, errors.New("no share entered; nothing was changed")
		}
		keys = append(keys, k)
	}
	return keys, nil
}
