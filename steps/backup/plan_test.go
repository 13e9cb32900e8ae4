package backup

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps"
)

func touch(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// --keep removes the oldest backups (their names carry the UTC time) and
// nothing else; a rerun finds nothing more to do.
func TestPruneKeepsTheNewestBackups(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, "backup-20260101T000000Z.fib", "backup-20260103T000000Z.fib", "backup-20260102T000000Z.fib", "notes.txt", "backup-20260104T000000Z.fib.partial")
	s := PruneStep{Dir: dir, Keep: 2}
	if done, err := s.Check(context.Background()); done || err != nil {
		t.Fatalf("check with 3 backups and keep 2: %t %v", done, err)
	}
	if err := (&steps.Runner{Plan: (&steps.Plan{}).Then(s)}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"backup-20260102T000000Z.fib", "backup-20260103T000000Z.fib", "backup-20260104T000000Z.fib.partial", "notes.txt"}
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Errorf("after pruning: %v, want %v", got, want)
	}
	if done, err := s.Check(context.Background()); !done || err != nil {
		t.Errorf("check after pruning: %t %v", done, err)
	}
}

// A backup killed while writing leaves its partial archive (the bank's
// data, encrypted, never to be finished). The next run, holding the
// installation's lock, removes those in the installation's own backup
// directory; in a directory given with --out, which other installations
// may share, only the partial file of the archive it writes.
func TestPartialArchivesOfAnInterruptedRunAreRemoved(t *testing.T) {
	own, shared := t.TempDir(), t.TempDir()
	partials := []string{"backup-20260101T000000Z.fib.partial", "backup-20260102T000000Z.fib.partial"}
	touch(t, own, append(partials, "backup-20260101T000000Z.fib")...)
	touch(t, shared, append(partials, "nightly.fib.partial")...)
	emit := &infoRecorder{}

	if err := removePartials(own, filepath.Join(own, "backup-20260103T000000Z.fib"), true, emit); err != nil {
		t.Fatal(err)
	}
	if got := names(t, own); !slices.Equal(got, []string{"backup-20260101T000000Z.fib"}) {
		t.Errorf("own backup dir after the rerun: %v", got)
	}
	if err := removePartials(shared, filepath.Join(shared, "nightly.fib"), false, emit); err != nil {
		t.Fatal(err)
	}
	if got := names(t, shared); !slices.Equal(got, partials) {
		t.Errorf("shared --out dir after the rerun: %v, want the other partials kept", got)
	}
	if len(emit.subjects) != 3 {
		t.Errorf("removals reported: %v", emit.subjects)
	}

	// A link in place of a partial file is not this installer's: refused.
	if err := os.Symlink("/etc/passwd", filepath.Join(shared, "nightly.fib.partial")); err != nil {
		t.Fatal(err)
	}
	if err := removePartials(shared, filepath.Join(shared, "nightly.fib"), false, emit); err == nil {
		t.Error("a link in place of the partial archive was removed")
	}
}

// infoRecorder keeps the subjects of a step's progress messages.
type infoRecorder struct{ subjects []string }

func (r *infoRecorder) Progress(string, int64, int64, string, string) {}
func (r *infoRecorder) Log(string, string, string)                    {}
func (r *infoRecorder) Warn(string)                                   {}
func (r *infoRecorder) Info(subject, _ string)                        { r.subjects = append(r.subjects, subject) }
func (r *infoRecorder) Emit(steps.Event)                              {}

// A restore is one plan: everything it can check (the images against the
// backup's record, the backup's certificates and Vault record) comes
// before the first step that changes the installation, and every step
// has an ID of its own in the restore's record.
func TestRestoreChecksComeBeforeTheStackStops(t *testing.T) {
	ids := planIDs((&Restoration{}).Plan())
	stop := slices.Index(ids, "restore-stop")
	for _, check := range []string{"restore-image-record", "images", "restore-stage"} {
		if i := slices.Index(ids, check); i < 0 || i > stop {
			t.Errorf("%s is not checked before the stack stops: %v", check, ids)
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("two steps named %s: %v", id, ids)
		}
		seen[id] = true
	}
	if last := ids[len(ids)-1]; last != "validate" {
		t.Errorf("the restore ends with %s, not the checklist: %v", last, ids)
	}
}

// A backup is one plan: the archive, then Vault unsealed by the install
// step that does it everywhere, then pruning when asked for.
func TestBackupPlanUnsealsVaultAfterTheArchive(t *testing.T) {
	ids := planIDs(Plan(nil, Options{Out: "/nowhere/b.fib", Keep: 3}, nil))
	if want := []string{"backup", "vault", "vault-ready", "backup-prune"}; !slices.Equal(ids, want) {
		t.Errorf("backup plan %v, want %v", ids, want)
	}
	if ids := planIDs(Plan(nil, Options{Out: "/nowhere/b.fib"}, nil)); slices.Contains(ids, "backup-prune") {
		t.Errorf("a backup without --keep prunes: %v", ids)
	}
}

func planIDs(p *steps.Plan) []string {
	var ids []string
	for _, s := range p.Steps() {
		ids = append(ids, s.ID())
	}
	return ids
}
