package assets

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// testSecretsDir is where tests pretend the vault step writes secrets.
const testSecretsDir = "/run/fineract-stack/fineract/secrets"

// combo is one rendering case: a set of optional groups and a profile.
type combo struct {
	groups  []string
	profile answers.Profile
}

func (c combo) String() string {
	g := "core"
	if len(c.groups) > 0 {
		g += "+" + strings.Join(c.groups, "+")
	}
	return fmt.Sprintf("%s/%s", c.profile, g)
}

// allCombos is every subset of the optional groups under both profiles.
func allCombos() []combo {
	optional := answers.Groups[1:]
	var out []combo
	for _, p := range []answers.Profile{answers.Production, answers.Demo} {
		for mask := 0; mask < 1<<len(optional); mask++ {
			var gs []string
			for i, g := range optional {
				if mask&(1<<i) != 0 {
					gs = append(gs, g)
				}
			}
			out = append(out, combo{groups: gs, profile: p})
		}
	}
	return out
}

// answersFor builds answers for a combination, with non-default subnets and
// network names so tests can tell they come from the answers.
func answersFor(c combo) answers.Answers {
	a := answers.Defaults(c.profile)
	a.Groups = append([]string{answers.GroupCore}, c.groups...)
	a.Host.Hostname = "bank.example.test"
	a.Host.IPs = []string{"192.0.2.10"}
	a.Network.DMZ = answers.Segment{Name: "t-dmz", Subnet: "10.77.10.0/24"}
	a.Network.App = answers.Segment{Name: "t-app", Subnet: "10.77.20.0/24"}
	a.Network.Data = answers.Segment{Name: "t-data", Subnet: "10.77.30.0/24"}
	a.Network.Monitoring = answers.Segment{Name: "t-monitoring", Subnet: "10.77.40.0/24"}
	return a
}

func testOptions() Options {
	return Options{Project: "fineract", SecretsDir: testSecretsDir}
}

func mustRender(t *testing.T, a answers.Answers) Bundle {
	t.Helper()
	b, err := Render(a, testOptions())
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return b
}

// loadBundle writes the bundle to a temporary directory and loads it with
// the installer's own compose loader (compose-go).
func loadBundle(t *testing.T, b Bundle) (*types.Project, string) {
	t.Helper()
	dir := t.TempDir()
	if err := b.Write(context.Background(), dir); err != nil {
		t.Fatalf("Write: %v", err)
	}
	p, err := compose.Load(context.Background(), compose.LoadOptions{
		Files:       []string{filepath.Join(dir, b.ComposeFile)},
		WorkingDir:  dir,
		ProjectName: "fineract",
	})
	if err != nil {
		data, _ := os.ReadFile(filepath.Join(dir, b.ComposeFile))
		t.Fatalf("compose.Load: %v\n--- compose.yaml ---\n%s", err, data)
	}
	return p, dir
}

func fileText(t *testing.T, b Bundle, path string) string {
	t.Helper()
	f, ok := b.File(path)
	if !ok {
		t.Fatalf("bundle has no %s", path)
	}
	return string(f.Data)
}
