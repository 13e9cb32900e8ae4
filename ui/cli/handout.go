package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
	"github.com/fineract-installer/fineract-installer/steps/frontdoor"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/pgp"
)

// The handouts fall back to files without a terminal: the install's, or
// the tenants' (another command's handout must not overwrite one the
// operator has not read yet).
const (
	installHandout = installation.InitialCredentials
	tenantsHandout = installation.TenantCredentials
)

// credentialsFile is where, without a terminal, the passwords the
// installer set are written for root alone.
func credentialsFile(env *install.Env) string {
	return env.HandoutFile(installHandout, false)
}

// handoutFor decides how this run hands the passwords it set to the
// operator: on a screen of their own in a terminal (unless the output is
// a JSON stream, which a screen would break), confirmed once;
// otherwise encrypted to the answers' credentials.pgp_key, or in a file
// only root reads. Only the file's path, or ciphertext, is printed and
// put in the JSON stream; never a password.
func handoutFor(a *app, env *install.Env) frontdoor.Handout {
	return handoutTo(a, env, installHandout)
}

func handoutTo(a *app, env *install.Env, files installation.Handout) frontdoor.Handout {
	if a.io.CanPrompt() && !a.printer().json() {
		return func(ctx context.Context, creds []frontdoor.Credential) error { return showCredentials(a, creds) }
	}
	if key := env.Answers.Credentials.PGPKey; key != "" {
		return func(ctx context.Context, creds []frontdoor.Credential) error {
			return printEncryptedCredentials(a, env.HandoutFile(files, true), key, creds)
		}
	}
	return func(ctx context.Context, creds []frontdoor.Credential) error {
		var b strings.Builder
		b.WriteString("# Passwords fineract-installer set. Keep them somewhere safe, then delete this file.\n")
		writeCredentials(&b, creds)
		path := env.HandoutFile(files, false)
		if err := atomicfile.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			return fmt.Errorf("save the passwords: %w", err)
		}
		p := a.printer()
		if p.json() {
			return p.record(typeCredentials, credentialsRecord{File: path, Users: users(creds)})
		}
		fmt.Fprintf(a.io.Out, "The passwords the installer set are in %s (mode 0600, root only): read them, keep them safe, delete the file.\n", path)
		return nil
	}
}

// credentialsRecord is the JSON stream's note of a handout: where, and
// for whom, and the PGP message when encrypted; never a password.
type credentialsRecord struct {
	File      string   `json:"file"`
	Users     []string `json:"users"`
	Encrypted string   `json:"encrypted,omitempty"`
}

// printEncryptedCredentials encrypts the passwords to the operator's key,
// prints the message and keeps a copy beside the answers.
func printEncryptedCredentials(a *app, path, key string, creds []frontdoor.Credential) error {
	var b strings.Builder
	writeCredentials(&b, creds)
	msg, err := pgp.Encrypt(key, []byte(strings.TrimLeft(b.String(), "\n")))
	if err != nil {
		return fmt.Errorf("encrypt the passwords to credentials.pgp_key: %w", err)
	}
	if err := atomicfile.WriteFile(path, []byte(msg), 0o600); err != nil {
		return fmt.Errorf("save the encrypted passwords: %w", err)
	}
	p := a.printer()
	if p.json() {
		return p.record(typeCredentials, credentialsRecord{File: path, Users: users(creds), Encrypted: msg})
	}
	fmt.Fprintf(a.io.Out, "The passwords the installer set, encrypted to credentials.pgp_key (`gpg -d` on the key holder's machine; also saved to %s):\n%s", path, msg)
	return nil
}

func users(creds []frontdoor.Credential) []string {
	var out []string
	for _, c := range creds {
		out = append(out, c.User)
	}
	return out
}

func writeCredentials(w io.Writer, creds []frontdoor.Credential) {
	for _, c := range creds {
		fmt.Fprintf(w, "\n%s\n  address:  %s\n", c.What, c.URL)
		if c.Tenant != "" {
			fmt.Fprintf(w, "  tenant:   %s\n", c.Tenant)
		}
		fmt.Fprintf(w, "  user:     %s\n  password: %s\n  later:    %s\n", c.User, c.Password, c.Again)
	}
}

// showCredentials shows the passwords on the terminal's alternate screen,
// which is cleared when the operator confirms: they are in no scrollback.
func showCredentials(a *app, creds []frontdoor.Credential) error {
	w := a.io.Out
	fmt.Fprint(w, "\x1b[?1049h\x1b[H\x1b[2J")
	defer fmt.Fprint(w, "\x1b[?1049l")
	p := a.printer()
	fmt.Fprintln(w, p.bold.Render("Passwords the installer set: shown once"))
	fmt.Fprint(w, "\nFineract's built-in users no longer accept the well-known default password.\nRecord these now; this screen is cleared when you press Enter.\n")
	writeCredentials(w, creds)
	fmt.Fprintf(w, "\n%s Press Enter once they are recorded. ", p.warn.Render("!"))
	_, err := a.io.ReadLine()
	return err
}
