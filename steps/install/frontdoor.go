package install

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
	"github.com/fineract-installer/fineract-installer/steps/delivered"
	"github.com/fineract-installer/fineract-installer/steps/frontdoor"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// FrontDoorStep replaces the default password of Fineract's built-in
// users in the default tenant with the ones Vault holds, makes the
// administrator the realm's user too when the identity group signs people
// in, and hands the administrator's password (and Keycloak's bootstrap
// admin's) to the operator once.
type FrontDoorStep struct {
	Env     *Env
	Handout frontdoor.Handout
}

// ID implements steps.Step.
func (s FrontDoorStep) ID() string { return "fineract-admin" }

// Title implements steps.Step.
func (s FrontDoorStep) Title() string { return "Replace Fineract's default login" }

// FrontDoorRecord is what the installer did at each tenant's front door.
type FrontDoorRecord struct {
	Tenants map[string]TenantDoor `json:"tenants"`
}

// TenantDoor records one tenant's: when the built-in users' passwords were
// set (needed only where nothing else can tell, with the identity group)
// and when the administrator's password was handed out.
type TenantDoor struct {
	SetAt       time.Time `json:"set_at,omitzero"`
	HandedOutAt time.Time `json:"handed_out_at,omitzero"`
}

// LoadFrontDoor reads the record; a missing one is empty.
func (env *Env) LoadFrontDoor() (FrontDoorRecord, error) {
	rec := FrontDoorRecord{Tenants: map[string]TenantDoor{}}
	data, err := os.ReadFile(env.FrontDoorFile())
	if errors.Is(err, fs.ErrNotExist) {
		return rec, nil
	}
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, fmt.Errorf("%s: %w", env.FrontDoorFile(), err)
	}
	if rec.Tenants == nil {
		rec.Tenants = map[string]TenantDoor{}
	}
	return rec, nil
}

// SaveFrontDoor writes the record.
func (env *Env) SaveFrontDoor(rec FrontDoorRecord) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(env.FrontDoorFile(), append(data, '\n'), 0o600)
}

// tenantPasswords reads the built-in users' passwords Vault holds for the
// default tenant from the installer's own delivery.
func (env *Env) tenantPasswords(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	for _, u := range assets.FineractBuiltinUsers {
		p, err := delivered.Value(ctx, env.Bundle.Installer, env.SecretsDir, assets.TenantVaultPath(assets.DefaultTenant), u)
		if err != nil {
			return nil, fmt.Errorf("read %s's password: %w", u, err)
		}
		out[u] = p
	}
	return out, nil
}

func (env *Env) identity() bool {
	for _, g := range env.Answers.Groups {
		if g == answers.GroupIdentity {
			return true
		}
	}
	return false
}

// Check is true when the passwords were handed out and the default login
// is closed: with basic authentication, proven by Fineract itself.
func (s FrontDoorStep) Check(ctx context.Context) (bool, error) {
	rec, err := s.Env.LoadFrontDoor()
	if err != nil {
		return false, nil
	}
	door := rec.Tenants[assets.DefaultTenant]
	if door.HandedOutAt.IsZero() || door.SetAt.IsZero() {
		return false, nil
	}
	pw, err := s.Env.tenantPasswords(ctx)
	if err != nil {
		return false, nil
	}
	t, err := s.Env.ValidationTarget()
	if err != nil {
		return false, nil
	}
	if s.Env.identity() {
		_, err := signInAdmin(ctx, t, pw[assets.FineractAdminUser])
		return err == nil, nil
	}
	api, err := t.FineractAPI()
	if err != nil {
		return false, nil
	}
	return frontdoor.Verify(ctx, api, pw[assets.FineractAdminUser]) == nil, nil
}

// Run implements steps.Step.
func (s FrontDoorStep) Run(ctx context.Context, emit steps.Emitter) error {
	pw, err := s.Env.tenantPasswords(ctx)
	if err != nil {
		return steps.Fail(err, "the vault step delivers them; run the installer as root, and after a reboot `fineract-installer unseal`")
	}
	rec, err := s.Env.LoadFrontDoor()
	if err != nil {
		return err
	}
	door := rec.Tenants[assets.DefaultTenant]
	if s.Env.identity() {
		t, err := s.Env.ValidationTarget()
		if err != nil {
			return err
		}
		if err := ensureRealmAdmin(ctx, t, pw[assets.FineractAdminUser], emit); err != nil {
			return err
		}
	}
	// With the identity group nothing tells a set password from a
	// default one (no password sign-in): the record says it was done.
	if door.SetAt.IsZero() || !s.Env.identity() {
		if err := s.Env.SecureTenant(ctx, assets.DefaultTenant, pw, emit); err != nil {
			return err
		}
	}
	if door.SetAt.IsZero() {
		door.SetAt = time.Now().UTC()
		rec.Tenants[assets.DefaultTenant] = door
		if err := s.Env.SaveFrontDoor(rec); err != nil {
			return err
		}
	}
	if !door.HandedOutAt.IsZero() {
		return nil
	}
	creds, err := s.Env.Credentials(ctx)
	if err != nil {
		return err
	}
	if s.Handout == nil {
		return errors.New("no way to hand out the administrator's password was given")
	}
	if err := s.Handout(ctx, creds); err != nil {
		return steps.Fail(fmt.Errorf("hand out the administrator's password: %w", err), "run the installer again to be shown it again; it is kept in Vault")
	}
	door.HandedOutAt = time.Now().UTC()
	rec.Tenants[assets.DefaultTenant] = door
	return s.Env.SaveFrontDoor(rec)
}

// SecureTenant replaces the default password of a tenant's built-in
// users with pw (Vault's): with basic authentication as the tenant's
// administrator, proven by Fineract refusing the default afterwards; with
// the identity group with a bearer token of the realm's administrator
// (the default tenant's, whose username every tenant has).
func (env *Env) SecureTenant(ctx context.Context, tenant string, pw map[string]string, emit steps.Emitter) error {
	t, err := env.ValidationTarget()
	if err != nil {
		return err
	}
	api, err := t.FineractAPI()
	if err != nil {
		return err
	}
	api.Tenant = tenant
	var out frontdoor.Outcome
	if env.identity() {
		admin, err := env.tenantPasswords(ctx)
		if err != nil {
			return steps.Fail(err, "run as root; after a reboot run `fineract-installer unseal`")
		}
		tok, err := signInAdmin(ctx, t, admin[assets.FineractAdminUser])
		if err != nil {
			return &steps.Failure{Cause: "sign in as the realm's " + assets.FineractAdminUser + ": " + err.Error(), Err: err, Hint: "see `fineract-installer logs keycloak fineract`"}
		}
		if out, err = frontdoor.SetAll(ctx, api, tok, pw); err != nil {
			return steps.Fail(err, "see `fineract-installer logs fineract`")
		}
	} else {
		out, err = frontdoor.Secure(ctx, api, pw)
		if errors.Is(err, frontdoor.ErrAdminUnknown) {
			return &steps.Failure{Cause: fmt.Sprintf("tenant %s: %v", tenant, err), Err: err,
				Hint: "someone changed " + assets.FineractAdminUser + "'s password by hand: set it back to the one in Vault (`fineract-installer credentials` shows it), then run the same command again; nothing was changed"}
		}
		if err != nil {
			return steps.Fail(err, "see `fineract-installer logs gateway fineract`")
		}
	}
	if len(out.Changed) > 0 {
		emit.Info("fineract", "replaced the default password of "+strings.Join(out.Changed, ", ")+" in tenant "+tenant)
	}
	if len(out.Missing) > 0 {
		emit.Warn("tenant " + tenant + " has no user " + strings.Join(out.Missing, ", ") + ": nothing to replace there")
	}
	return nil
}

// TenantCredential is what the operator is handed for an added tenant.
// With the identity group people sign in with their Keycloak account and
// the tenant's own administrator password is not one anybody types.
func (env *Env) TenantCredential(tenant string, pw map[string]string) (frontdoor.Credential, bool) {
	if env.identity() {
		return frontdoor.Credential{}, false
	}
	return frontdoor.Credential{What: "Fineract administrator of tenant " + tenant, URL: assets.PublicURL(env.Answers) + "/", Tenant: tenant,
		User: assets.FineractAdminUser, Password: pw[assets.FineractAdminUser],
		Again: "`fineract-installer credentials --tenant " + tenant + "` shows it again; it is kept in Vault at " + assets.TenantVaultPath(tenant)}, true
}

// AgainHint says how to see the passwords again.
const AgainHint = "`fineract-installer credentials` shows them again (as root); they are kept in Vault"

// Credentials are what the operator is handed: Fineract's administrator,
// and Keycloak's bootstrap admin with the identity group, read from what
// Vault delivered.
func (env *Env) Credentials(ctx context.Context) ([]frontdoor.Credential, error) {
	pw, err := env.tenantPasswords(ctx)
	if err != nil {
		return nil, err
	}
	web := assets.PublicURL(env.Answers) + "/"
	what := "Fineract administrator: sign in to the web app"
	if env.identity() {
		what = "Fineract administrator: sign in to the web app through Keycloak"
	}
	creds := []frontdoor.Credential{{What: what, URL: web, Tenant: assets.DefaultTenant, User: assets.FineractAdminUser,
		Password: pw[assets.FineractAdminUser], Again: AgainHint}}
	if env.identity() {
		svc, ok := env.Bundle.Service("keycloak")
		if !ok {
			return nil, errors.New("the stack has no keycloak service")
		}
		p, err := delivered.Value(ctx, svc, env.SecretsDir, assets.KeycloakAdminVaultPath, assets.KeycloakAdminVaultKey)
		if err != nil {
			return nil, fmt.Errorf("read Keycloak's bootstrap admin password: %w", err)
		}
		creds = append(creds, frontdoor.Credential{What: "Keycloak bootstrap admin (master realm; not served by the gateway)", URL: "https://keycloak:8443/auth/admin/",
			User: assets.KeycloakAdminUser, Password: p, Again: AgainHint})
	}
	return creds, nil
}

// ensureRealmAdmin makes the realm's user for Fineract's administrator
// with Vault's password, or proves the one there signs in with it.
func ensureRealmAdmin(ctx context.Context, t *validate.Target, password string, emit steps.Emitter) error {
	k, err := t.KeycloakAdmin(ctx)
	if err != nil {
		return steps.Fail(err, "see `fineract-installer logs keycloak`")
	}
	var existing []struct {
		ID string `json:"id"`
	}
	user := assets.FineractAdminUser
	status, _, err := k.Call(ctx, http.MethodGet, assets.IdentityRealm+"/users?"+url.Values{"username": {user}, "exact": {"true"}}.Encode(), nil, &existing)
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("look up the realm's user %s: status %d %v", user, status, err)
	}
	if len(existing) > 0 {
		if _, err := signInAdmin(ctx, t, password); err != nil {
			return &steps.Failure{Cause: "the realm's user " + user + " does not sign in with the password in Vault: " + err.Error(), Err: err,
				Hint: "someone changed it in Keycloak: set it back to the one in Vault (`fineract-installer credentials`), or delete the user so the installer makes it again"}
		}
		return nil
	}
	status, _, err = k.Call(ctx, http.MethodPost, assets.IdentityRealm+"/users", validate.RealmUser(user, password, "App", "Administrator"), nil)
	if err != nil || status != http.StatusCreated {
		return fmt.Errorf("create the realm's user %s: status %d %v", user, status, err)
	}
	emit.Info("keycloak", "made the realm's user "+user+", Fineract's administrator")
	return nil
}

// signInAdmin signs the administrator in through the web app's client.
func signInAdmin(ctx context.Context, t *validate.Target, password string) (string, error) {
	tok, err := t.WebAppSignIn(ctx, assets.FineractAdminUser, password)
	return tok.AccessToken, err
}
