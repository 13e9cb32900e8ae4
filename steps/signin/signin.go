// Package signin signs in to the Mifos X web app's Keycloak client the way
// a browser running the web app does in its OAuth2 mode: the authorization
// code flow with PKCE (S256) against the realm's authorization endpoint,
// the login form filled in and posted with the session cookies, the code
// taken from the redirect and exchanged at the token endpoint. The
// validation checks and the lab's sign-in proof use it; it holds no
// credentials of its own.
package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"

	"github.com/fineract-installer/fineract-installer/steps/ratelimit"
)

// Client is what the flow needs to know about the OAuth2 client and the
// realm.
type Client struct {
	// HTTP sends the requests (TLS verified by the caller's transport); its
	// jar and redirect policy are replaced for the flow.
	HTTP *http.Client
	// AuthorizeURL, TokenURL: the realm's endpoints.
	AuthorizeURL, TokenURL string
	ClientID, RedirectURI  string
	Scope                  string
}

// Token is the token endpoint's answer.
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// Step names the part of the flow an error comes from.
type Step string

// The steps of the flow.
const (
	StepAuthorize Step = "authorization request"
	StepLogin     Step = "login form"
	StepRedirect  Step = "redirect back to the web app"
	StepToken     Step = "token request"
)

// Error is a failed step with what the server answered.
type Error struct {
	Step   Step
	Status int
	Detail string
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s: HTTP %d: %s", e.Step, e.Status, e.Detail)
	}
	return fmt.Sprintf("%s: %s", e.Step, e.Detail)
}

// formAction finds the login form's action (Keycloak's login theme:
// <form id="kc-form-login" ... action="...">).
var formAction = regexp.MustCompile(`(?s)<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"|<form[^>]*action="([^"]+)"[^>]*id="kc-form-login"`)

// maxBody bounds what is read of any answer.
const maxBody = 256 << 10

func random() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// SignIn runs the flow for one user and returns the access token.
func (c Client) SignIn(ctx context.Context, username, password string) (Token, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return Token{}, err
	}
	// Waits out the gateway's sign-in rate limit, as a person would.
	hc := *ratelimit.Client(c.HTTP)
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	verifier, err := random()
	if err != nil {
		return Token{}, err
	}
	state, err := random()
	if err != nil {
		return Token{}, err
	}
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id":             {c.ClientID},
		"redirect_uri":          {c.RedirectURI},
		"response_type":         {"code"},
		"scope":                 {c.Scope},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	status, body, _, err := do(ctx, &hc, http.MethodGet, c.AuthorizeURL+"?"+q.Encode(), nil)
	if err != nil {
		return Token{}, &Error{Step: StepAuthorize, Detail: err.Error()}
	}
	if status != http.StatusOK {
		return Token{}, &Error{Step: StepAuthorize, Status: status, Detail: snippet(body)}
	}
	m := formAction.FindSubmatch(body)
	if m == nil {
		return Token{}, &Error{Step: StepAuthorize, Status: status, Detail: "the answer has no login form (kc-form-login)"}
	}
	action := html.UnescapeString(string(m[1]) + string(m[2]))
	// The password goes only where the authorization request went.
	au, _ := url.Parse(c.AuthorizeURL)
	if fu, err := url.Parse(action); err != nil || fu.Scheme != "https" || au == nil || fu.Host != au.Host {
		return Token{}, &Error{Step: StepLogin, Detail: fmt.Sprintf("the login form posts to %q, not to %s over https", action, au.Host)}
	}

	form := url.Values{"username": {username}, "password": {password}, "credentialId": {""}}
	status, body, loc, err := do(ctx, &hc, http.MethodPost, action, form)
	if err != nil {
		return Token{}, &Error{Step: StepLogin, Detail: err.Error()}
	}
	if status != http.StatusFound && status != http.StatusSeeOther {
		return Token{}, &Error{Step: StepLogin, Status: status, Detail: "no redirect after the login form (wrong credentials, or a required action such as a profile update): " + snippet(body)}
	}
	back, err := url.Parse(loc)
	if err != nil {
		return Token{}, &Error{Step: StepRedirect, Detail: fmt.Sprintf("bad Location %q", loc)}
	}
	if base := strings.SplitN(loc, "?", 2)[0]; base != c.RedirectURI {
		return Token{}, &Error{Step: StepRedirect, Detail: fmt.Sprintf("redirected to %q, not the web app's %q", base, c.RedirectURI)}
	}
	bq := back.Query()
	if e := bq.Get("error"); e != "" {
		return Token{}, &Error{Step: StepRedirect, Detail: e + ": " + bq.Get("error_description")}
	}
	if bq.Get("state") != state {
		return Token{}, &Error{Step: StepRedirect, Detail: "the state parameter came back changed"}
	}
	code := bq.Get("code")
	if code == "" {
		return Token{}, &Error{Step: StepRedirect, Detail: "no code in the redirect"}
	}

	form = url.Values{
		"grant_type":    {"authorization_code"},
		"client_id":     {c.ClientID},
		"code":          {code},
		"redirect_uri":  {c.RedirectURI},
		"code_verifier": {verifier},
	}
	status, body, _, err = do(ctx, &hc, http.MethodPost, c.TokenURL, form)
	if err != nil {
		return Token{}, &Error{Step: StepToken, Detail: err.Error()}
	}
	if status != http.StatusOK {
		return Token{}, &Error{Step: StepToken, Status: status, Detail: snippet(body)}
	}
	var tok Token
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return Token{}, &Error{Step: StepToken, Status: status, Detail: "the answer holds no access_token"}
	}
	if !strings.EqualFold(tok.TokenType, "Bearer") {
		return Token{}, &Error{Step: StepToken, Status: status, Detail: fmt.Sprintf("token_type %q, want Bearer", tok.TokenType)}
	}
	return tok, nil
}

func do(ctx context.Context, hc *http.Client, method, u string, form url.Values) (int, []byte, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, "", err
	}
	return resp.StatusCode, data, resp.Header.Get("Location"), nil
}

// snippet is the start of an answer, for messages; it never holds a token
// (the callers show it only for failed steps).
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// ErrStep returns the failed step of an error from SignIn.
func ErrStep(err error) Step {
	var e *Error
	if errors.As(err, &e) {
		return e.Step
	}
	return ""
}
