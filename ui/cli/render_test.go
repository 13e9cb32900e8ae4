package cli

import (
	"context"
	"encoding/json"
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
