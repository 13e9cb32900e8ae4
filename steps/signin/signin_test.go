package signin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestPasswordGoesOnlyToTheAuthorizationServer: a login page whose form
// posts to another host does not get the password; the flow stops at the
// login form.
func TestPasswordGoesOnlyToTheAuthorizationServer(t *testing.T) {
	var stolen atomic.Int32
	elsewhere := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { stolen.Add(1) }))
	defer elsewhere.Close()
	idp := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`<form id="kc-form-login" action="` + elsewhere.URL + `/login" method="post"></form>`))
	}))
	defer idp.Close()
	c := Client{HTTP: idp.Client(), AuthorizeURL: idp.URL + "/auth", TokenURL: idp.URL + "/token", ClientID: "web-app", RedirectURI: "https://app/callback"}
	_, err := c.SignIn(context.Background(), "mifos", "secret")
	if ErrStep(err) != StepLogin || stolen.Load() != 0 {
		t.Fatalf("err %v (step %q), requests elsewhere %d", err, ErrStep(err), stolen.Load())
	}
}

// TestRedirectMustComeBackToTheWebApp: a code sent anywhere but the
// client's redirect URI, or with another state, is not used.
func TestRedirectMustComeBackToTheWebApp(t *testing.T) {
	for name, loc := range map[string]string{
		"another redirect URI": "https://evil.example/callback?code=abc&state=",
		"another state":        "https://app/callback?code=abc&state=forged",
	} {
		var srv *httptest.Server
		var tokenCalls atomic.Int32
		srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/auth":
				_, _ = w.Write([]byte(`<form id="kc-form-login" action="` + srv.URL + `/login" method="post"></form>`))
			case "/login":
				http.Redirect(w, r, loc, http.StatusFound)
			default:
				tokenCalls.Add(1)
			}
		}))
		c := Client{HTTP: srv.Client(), AuthorizeURL: srv.URL + "/auth", TokenURL: srv.URL + "/token", ClientID: "web-app", RedirectURI: "https://app/callback"}
		_, err := c.SignIn(context.Background(), "mifos", "secret")
		if ErrStep(err) != StepRedirect || tokenCalls.Load() != 0 {
			t.Errorf("%s: err %v, token requests %d", name, err, tokenCalls.Load())
		}
		srv.Close()
	}
}
