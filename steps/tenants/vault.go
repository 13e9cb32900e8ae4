package tenants

import (
	"context"
	"fmt"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/event"
	"github.com/fineract-installer/fineract-installer/steps/vault"
)

// passwordLength and its alphabet are those of the installer's other
// database passwords (assets/needs.go genPassword): alphanumeric needs no
// quoting anywhere.
const passwordLength = 32

// VaultPasswords keeps the tenants' role passwords in Vault, at
// VaultPath(tenant) key VaultPasswordKey, with a token that has the
// installer policy.
type VaultPasswords struct {
	Conn  *vault.Conn
	Token string
	Emit  event.Emitter
}

// Ensure implements Passwords.
func (v VaultPasswords) Ensure(ctx context.Context, tenant string) (string, error) {
	spec := vault.SecretSpec{Path: VaultPath(tenant), Keys: []vault.KeySpec{{Name: VaultPasswordKey, Length: passwordLength, Charset: vault.Alphanumeric}}}
	if _, err := v.Conn.EnsureSecrets(ctx, v.Token, []vault.SecretSpec{spec}, v.Emit); err != nil {
		return "", err
	}
	return v.Conn.SecretValue(ctx, v.Token, spec.Path, VaultPasswordKey)
}

// EnsureUsers implements Passwords: the keys sit beside the role's
// password, as the default tenant's sit at assets.TenantVaultPath.
func (v VaultPasswords) EnsureUsers(ctx context.Context, tenant string) (map[string]string, error) {
	spec := vault.SecretSpec{Path: VaultPath(tenant)}
	for _, u := range assets.FineractBuiltinUsers {
		spec.Keys = append(spec.Keys, vault.KeySpec{Name: u, Length: passwordLength, Charset: vault.Password})
	}
	if _, err := v.Conn.EnsureSecrets(ctx, v.Token, []vault.SecretSpec{spec}, v.Emit); err != nil {
		return nil, err
	}
	return v.Users(ctx, tenant)
}

// Users implements Passwords.
func (v VaultPasswords) Users(ctx context.Context, tenant string) (map[string]string, error) {
	out := map[string]string{}
	for _, u := range assets.FineractBuiltinUsers {
		p, err := v.Conn.SecretValue(ctx, v.Token, VaultPath(tenant), u)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", tenant, err)
		}
		out[u] = p
	}
	return out, nil
}

// Delete implements Passwords.
func (v VaultPasswords) Delete(ctx context.Context, tenant string) error {
	return v.Conn.DeleteSecret(ctx, v.Token, VaultPath(tenant))
}

// VaultAccess gets a token for the tenants' secrets from the key holders'
// shares (the demo custody file, or typed in), for the time one piece of
// work takes.
type VaultAccess struct {
	Conn   *vault.Conn
	Shares vault.SharesSource
}

// With runs fn with the tenants' passwords in Vault, under an installer
// token revoked right after.
func (v VaultAccess) With(ctx context.Context, emit event.Emitter, fn func(Passwords) error) error {
	st, err := v.Conn.Status(ctx)
	if err != nil {
		return fmt.Errorf("reach Vault: %w", err)
	}
	if st.State != vault.StateUnsealed {
		return &steps.Failure{Cause: "Vault is " + st.State.String(), Hint: "run `fineract-installer unseal` first; nothing was changed"}
	}
	shares, err := v.Shares(ctx, st)
	if err != nil {
		return fmt.Errorf("get the key shares for a Vault token: %w", err)
	}
	return v.Conn.WithInstallerToken(ctx, shares, emit, func(ctx context.Context, token string) error {
		return fn(VaultPasswords{Conn: v.Conn, Token: token, Emit: emit})
	})
}

// PasswordsStep makes sure each new tenant has a role password and its
// built-in users' passwords in Vault, and hands them to the add step
// through Out and Users.
type PasswordsStep struct {
	Vault VaultAccess
	Names []string
	Out   map[string]string
	Users map[string]map[string]string
}

// ID implements steps.Step.
func (s PasswordsStep) ID() string { return "tenants-passwords" }

// Title implements steps.Step.
func (s PasswordsStep) Title() string { return "Generate the tenants' database passwords in Vault" }

// Check always says no: the passwords are read on every run.
func (s PasswordsStep) Check(context.Context) (bool, error) { return false, nil }

// Run implements steps.Step.
func (s PasswordsStep) Run(ctx context.Context, emit steps.Emitter) error {
	return s.Vault.With(ctx, emit, func(pw Passwords) error {
		for _, n := range s.Names {
			v, err := pw.Ensure(ctx, n)
			if err != nil {
				return err
			}
			s.Out[n] = v
			if s.Users != nil {
				if s.Users[n], err = pw.EnsureUsers(ctx, n); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
