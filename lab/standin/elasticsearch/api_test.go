package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

func newTestAPI(t *testing.T) *api {
	t.Helper()
	st, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sec := &security{enabled: true, password: "pw", mapping: map[string][]string{}, roles: map[string]role{}}
	for k, v := range builtinRoles {
		sec.roles[k] = v
	}
	return &api{store: st, sec: sec, cluster: "c", node: "n"}
}

func call(t *testing.T, a *api, method, path, user, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if user != "" {
		req.SetBasicAuth(user, "pw")
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

// Without the installer's template, a logs-*-* data stream gets
// Elasticsearch's built-in "logs" policy; with it, the installer's
// policy. Templates with overlapping patterns and equal priority are
// refused, as Elasticsearch refuses them.
func TestDataStreamsTakeTheirTemplatesPolicy(t *testing.T) {
	a := newTestAPI(t)
	if code, _ := call(t, a, http.MethodGet, "/_cluster/health", "", ""); code != http.StatusUnauthorized {
		t.Errorf("anonymous health: %d, want 401", code)
	}
	doc := `{"create":{"_index":"logs-containers-a"}}` + "\n" + `{"@timestamp":"2026-12-03T10:00:00Z","message":"one"}` + "\n"
	if code, out := call(t, a, http.MethodPost, "/_bulk", "elastic", doc); code != 200 || out["errors"] != false {
		t.Fatalf("bulk: %d %v", code, out)
	}
	_, settings := call(t, a, http.MethodGet, "/logs-containers-a/_settings", "elastic", "")
	if !strings.Contains(mustMarshal(settings), `"name":"logs"`) {
		t.Errorf("built-in policy not applied: %v", settings)
	}

	ls := assets.LogStore{DataStream: "logs-containers-b", Policy: "b-logs-retention", Template: "b-logs", RetentionDays: answers.DefaultLogRetentionDaysDemo}
	if code, out := call(t, a, http.MethodPut, "/_ilm/policy/"+ls.Policy, "elastic", string(ls.PolicyBody())); code != 200 {
		t.Fatalf("put policy: %d %v", code, out)
	}
	if code, out := call(t, a, http.MethodPut, "/_index_template/"+ls.Template, "elastic", string(ls.TemplateBody())); code != 200 {
		t.Fatalf("put template: %d %v", code, out)
	}
	doc = strings.ReplaceAll(doc, "logs-containers-a", ls.DataStream)
	if code, out := call(t, a, http.MethodPost, "/_bulk", "elastic", doc); code != 200 || out["errors"] != false {
		t.Fatalf("bulk: %d %v", code, out)
	}
	_, settings = call(t, a, http.MethodGet, "/"+ls.DataStream+"/_settings", "elastic", "")
	if !strings.Contains(mustMarshal(settings), `"name":"`+ls.Policy+`"`) {
		t.Errorf("template policy not applied: %v", settings)
	}
	_, pol := call(t, a, http.MethodGet, "/_ilm/policy/"+ls.Policy, "elastic", "")
	if !strings.Contains(mustMarshal(pol), `"min_age":"7d"`) {
		t.Errorf("policy: %v", pol)
	}
	clash := `{"index_patterns":["logs-containers-*"],"priority":200,"data_stream":{}}`
	if code, _ := call(t, a, http.MethodPut, "/_index_template/other", "elastic", clash); code != http.StatusBadRequest {
		t.Errorf("a template clashing at the same priority: %d, want 400", code)
	}
	if code, out := call(t, a, http.MethodPost, "/"+ls.DataStream+"/_count", "elastic", `{"query":{"match_phrase":{"message":"one"}}}`); code != 200 || out["count"] != float64(1) {
		t.Errorf("count: %d %v", code, out)
	}
	// Data streams take create operations only.
	idx := strings.Replace(doc, `"create"`, `"index"`, 1)
	if _, out := call(t, a, http.MethodPost, "/_bulk", "elastic", idx); out["errors"] != true {
		t.Errorf("an index operation on a data stream was accepted: %v", out)
	}
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// ELASTIC_PASSWORD_FILE as the image's elasticsearch-env-from-file reads
// it: mode 400 or 600 only, not together with ELASTIC_PASSWORD.
func TestBootstrapPasswordFile(t *testing.T) {
	dir := t.TempDir()
	f := dir + "/pw"
	if err := os.WriteFile(f, []byte("secret\n\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ELASTIC_PASSWORD_FILE", f)
	if pw, err := bootstrapPassword(); err != nil || pw != "secret" {
		t.Errorf("mode 400: %q, %v", pw, err)
	}
	if err := os.Chmod(f, 0o440); err != nil {
		t.Fatal(err)
	}
	if _, err := bootstrapPassword(); err == nil {
		t.Error("a group-readable password file was accepted")
	}
	if err := os.Chmod(f, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ELASTIC_PASSWORD", "x")
	if _, err := bootstrapPassword(); err == nil {
		t.Error("both ELASTIC_PASSWORD and ELASTIC_PASSWORD_FILE were accepted")
	}
}
