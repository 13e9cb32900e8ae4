package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

const sessionCookie = "grafana_session"

type server struct {
	cfg     *config
	admin   *admin
	sources []datasource

	mu       sync.Mutex
	sessions map[string]time.Time // token -> expiry
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"database": "ok", "version": version, "commit": "grafana-standin"})
	})
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("GET /api/user", s.authed(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"id": 1, "login": s.admin.User, "isGrafanaAdmin": true})
	}))
	mux.HandleFunc("GET /api/datasources", s.authed(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.sources)
	}))
	mux.HandleFunc("GET /api/datasources/uid/{uid}", s.authed(func(w http.ResponseWriter, r *http.Request) {
		if ds := s.source(r.PathValue("uid")); ds != nil {
			writeJSON(w, http.StatusOK, ds)
			return
		}
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Data source not found"})
	}))
	mux.HandleFunc("GET /api/datasources/uid/{uid}/health", s.authed(func(w http.ResponseWriter, r *http.Request) {
		ds := s.source(r.PathValue("uid"))
		if ds == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Data source not found"})
			return
		}
		res := ds.checkHealth(r.Context())
		code := http.StatusOK
		if res.Status != "OK" {
			code = http.StatusBadRequest
		}
		writeJSON(w, code, res)
	}))
	if s.cfg.SubPath == "" {
		return mux
	}
	// serve_from_sub_path: everything lives under the sub path.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, s.cfg.SubPath)
		if !ok || (rest != "" && rest[0] != '/') {
			http.NotFound(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + strings.TrimPrefix(rest, "/")
		mux.ServeHTTP(w, r2)
	})
}

func (s *server) source(uid string) *datasource {
	for i := range s.sources {
		if s.sources[i].UID == uid {
			return &s.sources[i]
		}
	}
	return nil
}

// authed admits the admin by basic authentication or session cookie.
func (s *server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok {
			if s.admin.check(u, p) {
				h(w, r)
				return
			}
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Invalid username or password"})
			return
		}
		if c, err := r.Cookie(sessionCookie); err == nil {
			s.mu.Lock()
			exp, ok := s.sessions[c.Value]
			s.mu.Unlock()
			if ok && time.Now().Before(exp) {
				h(w, r)
				return
			}
		}
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
	}
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "bad login data"})
		return
	}
	if !s.admin.check(in.User, in.Password) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Invalid username or password"})
		return
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	s.mu.Lock()
	s.sessions[token] = time.Now().Add(15 * time.Minute)
	s.mu.Unlock()
	same := http.SameSiteLaxMode
	switch s.cfg.CookieSameSite {
	case "strict":
		same = http.SameSiteStrictMode
	case "none":
		same = http.SameSiteNoneMode
	}
	path := s.cfg.SubPath
	if path == "" {
		path = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: path, HttpOnly: true, Secure: s.cfg.CookieSecure, SameSite: same})
	writeJSON(w, http.StatusOK, map[string]string{"message": "Logged in"})
}
