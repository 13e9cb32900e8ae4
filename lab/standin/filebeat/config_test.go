package main

import (
	"testing"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/lab/standin/internal/flatconf"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// The installer's filebeat.yml loads, and its dissect processor takes the
// container id from the json-file log's path.
func TestRenderedConfigIsAccepted(t *testing.T) {
	a := answers.Defaults(answers.Production)
	a.Groups = []string{answers.GroupCore, answers.GroupLogging}
	b, err := assets.Render(a, assets.Options{Project: "fineract", SecretsDir: "/run/fineract/secrets"})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := b.File("config/filebeat/filebeat.yml")
	conf, err := flatconf.Parse(f.Data)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.inputs) != 1 || !cfg.inputs[0].docker || cfg.httpAddr != "localhost:5066" || cfg.dataDir != "/var/lib/filebeat" {
		t.Fatalf("config: %+v", cfg)
	}
	in := cfg.inputs[0]
	line := []byte(`{"log":"hello\n","stream":"stdout","attrs":{"com.docker.compose.service":"fineract"},"time":"2026-12-03T10:00:00.123456789Z"}` + "\n")
	path := "/var/lib/docker/containers/abc123/abc123-json.log"
	ev, part, ok := decodeLine(in, line, path, 0)
	if !ok || part {
		t.Fatalf("decode: ok %t part %t", ok, part)
	}
	for _, d := range cfg.dissects {
		d.apply(ev)
	}
	if ev["message"] != "hello" || ev["stream"] != "stdout" || ev["@timestamp"] != "2026-12-03T10:00:00.123456789Z" {
		t.Errorf("event: %v", ev)
	}
	if d, _ := ev["docker"].(map[string]any); d == nil || d["attrs"].(map[string]string)["com.docker.compose.service"] != "fineract" {
		t.Errorf("docker.attrs: %v", ev["docker"])
	}
	if c, _ := ev["container"].(map[string]any); c["id"] != "abc123" {
		t.Errorf("container: %v", ev["container"])
	}
}
