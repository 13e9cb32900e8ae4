package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// admin checks the admin API's bearer token: a token of the master realm
// (the stand-in's master realm has only the bootstrap admin).
func (s *server) admin(w http.ResponseWriter, r *http.Request) (*realm, bool) {
	master, err := s.st.realm(r.Context(), "master")
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "unknown_error"})
		return nil, false
	}
	if _, ok := s.bearer(r, master); !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "HTTP 401 Unauthorized"})
		return nil, false
	}
	return s.realmOf(w, r)
}

// adminRealm is GET /admin/realms/{realm}: the realm representation
// without clients and users, as Keycloak's admin API returns it.
func (s *server) adminRealm(w http.ResponseWriter, r *http.Request) {
	rl, ok := s.admin(w, r)
	if !ok {
		return
	}
	rep := map[string]any{}
	for k, v := range rl.Raw {
		if k != "clients" && k != "users" {
			rep[k] = v
		}
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *server) adminFindUsers(w http.ResponseWriter, r *http.Request) {
	rl, ok := s.admin(w, r)
	if !ok {
		return
	}
	name := strings.ToLower(r.URL.Query().Get("username"))
	if name == "" || r.URL.Query().Get("exact") != "true" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the stand-in finds users by exact username only"})
		return
	}
	u, err := s.st.userBy(r.Context(), rl.Name, "username", name)
	if errors.Is(err, errNotFound) {
		writeJSON(w, http.StatusOK, []any{})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "unknown_error"})
		return
	}
	writeJSON(w, http.StatusOK, []userRep{{ID: u.ID, Username: u.Username, Enabled: u.Enabled, FirstName: u.FirstName,
		LastName: u.LastName, Email: u.Email, EmailVerified: u.EmailVerified}})
}

func (s *server) adminCreateUser(w http.ResponseWriter, r *http.Request) {
	rl, ok := s.admin(w, r)
	if !ok {
		return
	}
	var u userRep
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&u); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"errorMessage": "bad user representation"})
		return
	}
	id, err := s.st.addUser(r.Context(), rl, u)
	switch {
	case errors.Is(err, errConflict):
		// Keycloak's message for this case.
		writeJSON(w, http.StatusConflict, map[string]string{"errorMessage": "User exists with same username"})
		return
	case err != nil:
		writeJSON(w, http.StatusBadRequest, map[string]string{"errorMessage": err.Error()})
		return
	}
	w.Header().Set("Location", s.cfg.Hostname+"/admin/realms/"+rl.Name+"/users/"+id)
	w.WriteHeader(http.StatusCreated)
}

func (s *server) adminDeleteUser(w http.ResponseWriter, r *http.Request) {
	rl, ok := s.admin(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	found, err := s.st.deleteUser(r.Context(), rl.Name, id)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "unknown_error"})
		return
	}
	if !found {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "User not found"})
		return
	}
	// Keycloak removes the user's sessions with the user.
	s.mu.Lock()
	for k, sess := range s.sessions {
		if sess.UserID == id {
			delete(s.sessions, k)
		}
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
