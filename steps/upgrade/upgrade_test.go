package upgrade

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// The backup and the new images often share one filesystem: their needs
// add up there, and a disk that holds either alone but not both is refused.
func TestDiskNeedsAddUpPerFilesystem(t *testing.T) {
	space := func(free map[string]int64, dev map[string]uint64) fsSpace {
		return func(p string) (uint64, int64, error) { return dev[p], free[p[:2]], nil }
	}
	needs := []diskNeed{
		{What: "new images", Path: "/a/docker", Bytes: 600 << 20},
		{What: "backup", Path: "/a/backups", Bytes: 600 << 20},
	}
	oneFS := map[string]uint64{"/a/docker": 1, "/a/backups": 1}
	err := shortfall(needs, space(map[string]int64{"/a": 1500 << 20}, oneFS))
	var r *Refusal
	if !errors.As(err, &r) || r.Kind != RefusedDisk || !strings.Contains(err.Error(), "new images 600 MiB + backup 600 MiB") {
		t.Fatalf("1500 MiB free for 1200 MiB of needs and the reserve: got %v, want a disk refusal naming both", err)
	}
	if err := shortfall(needs, space(map[string]int64{"/a": 1800 << 20}, oneFS)); err != nil {
		t.Fatalf("1800 MiB free: %v", err)
	}
	twoFS := map[string]uint64{"/a/docker": 1, "/a/backups": 2}
	if err := shortfall(needs, space(map[string]int64{"/a": 1500 << 20}, twoFS)); err != nil {
		t.Fatalf("two filesystems of 1500 MiB each: %v", err)
	}
}

func TestJournalIsReadAsUntrustedInput(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := LoadJournal(dir); ok || err != nil {
		t.Fatalf("no journal: ok=%v err=%v", ok, err)
	}
	j := Journal{Stack: "lab-2", Backup: "backup-20261203T101112Z.fib"}
	if err := j.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, ok, err := LoadJournal(dir)
	if err != nil || !ok || got.Backup != j.Backup || got.Stack != j.Stack {
		t.Fatalf("got %+v ok=%v err=%v", got, ok, err)
	}
	inst := installation.New(dir, "p")
	if got.BackupFile(inst) != filepath.Join(dir, "backups", j.Backup) {
		t.Fatalf("backup file %s", got.BackupFile(inst))
	}
	name := inst.UpgradeFile()
	for what, body := range map[string]string{
		"a path for a backup": `{"version":1,"stack":"lab-2","backup":"../../etc/shadow","started":"2026-12-03T10:11:12Z"}`,
		"another file":        `{"version":1,"stack":"lab-2","backup":"answers.yaml","started":"2026-12-03T10:11:12Z"}`,
		"no stack":            `{"version":1,"stack":"","backup":"backup-20261203T101112Z.fib","started":"2026-12-03T10:11:12Z"}`,
		"an unknown field":    `{"version":1,"stack":"lab-2","backup":"backup-20261203T101112Z.fib","started":"2026-12-03T10:11:12Z","run":"x"}`,
		"another version":     `{"version":2,"stack":"lab-2","backup":"backup-20261203T101112Z.fib","started":"2026-12-03T10:11:12Z"}`,
		"too large":           strings.Repeat(" ", maxJournal+1),
	} {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadJournal(dir); err == nil {
			t.Errorf("%s was accepted", what)
		}
	}
	os.Remove(name)
	target := filepath.Join(t.TempDir(), "elsewhere.json")
	if err := j.Save(filepath.Dir(target)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(installation.New(filepath.Dir(target), "").UpgradeFile(), name); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadJournal(dir); err == nil {
		t.Error("a journal read through a link was accepted")
	}
}

// A rerun rolls back only when the interrupted run had begun to change
// the stack, and restores the databases only when a service that migrates
// its schema had begun to be replaced.
func TestInterruptedRunDecidesRollbackAndDatabases(t *testing.T) {
	st := func(status map[string]steps.Status) *steps.State {
		s := &steps.State{Steps: map[string]*steps.StepState{}}
		for id, v := range status {
			s.Steps[id] = &steps.StepState{Status: v}
		}
		return s
	}
	cases := []struct {
		name              string
		state             map[string]steps.Status
		rollback, restore bool
	}{
		{"stopped in the backup", map[string]steps.Status{"backup": steps.StatusInterrupted, "render": steps.StatusPending, "upgrade-service-fineract": steps.StatusPending}, false, false},
		{"stopped pulling", map[string]steps.Status{"backup": steps.StatusDone, "upgrade-images": steps.StatusInterrupted, "render": steps.StatusPending}, false, false},
		{"configuration rendered", map[string]steps.Status{"render": steps.StatusDone, "upgrade-service-gateway": steps.StatusPending, "upgrade-service-fineract": steps.StatusPending}, true, false},
		{"gateway replaced", map[string]steps.Status{"render": steps.StatusDone, "upgrade-service-gateway": steps.StatusDone, "upgrade-service-fineract": steps.StatusPending}, true, false},
		{"fineract starting", map[string]steps.Status{"render": steps.StatusDone, "upgrade-service-gateway": steps.StatusDone, "upgrade-service-fineract": steps.StatusInterrupted}, true, true},
	}
	for _, c := range cases {
		s := st(c.state)
		if got := ReplacementStarted(s); got != c.rollback {
			t.Errorf("%s: roll back = %v, want %v", c.name, got, c.rollback)
		}
		if got := NeedsDatabases(s); got != c.restore {
			t.Errorf("%s: restore the databases = %v, want %v", c.name, got, c.restore)
		}
	}
}

// While an upgrade runs, a container may start from the recorded image or
// from the new pin's image this run resolved, and from nothing else.
func TestUpgradeAcceptsOnlyRecordedOrResolvedImages(t *testing.T) {
	dir := t.TempDir()
	rec := install.ImageRecord{Services: map[string]install.RecordedImage{
		"fineract": {Image: "openmf/fineract:1.14.0", ID: "sha256:old"},
		"postgres": {Image: "postgres:16", ID: "sha256:pg"},
	}}
	if err := rec.Save(dir); err != nil {
		t.Fatal(err)
	}
	env := &install.Env{Installation: installation.New(dir, "p")}
	u := &Upgrade{Env: env, Record: rec}
	newFineract := compose.ServiceImage{Service: "fineract", Image: "openmf/fineract:2.0.0", ID: "sha256:new"}
	pg := compose.ServiceImage{Service: "postgres", Image: "postgres:16", ID: "sha256:pg"}
	if err := u.VerifyImages(context.Background(), []compose.ServiceImage{newFineract, pg}); !errors.Is(err, compose.ErrUntrustedImage) {
		t.Fatalf("before the images step resolved it, the new image was accepted: %v", err)
	}
	u.pending = rec.Upgraded([]compose.ServiceImage{newFineract, pg}, "lab-2", timeNow())
	if err := u.VerifyImages(context.Background(), []compose.ServiceImage{newFineract, pg}); err != nil {
		t.Fatalf("the resolved new image: %v", err)
	}
	old := compose.ServiceImage{Service: "fineract", Image: "openmf/fineract:1.14.0", ID: "sha256:old"}
	if err := u.VerifyImages(context.Background(), []compose.ServiceImage{old, pg}); err != nil {
		t.Fatalf("the recorded image (the way back): %v", err)
	}
	swapped := compose.ServiceImage{Service: "fineract", Image: "openmf/fineract:2.0.0", ID: "sha256:other"}
	if err := u.VerifyImages(context.Background(), []compose.ServiceImage{swapped, pg}); !errors.Is(err, compose.ErrUntrustedImage) {
		t.Fatalf("a tag moved to another image after the pull was accepted: %v", err)
	}
}

func TestCheckPathRefusals(t *testing.T) {
	for _, c := range []struct {
		from, fromRelease, to, toRelease string
		refused                          bool
	}{
		{"openmf/fineract:1.14.0", "", "lab/fineract:2.0.0", "", false},
		{"lab/fineract:2.0.0", "", "openmf/fineract:1.14.0", "", true},
		{"openmf/fineract:1.5.2", "", "openmf/fineract:1.14.0", "", true},
		{"openmf/fineract:custom", "", "openmf/fineract:1.14.0", "", true},
		// Declared releases count, whatever the tags say.
		{"openmf/fineract:1.14.0", "1.14.0", "lab/fineract:v2", "1.15.0", false},
		{"lab/fineract:v2", "1.15.0", "openmf/fineract:1.14.0", "1.14.0", true},
	} {
		u := &Upgrade{Changes: []Change{{Service: "fineract", From: c.from, FromRelease: c.fromRelease, To: c.to, ToRelease: c.toRelease}}}
		err := u.CheckPath()
		var r *Refusal
		if got := errors.As(err, &r) && r.Kind == RefusedPath && r.Hint() != ""; got != c.refused {
			t.Errorf("%s -> %s: refused=%v (%v), want %v", c.from, c.to, got, err, c.refused)
		}
	}
}

func timeNow() time.Time { return time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC) }

// Services are replaced after what they depend on: PostgreSQL and Vault
// before Fineract, Fineract before the gateway in front of it.
func TestChangesFollowDependencyOrder(t *testing.T) {
	dir := t.TempDir()
	a := answers.Defaults(answers.Demo)
	a.InstallDir = dir
	b, err := assets.Render(a, assets.Options{Project: "p", SecretsDir: "/run/fineract-stack/p/secrets"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range b.Files {
		name := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, f.Data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := &install.Env{Installation: installation.New(dir, "p"), Answers: a, Bundle: b}
	order, err := dependencyOrder(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	pos := func(svc string) int { return slices.Index(order, svc) }
	for _, pair := range [][2]string{{"vault", "postgres"}, {"postgres", "fineract"}, {"fineract", "gateway"}, {"vault", "fineract"}} {
		if pos(pair[0]) < 0 || pos(pair[0]) > pos(pair[1]) {
			t.Errorf("%s comes after %s in %v", pair[0], pair[1], order)
		}
	}
}
