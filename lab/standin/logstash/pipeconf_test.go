package main

import (
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

func renderedMainConf(t *testing.T) string {
	t.Helper()
	a := answers.Defaults(answers.Production)
	a.Groups = []string{answers.GroupCore, answers.GroupLogging}
	b, err := assets.Render(a, assets.Options{Project: "fineract", SecretsDir: "/run/fineract/secrets"})
	if err != nil {
		t.Fatal(err)
	}
	f, ok := b.File("config/logstash/main.conf")
	if !ok {
		t.Fatal("no main.conf rendered")
	}
	return string(f.Data)
}

// The installer's pipeline parses, uses only settings the plugins have,
// and writes to the data stream the log store expects.
func TestRenderedPipelineIsAccepted(t *testing.T) {
	pc, err := parsePipeline(renderedMainConf(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(pc.Inputs) != 1 || len(pc.Outputs) != 1 {
		t.Fatalf("got %d inputs, %d outputs", len(pc.Inputs), len(pc.Outputs))
	}
	if err := pc.Inputs[0].known(beatsSettings...); err != nil {
		t.Error(err)
	}
	out := pc.Outputs[0]
	// No certificate files here: the lab test loads them.
	delete(out.Settings, "ssl_certificate")
	delete(out.Settings, "ssl_key")
	delete(out.Settings, "ssl_certificate_authorities")
	o, err := newESOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	ev := o.prepare(map[string]any{"message": "x"})
	if got := o.target(ev); got != "logs-containers-fineract" {
		t.Errorf("events go to %s, want logs-containers-fineract", got)
	}
}

// Logstash refuses ILM and template settings next to data_stream => true
// (data_stream_support.rb): the retention cannot be set there.
func TestDataStreamRefusesILMSettings(t *testing.T) {
	pc, err := parsePipeline(`output { elasticsearch { hosts => ["https://es:9200"] data_stream => "true" ilm_policy => "p" } }`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newESOutput(pc.Outputs[0]); err == nil || !strings.Contains(err.Error(), "Invalid data stream configuration") {
		t.Errorf("got %v, want an invalid data stream configuration", err)
	}
}

func TestParserRefusesWhatItDoesNotRun(t *testing.T) {
	for _, src := range []string{
		`input { beats { port => 5044 } `,
		`filter { if [x] { drop {} } }`,
		`input { beats { port => 5044 port => 5045 } }`,
		`input { beats { add_field => { "a" => "b" } } }`,
	} {
		if _, err := parsePipeline(src); err == nil {
			t.Errorf("%q parsed", src)
		}
	}
	pc, err := parsePipeline(`input { beats { port => 5044 no_such_setting => 1 } }`)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.Inputs[0].known(beatsSettings...); err == nil {
		t.Error("an unknown beats setting was accepted")
	}
}
