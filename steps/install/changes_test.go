package install

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// The plan loads the stack from memory, the services step from the
// install dir: both must see the same project, or a plan of an installed
// stack would call every service changed. Each group is rendered, written
// and loaded both ways; every service, config, secret, network and volume
// must encode the same.
func TestRenderedProjectIsTheLoadedOne(t *testing.T) {
	ctx := context.Background()
	for _, groups := range [][]string{nil, {answers.GroupCore, answers.GroupMonitoring}} {
		env := checkEnv(t, nil, groups...)
		if err := env.Bundle.Write(ctx, env.Dir); err != nil {
			t.Fatal(err)
		}
		loaded, err := env.LoadProject(ctx)
		if err != nil {
			t.Fatal(err)
		}
		planned, pending, err := env.renderedProject(ctx)
		if err != nil {
			t.Fatal(err)
		}
		enc := func(v any) string {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		if got, want := slices.Sorted(maps.Keys(planned.Services)), slices.Sorted(maps.Keys(loaded.Services)); !slices.Equal(got, want) {
			t.Fatalf("groups %v: planned services %v, loaded %v", groups, got, want)
		}
		for name, s := range loaded.Services {
			if enc(planned.Services[name]) != enc(s) {
				t.Errorf("groups %v: service %s differs:\nplanned %s\nloaded  %s", groups, name, enc(planned.Services[name]), enc(s))
			}
		}
		for what, pair := range map[string][2]any{
			"configs": {planned.Configs, loaded.Configs}, "secrets": {planned.Secrets, loaded.Secrets},
			"networks": {planned.Networks, loaded.Networks}, "volumes": {planned.Volumes, loaded.Volumes},
			"compose files": {planned.ComposeFiles, loaded.ComposeFiles}, "name": {planned.Name, loaded.Name},
		} {
			if enc(pair[0]) != enc(pair[1]) {
				t.Errorf("groups %v: %s differ:\nplanned %s\nloaded  %s", groups, what, enc(pair[0]), enc(pair[1]))
			}
		}
		for _, c := range loaded.Configs {
			if _, ok := pending[c.File]; c.File != "" && !ok {
				t.Errorf("groups %v: config file %s is not among the files the plan reads from memory", groups, c.File)
			}
		}
	}
}

// Only validation runs every time without changing anything: a plan of an
// installation that is as its answers describe must not count it as a
// change (plan would never exit 0), and must count every other step.
func TestOnlyValidationObservesOnly(t *testing.T) {
	env := checkEnv(t, nil)
	for _, s := range Plan(env, Custody{}, nil, nil).Steps() {
		o, ok := s.(observer)
		if got := ok && o.ObservesOnly(); got != (s.ID() == "validate") {
			t.Errorf("step %s observes only: %t", s.ID(), got)
		}
	}
	c := &Changes{Steps: []StepChange{{ID: "validate", Run: true, ObservesOnly: true}, {ID: "render"}}}
	if c.Pending() {
		t.Error("a plan whose only running step is validation reports changes")
	}
}
