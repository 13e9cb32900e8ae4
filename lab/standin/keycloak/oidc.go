package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// server serves the OIDC endpoints, the login form and the admin API.
type server struct {
	cfg config
	st  *store
	log *logger

	mu       sync.Mutex
	pending  map[string]*authRequest // by auth session id (cookie AUTH_SESSION_ID)
	codes    map[string]*codeGrant
	sessions map[string]*ssoSession
}

// authRequest is an authorization request waiting for the login form.
type authRequest struct {
	Realm, ClientID, RedirectURI, State, Nonce, Scope string
	Challenge                                         string
	Created                                           time.Time
}

type codeGrant struct {
	Req     authRequest
	Session string
	Expires time.Time
}

// ssoSession is a user session; it ends when idle longer than the realm's
// ssoSessionIdleTimeout or older than its ssoSessionMaxLifespan.
type ssoSession struct {
	ID, Realm, UserID string
	Started, LastSeen time.Time
}

func newServer(cfg config, st *store, log *logger) *server {
	return &server{cfg: cfg, st: st, log: log, pending: map[string]*authRequest{},
		codes: map[string]*codeGrant{}, sessions: map[string]*ssoSession{}}
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	p := s.cfg.RelativePath
	mux.HandleFunc("GET "+p+"/realms/{realm}/.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET "+p+"/realms/{realm}/protocol/openid-connect/certs", s.jwks)
	mux.HandleFunc("GET "+p+"/realms/{realm}/protocol/openid-connect/auth", s.authorize)
	mux.HandleFunc("POST "+p+"/realms/{realm}/login-actions/authenticate", s.login)
	mux.HandleFunc("POST "+p+"/realms/{realm}/protocol/openid-connect/token", s.token)
	mux.HandleFunc("GET "+p+"/realms/{realm}/protocol/openid-connect/userinfo", s.userinfo)
	mux.HandleFunc("GET "+p+"/admin/realms/{realm}", s.adminRealm)
	mux.HandleFunc("GET "+p+"/admin/realms/{realm}/users", s.adminFindUsers)
	mux.HandleFunc("POST "+p+"/admin/realms/{realm}/users", s.adminCreateUser)
	mux.HandleFunc("DELETE "+p+"/admin/realms/{realm}/users/{id}", s.adminDeleteUser)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Keycloak-Standin", "lab")
		mux.ServeHTTP(w, r)
	})
}

// management serves the health endpoints on the management port, and
// /metrics when metrics are enabled (Keycloak serves its Micrometer metrics
// there in Prometheus' text format; the stand-in has only a few of its own).
func (s *server) management() http.Handler {
	mux := http.NewServeMux()
	p := s.cfg.ManagementPath
	if s.cfg.MetricsEnabled {
		started := time.Now()
		mux.HandleFunc(p+"/metrics", func(w http.ResponseWriter, _ *http.Request) {
			s.mu.Lock()
			pending, sessions := len(s.pending), len(s.sessions)
			s.mu.Unlock()
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			fmt.Fprintf(w, "# HELP process_start_time_seconds Start time of the process since unix epoch.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %d\n", started.Unix())
			fmt.Fprintf(w, "# HELP keycloak_standin_sessions Sign-in sessions the lab stand-in holds.\n# TYPE keycloak_standin_sessions gauge\nkeycloak_standin_sessions{state=\"pending\"} %d\nkeycloak_standin_sessions{state=\"sso\"} %d\n", pending, sessions)
		})
	}
	mux.HandleFunc(p+"/health/live", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "UP", "checks": []any{}})
	})
	mux.HandleFunc(p+"/health/ready", func(w http.ResponseWriter, r *http.Request) {
		if err := s.st.ready(r.Context()); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "DOWN"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "UP", "checks": []any{map[string]any{"name": "Keycloak database connections health check", "status": "UP"}}})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError is an OAuth 2.0 error response (RFC 6749 section 5.2).
func oauthError(w http.ResponseWriter, code int, kind, desc string) {
	writeJSON(w, code, map[string]string{"error": kind, "error_description": desc})
}

func (s *server) realmOf(w http.ResponseWriter, r *http.Request) (*realm, bool) {
	rl, err := s.st.realm(r.Context(), r.PathValue("realm"))
	if errors.Is(err, errNotFound) || (err == nil && !rl.Enabled) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Realm does not exist"})
		return nil, false
	}
	if err != nil {
		s.log.Warn("database: " + err.Error())
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "unknown_error"})
		return nil, false
	}
	return rl, true
}

func (s *server) discovery(w http.ResponseWriter, r *http.Request) {
	rl, ok := s.realmOf(w, r)
	if !ok {
		return
	}
	iss := s.cfg.issuer(rl.Name)
	oc := iss + "/protocol/openid-connect"
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                oc + "/auth",
		"token_endpoint":                        oc + "/token",
		"userinfo_endpoint":                     oc + "/userinfo",
		"end_session_endpoint":                  oc + "/logout",
		"jwks_uri":                              oc + "/certs",
		"grant_types_supported":                 []string{"authorization_code", "password"},
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"none"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
	})
}

// keyID is the key's id in the JWKS and in token headers.
func keyID(k *rsa.PublicKey) string {
	sum := sha256.Sum256(k.N.Bytes())
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

func (s *server) jwks(w http.ResponseWriter, r *http.Request) {
	rl, ok := s.realmOf(w, r)
	if !ok {
		return
	}
	pub := &rl.Key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []any{map[string]string{
		"kid": keyID(pub), "kty": "RSA", "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func randomID() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authError shows an error page: Keycloak never redirects to a redirect
// URI it has not validated.
func authError(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorPage.Execute(w, msg)
}

var errorPage = template.Must(template.New("e").Parse(`<!DOCTYPE html><html><head><title>Error</title></head><body><p id="error">{{.}}</p><p>Keycloak stand-in (lab)</p></body></html>`))

var loginPage = template.Must(template.New("l").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign in to {{.Realm}}</title></head>
<body><!-- Keycloak stand-in (lab): not Keycloak's login theme -->
<h1>Sign in to your account</h1>
{{if .Error}}<p id="input-error">{{.Error}}</p>{{end}}
<form id="kc-form-login" action="{{.Action}}" method="post">
<label for="username">Username</label><input id="username" name="username" type="text" autocomplete="username">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">
<input type="hidden" id="id-hidden-input" name="credentialId" value="">
<input type="submit" id="kc-login" name="login" value="Sign In">
</form></body></html>`))

// authorize is the authorization endpoint: code flow only, PKCE S256 when
// the client requires it, exact redirect URIs.
func (s *server) authorize(w http.ResponseWriter, r *http.Request) {
	rl, ok := s.realmOf(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	cl, ok := rl.client(q.Get("client_id"))
	if !ok {
		authError(w, "Client not found.")
		return
	}
	redirect := q.Get("redirect_uri")
	if !exactMatch(cl.RedirectURIs, redirect) {
		authError(w, "Invalid parameter: redirect_uri")
		return
	}
	back := func(kind, desc string) {
		u, _ := url.Parse(redirect)
		v := u.Query()
		v.Set("error", kind)
		v.Set("error_description", desc)
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	if q.Get("response_type") != "code" || !cl.standardFlow() {
		back("unsupported_response_type", "Client is not allowed to initiate browser login with given response_type.")
		return
	}
	method := cl.Attributes["pkce.code.challenge.method"]
	challenge := q.Get("code_challenge")
	switch {
	case method != "" && challenge == "":
		back("invalid_request", "Missing parameter: code_challenge_method")
		return
	case challenge != "" && q.Get("code_challenge_method") != "S256":
		back("invalid_request", "Invalid parameter: code challenge method is not matching the configured one")
		return
	}
	req := &authRequest{Realm: rl.Name, ClientID: cl.ClientID, RedirectURI: redirect, State: q.Get("state"),
		Nonce: q.Get("nonce"), Scope: q.Get("scope"), Challenge: challenge, Created: time.Now()}
	id := randomID()
	s.mu.Lock()
	s.pending[id] = req
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "AUTH_SESSION_ID", Value: id, Path: s.cfg.RelativePath + "/realms/" + rl.Name + "/",
		Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
	s.showLogin(w, rl.Name, id, "", http.StatusOK)
}

func (s *server) showLogin(w http.ResponseWriter, realmName, sessionID, msg string, code int) {
	action := s.cfg.Hostname + "/realms/" + realmName + "/login-actions/authenticate?" +
		url.Values{"session_code": {randomID()}, "tab_id": {sessionID[:11]}}.Encode()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = loginPage.Execute(w, map[string]string{"Realm": realmName, "Action": action, "Error": msg})
}

func exactMatch(list []string, v string) bool {
	for _, x := range list {
		if x == v && !strings.Contains(x, "*") {
			return true
		}
	}
	return false
}

// login takes the login form, checks the password and redirects back to
// the client with a code.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	rl, ok := s.realmOf(w, r)
	if !ok {
		return
	}
	c, err := r.Cookie("AUTH_SESSION_ID")
	s.mu.Lock()
	var req *authRequest
	if err == nil {
		req = s.pending[c.Value]
	}
	s.mu.Unlock()
	if req == nil || req.Realm != rl.Name || time.Since(req.Created) > 30*time.Minute {
		authError(w, "Your login attempt timed out. Login will start from the beginning.")
		return
	}
	u, err := s.st.userBy(r.Context(), rl.Name, "username", strings.ToLower(r.PostFormValue("username")))
	if err != nil || !u.Enabled || !u.checkPassword(r.PostFormValue("password")) {
		s.log.Warn("type=LOGIN_ERROR, realmName=" + rl.Name + ", clientId=" + req.ClientID + ", error=invalid_user_credentials")
		s.showLogin(w, rl.Name, c.Value, "Invalid username or password.", http.StatusOK)
		return
	}
	sess := &ssoSession{ID: newUUID(), Realm: rl.Name, UserID: u.ID, Started: time.Now(), LastSeen: time.Now()}
	code := randomID()
	s.mu.Lock()
	delete(s.pending, c.Value)
	s.sessions[sess.ID] = sess
	s.codes[code] = &codeGrant{Req: *req, Session: sess.ID, Expires: time.Now().Add(time.Minute)}
	s.mu.Unlock()
	s.log.Info("type=LOGIN, realmName=" + rl.Name + ", clientId=" + req.ClientID + ", userId=" + u.ID)
	back, _ := url.Parse(req.RedirectURI)
	v := back.Query()
	if req.State != "" {
		v.Set("state", req.State)
	}
	v.Set("session_state", sess.ID)
	v.Set("iss", s.cfg.issuer(rl.Name))
	v.Set("code", code)
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// liveSession returns a session that has not timed out, and touches it.
func (s *server) liveSession(rl *realm, id string) (*ssoSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[id]
	if sess == nil || sess.Realm != rl.Name {
		return nil, false
	}
	now := time.Now()
	if now.Sub(sess.LastSeen) > time.Duration(rl.SSOSessionIdleTimeout)*time.Second ||
		now.Sub(sess.Started) > time.Duration(rl.SSOSessionMaxLifespan)*time.Second {
		delete(s.sessions, id)
		return nil, false
	}
	sess.LastSeen = now
	return sess, true
}

func (s *server) token(w http.ResponseWriter, r *http.Request) {
	rl, ok := s.realmOf(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	cl, ok := rl.client(r.PostForm.Get("client_id"))
	if !ok || !cl.PublicClient {
		oauthError(w, http.StatusUnauthorized, "unauthorized_client", "Invalid client or Invalid client credentials")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		s.mu.Lock()
		g := s.codes[r.PostForm.Get("code")]
		delete(s.codes, r.PostForm.Get("code")) // a code is used once
		s.mu.Unlock()
		if g == nil || time.Now().After(g.Expires) || g.Req.ClientID != cl.ClientID || g.Req.Realm != rl.Name {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Code not valid")
			return
		}
		if r.PostForm.Get("redirect_uri") != g.Req.RedirectURI {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Incorrect redirect_uri")
			return
		}
		if g.Req.Challenge != "" {
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			if base64.RawURLEncoding.EncodeToString(sum[:]) != g.Req.Challenge {
				oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed: Invalid code verifier")
				return
			}
		}
		sess, ok := s.liveSession(rl, g.Session)
		if !ok {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Session not active")
			return
		}
		s.issue(w, r, rl, cl, sess, g.Req.Scope)
	case "password":
		if !cl.DirectAccessGrantsEnabled {
			oauthError(w, http.StatusBadRequest, "unauthorized_client", "Client not allowed for direct access grants")
			return
		}
		u, err := s.st.userBy(r.Context(), rl.Name, "username", strings.ToLower(r.PostForm.Get("username")))
		if err != nil || !u.Enabled || !u.checkPassword(r.PostForm.Get("password")) {
			oauthError(w, http.StatusUnauthorized, "invalid_grant", "Invalid user credentials")
			return
		}
		sess := &ssoSession{ID: newUUID(), Realm: rl.Name, UserID: u.ID, Started: time.Now(), LastSeen: time.Now()}
		s.mu.Lock()
		s.sessions[sess.ID] = sess
		s.mu.Unlock()
		s.issue(w, r, rl, cl, sess, r.PostForm.Get("scope"))
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant_type")
	}
}

// issue answers with an access token signed with the realm's key.
func (s *server) issue(w http.ResponseWriter, r *http.Request, rl *realm, cl client, sess *ssoSession, scope string) {
	u, err := s.st.userBy(r.Context(), rl.Name, "id", sess.UserID)
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "User not found")
		return
	}
	now := time.Now().Unix()
	life := int64(rl.AccessTokenLifespan)
	if life <= 0 {
		life = 300
	}
	sub := u.ID
	if cl.subjectIsUsername() {
		sub = u.Username
	}
	scopes := []string{"profile", "email"}
	if strings.Contains(" "+scope+" ", " openid ") {
		scopes = append([]string{"openid"}, scopes...)
	}
	claims := map[string]any{
		"exp": now + life, "iat": now, "jti": newUUID(), "iss": s.cfg.issuer(rl.Name),
		"sub": sub, "typ": "Bearer", "azp": cl.ClientID, "sid": sess.ID,
		"scope": strings.Join(scopes, " "), "preferred_username": u.Username,
	}
	tok, err := signJWT(rl.Key, claims)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "signing failed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "expires_in": life, "token_type": "Bearer",
		"refresh_expires_in": rl.SSOSessionIdleTimeout, "session_state": sess.ID,
		"scope": strings.Join(scopes, " "), "not-before-policy": 0,
	})
}

func signJWT(key *rsa.PrivateKey, claims map[string]any) (string, error) {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": keyID(&key.PublicKey)})
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// bearer verifies a bearer token of realm rl (signature, issuer, expiry)
// and returns its claims.
func (s *server) bearer(r *http.Request, rl *realm) (map[string]any, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, false
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&rl.Key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var c map[string]any
	if json.Unmarshal(payload, &c) != nil || c["iss"] != s.cfg.issuer(rl.Name) {
		return nil, false
	}
	exp, _ := c["exp"].(float64)
	if int64(exp) < time.Now().Unix() {
		return nil, false
	}
	return c, true
}

func (s *server) userinfo(w http.ResponseWriter, r *http.Request) {
	rl, ok := s.realmOf(w, r)
	if !ok {
		return
	}
	c, ok := s.bearer(r, rl)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+rl.Name+`", error="invalid_token"`)
		oauthError(w, http.StatusUnauthorized, "invalid_token", "Token verification failed")
		return
	}
	// userinfo's sub is Keycloak's user id: the realm's username mapper
	// feeds the access token only.
	name, _ := c["preferred_username"].(string)
	u, err := s.st.userBy(r.Context(), rl.Name, "username", name)
	if err != nil {
		oauthError(w, http.StatusUnauthorized, "invalid_token", "User not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sub": u.ID, "preferred_username": u.Username})
}
