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
}

// custodyFor decides how this run keeps and finds unseal key shares, and
// refuses combinations that would put shares where they must not be. Every
// secret it is given (the custody passphrase, the key shares file) is read
// and checked here, before the command changes anything.
func custodyFor(a *app, env *install.Env, o custodyOptions) (install.Custody, error) {
	ans := env.Answers
	fileShares, err := readKeySharesFile(o.keysFile)
	if err != nil {
		return install.Custody{}, err
	}
	switch ans.Vault.Custody {
	case answers.CustodyFile:
		pass, err := custodyPassphrase(a, o)
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
		case !o.installing && !a.io.CanPrompt() && len(fileShares) == 0:
			// Day-2 commands need the shares, and without a terminal or a
			// keys file there is no way to get them: refused now, as a
			// missing demo passphrase is.
			return c, usageError("Vault's key shares are needed to unseal it and hand out its secrets: run in a terminal to type them, or pass --unseal-keys-file FILE (one share per line, mode 0600); nothing was changed")
		case a.io.CanPrompt():
			c.Keep = vault.ShowAndConfirm(func(ctx context.Context, r *vault.InitResult) error { return showShares(a, r) }, func(ctx context.Context, i int) (string, error) {
				return readShare(a, fmt.Sprintf("To prove it was recorded, enter key share #%d: ", i+1))
			})
		case len(ans.Vault.PGPKeys) > 0:
			// Encrypted to the key holders: safe to print and to keep.
			c.Keep = func(ctx context.Context, r *vault.InitResult) error { return printEncryptedShares(a, env, r) }
		case !o.installing:
			// Day-2 commands never initialise Vault; they only need shares.
			c.Keep = func(context.Context, *vault.InitResult) error {
				return errors.New("this command does not initialise Vault: run `fineract-installer install` in a terminal to hold the key ceremony")
			}
		default:
			return c, usageError("the production profile shows Vault's key shares once, which needs a terminal; without one, set vault.pgp_keys in the answers so each share is handed out encrypted to its holder")
		}
		c.Shares = func(ctx context.Context, st vault.Status) ([]string, error) {
			keys, err := askShares(a, fileShares, st)
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

// custodyPassphrase reads the demo custody passphrase from
// --unseal-passphrase-file, $FINERACT_UNSEAL_PASSPHRASE or the terminal. A
// run that may initialise Vault sets it, so it must be strong (and is
// asked twice on a terminal); opening an existing custody file takes any.
func custodyPassphrase(a *app, o custodyOptions) ([]byte, error) {
	src := passphrase.Source{What: "demo custody passphrase", File: o.passphraseFile, FileFlag: "--unseal-passphrase-file",
		Env: passphraseEnv, Ask: secretPrompt(a)}
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
// terminal can answer.
func secretPrompt(a *app) func(string) ([]byte, error) {
	if !a.io.CanPrompt() {
		return nil
	}
	return func(prompt string) ([]byte, error) { return readSecret(a, prompt) }
}

// readSecret shows prompt where the other questions go (CanPrompt makes
// sure a person sees it) and reads a line, without echo when stdin is a
// terminal. The line is returned as typed, without its ending.
func readSecret(a *app, prompt string) ([]byte, error) {
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

// readShare reads one unseal key share; spaces around it are not part of it.
func readShare(a *app, prompt string) (string, error) {
	b, err := readSecret(a, prompt)
	return strings.TrimSpace(string(b)), err
}

// showShares displays the shares once, on the terminal's alternate screen
// so they do not stay in its scrollback, and waits for the operator.
func showShares(a *app, r *vault.InitResult) error {
	w := a.io.Out
	fmt.Fprint(w, "\x1b[?1049h\x1b[H\x1b[2J")
	defer fmt.Fprint(w, "\x1b[?1049l")
	p := a.printer()
	fmt.Fprintln(w, p.bold.Render("Vault unseal key shares: shown once, never stored by the installer"))
	fmt.Fprintf(w, "\nAny %d of these %d shares unseal Vault. Give each to a different key holder;\nwrite them down or store them offline now. Without them, nobody can unseal\nVault after a restart, and the bank's secrets are lost.\n\n", r.Threshold, r.Shares)
	for i, k := range r.Keys {
		fmt.Fprintf(w, "  share #%d: %s\n", i+1, k)
	}
	fmt.Fprintf(w, "\n%s Press Enter once every share is recorded. ", p.warn.Render("!"))
	_, err := a.io.ReadLine()
	return err
}

// printEncryptedShares prints PGP-encrypted shares (safe to show and keep)
// and saves a copy next to the Vault record.
func printEncryptedShares(a *app, env *install.Env, r *vault.InitResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Vault unseal key shares, each encrypted to its holder's PGP key (in the order of vault.pgp_keys).\n# Any %d of %d unseal Vault: `echo SHARE | base64 -d | gpg -d` on the holder's machine.\n", r.Threshold, r.Shares)
	for i, k := range r.Keys {
		fmt.Fprintf(&b, "share-%d: %s\n", i+1, k)
	}
	path := env.EncryptedSharesFile()
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("save encrypted shares: %w", err)
	}
	if a.printer().json() {
		a.printer().record("vault_shares", sharesRecord{r.Keys, path})
		return nil
	}
	fmt.Fprint(a.io.Out, b.String())
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

// askShares returns the shares read from --unseal-keys-file, or asks for
// them on the terminal.
func askShares(a *app, fileShares []string, st vault.Status) ([]string, error) {
	if len(fileShares) > 0 {
		return fileShares, nil
	}
	if !a.io.CanPrompt() {
		return nil, usageError("Vault is sealed and needs %d key shares: run in a terminal to type them, or pass --unseal-keys-file FILE (one share per line)", st.Threshold)
	}
	fmt.Fprintf(a.io.Out, "Vault is sealed: %d of %d key shares are needed.\n", st.Threshold, st.Shares)
	var keys []string
	for i := st.Progress; i < st.Threshold; i++ {
		k, err := readShare(a, fmt.Sprintf("Key share %d of %d: ", i+1, st.Threshold))
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
