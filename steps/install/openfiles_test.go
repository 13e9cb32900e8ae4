package install

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/fineract-installer/fineract-installer/compose"
)

// writeEngine lays out a host root whose Docker engine (pid 4242) has the
// given "Max open files" line in its /proc limits.
func writeEngine(t *testing.T, pidfile, line string) string {
	t.Helper()
	root := t.TempDir()
	for path, data := range map[string]string{
		pidfile: "4242\n",
		"proc/4242/limits": "Limit                     Soft Limit           Hard Limit           Units     \n" +
			"Max cpu time              unlimited            unlimited            seconds   \n" + line + "\n",
	} {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestEngineOpenFilesReadsTheEnginesHardLimit(t *testing.T) {
	root := writeEngine(t, "run/docker.pid", "Max open files            20000                20000                files     ")
	if n, ok := EngineOpenFiles(root); !ok || n != 20000 {
		t.Errorf("engineOpenFiles = %d, %t; want 20000", n, ok)
	}
	root = writeEngine(t, "var/run/docker.pid", "Max open files            1024                 524288               files     ")
	if n, ok := EngineOpenFiles(root); !ok || n != 524288 {
		t.Errorf("engineOpenFiles (hard limit, /var/run) = %d, %t; want 524288", n, ok)
	}
	root = writeEngine(t, "run/docker.pid", "Max open files            unlimited            unlimited            files     ")
	if _, ok := EngineOpenFiles(root); ok {
		t.Error("an unlimited engine reported a ceiling")
	}
	if _, ok := EngineOpenFiles(t.TempDir()); ok {
		t.Error("an engine that is not on this host reported a ceiling")
	}
}

// TestFitOpenFilesLowersOnlyWhatTheEngineCannotGive: Elasticsearch's 65535
// is lowered to the engine's 20000 and said; a service within the limit and
// one without the setting are left alone.
func TestFitOpenFilesLowersOnlyWhatTheEngineCannotGive(t *testing.T) {
	withFiles := func(name string, soft, hard int) types.ServiceConfig {
		s := types.ServiceConfig{Name: name}
		if hard > 0 {
			s.Ulimits = map[string]*types.UlimitsConfig{"nofile": {Soft: soft, Hard: hard}}
		}
		return s
	}
	p := &compose.Project{Services: types.Services{
		"elasticsearch": withFiles("elasticsearch", 65535, 65535),
		"vault":         withFiles("vault", 4096, 8192),
		"redis":         withFiles("redis", 0, 0),
	}}
	notes := FitOpenFiles(p, 20000)
	if len(notes) != 1 || !strings.Contains(notes[0], "elasticsearch asks for 65535 open files") || !strings.Contains(notes[0], "at most 20000") {
		t.Errorf("notes = %q", notes)
	}
	if u := p.Services["elasticsearch"].Ulimits["nofile"]; u.Soft != 20000 || u.Hard != 20000 {
		t.Errorf("elasticsearch nofile = %d/%d, want 20000/20000", u.Soft, u.Hard)
	}
	if u := p.Services["vault"].Ulimits["nofile"]; u.Soft != 4096 || u.Hard != 8192 {
		t.Errorf("vault nofile changed to %d/%d", u.Soft, u.Hard)
	}
	if again := FitOpenFiles(p, 20000); len(again) != 0 {
		t.Errorf("a second fit changed more: %q", again)
	}
}
