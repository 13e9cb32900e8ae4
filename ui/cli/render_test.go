package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/compose"
)

func TestRenderWritesALoadableProject(t *testing.T) {
	out := filepath.Join(t.TempDir(), "rendered")
	r := run(t, "", "render", "--demo", "--out", out, "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var res struct {
		ComposeFile string   `json:"compose_file"`
		Files       []string `json:"files"`
	}
	if err := json.Unmarshal([]byte(r.out), &res); err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("listed file not written: %v", err)
		}
	}
	p, err := compose.Load(context.Background(), compose.LoadOptions{Files: []string{res.ComposeFile}, WorkingDir: out, ProjectName: "fineract"})
	if err != nil {
		t.Fatalf("rendered compose file does not load: %v", err)
	}
	if _, ok := p.Services["gateway"]; !ok {
		t.Errorf("no gateway in the rendered project: %v", p.ServiceNames())
	}
}

func TestRenderNeedsAnswers(t *testing.T) {
	r := run(t, "", "render", "--out", t.TempDir())
	if r.code != ExitUsage || !strings.Contains(r.err, "--answers FILE") {
		t.Errorf("exit %d %q", r.code, r.err)
	}
	bad := filepath.Join(t.TempDir(), "a.yaml")
	os.WriteFile(bad, []byte("version: 1\nprofle: demo\n"), 0o644)
	r = run(t, "", "render", "--answers", bad, "--out", t.TempDir())
	if r.code != ExitUsage || !strings.Contains(r.err, `a.yaml:2: unknown key "profle"; did you mean "profile"?`) {
		t.Errorf("exit %d %q", r.code, r.err)
	}
}

func TestCertsGenerateIsIdempotentAndShowLists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stack")
	r := run(t, "", "certs", "generate", "--demo", "--dir", dir, "-o", "json")
	if r.code != 0 {
		t.Fatalf("generate: exit %d %s", r.code, r.err)
	}
	crt := filepath.Join(dir, "pki", "gateway.crt")
	before, err := os.Stat(crt)
	if err != nil {
		t.Fatal(err)
	}
	r = run(t, "", "certs", "generate", "--demo", "--dir", dir, "--no-color")
	if r.code != 0 || !strings.Contains(r.out, "already done") {
		t.Errorf("second generate: exit %d\n%s", r.code, r.out)
	}
	if after, _ := os.Stat(crt); !after.ModTime().Equal(before.ModTime()) {
		t.Error("an unchanged rerun rewrote the gateway certificate")
	}
	r = run(t, "", "certs", "show", "--dir", dir, "-o", "json")
	var inv struct {
		Certificates []struct {
			Name     string `json:"name"`
			DaysLeft int    `json:"days_left"`
		} `json:"certificates"`
	}
	if err := json.Unmarshal([]byte(r.out), &inv); err != nil || r.code != 0 || len(inv.Certificates) < 3 || inv.Certificates[0].Name != "ca" {
		t.Fatalf("show: exit %d %v %s", r.code, err, r.out)
	}
	for _, c := range inv.Certificates[1:] {
		if c.DaysLeft < 390 || c.DaysLeft > 397 {
			t.Errorf("%s: %d days left, want a fresh leaf of at most 397 days", c.Name, c.DaysLeft)
		}
	}
	if r := run(t, "", "certs", "show", "--dir", filepath.Join(t.TempDir(), "none")); r.code != ExitUsage {
		t.Errorf("show without certificates: exit %d %s", r.code, r.err)
	}
}

// A problem only rendering finds (a network name Docker cannot take) is
// an answers error like any other: exit 2, and it names the file and the
// line of the key, for render and for every command that renders.
func TestRenderErrorsPointAtTheAnswersLine(t *testing.T) {
	init := run(t, "", "answers", "init", "--profile", "demo")
	lines := strings.Split(init.out, "\n")
	line := 0
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "app: {name: app,") {
			lines[i] = strings.Replace(l, "name: app,", `name: "App Net",`, 1)
			line = i + 1
		}
	}
	if line == 0 {
		t.Fatalf("no app network in the answers template:\n%s", init.out)
	}
	file := filepath.Join(t.TempDir(), "answers.yaml")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("error: %s:%d: network.app.name \"App Net\" must be lower-case letters", file, line)
	for _, args := range [][]string{
		{"render", "--answers", file, "--out", filepath.Join(t.TempDir(), "out")},
		{"images", "bundle", "--answers", file, "--out", filepath.Join(t.TempDir(), "images.tar")},
		{"certs", "generate", "--answers", file},
	} {
		r := run(t, "", args...)
		if r.code != ExitUsage || !strings.HasPrefix(r.err, want) {
			t.Errorf("%v: exit %d stderr %q; want it to start with %q", args, r.code, r.err, want)
		}
	}
}
