package pki

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

func TestFileModes(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org", hostIP)
	ensure(t, s, reqs)

	mode := func(name string) os.FileMode {
		fi, err := os.Stat(filepath.Join(s.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if fi, err := os.Stat(s.Dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	want := map[string]os.FileMode{"ca.crt": 0o644, "ca.key": 0o600}
	for _, r := range reqs {
		want[r.Name+".crt"] = 0o644
		want[r.Name+".key"] = 0o600
		if r.GroupReadable {
			want[r.Name+".key"] = 0o640
		}
	}
	if want["postgres.key"] != 0o640 {
		t.Fatal("fixture: postgres key should be group-readable")
	}
	for name, m := range want {
		if got := mode(name); got != m {
			t.Errorf("%s: mode %04o, want %04o", name, got, m)
		}
	}
}

func TestFileOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing file owners needs root")
	}
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org", hostIP)
	keep := Request{Name: "keep-owner", DNSNames: []string{"keep-owner"}, Usage: UsageServer, UID: -1, GID: -1}
	reqs = append(reqs, keep)
	ensure(t, s, reqs)

	owner := func(name string) (uint32, uint32) {
		fi, err := os.Stat(filepath.Join(s.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		return st.Uid, st.Gid
	}
	for _, r := range reqs {
		wantUID, wantGID := uint32(r.UID), uint32(r.GID)
		if r.UID == -1 {
			wantUID, wantGID = 0, 0 // created by root, left as is
		}
		for _, f := range []string{r.Name + ".crt", r.Name + ".key"} {
			if uid, gid := owner(f); uid != wantUID || gid != wantGID {
				t.Errorf("%s: owner %d:%d, want %d:%d", f, uid, gid, wantUID, wantGID)
			}
		}
	}
	if uid, gid := owner("postgres.key"); uid != 0 || gid != 999 {
		t.Errorf("postgres.key: owner %d:%d, want root:postgres (0:999)", uid, gid)
	}
	if uid, _ := owner("ca.key"); uid != 0 {
		t.Errorf("ca.key owned by %d, want the installer (root)", uid)
	}
}

// A wrong mode or owner on a good certificate is corrected in place: no
// new content, no new mtime, and a note in the report.
func TestEnsureFixesModeAndOwnerWithoutRewriting(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org", hostIP)
	ensure(t, s, reqs)
	key := filepath.Join(s.Dir, "redis.key")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	if root {
		if err := os.Chown(key, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, s.Dir)

	if plan, err := s.Plan(context.Background(), reqs); err != nil || plan.UpToDate() {
		t.Fatalf("Plan: up to date %v, err %v; want the fix announced", plan.UpToDate(), err)
	}
	rep := ensure(t, s, reqs)
	r, _ := rep.Result("redis")
	wantNote := "redis.key mode 0644 → 0600"
	if root {
		wantNote += ", owner 0:0 → 999:999"
	}
	if r.Action != Reused || !slices.Equal(r.Notes, []string{wantNote}) || len(r.Files) != 0 {
		t.Errorf("redis: %s notes %q files %v; want reused with note %q", r.Action, r.Notes, r.Files, wantNote)
	}
	after := snapshot(t, s.Dir)
	if string(after["redis.key"].data) != string(before["redis.key"].data) || !after["redis.key"].mtime.Equal(before["redis.key"].mtime) {
		t.Error("redis.key was rewritten instead of corrected in place")
	}
	if after["redis.key"].mode.Perm() != 0o600 || (root && after["redis.key"].uid != 999) {
		t.Errorf("redis.key: mode %v uid %d after the fix", after["redis.key"].mode, after["redis.key"].uid)
	}
	if changed := changedFiles(before, after); !slices.Equal(changed, []string{"redis.key"}) {
		t.Errorf("changed %v, want only redis.key's metadata", changed)
	}
}

func TestEnsureRestrictsLooseDirectory(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org")
	ensure(t, s, reqs)
	if err := os.Chmod(s.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rep := ensure(t, s, reqs)
	if !slices.Contains(rep.CA.Notes, "certificate directory mode 0755 → 0700") {
		t.Errorf("CA notes %q", rep.CA.Notes)
	}
	if fi, _ := os.Stat(s.Dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v", fi.Mode().Perm())
	}
}
