package main

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// prometheus answers the health check's instant query as Prometheus does.
func prometheus(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/query" || r.FormValue("query") != "1+1" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"scalar","result":[1700000000,"2"]}}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// provision writes a data source file that takes the CA from a file.
func provision(t *testing.T, url, caFile string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "datasources"), 0o755); err != nil {
		t.Fatal(err)
	}
	yml := `apiVersion: 1
datasources:
  - name: Prometheus
    uid: prometheus
    type: prometheus
    url: ` + url + `
    jsonData:
      tlsAuthWithCACert: true
      serverName: example.com
    secureJsonData:
      tlsCACert: $__file{` + caFile + `}
      basicAuthPassword: $${not expanded}
`
	if err := os.WriteFile(filepath.Join(dir, "datasources", "ds.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestProvisionedPrometheusHealth(t *testing.T) {
	prom := prometheus(t)
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: prom.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	sources, err := loadDatasources(provision(t, prom.URL, caFile), func(string) string { return "" })
	if err != nil || len(sources) != 1 {
		t.Fatalf("provisioning: %v, %d sources", err, len(sources))
	}
	ds := sources[0]
	if ds.SecureJSONData["basicAuthPassword"] != "${not expanded}" {
		t.Errorf("$$ was not kept as a dollar: %q", ds.SecureJSONData["basicAuthPassword"])
	}
	if h := ds.checkHealth(context.Background()); h.Status != "OK" {
		t.Errorf("health with the provisioned CA: %+v", h)
	}
	// Without the CA the server's certificate does not verify.
	ds.JSONData["tlsAuthWithCACert"] = false
	if h := ds.checkHealth(context.Background()); h.Status != "ERROR" || !strings.Contains(h.Message, "certificate") {
		t.Errorf("health without the CA: %+v", h)
	}
	// A wrong URL is an error too.
	ds.JSONData["tlsAuthWithCACert"] = true
	ds.URL = prom.URL + "/nothing"
	if h := ds.checkHealth(context.Background()); h.Status != "ERROR" {
		t.Errorf("health with a wrong URL: %+v", h)
	}
}

func TestMissingProvisionedFileFailsTheStart(t *testing.T) {
	if _, err := loadDatasources(provision(t, "https://prometheus:9090", "/nonexistent/ca.crt"), func(string) string { return "" }); err == nil {
		t.Error("a $__file{} naming a missing file was accepted")
	}
}

func TestAdminPasswordIsKeptFromTheFirstStart(t *testing.T) {
	dir := t.TempDir()
	c := &config{AdminUser: "admin", AdminPassword: "first-password-123", DataDir: dir}
	a, err := loadAdmin(c)
	if err != nil || !a.check("admin", "first-password-123") {
		t.Fatalf("first start: %v", err)
	}
	c.AdminPassword = "second-password-456"
	a, err = loadAdmin(c)
	if err != nil {
		t.Fatal(err)
	}
	if a.check("admin", "second-password-456") || !a.check("admin", "first-password-123") {
		t.Error("a later GF_SECURITY_ADMIN_PASSWORD replaced the stored one")
	}
	if _, err := os.Stat(filepath.Join(dir, "plugins")); err != nil {
		t.Errorf("the plugins directory was not made: %v", err)
	}
}

func TestServeFromSubPath(t *testing.T) {
	env := map[string]string{"GF_SECURITY_SECRET_KEY": "k", "GF_SERVER_SERVE_FROM_SUB_PATH": "true", "GF_SERVER_ROOT_URL": "https://bank.example/grafana/"}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cfg: cfg, admin: &admin{User: "admin"}, sessions: map[string]time.Time{}}
	h := s.routes()
	for path, want := range map[string]int{"/grafana/api/health": 200, "/api/health": 404, "/grafana/api/datasources": 401} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
}
