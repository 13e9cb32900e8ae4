package validate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/delivered"
	"github.com/fineract-installer/fineract-installer/steps/signin"
)

// IdentityChecks look at sign-in through Keycloak, through the gateway as
// browsers reach it. They run only where the identity group is installed.
func IdentityChecks() []Check {
	g := answers.GroupIdentity
	return []Check{
		{ID: "identity-discovery", Area: AreaIdentity, Group: g, Title: "Keycloak's OIDC discovery is served over TLS with the public issuer",
			Controls: []Control{ControlTransit, ControlSession}, Run: checkDiscovery},
		{ID: "identity-admin-private", Area: AreaIdentity, Group: g, Title: "Keycloak's admin console, admin API and master realm are not served by the gateway",
			Controls: []Control{ControlHardening, ControlSegmentation}, Run: checkAdminPrivate},
		{ID: "identity-session-idle", Area: AreaIdentity, Group: g, Title: "Keycloak ends idle sessions after 15 minutes",
			Controls: []Control{ControlSession}, Run: checkSessionIdle},
		{ID: "identity-fineract-accepts", Area: AreaIdentity, Group: g, Title: "A token from the web app's sign-in is accepted by Fineract",
			Controls: []Control{ControlSession}, Run: checkFineractAcceptsTokens},
	}
}

// sessionIdleTimeout is the idle timeout the installer promises (seconds).
const sessionIdleTimeout = 15 * 60

// fineractUser is the user the token check signs in as: Fineract's
// default administrator, which Fineract's database migrations create
// (username "mifos"). Fineract authorises a bearer token only for a user
// it has.
const fineractUser = assets.FineractAdminUser

func (t *Target) getJSON(ctx context.Context, u, bearer string, out any) (int, error) {
	c, err := t.GatewayClient()
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("Fineract-Platform-TenantId", "default")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode != http.StatusOK || out == nil {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return resp.StatusCode, fmt.Errorf("%s: not JSON: %w", u, err)
	}
	return resp.StatusCode, nil
}

// discovery is the part of the OIDC discovery document the checks read.
type discovery struct {
	Issuer        string `json:"issuer"`
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	JWKS          string `json:"jwks_uri"`
}

func checkDiscovery(ctx context.Context, t *Target) Finding {
	issuer := assets.IssuerURL(t.Answers)
	var d discovery
	status, err := t.getJSON(ctx, issuer+"/.well-known/openid-configuration", "", &d)
	if err != nil {
		return fail("GET the discovery document: "+err.Error(), "see `fineract-installer logs gateway keycloak`")
	}
	if status != http.StatusOK {
		return fail(fmt.Sprintf("GET %s/.well-known/openid-configuration answered %d", issuer, status), "see `fineract-installer logs keycloak`; Keycloak needs up to a few minutes on its first start")
	}
	var wrong []string
	if d.Issuer != issuer {
		wrong = append(wrong, fmt.Sprintf("issuer %q, want %q", d.Issuer, issuer))
	}
	for name, ep := range map[string]string{"authorization_endpoint": d.Authorization, "token_endpoint": d.Token, "jwks_uri": d.JWKS} {
		if !strings.HasPrefix(ep, issuer+"/") {
			wrong = append(wrong, fmt.Sprintf("%s %q is not under the issuer", name, ep))
		}
	}
	if len(wrong) > 0 {
		return fail(strings.Join(wrong, "; "), "Keycloak must run with KC_HOSTNAME set to the public URL and /auth: re-run the install to render it")
	}
	return pass(fmt.Sprintf("issuer %s, verified TLS through the gateway", d.Issuer))
}

// KeycloakAdmin is a session with Keycloak's admin API, signed in as the
// bootstrap admin with the password the installer delivered to Keycloak.
type KeycloakAdmin struct {
	client *http.Client
	token  string
}

// keycloakInternal is Keycloak's own address under its relative path
// (KC_HTTP_RELATIVE_PATH): the admin API and the master realm are reached
// there, from inside Keycloak's network namespace, because the gateway
// does not serve them.
const keycloakInternal = "https://keycloak:8443/auth"

func (t *Target) KeycloakAdmin(ctx context.Context) (*KeycloakAdmin, error) {
	svc, ok := t.Expect.Service("keycloak")
	if !ok {
		return nil, errors.New("the stack has no keycloak service")
	}
	password, err := delivered.Value(ctx, svc, t.SecretsDir, assets.KeycloakAdminVaultPath, assets.KeycloakAdminVaultKey)
	if err != nil {
		return nil, fmt.Errorf("read the bootstrap admin password: %w", err)
	}
	cs, err := t.inspectAll(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := cs["keycloak"]
	if !ok || c.Config == nil {
		return nil, errors.New("no keycloak container")
	}
	var user string
	for _, e := range c.Config.Env {
		if v, ok := strings.CutPrefix(e, "KC_BOOTSTRAP_ADMIN_USERNAME="); ok {
			user = v
		}
	}
	if user == "" {
		return nil, errors.New("the keycloak container has no KC_BOOTSTRAP_ADMIN_USERNAME")
	}
	client, err := t.serviceClient("keycloak", 8443)
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {user}, "password": {password}}
	var tok signin.Token
	status, err := postForm(ctx, client, keycloakInternal+"/realms/master/protocol/openid-connect/token", form, &tok)
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	if status != http.StatusOK || tok.AccessToken == "" {
		return nil, fmt.Errorf("admin token: the master realm answered %d for the bootstrap admin %q", status, user)
	}
	return &KeycloakAdmin{client: client, token: tok.AccessToken}, nil
}

func postForm(ctx context.Context, c *http.Client, u string, form url.Values, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp.StatusCode, err
	}
	return resp.StatusCode, json.Unmarshal(body, out)
}

// Call sends an admin API request and returns the status and Location.
func (k *KeycloakAdmin) Call(ctx context.Context, method, path string, in, out any) (int, string, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, "", err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, keycloakInternal+"/admin/realms/"+path, body)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+k.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	if err != nil {
		return resp.StatusCode, "", err
	}
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, "", fmt.Errorf("admin API %s: not JSON: %w", path, err)
		}
	}
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

const adminHint = "the check signs in to Keycloak's admin API as the bootstrap admin with the password the installer delivered " +
	"(run as root; after a reboot run `fineract-installer unseal`); see `fineract-installer logs keycloak`"

func checkSessionIdle(ctx context.Context, t *Target) Finding {
	k, err := t.KeycloakAdmin(ctx)
	if err != nil {
		return fail(err.Error(), adminHint)
	}
	var realm struct {
		Realm                 string `json:"realm"`
		SSOSessionIdleTimeout *int   `json:"ssoSessionIdleTimeout"`
	}
	status, _, err := k.Call(ctx, http.MethodGet, assets.IdentityRealm, nil, &realm)
	if err != nil || status != http.StatusOK {
		return fail(fmt.Sprintf("GET realm %s: status %d %v", assets.IdentityRealm, status, err), adminHint)
	}
	if realm.SSOSessionIdleTimeout == nil {
		return fail("the realm representation has no ssoSessionIdleTimeout", adminHint)
	}
	got := *realm.SSOSessionIdleTimeout
	if got != sessionIdleTimeout {
		return fail(fmt.Sprintf("realm %s: SSO session idle timeout %d s (%s), want %d s (15 minutes)", assets.IdentityRealm, got, time.Duration(got)*time.Second, sessionIdleTimeout),
			"set Realm settings → Sessions → SSO Session Idle to 15 minutes in Keycloak's admin console (the installer imports it only when the realm is created)")
	}
	return pass(fmt.Sprintf("realm %s: ssoSessionIdleTimeout %d s, read through the admin API", assets.IdentityRealm, got))
}

// checkFineractAcceptsTokens signs in through the web app's client as a
// browser does and gives the token to Fineract. It signs in as the
// administrator the installer made in the realm (Fineract's mifos), with
// the password the installer delivered to itself. Before the installer
// made that user (a stack started without the front-door step), it makes
// a temporary one of that name, with a random password that exists only
// in this process, and deletes it (with its sessions) at the end.
func checkFineractAcceptsTokens(ctx context.Context, t *Target) Finding {
	k, err := t.KeycloakAdmin(ctx)
	if err != nil {
		return fail(err.Error(), adminHint)
	}
	var existing []struct {
		ID string `json:"id"`
	}
	status, _, err := k.Call(ctx, http.MethodGet, assets.IdentityRealm+"/users?"+url.Values{"username": {fineractUser}, "exact": {"true"}}.Encode(), nil, &existing)
	if err != nil || status != http.StatusOK {
		return fail(fmt.Sprintf("look up user %s: status %d %v", fineractUser, status, err), adminHint)
	}
	var password, who string
	if len(existing) > 0 {
		if password, err = t.adminPassword(ctx); err != nil {
			return fail(err.Error(), adminHint)
		}
		who = "the installer's administrator " + fineractUser
	} else {
		var remove func()
		if password, remove, err = temporaryUser(ctx, k); err != nil {
			return fail(err.Error(), adminHint)
		}
		defer remove()
		who = "a temporary user " + fineractUser
	}
	tok, err := t.WebAppSignIn(ctx, fineractUser, password)
	if err != nil {
		return fail("sign-in through the web-app client as "+who+": "+err.Error(), "the realm's web-app client must allow the code flow with PKCE to "+assets.SignInRedirectURI(t.Answers)+
			"; if the password of "+fineractUser+" was changed in Keycloak, set it back to the one in Vault (`fineract-installer credentials`); see `fineract-installer logs keycloak`")
	}
	var details struct {
		Username      string `json:"username"`
		Authenticated bool   `json:"authenticated"`
	}
	status, err = t.getJSON(ctx, assets.PublicURL(t.Answers)+"/fineract-provider/api/v1/userdetails", tok.AccessToken, &details)
	if err != nil {
		return fail("GET /userdetails: "+err.Error(), "see `fineract-installer logs fineract`")
	}
	issuer := assets.IssuerURL(t.Answers)
	if status != http.StatusOK || !details.Authenticated || details.Username != fineractUser {
		return fail(fmt.Sprintf("Fineract answered %d to /userdetails with the token (username %q)", status, details.Username),
			"Fineract must run with FINERACT_SECURITY_OAUTH_ENABLED=true and FINERACT_SERVER_OAUTH_RESOURCE_URL="+issuer+
				", reach Keycloak's keys, and have the user "+fineractUser+"; see `fineract-installer logs fineract`")
	}
	return pass(fmt.Sprintf("code flow with PKCE through the web-app client as %s, then Fineract /userdetails: 200 for %s", who, details.Username))
}

// temporaryUser makes the realm user fineractUser with a random password
// and returns a function that deletes it, even after ctx ended.
func temporaryUser(ctx context.Context, k *KeycloakAdmin) (string, func(), error) {
	password, err := temporaryPassword()
	if err != nil {
		return "", nil, err
	}
	status, loc, err := k.Call(ctx, http.MethodPost, assets.IdentityRealm+"/users", RealmUser(fineractUser, password, "Installer", "Check"), nil)
	if err != nil || status != http.StatusCreated {
		return "", nil, fmt.Errorf("create the temporary user: status %d %v", status, err)
	}
	id := loc[strings.LastIndex(loc, "/")+1:]
	return password, func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		_, _, _ = k.Call(dctx, http.MethodDelete, assets.IdentityRealm+"/users/"+url.PathEscape(id), nil, nil)
	}, nil
}

// RealmUser is the admin API's representation of a new user of the
// realm with a permanent password. Keycloak's user profile asks for the
// names and an email before it issues a code.
func RealmUser(username, password, first, last string) map[string]any {
	return map[string]any{
		"username": username, "enabled": true, "emailVerified": true,
		"firstName": first, "lastName": last, "email": username + "@" + strings.ToLower(first) + ".invalid",
		"credentials": []any{map[string]any{"type": "password", "value": password, "temporary": false}},
	}
}

// temporaryPassword meets the realm's password policy (length, upper and
// lower case, digits, special characters).
func temporaryPassword() (string, error) {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 32)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alnum))))
		if err != nil {
			return "", err
		}
		b[i] = alnum[n.Int64()]
	}
	return string(b) + "Aa1!", nil
}

// adminPaths are Keycloak paths only administrators need: the admin
// console, the admin API and the master realm, where the bootstrap admin
// signs in. Keycloak itself answers each (200 or 401); the gateway must not
// pass them on.
var adminPaths = []string{
	"/auth/admin/master/console/",
	"/auth/admin/realms/" + assets.IdentityRealm,
	"/auth/realms/master/.well-known/openid-configuration",
	"/auth/realms/master/protocol/openid-connect/token",
}

func checkAdminPrivate(ctx context.Context, t *Target) Finding {
	var served []string
	for _, p := range adminPaths {
		status, err := t.getJSON(ctx, strings.TrimSuffix(assets.PublicURL(t.Answers), "/")+p, "", nil)
		if err != nil {
			return fail("GET "+p+" through the gateway: "+err.Error(), "see `fineract-installer logs gateway`")
		}
		if status != http.StatusNotFound {
			served = append(served, fmt.Sprintf("%s answered %d", p, status))
		}
	}
	if len(served) > 0 {
		return fail("the gateway passes administrators' paths on to Keycloak: "+strings.Join(served, "; "),
			"re-run `fineract-installer install`: the rendered gateway serves only the fineract realm's sign-in paths under /auth")
	}
	return pass(fmt.Sprintf("%d admin and master-realm paths answered 404 at the gateway", len(adminPaths)))
}
