package main

import (
	"context"
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
	"github.com/jackc/pgx/v5/pgxpool"
)

// tenantHeader names the request's tenant.
const tenantHeader = "Fineract-Platform-TenantId"

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

// apiError is Fineract's error body without parameter errors.
func apiError(w http.ResponseWriter, code int, user, developer string) {
	writeJSON(w, code, map[string]any{
		"developerMessage":   developer,
		"httpStatusCode":     strconv.Itoa(code),
		"defaultUserMessage": user,
		"errors":             []any{},
	})
}

// api serves the Fineract API calls the stand-in has. Like Fineract's
// TenantAwareBasicAuthenticationFilter it first resolves the tenant in the
// tenant store (tenant.go), then authenticates against that tenant's
// m_appuser (users.go).
func (s *server) api(w http.ResponseWriter, r *http.Request) {
	identifier := r.Header.Get(tenantHeader)
	if identifier == "" {
		identifier = r.URL.Query().Get("tenantIdentifier")
	}
	if identifier == "" {
		s.invalidTenant(w, r, "No tenant identifier found: Add request header of '"+tenantHeader+"' or add the parameter 'tenantIdentifier' to query string of request URL.")
		return
	}
	if !s.db.ready.Load() {
		apiError(w, http.StatusServiceUnavailable, "Service unavailable.", "The database is not ready.")
		return
	}
	t, err := lookupTenant(r.Context(), s.db.store, identifier)
	if errors.Is(err, errUnknownTenant) {
		s.invalidTenant(w, r, err.Error())
		return
	}
	if err != nil {
		s.dbError(w, err)
		return
	}
	db, err := s.db.tenants.pool(r.Context(), t)
	if err != nil {
		// Fineract fails the request when the data source cannot be made
		// (wrong master password, undecryptable password).
		s.log.Warn("tenant " + t.Identifier + ": " + err.Error())
		springError(w, r, http.StatusInternalServerError)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, s.cfg.ContextPath+"/api/v1")
	if path == "/authentication" && r.Method == http.MethodPost {
		s.authenticate(w, r, db)
		return
	}
	user, ok, err := s.authorized(r, db)
	if err != nil {
		s.dbError(w, err)
		return
	}
	if !ok {
		if s.cfg.BasicAuth {
			w.Header().Set("WWW-Authenticate", `Basic realm="Fineract Platform API"`)
		}
		unauthenticated(w)
		return
	}
	switch {
	case path == "/userdetails" && r.Method == http.MethodGet && s.cfg.OAuth:
		writeJSON(w, http.StatusOK, userDetails(user))
	case path == "/users" && r.Method == http.MethodGet:
		s.listUsers(w, r, db, user.appUser)
	case strings.HasPrefix(path, "/users/") && (r.Method == http.MethodGet || r.Method == http.MethodPut):
		id, err := strconv.ParseInt(strings.TrimPrefix(path, "/users/"), 10, 64)
		if err != nil {
			// JAX-RS cannot convert the path parameter to a Long.
			springError(w, r, http.StatusNotFound)
			return
		}
		if r.Method == http.MethodGet {
			s.getUser(w, r, db, user.appUser, id)
		} else {
			s.updateUser(w, r, db, user.appUser, id)
		}
	case path == "/lab/rows" && r.Method == http.MethodGet:
		rows, err := listRows(r.Context(), db, s.db.rel)
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
		id, err := insertRow(r.Context(), db, s.db.rel, body.Note)
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
		x, err := getRow(r.Context(), db, s.db.rel, id)
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

// invalidTenant is how TenantAwareBasicAuthenticationFilter answers an
// InvalidTenantIdentifierException: the Basic challenge and
// response.sendError(400, message); Spring Boot's error body leaves the
// message out, so it goes to the log.
func (s *server) invalidTenant(w http.ResponseWriter, r *http.Request, msg string) {
	s.log.Warn(msg)
	w.Header().Set("WWW-Authenticate", `Basic realm="Fineract Platform API"`)
	springError(w, r, http.StatusBadRequest)
}

// dbError answers a failed query. A tenant database that was never
// migrated (a tenant added to the store after the start) lands here: its
// tables do not exist.
func (s *server) dbError(w http.ResponseWriter, err error) {
	s.log.Warn("database error: " + err.Error())
	if errors.Is(err, context.DeadlineExceeded) {
		apiError(w, http.StatusServiceUnavailable, "A database error occurred.", "error.msg.database")
		return
	}
	serverError(w, "error.msg.database", "A database error occurred.")
}

// principal is an authenticated caller.
type principal struct {
	appUser
	scopes []string
	token  string
}

// authorized authenticates a request the way the enabled security
// configuration does: basic authentication against the tenant's users, or
// a bearer token whose subject is one of them (oauth.go).
func (s *server) authorized(r *http.Request, db *pgxpool.Pool) (principal, bool, error) {
	if s.cfg.OAuth {
		return s.bearerUser(r, db)
	}
	if !s.cfg.BasicAuth {
		return principal{}, false, nil
	}
	name, password, ok := r.BasicAuth()
	if !ok {
		return principal{}, false, nil
	}
	u, ok, err := authenticateUser(r.Context(), db, name, password)
	return principal{appUser: u}, ok, err
}

// authenticate is POST /api/v1/authentication (AuthenticationApiResource):
// the JSON body's username and password (no longer URL parameters, see
// FINERACT-726), checked like basic authentication; Fineract answers with
// the base64 key clients then send as "Authorization: Basic <key>", and
// the user's roles and permission codes.
func (s *server) authenticate(w http.ResponseWriter, r *http.Request, db *pgxpool.Pool) {
	if !s.cfg.BasicAuth {
		unauthenticated(w)
		return
	}
	var body struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body); err != nil || body.Username == nil || body.Password == nil {
		// IllegalArgumentException("Username or Password is null in JSON ...").
		validationErrors(w, generalError("error.msg.invalid.request.body", "Username or Password is null in JSON of POST to /authentication"))
		return
	}
	u, ok, err := authenticateUser(r.Context(), db, *body.Username, *body.Password)
	if err != nil {
		s.dbError(w, err)
		return
	}
	if !ok {
		unauthenticated(w)
		return
	}
	roles := u.Roles
	if roles == nil {
		roles = []roleData{}
	}
	permissions := u.Permissions
	if permissions == nil {
		permissions = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"username":                          u.Username,
		"userId":                            u.ID,
		"base64EncodedAuthenticationKey":    base64.StdEncoding.EncodeToString([]byte(*body.Username + ":" + *body.Password)),
		"authenticated":                     true,
		"officeId":                          u.OfficeID,
		"officeName":                        u.OfficeName,
		"roles":                             roles,
		"permissions":                       permissions,
		"shouldRenewPassword":               false,
		"isTwoFactorAuthenticationRequired": false,
	})
}
