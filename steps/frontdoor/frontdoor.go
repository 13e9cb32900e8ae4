// Package frontdoor closes Fineract's own front door: every tenant
// database starts with built-in users whose password is the well-known
// "password" (assets.FineractBuiltinUsers). The installer replaces each
// with the password Vault holds for it, through Fineract's API as an
// administrator would, and proves the default login is refused.
//
// Vault is the truth: the passwords are generated there before any is
// set, so a run stopped between setting a password and recording it
// recovers by signing in with Vault's password instead of the default.
package frontdoor

import (
	"context"
	"errors"
	"fmt"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/fineractapi"
)

// ErrAdminUnknown says the administrator accepts neither the default
// password nor Vault's: somebody changed it by hand.
var ErrAdminUnknown = errors.New("the administrator accepts neither the default password nor the one in Vault")

// Outcome says what Secure did.
type Outcome struct {
	// Changed lists the users whose default password was replaced now.
	Changed []string
	// Missing lists built-in users the tenant no longer has.
	Missing []string
}

// Secure replaces the default password of each built-in user of the
// client's tenant with passwords[user] (Vault's), with basic
// authentication as Fineract's administrator. A user whose default
// password is already refused is left alone, so a second run changes
// nothing. It returns ErrAdminUnknown when the administrator accepts
// neither password.
func Secure(ctx context.Context, api fineractapi.Client, passwords map[string]string) (Outcome, error) {
	var out Outcome
	for _, u := range assets.FineractBuiltinUsers {
		if len(passwords[u]) == 0 {
			return out, fmt.Errorf("no password for Fineract user %s in Vault", u)
		}
	}
	admin := assets.FineractAdminUser
	auth, err := adminAuth(ctx, api, passwords[admin])
	if err != nil {
		return out, err
	}
	// Only a user that still takes the default is changed.
	out, err = setPasswords(ctx, api, auth, passwords, func(u string) (bool, error) {
		open, err := api.Accepts(ctx, u, assets.FineractDefaultPassword)
		if err != nil {
			return false, fmt.Errorf("try %s's default password: %w", u, err)
		}
		return open, nil
	})
	if err != nil {
		return out, err
	}
	return out, Verify(ctx, api, passwords[admin])
}

// userIDs maps the tenant's usernames to their ids.
func userIDs(ctx context.Context, api fineractapi.Client, auth fineractapi.Auth) (map[string]int64, error) {
	users, err := api.Users(ctx, auth)
	if err != nil {
		return nil, fmt.Errorf("list tenant %s's users: %w", api.Tenant, err)
	}
	ids := map[string]int64{}
	for _, u := range users {
		ids[u.Username] = u.ID
	}
	return ids, nil
}

// adminAuth signs the administrator in with Vault's password, or with the
// default one while it still works.
func adminAuth(ctx context.Context, api fineractapi.Client, password string) (fineractapi.Auth, error) {
	admin := assets.FineractAdminUser
	for _, p := range []string{password, assets.FineractDefaultPassword} {
		ok, err := api.Accepts(ctx, admin, p)
		if err != nil {
			return nil, fmt.Errorf("sign in to tenant %s as %s: %w", api.Tenant, admin, err)
		}
		if ok {
			return fineractapi.Basic(admin, p), nil
		}
	}
	return nil, ErrAdminUnknown
}

// Verify proves the tenant's front door is closed: no built-in user
// signs in with the default password, and the administrator signs in with
// Vault's.
func Verify(ctx context.Context, api fineractapi.Client, adminPassword string) error {
	for _, u := range assets.FineractBuiltinUsers {
		open, err := api.Accepts(ctx, u, assets.FineractDefaultPassword)
		if err != nil {
			return fmt.Errorf("try %s's default password: %w", u, err)
		}
		if open {
			return fmt.Errorf("tenant %s: %s still signs in with the default password", api.Tenant, u)
		}
	}
	ok, err := api.Accepts(ctx, assets.FineractAdminUser, adminPassword)
	if err != nil {
		return fmt.Errorf("sign in as %s: %w", assets.FineractAdminUser, err)
	}
	if !ok {
		return ErrAdminUnknown
	}
	return nil
}

// SetAll sets every built-in user's password with an administrator's
// bearer token. With the identity group Fineract has no password sign-in
// (basic authentication is off), so nothing tells a default password
// from another: the caller records that this was done once.
func SetAll(ctx context.Context, api fineractapi.Client, token string, passwords map[string]string) (Outcome, error) {
	return setPasswords(ctx, api, fineractapi.Bearer(token), passwords, func(string) (bool, error) { return true, nil })
}

// setPasswords sets the password of each built-in user the tenant has
// and change says to change, and notes the ones it lacks.
func setPasswords(ctx context.Context, api fineractapi.Client, auth fineractapi.Auth, passwords map[string]string, change func(user string) (bool, error)) (Outcome, error) {
	var out Outcome
	ids, err := userIDs(ctx, api, auth)
	if err != nil {
		return out, err
	}
	for _, u := range assets.FineractBuiltinUsers {
		id, ok := ids[u]
		if !ok {
			out.Missing = append(out.Missing, u)
			continue
		}
		yes, err := change(u)
		if err != nil {
			return out, err
		}
		if !yes {
			continue
		}
		if err := api.SetPassword(ctx, auth, id, passwords[u]); err != nil {
			return out, fmt.Errorf("set %s's password in tenant %s: %w", u, api.Tenant, err)
		}
		out.Changed = append(out.Changed, u)
	}
	return out, nil
}

// Credential is a password handed to the operator once.
type Credential struct {
	// What it signs in to, and where.
	What, URL string
	// Tenant is the Fineract tenant, for the web app's sign-in form.
	Tenant         string
	User, Password string
	// Again says how to get the password again later.
	Again string
}

// Handout gives credentials to the operator, once: in a terminal on a
// screen that is cleared after one confirmation; without one, encrypted
// to the operator's PGP key or in a file only root reads. It never writes
// a password to the event stream or a log. An error means the operator
// did not get them; nothing is recorded then and the next run hands them
// out again.
type Handout func(ctx context.Context, creds []Credential) error
