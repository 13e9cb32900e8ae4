package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
)

// A subnet already used by another Docker network: preflight fails with
// exit 3, names the clash, suggests a free subnet, and writes nothing.
func TestSubnetClashStopsBeforeAnyChange(t *testing.T) {
	s := newStack(t, 4)
	ctx := ctxFor(t, 5*time.Minute)
	name := s.project + "-squatter"
	if _, err := s.engine.API().NetworkCreate(ctx, name, network.CreateOptions{IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: s.ans.Network.Data.Subnet}}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.engine.API().NetworkRemove(context.Background(), name) })
	r := s.run(ctx, "install", "--answers", s.answers, "--yes")
	if r.code != 3 || !strings.Contains(r.stdout, "Docker network "+name) || !strings.Contains(r.stdout, "for example 10.") {
		t.Errorf("want exit 3 naming %s with a free subnet: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("a failed preflight wrote the install dir: %v", err)
	}
}

// An answers file with a typo: exit 2, the line, and the fix.
func TestAnswersTypoIsRefusedWithItsLine(t *testing.T) {
	s := newStack(t, 5)
	bad := filepath.Join(t.TempDir(), "answers.yaml")
	data, _ := os.ReadFile(s.answers)
	data = []byte(strings.Replace(string(data), "key_threshold:", "key_treshold:", 1))
	if err := os.WriteFile(bad, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := s.run(ctxFor(t, time.Minute), "install", "--answers", bad, "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown key "vault.key_treshold"; did you mean "vault.key_threshold"?`) || !strings.Contains(r.stderr, "answers.yaml:") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}

// The same typo with -o json: the error is one error object on stderr,
// with the same cause and the exit code, and nothing else is written.
func TestAnswersTypoIsAnErrorObjectInJSON(t *testing.T) {
	s := newStack(t, 5)
	bad := filepath.Join(t.TempDir(), "answers.yaml")
	data, _ := os.ReadFile(s.answers)
	data = []byte(strings.Replace(string(data), "key_threshold:", "key_treshold:", 1))
	if err := os.WriteFile(bad, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := s.run(ctxFor(t, time.Minute), "install", "--answers", bad, "--yes", "-o", "json")
	var x struct {
		Type     string `json:"type"`
		Cause    string `json:"cause"`
		ExitCode int    `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(r.stderr), &x); err != nil || r.code != 2 || x.Type != "error" || x.ExitCode != 2 ||
		!strings.Contains(x.Cause, `unknown key "vault.key_treshold"`) || !strings.Contains(x.Cause, "answers.yaml:") || r.stdout != "" {
		t.Errorf("exit %d: %v\nstdout: %s\nstderr: %s", r.code, err, r.stdout, r.stderr)
	}
}

// An install dir on a tiny, full filesystem: a clear error before anything
// is written, and the files already there are left as they were.
func TestFullInstallDiskIsRefusedCleanly(t *testing.T) {
	s := newStack(t, 6)
	// Keep the answers outside the directory the tmpfs is about to cover.
	answersCopy := filepath.Join(t.TempDir(), "answers.yaml")
	data, err := os.ReadFile(s.answers)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(answersCopy, data, 0o600); err != nil {
		t.Fatal(err)
	}
	parent := filepath.Dir(s.dir)
	if err := syscall.Mount("tmpfs", parent, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount a tiny tmpfs (the tests run as root): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(parent, syscall.MNT_DETACH) })
	keep := filepath.Join(parent, "keep.txt")
	if err := os.WriteFile(keep, []byte("already here"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = exec.Command("dd", "if=/dev/zero", "of="+filepath.Join(parent, "filler"), "bs=4k").Run()
	r := s.run(ctxFor(t, 2*time.Minute), "install", "--answers", answersCopy, "--yes")
	if r.code != 3 || !strings.Contains(r.stdout, "Disk for the install dir") {
		t.Errorf("want preflight to refuse the full disk (exit 3): exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("something was written into the install dir: %v", err)
	}
	if b, _ := os.ReadFile(keep); string(b) != "already here" {
		t.Errorf("an existing file changed: %q", b)
	}
}
