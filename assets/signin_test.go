package assets

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// envAssignment is one `window['env']['key'] = value;` line of env.js.
var envAssignment = regexp.MustCompile(`(?m)^\s*window\['env'\]\['([A-Za-z0-9_]+)'\] = (.+);\s*$`)

// envJS returns env.js's settings, each value as its JavaScript literal.
func envJS(t *testing.T, js string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range envAssignment.FindAllStringSubmatch(js, -1) {
		if _, dup := out[m[1]]; dup {
			t.Errorf("env.js sets %s twice", m[1])
		}
		out[m[1]] = m[2]
	}
	return out
}

// jsString decodes a JavaScript string literal the template wrote with q
// (JSON quoting) or in single quotes.
func jsString(t *testing.T, key, lit string) string {
	t.Helper()
	if strings.HasPrefix(lit, "'") && strings.HasSuffix(lit, "'") && len(lit) >= 2 {
		return lit[1 : len(lit)-1]
	}
	var s string
	if err := json.Unmarshal([]byte(lit), &s); err != nil {
		t.Fatalf("env.js %s = %s is not a string literal", key, lit)
	}
	return s
}

// TestSignInSettingsMatchTheWebAppsOAuth2Mode checks env.js against what the
// pinned web app reads for its OAuth2 mode, and against the realm the same
// installation imports. openMF/web-app src/environments/environment.prod.ts
// builds environment.oauth from oauthServerEnabled (`=== true`, so a
// boolean), oauthServerUrl, oauthServerLogoutUrl, oauthAppId,
// oauthAuthorizeUrl, oauthTokenUrl, oauthRedirectUri and oauthScope, and
// src/app/core/authentication/oauth.config.ts (getActiveAuthMode) picks the
// OIDC mode first whenever oidcServerEnabled is set: that mode needs a Mifos
// OIDC plugin's API (oidcApiUrl) that neither Keycloak nor Fineract serves,
// so it must be off and none of its keys may be set.
func TestSignInSettingsMatchTheWebAppsOAuth2Mode(t *testing.T) {
	oauthKeys := []string{"oauthAppId", "oauthAuthorizeUrl", "oauthRedirectUri", "oauthScope",
		"oauthServerEnabled", "oauthServerLogoutUrl", "oauthServerUrl", "oauthTokenUrl"}
	for _, c := range allCombos() {
		a := answersFor(c)
		b := mustRender(t, a)
		env := envJS(t, fileText(t, b, "config/web-app/env.js"))
		var signIn []string
		for k := range maps.Keys(env) {
			if strings.HasPrefix(k, "oauth") || strings.HasPrefix(k, "oidc") {
				signIn = append(signIn, k)
			}
		}
		slices.Sort(signIn)
		if !a.HasGroup(answers.GroupIdentity) {
			if !slices.Equal(signIn, []string{"oauthServerEnabled", "oidcServerEnabled"}) ||
				env["oauthServerEnabled"] != "false" || env["oidcServerEnabled"] != "false" {
				t.Errorf("%s: without identity the web app must use basic sign-in, got %v", c, signIn)
			}
			continue
		}
		want := append(slices.Clone(oauthKeys), "oidcServerEnabled")
		if !slices.Equal(signIn, want) {
			t.Errorf("%s: env.js sign-in keys %v, want exactly %v", c, signIn, want)
			continue
		}
		if env["oauthServerEnabled"] != "true" {
			t.Errorf("%s: oauthServerEnabled = %s, want the boolean true (the web app compares with === true)", c, env["oauthServerEnabled"])
		}
		if env["oidcServerEnabled"] != "false" {
			t.Errorf("%s: oidcServerEnabled = %s, want false", c, env["oidcServerEnabled"])
		}
		str := func(k string) string { return jsString(t, k, env[k]) }

		var realm struct {
			Realm   string `json:"realm"`
			Clients []struct {
				ClientID            string            `json:"clientId"`
				PublicClient        bool              `json:"publicClient"`
				StandardFlowEnabled bool              `json:"standardFlowEnabled"`
				RedirectURIs        []string          `json:"redirectUris"`
				Attributes          map[string]string `json:"attributes"`
			} `json:"clients"`
		}
		if err := json.Unmarshal([]byte(fileText(t, b, "config/keycloak/realm-fineract.json")), &realm); err != nil {
			t.Fatalf("%s: realm JSON: %v", c, err)
		}
		issuer := strings.TrimSuffix(str("oauthServerUrl"), "/protocol/openid-connect")
		wantIssuer := "https://" + a.Host.Hostname
		if a.Gateway.HTTPSPort != 443 {
			wantIssuer += ":" + strconv.Itoa(a.Gateway.HTTPSPort)
		}
		wantIssuer += "/auth/realms/" + realm.Realm
		if issuer != wantIssuer {
			t.Errorf("%s: oauthServerUrl %q is not under the realm's public issuer %q", c, str("oauthServerUrl"), wantIssuer)
		}
		for k, ep := range map[string]string{"oauthAuthorizeUrl": "auth", "oauthTokenUrl": "token", "oauthServerLogoutUrl": "logout"} {
			if got, want := str(k), wantIssuer+"/protocol/openid-connect/"+ep; got != want {
				t.Errorf("%s: %s = %q, want Keycloak's %q", c, k, got, want)
			}
		}
		found := false
		for _, cl := range realm.Clients {
			if cl.ClientID != str("oauthAppId") {
				continue
			}
			found = true
			if !cl.PublicClient || !cl.StandardFlowEnabled || cl.Attributes["pkce.code.challenge.method"] != "S256" {
				t.Errorf("%s: client %s is not a public code-flow client with PKCE S256", c, cl.ClientID)
			}
			if !slices.Equal(cl.RedirectURIs, []string{str("oauthRedirectUri")}) {
				t.Errorf("%s: client %s redirect URIs %v, want exactly the web app's %q", c, cl.ClientID, cl.RedirectURIs, str("oauthRedirectUri"))
			}
		}
		if !found {
			t.Errorf("%s: the realm has no client %q (oauthAppId)", c, str("oauthAppId"))
		}
	}
}

// TestRealmPutsTheUsernameInTheAccessTokenSubjectOnce checks the realm
// against how Fineract and Keycloak treat `sub`: Fineract loads the user
// named by the access token's subject (apache/fineract
// OAuth2SecurityConfig.authenticationConverter), and Keycloak's `basic`
// scope (Keycloak >= 25) sets the subject to the user id in a field of its
// own, so a username mapper next to it makes a token with two `sub`
// members (see identity.yaml.tmpl).
func TestRealmPutsTheUsernameInTheAccessTokenSubjectOnce(t *testing.T) {
	b := mustRender(t, answersFor(combo{groups: []string{answers.GroupIdentity}, profile: answers.Production}))
	var realm struct {
		Clients []struct {
			ClientID            string   `json:"clientId"`
			DefaultClientScopes []string `json:"defaultClientScopes"`
			ProtocolMappers     []struct {
				ProtocolMapper string            `json:"protocolMapper"`
				Config         map[string]string `json:"config"`
			} `json:"protocolMappers"`
		} `json:"clients"`
	}
	if err := json.Unmarshal([]byte(fileText(t, b, "config/keycloak/realm-fineract.json")), &realm); err != nil {
		t.Fatal(err)
	}
	for _, cl := range realm.Clients {
		if cl.ClientID != "web-app" {
			continue
		}
		if cl.DefaultClientScopes == nil || slices.Contains(cl.DefaultClientScopes, "basic") {
			t.Errorf("web-app default client scopes %v: must be listed, without basic (its Subject mapper sets sub to the user id)", cl.DefaultClientScopes)
		}
		var subs int
		for _, m := range cl.ProtocolMappers {
			if m.Config["claim.name"] != "sub" {
				continue
			}
			subs++
			if m.ProtocolMapper != "oidc-usermodel-property-mapper" || m.Config["user.attribute"] != "username" ||
				m.Config["access.token.claim"] != "true" || m.Config["id.token.claim"] == "true" || m.Config["userinfo.token.claim"] == "true" {
				t.Errorf("sub mapper %v: want the username, in the access token only", m)
			}
		}
		if subs != 1 {
			t.Errorf("web-app has %d mappers for sub, want 1", subs)
		}
		return
	}
	t.Fatal("the realm has no web-app client")
}
