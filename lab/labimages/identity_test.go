package labimages

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/signin"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// identityStack starts the stack with the identity group; edit, when set,
// changes the rendered files before anything starts (a broken setup).
func identityStack(t *testing.T, edit func(s *Stack)) *Stack {
	t.Helper()
	e := labtest.Engine(t)
	Require(t, e, "postgres", "fineract", "web-app", "gateway", "keycloak")
	s := NewStack(t, e, answers.GroupIdentity)
	if edit != nil {
		edit(s)
	}
	s.Up(t, "gateway")
	return s
}

// editFile replaces old by new in a rendered file of the stack.
func editFile(t *testing.T, s *Stack, rel, old, new string) {
	t.Helper()
	p := filepath.Join(s.Dir, filepath.FromSlash(rel))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s does not contain %q", rel, old)
	}
	if err := writeInPlace(p, bytes.Replace(data, []byte(old), []byte(new), 1)); err != nil {
		t.Fatal(err)
	}
}

// identityTarget is the validation target the installer would build.
func identityTarget(t *testing.T, s *Stack) *validate.Target {
	t.Helper()
	ca, err := os.ReadFile(s.PKIPath("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	chain, err := os.ReadFile(s.PKIPath("gateway.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return &validate.Target{Engine: s.Engine, Project: s.Project, Expect: s.Bundle, Answers: s.Answers,
		CA: ca, GatewayChain: chain, Dir: s.Dir, SecretsDir: s.SecretsDir}
}

// runIdentityChecks runs the identity checks and returns them by ID.
func runIdentityChecks(t *testing.T, s *Stack) map[string]validate.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := map[string]validate.Result{}
	for _, r := range validate.Run(ctx, identityTarget(t, s), validate.IdentityChecks()) {
		t.Logf("%s: %s: %s (%s)", r.ID, r.Status, r.Evidence, r.Fix)
		out[r.ID] = r
	}
	if want := len(validate.IdentityChecks()); len(out) != want {
		t.Fatalf("%d identity checks ran, want all %d (the stack has the identity group)", len(out), want)
	}
	return out
}

func wantStatus(t *testing.T, rs map[string]validate.Result, id string, want validate.Status, evidence string) {
	t.Helper()
	r := rs[id]
	if r.Status != want || !strings.Contains(r.Evidence, evidence) {
		t.Errorf("%s: %s %q, want %s with %q", id, r.Status, r.Evidence, want, evidence)
	}
}

// TestIdentityChecksPass runs the identity checks on the installer's
// identity group as rendered: Keycloak (stand-in) behind the gateway,
// Fineract (stand-in) as its resource server.
func TestIdentityChecksPass(t *testing.T) {
	t.Parallel()
	s := identityStack(t, nil)
	rs := runIdentityChecks(t, s)
	wantStatus(t, rs, "identity-discovery", validate.Pass, assets.IssuerURL(s.Answers))
	wantStatus(t, rs, "identity-session-idle", validate.Pass, "ssoSessionIdleTimeout 900 s")
	wantStatus(t, rs, "identity-fineract-accepts", validate.Pass, "200 for mifos")
	if t.Failed() {
		s.DumpLogs(t, 30)
	}
}

// TestIdentityChecksFailOnABrokenSetup breaks what each check is about:
// the realm idles sessions out after 30 minutes, Fineract expects another
// issuer, and (in a second stack) Keycloak announces another issuer.
func TestIdentityChecksFailOnABrokenSetup(t *testing.T) {
	t.Parallel()
	t.Run("realm and Fineract", func(t *testing.T) {
		t.Parallel()
		s := identityStack(t, func(s *Stack) {
			editFile(t, s, "config/keycloak/realm-fineract.json", `"ssoSessionIdleTimeout": 900`, `"ssoSessionIdleTimeout": 1800`)
			issuer := assets.IssuerURL(s.Answers)
			editFile(t, s, s.Bundle.ComposeFile, "FINERACT_SERVER_OAUTH_RESOURCE_URL: "+issuer, "FINERACT_SERVER_OAUTH_RESOURCE_URL: https://sso.example.test/auth/realms/fineract")
		})
		rs := runIdentityChecks(t, s)
		wantStatus(t, rs, "identity-discovery", validate.Pass, "issuer")
		wantStatus(t, rs, "identity-session-idle", validate.Fail, "1800 s")
		wantStatus(t, rs, "identity-fineract-accepts", validate.Fail, "Fineract answered 401")
	})
	t.Run("Keycloak hostname", func(t *testing.T) {
		t.Parallel()
		s := identityStack(t, func(s *Stack) {
			editFile(t, s, s.Bundle.ComposeFile, "KC_HOSTNAME: "+assets.PublicURL(s.Answers)+"/auth", "KC_HOSTNAME: https://sso.example.test/auth")
		})
		rs := runIdentityChecks(t, s)
		wantStatus(t, rs, "identity-discovery", validate.Fail, `issuer "https://sso.example.test/auth/realms/fineract"`)
	})
	t.Run("admin console through the gateway", func(t *testing.T) {
		t.Parallel()
		// The gateway as it was first written: everything under /auth/admin/
		// and every realm passed on to Keycloak.
		s := identityStack(t, func(s *Stack) {
			editFile(t, s, "config/gateway/nginx.conf", "        location /auth/ {\n            return 404;\n        }",
				"        location /auth/ {\n            set $upstream https://keycloak:8443;\n            proxy_ssl_name keycloak;\n            proxy_pass $upstream;\n        }")
		})
		rs := runIdentityChecks(t, s)
		wantStatus(t, rs, "identity-admin-private", validate.Fail, "/auth/admin/realms/fineract answered 401")
		wantStatus(t, rs, "identity-discovery", validate.Pass, "issuer")
	})
}

// envSetting reads one `window['env']['key'] = "value";` of env.js.
func envSetting(t *testing.T, js []byte, key string) string {
	t.Helper()
	m := regexp.MustCompile(`window\['env'\]\['` + regexp.QuoteMeta(key) + `'\] = (.+);`).FindSubmatch(js)
	if m == nil {
		t.Fatalf("env.js has no %s", key)
	}
	lit := string(m[1])
	if strings.HasPrefix(lit, "'") {
		return strings.Trim(lit, "'")
	}
	var v string
	if err := json.Unmarshal([]byte(lit), &v); err != nil {
		return lit // a boolean
	}
	return v
}

// TestWebAppSignInThroughKeycloak is the sign-in proof: through the
// gateway only, it does what the pinned web app does in its OAuth2 mode
// with the settings it serves in env.js: the authorization code flow with
// PKCE at Keycloak (login form posted as a browser posts it), the code
// exchanged at the token endpoint, then Fineract's GET /userdetails and an
// API call with the bearer token. A token with a forged signature is
// refused.
func TestWebAppSignInThroughKeycloak(t *testing.T) {
	t.Parallel()
	s := identityStack(t, nil)
	public := assets.PublicURL(s.Answers)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Answers.Gateway.HTTPSPort))
	c := httpsClient(s, s.Answers.Host.Hostname, addr)

	get := func(u, bearer string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		req.Header.Set("Fineract-Platform-TenantId", "default")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, body
	}
	code, js := get(public+"/assets/env.js", "")
	if code != http.StatusOK {
		t.Fatalf("GET /assets/env.js: %d", code)
	}
	if envSetting(t, js, "oauthServerEnabled") != "true" || envSetting(t, js, "oidcServerEnabled") != "false" {
		t.Fatal("env.js does not put the web app in its OAuth2 mode")
	}

	// A user in Keycloak for Fineract's default administrator, made through
	// the admin API with the bootstrap admin's delivered password.
	// Administrators reach Keycloak on its internal address: the gateway
	// does not serve the admin API or the master realm.
	internal := httpsClient(s, "keycloak", "")
	const kc = "https://keycloak:8443/auth"
	admin := adminToken(t, internal, kc, s.VaultValue(t, assets.KeycloakAdminVaultPath, assets.KeycloakAdminVaultKey))
	const password = "Lab-signin-proof-1"
	user := `{"username":"mifos","enabled":true,"firstName":"Lab","lastName":"Proof","email":"mifos@lab.invalid","emailVerified":true,` +
		`"credentials":[{"type":"password","value":"` + password + `","temporary":false}]}`
	req, _ := http.NewRequest(http.MethodPost, kc+"/admin/realms/fineract/users", strings.NewReader(user))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := internal.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create the user: %d", resp.StatusCode)
	}

	browser := signin.Client{HTTP: c,
		AuthorizeURL: envSetting(t, js, "oauthAuthorizeUrl"), TokenURL: envSetting(t, js, "oauthTokenUrl"),
		ClientID: envSetting(t, js, "oauthAppId"), RedirectURI: envSetting(t, js, "oauthRedirectUri"), Scope: envSetting(t, js, "oauthScope")}
	if _, err := browser.SignIn(context.Background(), "mifos", "Wrong-password-1"); signin.ErrStep(err) != signin.StepLogin {
		t.Fatalf("a wrong password: %v, want a refusal at the login form", err)
	}
	tok, err := browser.SignIn(context.Background(), "mifos", password)
	if err != nil {
		s.DumpLogs(t, 30)
		t.Fatalf("sign-in: %v", err)
	}

	code, body := get(public+"/fineract-provider/api/v1/userdetails", tok.AccessToken)
	var details struct {
		Username      string   `json:"username"`
		Authenticated bool     `json:"authenticated"`
		AccessToken   string   `json:"accessToken"`
		Permissions   []string `json:"permissions"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &details) != nil || details.Username != "mifos" || !details.Authenticated || details.AccessToken != tok.AccessToken {
		s.DumpLogs(t, 30)
		t.Fatalf("GET /userdetails with the token: %d %.300s", code, body)
	}
	if code, body := get(public+"/fineract-provider/api/v1/lab/rows", tok.AccessToken); code != http.StatusOK {
		t.Fatalf("API call with the token: %d %.300s", code, body)
	}
	parts := strings.Split(tok.AccessToken, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[0] ^= 1
	forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	if code, _ := get(public+"/fineract-provider/api/v1/lab/rows", forged); code != http.StatusUnauthorized {
		t.Errorf("a token with a forged signature got %d, want 401", code)
	}
	if code, _ := get(public+"/fineract-provider/api/v1/lab/rows", ""); code != http.StatusUnauthorized {
		t.Errorf("no token got %d, want 401", code)
	}
}

func adminToken(t *testing.T, c *http.Client, base, password string) string {
	t.Helper()
	form := "grant_type=password&client_id=admin-cli&username=admin&password=" + password
	resp, err := c.Post(base+"/realms/master/protocol/openid-connect/token", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok signin.Token
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&tok) != nil || tok.AccessToken == "" {
		t.Fatalf("admin token: %d", resp.StatusCode)
	}
	return tok.AccessToken
}
