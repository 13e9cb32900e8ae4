package vault

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The attacker child: a process running as a service's uid that, for as
// long as it lives, swaps that service's secret files for symlinks to a
// file outside the secrets tree and loosens their modes (which makes every
// delivery rewrite them).
const (
	attackEnvDir    = "STEPS_VAULT_ATTACK_DIR"
	attackEnvFiles  = "STEPS_VAULT_ATTACK_FILES"
	attackEnvTarget = "STEPS_VAULT_ATTACK_TARGET"
)

func swapLinks() int {
	dir, target := os.Getenv(attackEnvDir), os.Getenv(attackEnvTarget)
	files := strings.Split(os.Getenv(attackEnvFiles), ",")
	for {
		_ = os.Chmod(dir, 0o700) // only works on a directory it owns
		for _, name := range files {
			p := filepath.Join(dir, name)
			_ = os.Chmod(p, 0o600)
			_ = os.Remove(p)
			_ = os.Symlink(target, p)
		}
		if entries, err := os.ReadDir(dir); err == nil {
			for _, e := range entries { // the writer's temporary files too
				p := filepath.Join(dir, e.Name())
				_ = os.Remove(p)
				_ = os.Symlink(target, p)
			}
		}
	}
}

// raceDuration is how long the attacker swaps links while deliveries run.
const raceDuration = 10 * time.Second

// TestRedeliveryRaceCannotTouchFilesOutsideTheTree replays the review's
// attack: the service's uid (65534, nobody on most hosts) swaps symlinks in
// its secrets directory while the installer re-delivers again and again.
// No file outside the secrets tree may change owner, mode or content.
func TestRedeliveryRaceCannotTouchFilesOutsideTheTree(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("this test hands files to another uid and runs a process as it: run the suite as root")
		}
		t.Skip("needs root: it hands files to another uid and runs a process as it")
	}
	v := startLabVault(t)
	c := v.conn()
	ctx := testCtx(t)
	store := FileRecordStore{Path: filepath.Join(t.TempDir(), "record.json")}
	res := initProduction(t, c, store)
	unsealAll(t, c, res.Keys[:3])
	if err := c.Configure(ctx, res.RootToken, DefaultAuditDevices(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnsureSecrets(ctx, res.RootToken, testSpecs, nil); err != nil {
		t.Fatal(err)
	}

	// The tree's parent lets every user through, as /run does.
	base := openDir(t, 0o711)
	root := filepath.Join(base, "secrets")
	canary := filepath.Join(t.TempDir(), "root-owned-file")
	if err := os.WriteFile(canary, []byte("belongs to root\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const attacker = 65534
	files := []string{"db_password", "db_user"}
	deliveries := []Delivery{{Service: "fineract", UID: attacker, GID: attacker, Files: []SecretFile{
		{Name: files[0], Path: "banking/databases/fineract", Key: "password"},
		{Name: files[1], Path: "banking/databases/fineract", Key: "username"},
	}}}
	if err := c.Deliver(ctx, res.RootToken, root, deliveries, nil); err != nil {
		t.Fatal(err)
	}

	child := startAttacker(t, attacker, filepath.Join(root, "fineract"), files, canary)
	deliveriesRun, failures := 0, 0
	var firstFailure error
	for end := time.Now().Add(raceDuration); time.Now().Before(end); deliveriesRun++ {
		// Whatever mode the tree's root is given, the attacker gets through
		// to its own directory here; and the service loosens its file's
		// mode (it owns the file: from inside its container it can), so
		// every delivery rewrites it.
		_ = os.Chmod(root, 0o711)
		_ = os.Chmod(filepath.Join(root, "fineract", files[0]), 0o644)
		if err := c.Deliver(ctx, res.RootToken, root, deliveries, nil); err != nil {
			failures++
			if firstFailure == nil {
				firstFailure = err
			}
		}
		assertUntouched(t, canary, deliveriesRun)
	}
	_ = child.Process.Kill()
	_ = child.Wait()
	t.Logf("%d deliveries in %s while uid %d swapped links", deliveriesRun, raceDuration, attacker)
	if failures > 0 {
		t.Errorf("%d of %d deliveries failed under the attack; first: %v", failures, deliveriesRun, firstFailure)
	}

	// The tree still holds the right files, given to the service, in a
	// directory only root can change.
	if err := CheckDelivered(root, deliveries); err != nil {
		t.Errorf("after the race: %v", err)
	}
	cl, _ := c.withToken(res.RootToken)
	sec, err := cl.KVv2(KVMount).Get(ctx, "databases/fineract")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "fineract", "db_password"))
	if err != nil || string(got) != sec.Data["password"] {
		t.Errorf("delivered password after the race: %v", err)
	}
}

// startAttacker runs this test binary as uid in attacker mode. The binary
// is copied where that uid can execute it.
func startAttacker(t *testing.T, uid int, dir string, files []string, target string) *exec.Cmd {
	t.Helper()
	binDir := openDir(t, 0o755)
	self, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	bin := filepath.Join(binDir, "attacker")
	out, err := os.OpenFile(bin, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, self); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = "/"
	cmd.Env = []string{attackEnvDir + "=" + dir, attackEnvFiles + "=" + strings.Join(files, ","), attackEnvTarget + "=" + target}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the attacker as uid %d: %v", uid, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd
}

// openDir makes a temporary directory with mode, directly under the system's
// temporary directory, so that other users can reach it.
func openDir(t *testing.T, mode os.FileMode) string {
	t.Helper()
	d, err := os.MkdirTemp("", "fineract-race-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	if err := os.Chmod(d, mode); err != nil {
		t.Fatal(err)
	}
	return d
}

func assertUntouched(t *testing.T, p string, after int) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatalf("after %d deliveries: %v", after, err)
	}
	body, err := os.ReadFile(p)
	if st.Uid != 0 || st.Gid != 0 || st.Mode&0o7777 != 0o600 || err != nil || !bytes.Equal(body, []byte("belongs to root\n")) {
		t.Fatalf("after %d deliveries the file outside the secrets tree changed: owner %d:%d mode %04o content %q (%v)",
			after, st.Uid, st.Gid, st.Mode&0o7777, body, err)
	}
}
