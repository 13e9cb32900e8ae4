package compose_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// planFor plans the project and fails the test on error.
func planFor(t *testing.T, e *compose.Engine, p *compose.Project, o compose.PlanOptions) *compose.ProjectPlan {
	t.Helper()
	pl, err := e.Plan(ctxT(t), p, o)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return pl
}

// changed lists the services a plan changes, as "service action: reasons".
func changed(pl *compose.ProjectPlan) []string {
	var out []string
	for _, s := range pl.Services {
		if s.Changes() {
			out = append(out, fmt.Sprintf("%s %s: %s", s.Service, s.Action, strings.Join(s.Reasons, "; ")))
		}
	}
	return out
}

const planYAML = `
services:
  web:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    configs: [{source: site, target: /etc/site.conf}]
    volumes: ["data:/data"]
  db:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    secrets: [db_password]
  api:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    environment: {MODE: "${MODE}"}
    depends_on: [db]
  cache:
    image: ${CACHE_IMAGE}
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
%[2]s
volumes:
  data: {}
%[3]s
configs:
  site: {file: ./site.conf}
secrets:
  db_password: {file: ./db_password}
`

// extraService is a service the test drops from the project again.
const extraService = `  extra:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    volumes: ["scratch:/scratch"]
`

// TestPlanNamesExactlyWhatChanged changes one thing at a time (an answer
// that reaches a setting, a config file, a secret, an image, a service
// dropped) and checks that the plan names exactly that service with that
// reason, and that Up then changes exactly what the plan said.
func TestPlanNamesExactlyWhatChanged(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	// The variant is made first so that its clean-up runs after the
	// project's, once no container uses it.
	variant := fmt.Sprintf("fineract-lab/plan-variant:%d", time.Now().UnixNano())
	variantID := labtest.ImageVariant(t, e, img, variant, variant)
	project := labtest.Project(t, e)

	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"MODE": "one", "CACHE_IMAGE": img}
	withExtra := true
	load := func() *compose.Project {
		t.Helper()
		extra, scratch := "", ""
		if withExtra {
			extra, scratch = fmt.Sprintf(extraService, img), "  scratch: {}\n"
		}
		write("compose.yaml", labtest.Hardened+fmt.Sprintf(planYAML, img, extra, scratch))
		p, err := compose.Load(ctxT(t), compose.LoadOptions{Files: []string{filepath.Join(dir, "compose.yaml")}, ProjectName: project, Env: env})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("site.conf", "listen 8080;")
	write("db_password", "first")
	opts := compose.UpOptions{Policy: compose.Policy{BindRoots: []string{dir}}}

	first := planFor(t, e, load(), compose.PlanOptions{Up: opts})
	var created []string
	for _, s := range first.Services {
		created = append(created, s.Service+" "+string(s.Action))
	}
	if want := []string{"api create", "cache create", "db create", "extra create", "web create"}; !slices.Equal(created, want) {
		t.Errorf("plan before anything exists: services %v, want %v", created, want)
	}
	for _, v := range first.Volumes {
		if v.Action != compose.ResourceCreate {
			t.Errorf("plan before anything exists: volume %s is %s, want create", v.Name, v.Action)
		}
	}
	if !first.Changes() {
		t.Error("plan before anything exists reports no changes")
	}
	up(t, e, load(), opts)
	if pl := planFor(t, e, load(), compose.PlanOptions{Up: opts}); pl.Changes() {
		t.Fatalf("plan right after an apply reports changes: %v (volumes %v, networks %v)", changed(pl), pl.Volumes, pl.Networks)
	}

	steps := []struct {
		name   string
		change func()
		want   []string // services the plan changes, with reasons
	}{
		{"answer", func() { env["MODE"] = "two" }, []string{"api recreate: setting environment changed"}},
		{"config file", func() { write("site.conf", "listen 8081;") }, []string{"web recreate: config site changed"}},
		{"secret", func() { write("db_password", "second") }, []string{"db recreate: secret db_password changed"}},
		{"image", func() { env["CACHE_IMAGE"] = variant },
			[]string{fmt.Sprintf("cache recreate: image %s → %s (sha256:%s)", img, variant, strings.TrimPrefix(variantID, "sha256:")[:12])}},
		{"service dropped", func() { withExtra = false }, []string{"extra remove: no longer in the project"}},
	}
	for _, st := range steps {
		before := containerIDs(t, e, project)
		st.change()
		pl := planFor(t, e, load(), compose.PlanOptions{Up: opts})
		if got := changed(pl); !slices.Equal(got, st.want) {
			t.Errorf("%s: plan says %q, want %q", st.name, got, st.want)
		}
		for _, s := range pl.Services {
			if s.Container != "" && before[s.Service] != "" && !strings.HasPrefix(s.Container, before[s.Service]) {
				t.Errorf("%s: plan names container %s for %s, which runs %s", st.name, s.Container, s.Service, before[s.Service])
			}
		}
		up(t, e, load(), opts)
		after := containerIDs(t, e, project)
		for _, s := range pl.Services {
			switch {
			case s.Action == compose.ServiceUnchanged && after[s.Service] != before[s.Service]:
				t.Errorf("%s: plan said %s unchanged, the apply replaced it (%s -> %s)", st.name, s.Service, before[s.Service], after[s.Service])
			case s.Action == compose.ServiceRecreate && after[s.Service] == before[s.Service]:
				t.Errorf("%s: plan said recreate %s, the apply kept %s", st.name, s.Service, before[s.Service])
			case s.Action == compose.ServiceRemove && after[s.Service] != "":
				t.Errorf("%s: plan said remove %s, it still runs as %s", st.name, s.Service, after[s.Service])
			}
		}
		if again := planFor(t, e, load(), compose.PlanOptions{Up: opts}); again.Changes() {
			t.Errorf("%s: plan after the apply still reports changes: %v", st.name, changed(again))
		}
	}

	// The dropped service's volume stays, and the plan says why.
	pl := planFor(t, e, load(), compose.PlanOptions{Up: opts})
	var kept []string
	for _, v := range pl.Volumes {
		if v.Action == compose.ResourceKept {
			kept = append(kept, v.Name)
		}
	}
	if want := []string{project + "_scratch"}; !slices.Equal(kept, want) {
		t.Errorf("volumes kept: %v, want %v (%v)", kept, want, pl.Volumes)
	}
}

// A file an apply writes first (the rendered configuration) is compared
// as it will be, not as the disk still has it, and planning writes nothing.
func TestPlanReadsPendingFiles(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	dir, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf(`
services:
  web:
    image: %s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
    configs: [{source: site, target: /etc/site.conf}]
configs:
  site: {file: ./site.conf}
`, img), nil)
	conf := filepath.Join(dir, "site.conf")
	if err := os.WriteFile(conf, []byte("listen 8080;"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := compose.UpOptions{Policy: compose.Policy{BindRoots: []string{dir}}}
	up(t, e, load(), opts)

	pl := planFor(t, e, load(), compose.PlanOptions{Up: opts, Pending: map[string][]byte{conf: []byte("listen 9090;")}})
	if got, want := changed(pl), []string{"web recreate: config site changed"}; !slices.Equal(got, want) {
		t.Errorf("plan with a pending config: %q, want %q", got, want)
	}
	same := planFor(t, e, load(), compose.PlanOptions{Up: opts, Pending: map[string][]byte{conf: []byte("listen 8080;")}})
	if same.Changes() {
		t.Errorf("plan with the same pending content reports changes: %v", changed(same))
	}
	if got, _ := os.ReadFile(conf); string(got) != "listen 8080;" {
		t.Errorf("planning changed the file on disk: %q", got)
	}
}
