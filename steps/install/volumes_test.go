package install

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/volume"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// A volume made under other ids (an earlier release ran the service as
// the image's uid) is handed over whole to the service's own ids; a link
// the old owner left in it is changed itself, never followed; a new,
// empty volume only gets its root.
func TestVolumesAreHandedOverWithoutFollowingLinks(t *testing.T) {
	if os.Geteuid() != 0 {
		if labtest.Required() {
			t.Fatal("this test changes owners in a Docker volume: run the suite as root")
		}
		t.Skip("needs root")
	}
	e := labtest.Engine(t)
	project := labtest.Project(t, e)
	ctx := ctxT(t)
	old := create(t, e, project+"_old-data")
	fresh := create(t, e, project+"_fresh-data")

	// The old volume: files and a directory of uid 100, and a link to a
	// root-owned file outside the volume.
	outside := filepath.Join(t.TempDir(), "root-owned")
	if err := os.WriteFile(outside, []byte("root's\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	must(t, os.MkdirAll(filepath.Join(old, "pg", "base"), 0o700))
	must(t, os.WriteFile(filepath.Join(old, "pg", "base", "1"), []byte("rows"), 0o600))
	must(t, os.Symlink(outside, filepath.Join(old, "pg", "escape")))
	for _, p := range []string{"pg", "pg/base", "pg/base/1", "pg/escape"} {
		must(t, os.Lchown(filepath.Join(old, p), 100, 1000))
	}

	const uid, gid = 70002, 70002
	env := &Env{Installation: installation.New("", project), Engine: e, Bundle: assets.Bundle{Services: []assets.Service{
		{Name: "postgres", UID: uid, GID: gid, DataVolumes: []string{"old-data", "fresh-data"}},
	}}}
	p := &compose.Project{Name: project, Volumes: types.Volumes{
		"old-data": {Name: project + "_old-data"}, "fresh-data": {Name: project + "_fresh-data"},
	}}
	if ok, _, err := env.volumesOwned(ctx, p); err != nil || ok {
		t.Fatalf("volumes owned before the hand-over: %v %v", ok, err)
	}
	var info emitted
	if err := env.handOverVolumes(ctx, p, info.emitter().Info); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", "pg", "pg/base", "pg/base/1", "pg/escape"} {
		assertOwner(t, filepath.Join(old, p), uid, gid)
	}
	assertOwner(t, fresh, uid, gid)
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != volumeMode {
		t.Errorf("fresh volume mode %v, want %v", fi.Mode().Perm(), os.FileMode(volumeMode))
	}
	assertOwner(t, outside, 0, 0)
	if ok, reason, err := env.volumesOwned(ctx, p); err != nil || !ok {
		t.Errorf("volumes not owned after the hand-over: %s %v", reason, err)
	}
	t.Log(info.String())
}

func create(t *testing.T, e *compose.Engine, name string) string {
	t.Helper()
	v, err := e.API().VolumeCreate(context.Background(), volume.CreateOptions{Name: name, Labels: map[string]string{compose.LabelProject: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.API().VolumeRemove(context.Background(), name, true) })
	return v.Mountpoint
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func assertOwner(t *testing.T, p string, uid, gid int) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	if int(st.Uid) != uid || int(st.Gid) != gid {
		t.Errorf("%s belongs to %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, gid)
	}
}
