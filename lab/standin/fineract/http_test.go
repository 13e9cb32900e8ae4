package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// A database that cannot be reached: a closed port on loopback.
func unreachableServer(t *testing.T) *server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	url := "jdbc:postgresql://127.0.0.1:" + strconv.Itoa(port) + "/fineract_tenants?sslmode=disable"
	p, err := newProps([]string{
		"FINERACT_HIKARI_DRIVER_SOURCE_CLASS_NAME=org.postgresql.Driver",
		"FINERACT_HIKARI_JDBC_URL=" + url,
		"FINERACT_DEFAULT_TENANTDB_HOSTNAME=127.0.0.1",
		"FINERACT_DEFAULT_TENANTDB_PORT=" + strconv.Itoa(port),
		"FINERACT_DEFAULT_TENANTDB_CONN_PARAMS=sslmode=disable",
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := releaseNamed("v1")
	if err != nil {
		t.Fatal(err)
	}
	db, err := openDatabase(cfg, v1, &logger{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	// One failed migration attempt, as the background loop makes.
	if _, err := db.migrateOnce(t.Context()); err == nil {
		t.Fatal("migration against a closed port succeeded")
	} else {
		db.setErr(err.Error())
	}
	return &server{cfg: cfg, db: db, log: &logger{}}
}

func TestHealthIsDownWithoutDatabase(t *testing.T) {
	h := unreachableServer(t).routes()
	for _, path := range []string{"/fineract-provider/actuator/health", "/fineract-provider/actuator/health/readiness"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		var body struct{ Status string }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusServiceUnavailable || body.Status != "DOWN" {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/fineract-provider/actuator/health/liveness", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"UP"`) {
		t.Errorf("liveness: %d %s", rec.Code, rec.Body)
	}
}

func TestAPINeedsTenantThenDatabase(t *testing.T) {
	h := unreachableServer(t).routes()
	call := func(method, path, body string, tenant, auth bool) int {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if tenant {
			req.Header.Set(tenantHeader, "default")
		}
		if auth {
			req.SetBasicAuth("mifos", "password")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	rows := "/fineract-provider/api/v1/lab/rows"
	for _, c := range []struct {
		name         string
		method, path string
		body         string
		tenant, auth bool
		want         int
	}{
		{"no tenant", "GET", rows, "", false, true, http.StatusBadRequest},
		// Tenants and users live in the databases.
		{"database not ready", "GET", rows, "", true, true, http.StatusServiceUnavailable},
		{"login without the database", "POST", "/fineract-provider/api/v1/authentication", `{"username":"mifos","password":"password"}`, true, false, http.StatusServiceUnavailable},
		{"outside the context path", "GET", "/api/v1/lab/rows", "", true, true, http.StatusNotFound},
		{"prometheus off by default", "GET", "/fineract-provider/actuator/prometheus", "", false, false, http.StatusNotFound},
	} {
		if got := call(c.method, c.path, c.body, c.tenant, c.auth); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
