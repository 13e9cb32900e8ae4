package elastic

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/assets"
)

func TestRetentionProblems(t *testing.T) {
	l := assets.LogStore{DataStream: "logs-containers-p", Policy: "p-logs-retention", Template: "p-logs", RetentionDays: 90}
	good := Retention{DeleteAfter: "90d", TemplatePolicy: l.Policy, Indices: map[string]string{".ds-a-000001": l.Policy}}
	if p := good.Problems(l); len(p) != 0 {
		t.Errorf("matching retention: %v", p)
	}
	for name, r := range map[string]Retention{
		"another age":         {DeleteAfter: "30d", TemplatePolicy: l.Policy},
		"no policy":           {TemplatePolicy: l.Policy},
		"no template":         {DeleteAfter: "90d"},
		"index with built-in": {DeleteAfter: "90d", TemplatePolicy: l.Policy, Indices: map[string]string{".ds-a-000001": "logs"}},
	} {
		if p := r.Problems(l); len(p) != 1 {
			t.Errorf("%s: %v, want one problem", name, p)
		}
	}
}

func TestLifecycleNameReadsBothForms(t *testing.T) {
	for _, s := range []string{`{"index":{"lifecycle":{"name":"p"}}}`, `{"index.lifecycle.name":"p"}`} {
		if got := lifecycleName(json.RawMessage(s)); got != "p" {
			t.Errorf("%s: %q", s, got)
		}
	}
}

func TestErrorReasonIsElasticsearchs(t *testing.T) {
	got := errorReason([]byte(`{"error":{"type":"security_exception","reason":"unauthorized"},"status":403}`))
	if !strings.Contains(got, "security_exception: unauthorized") {
		t.Errorf("%q", got)
	}
}
