package frontdoor

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/fineractapi"
)

// fakeFineract answers the three calls Secure makes the way Fineract does
// (fineractapi's package doc cites them): a test double for the decision
// logic only. The lab's Fineract stand-in, which implements Fineract's
// validation rules, is what the end-to-end tests run against.
type fakeFineract struct {
	mu        sync.Mutex
	passwords map[string]string // username -> password
	ids       map[string]int64
	puts      int
	limited   int // answer this many requests 429 first
}

func newFake() *fakeFineract {
	f := &fakeFineract{passwords: map[string]string{}, ids: map[string]int64{}}
	for i, u := range []string{"mifos", "system", "interopUser"} {
		f.passwords[u], f.ids[u] = assets.FineractDefaultPassword, int64(i+1)
	}
	return f
}

func (f *fakeFineract) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.limited > 0 {
		f.limited--
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if r.Header.Get(fineractapi.TenantHeader) != "default" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	deny := func() {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"defaultUserMessage":"Unauthenticated. Please login."}`))
	}
	if r.URL.Path == "/authentication" {
		var body struct{ Username, Password string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		if p, ok := f.passwords[body.Username]; !ok || p != body.Password {
			deny()
			return
		}
		_, _ = w.Write([]byte(`{"authenticated":true}`))
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || f.passwords[user] != pass {
		deny()
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/users":
		var us []fineractapi.User
		for u, id := range f.ids {
			us = append(us, fineractapi.User{ID: id, Username: u})
		}
		_ = json.NewEncoder(w).Encode(us)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/users/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/users/"), 10, 64)
		var body struct{ Password, RepeatPassword string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		for u, uid := range f.ids {
			if uid == id && body.Password == body.RepeatPassword {
				f.passwords[u] = body.Password
				f.puts++
				_, _ = w.Write([]byte(`{"resourceId":` + strconv.FormatInt(id, 10) + `}`))
				return
			}
		}
		w.WriteHeader(http.StatusBadRequest)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func client(t *testing.T, f *fakeFineract) fineractapi.Client {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return fineractapi.Client{HTTP: srv.Client(), BaseURL: srv.URL, Tenant: "default"}
}

var vaultPasswords = map[string]string{"mifos": "Admin-pass-1", "system": "System-pass-2", "interopUser": "Interop-pass-3"}

func TestSecureReplacesEveryDefaultPasswordOnce(t *testing.T) {
	f := newFake()
	api := client(t, f)
	out, err := Secure(context.Background(), api, vaultPasswords)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out.Changed)
	if !slices.Equal(out.Changed, []string{"interopUser", "mifos", "system"}) {
		t.Errorf("changed %v, want all three built-in users", out.Changed)
	}
	for u, p := range vaultPasswords {
		if f.passwords[u] != p {
			t.Errorf("%s's password is %q, want Vault's", u, f.passwords[u])
		}
	}
	// A second run finds the door closed and changes nothing.
	puts := f.puts
	out, err = Secure(context.Background(), api, vaultPasswords)
	if err != nil || len(out.Changed) != 0 || f.puts != puts {
		t.Errorf("second run: changed %v, %d more PUTs, %v", out.Changed, f.puts-puts, err)
	}
}

// A run stopped after the administrator's password was set but before the
// others (or before it was recorded) finishes with Vault's password.
func TestSecureRecoversFromAnInterruptedRun(t *testing.T) {
	f := newFake()
	f.passwords["mifos"] = vaultPasswords["mifos"]
	out, err := Secure(context.Background(), client(t, f), vaultPasswords)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out.Changed)
	if !slices.Equal(out.Changed, []string{"interopUser", "system"}) || f.passwords["system"] != vaultPasswords["system"] {
		t.Errorf("changed %v; system has %q", out.Changed, f.passwords["system"])
	}
}

func TestSecureStopsWhenTheAdministratorPasswordIsUnknown(t *testing.T) {
	f := newFake()
	f.passwords["mifos"] = "changed-by-hand"
	_, err := Secure(context.Background(), client(t, f), vaultPasswords)
	if !errors.Is(err, ErrAdminUnknown) {
		t.Fatalf("err = %v, want ErrAdminUnknown", err)
	}
	if f.puts != 0 || f.passwords["system"] != assets.FineractDefaultPassword {
		t.Errorf("%d passwords changed although the administrator could not sign in", f.puts)
	}
}

func TestSecureWaitsOutTheGatewaysRateLimit(t *testing.T) {
	f := newFake()
	f.limited = 3
	if _, err := Secure(context.Background(), client(t, f), vaultPasswords); err != nil {
		t.Fatal(err)
	}
	if f.passwords["mifos"] != vaultPasswords["mifos"] {
		t.Error("the administrator's password was not set")
	}
}

func TestVerifyFailsWhileADefaultPasswordWorks(t *testing.T) {
	f := newFake()
	f.passwords["mifos"] = vaultPasswords["mifos"]
	err := Verify(context.Background(), client(t, f), vaultPasswords["mifos"])
	if err == nil || !strings.Contains(err.Error(), "still signs in with the default password") {
		t.Errorf("Verify = %v, want a built-in user still open", err)
	}
}
