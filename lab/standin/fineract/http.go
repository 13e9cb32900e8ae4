package main

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// Fineract's documented default user of a fresh installation.
const (
	defaultUser     = "mifos"
	defaultPassword = "password"
	tenantHeader    = "Fineract-Platform-TenantId"
)

type server struct {
	cfg      config
	oauth    *verifier // set when OAuth is on
	db       *database
	log      *logger
	requests atomic.Int64
	healthUp atomic.Bool
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	p := s.cfg.ContextPath
	mux.HandleFunc("GET "+p+"/actuator/health", s.health)
	mux.HandleFunc("GET "+p+"/actuator/health/readiness", s.health)
	mux.HandleFunc("GET "+p+"/actuator/health/liveness", s.liveness)
	mux.HandleFunc("GET "+p+"/actuator/info", s.info)
	mux.HandleFunc("GET "+p+"/actuator/prometheus", s.prometheus)
	mux.HandleFunc(p+"/api/", s.api)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"status": 404, "error": "Not Found", "path": r.URL.Path})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		w.Header().Set("X-Fineract-Standin", "lab")
		mux.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// health is Spring Boot's actuator health with the liveness and readiness
// groups enabled: UP only when both databases answer, else DOWN with 503.
func (s *server) health(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.exposed("health") {
		http.NotFound(w, r)
		return
	}
	err := s.db.health(r.Context())
	up := err == nil
	if s.healthUp.Swap(up) != up {
		if up {
			s.log.Info("health UP")
		} else {
			s.log.Warn("health DOWN: " + err.Error())
		}
	}
	body := map[string]any{"status": "UP"}
	if r.URL.Path == s.cfg.ContextPath+"/actuator/health" {
		body["groups"] = []string{"liveness", "readiness"}
	}
	if !up {
		body["status"] = "DOWN"
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *server) liveness(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.exposed("health") {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "UP"})
}

func (s *server) info(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.exposed("info") {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"app": map[string]string{
		"name": "fineract-standin", "description": "lab stand-in for Apache Fineract (not Fineract)",
	}})
}

// prometheus serves a few gauges in the Prometheus text format when
// Fineract would (the endpoint exposed and the registry enabled), so a
// scrape of the stand-in behaves like a scrape of Fineract.
func (s *server) prometheus(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.exposed("prometheus") || !s.cfg.PrometheusOn {
		http.NotFound(w, r)
		return
	}
	up := 0
	if s.db.health(r.Context()) == nil {
		up = 1
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	var b strings.Builder
	fmt.Fprintf(&b, "# HELP fineract_standin_health_up 1 when the actuator health is UP.\n# TYPE fineract_standin_health_up gauge\nfineract_standin_health_up %d\n", up)
	fmt.Fprintf(&b, "# HELP fineract_standin_http_requests_total HTTP requests served.\n# TYPE fineract_standin_http_requests_total counter\nfineract_standin_http_requests_total %d\n", s.requests.Load())
	b.WriteString("# HELP hikaricp_connections_active Active connections.\n# TYPE hikaricp_connections_active gauge\n")
	fmt.Fprintf(&b, "hikaricp_connections_active{pool=\"tenant-store\"} %d\n", s.db.store.Stat().AcquiredConns())
	fmt.Fprintf(&b, "hikaricp_connections_active{pool=\"%s\"} %d\n", s.cfg.Tenant.Identifier, s.db.tenant.Stat().AcquiredConns())
	_, _ = io.WriteString(w, b.String())
}

// apiError is Fineract's error body.
func apiError(w http.ResponseWriter, code int, user, developer string) {
	writeJSON(w, code, map[string]any{
		"developerMessage":   developer,
		"httpStatusCode":     strconv.Itoa(code),
		"defaultUserMessage": user,
		"errors":             []any{},
	})
}

// api serves the few Fineract API calls the stand-in has. Like Fineract it
// first needs the tenant (header or tenantIdentifier parameter), then
// authentication.
func (s *server) api(w http.ResponseWriter, r *http.Request) {
	tenant := r.Header.Get(tenantHeader)
	if tenant == "" {
		tenant = r.URL.Query().Get("tenantIdentifier")
	}
	if tenant == "" {
		apiError(w, http.StatusBadRequest, "No tenant identifier found.",
			"No tenant identifier found: Add request header of '"+tenantHeader+"' or add the parameter 'tenantIdentifier' to query string of request URL.")
		return
	}
	if tenant != s.cfg.Tenant.Identifier {
		apiError(w, http.StatusUnauthorized, "Invalid tenant identifier.", "The tenant identifier "+strconv.Quote(tenant)+" is not known.")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, s.cfg.ContextPath+"/api/v1")
	if path == "/authentication" && r.Method == http.MethodPost {
		s.authenticate(w, r)
		return
	}
	user, ok := s.authorized(r)
	if !ok {
		if s.cfg.BasicAuth {
			w.Header().Set("WWW-Authenticate", `Basic realm="Fineract Platform API"`)
		}
		apiError(w, http.StatusUnauthorized, "Unauthenticated. Please login.", "Invalid authentication details were passed in api request.")
		return
	}
	if path == "/userdetails" && r.Method == http.MethodGet && s.cfg.OAuth {
		writeJSON(w, http.StatusOK, userDetails(user.name, user.scopes, user.token))
		return
	}
	if !s.db.ready.Load() {
		apiError(w, http.StatusServiceUnavailable, "Service unavailable.", "The database is not ready.")
		return
	}
	switch {
	case path == "/lab/rows" && r.Method == http.MethodGet:
		rows, err := s.db.listRows(r.Context())
		if err != nil {
			s.dbError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, rows)
	case path == "/lab/rows" && r.Method == http.MethodPost:
		var body struct {
			Note string `json:"note"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || strings.TrimSpace(body.Note) == "" {
			apiError(w, http.StatusBadRequest, "The request body must be JSON with a non-empty note.", "validation.msg.lab.rows.note.cannot.be.blank")
			return
		}
		id, err := s.db.insertRow(r.Context(), body.Note)
		if err != nil {
			s.dbError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int64{"resourceId": id})
	case strings.HasPrefix(path, "/lab/rows/") && r.Method == http.MethodGet:
		id, err := strconv.ParseInt(strings.TrimPrefix(path, "/lab/rows/"), 10, 64)
		if err != nil {
			apiError(w, http.StatusNotFound, "Not found.", "error.msg.resource.not.found")
			return
		}
		x, err := s.db.getRow(r.Context(), id)
		if errors.Is(err, pgx.ErrNoRows) {
			apiError(w, http.StatusNotFound, "Row "+strconv.FormatInt(id, 10)+" does not exist.", "error.msg.lab.row.id.invalid")
			return
		}
		if err != nil {
			s.dbError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, x)
	default:
		apiError(w, http.StatusNotFound, "The requested resource is not available in the Fineract stand-in.", "error.msg.resource.not.found")
	}
}

func (s *server) dbError(w http.ResponseWriter, err error) {
	s.log.Warn("database error: " + err.Error())
	code := http.StatusInternalServerError
	if errors.Is(err, context.DeadlineExceeded) {
		code = http.StatusServiceUnavailable
	}
	apiError(w, code, "A database error occurred.", "error.msg.database")
}

func credentialsMatch(user, password string) bool {
	u := subtle.ConstantTimeCompare([]byte(user), []byte(defaultUser))
	p := subtle.ConstantTimeCompare([]byte(password), []byte(defaultPassword))
	return u&p == 1
}

// principal is an authenticated caller.
type principal struct {
	name   string
	scopes []string
	token  string
}

// authorized authenticates a request the way the enabled security
// configuration does: basic authentication, or a bearer token (oauth.go).
func (s *server) authorized(r *http.Request) (principal, bool) {
	if s.cfg.OAuth {
		name, scopes, tok, ok := s.bearerUser(r)
		return principal{name: name, scopes: scopes, token: tok}, ok
	}
	if !s.cfg.BasicAuth {
		return principal{}, false
	}
	user, password, ok := r.BasicAuth()
	if !ok || !credentialsMatch(user, password) {
		return principal{}, false
	}
	return principal{name: user}, true
}

// authenticate is POST /api/v1/authentication: Fineract answers with the
// base64 key clients then send as "Authorization: Basic <key>".
func (s *server) authenticate(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.BasicAuth {
		apiError(w, http.StatusUnauthorized, "Unauthenticated. Please login.", "Basic authentication is disabled.")
		return
	}
	var body struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	_ = json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body)
	if body.Username == "" {
		body.Username, body.Password = r.URL.Query().Get("username"), r.URL.Query().Get("password")
	}
	if !credentialsMatch(body.Username, body.Password) {
		apiError(w, http.StatusUnauthorized, "Unauthenticated. Please login.", "Invalid authentication details were passed in api request.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"username":                          body.Username,
		"userId":                            1,
		"base64EncodedAuthenticationKey":    base64.StdEncoding.EncodeToString([]byte(body.Username + ":" + body.Password)),
		"authenticated":                     true,
		"officeId":                          1,
		"officeName":                        "Head Office",
		"roles":                             []map[string]any{{"id": 1, "name": "Super user"}},
		"permissions":                       []string{"ALL_FUNCTIONS"},
		"shouldRenewPassword":               false,
		"isTwoFactorAuthenticationRequired": false,
	})
}
