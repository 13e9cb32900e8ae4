package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The image's entrypoint is a link to this binary under the upstream
// script's name; run() dispatches on it.
const entrypointName = "docker-entrypoint.sh"

// The upstream image's vault user (Alpine: adduser -S puts it at uid 100,
// addgroup vault at gid 1000).
const (
	vaultUID = 100
	vaultGID = 1000
)

// Paths the upstream entrypoint knows about. Variables so tests can point
// them at a temporary directory.
var (
	vaultBinary    = "/bin/vault"
	vaultConfigDir = "/vault/config"
	vaultLogsDir   = "/vault/logs"
	vaultFileDir   = "/vault/file"
)

// entrypointArgs rewrites the container arguments the way upstream's
// docker-entrypoint.sh does: flags and known subcommands run vault, and
// `server` becomes `vault server -config=/vault/config ...`.
func entrypointArgs(args []string, getenv func(string) string) []string {
	if len(args) > 0 && strings.HasPrefix(args[0], "-") {
		args = append([]string{"vault"}, args...)
	}
	if len(args) == 0 {
		return args
	}
	switch args[0] {
	case "server":
		listen := getenv("VAULT_DEV_LISTEN_ADDRESS")
		if listen == "" {
			listen = "0.0.0.0:8200"
		}
		out := []string{"vault", "server",
			"-config=" + vaultConfigDir,
			"-dev-root-token-id=" + getenv("VAULT_DEV_ROOT_TOKEN_ID"),
			"-dev-listen-address=" + listen,
		}
		return append(out, args[1:]...)
	case "version", "status":
		return append([]string{"vault"}, args...)
	}
	return args
}

// runEntrypoint is the image's ENTRYPOINT. Like upstream it disables core
// dumps, writes VAULT_LOCAL_CONFIG, chowns the Vault directories unless
// SKIP_CHOWN is set, and when started as root runs Vault as the vault user,
// keeping IPC_LOCK (for mlock) unless SKIP_SETCAP is set. Where upstream
// uses setcap on the binary plus su-exec, this grants IPC_LOCK as an
// ambient capability to the child, which has the same effect.
func runEntrypoint(args []string) int {
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0})

	if local := os.Getenv("VAULT_LOCAL_CONFIG"); local != "" {
		if err := os.WriteFile(filepath.Join(vaultConfigDir, "local.json"), []byte(local+"\n"), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "docker-entrypoint.sh: writing VAULT_LOCAL_CONFIG: %v\n", err)
			return 1
		}
	}

	args = entrypointArgs(args, os.Getenv)
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 127
	}
	if args[0] != "vault" {
		return execOther(args)
	}
	if os.Getenv("SKIP_CHOWN") == "" {
		if err := chownVaultDirs(); err != nil {
			fmt.Fprintf(os.Stderr, "docker-entrypoint.sh: %v\n", err)
			return 1
		}
	}
	withIPCLock := false
	if os.Getenv("SKIP_SETCAP") == "" {
		if !hasEffectiveCap(unix.CAP_SETFCAP) {
			// Upstream's `setcap` fails here and the script stops (set -e).
			fmt.Fprintln(os.Stderr, "unable to set CAP_SETFCAP effective capability: Operation not permitted\n"+
				"(the upstream entrypoint stops here too: set SKIP_SETCAP=true when the container runs "+
				"without CAP_SETFCAP, e.g. as a non-root user or with cap_drop: ALL)")
			return 1
		}
		withIPCLock = true
	}
	if os.Getuid() != 0 {
		return run(append([]string{vaultBinary}, args[1:]...))
	}
	return runAsVaultUser(args[1:], withIPCLock)
}

// chownVaultDirs mirrors upstream: a directory not owned by the vault user
// (typically a bind mount) is chowned recursively. Failing on the config
// directory is only a warning; on logs and file storage it is fatal.
func chownVaultDirs() error {
	for _, dir := range []string{vaultConfigDir, vaultLogsDir, vaultFileDir} {
		fi, err := os.Stat(dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid == vaultUID {
			continue
		}
		if err := chownTree(dir, vaultUID, vaultGID); err != nil {
			if dir == vaultConfigDir {
				fmt.Fprintf(os.Stderr, "Could not chown %s (may not have appropriate permissions)\n", dir)
				continue
			}
			return fmt.Errorf("chown -R vault:vault %s: %w", dir, err)
		}
	}
	return nil
}

func chownTree(root string, uid, gid int) error {
	return filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// hasEffectiveCap reads CapEff from /proc/self/status.
func hasEffectiveCap(capability int) bool {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<uint(capability)) != 0
		}
	}
	return false
}

// runAsVaultUser starts Vault as uid 100 and waits for it, forwarding
// signals (upstream's PID 1 is dumb-init, which does the same). If IPC_LOCK
// cannot be granted because the container lacks it, it retries without,
// printing upstream's message.
func runAsVaultUser(args []string, withIPCLock bool) int {
	cmd, err := startVault(args, withIPCLock)
	if err != nil && withIPCLock {
		fmt.Fprintln(os.Stderr, "Couldn't start vault with IPC_LOCK. Disabling IPC_LOCK, please use --cap-add IPC_LOCK")
		cmd, err = startVault(args, false)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "docker-entrypoint.sh: running vault as uid %d: %v\n", vaultUID, err)
		return 1
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exitErr.ExitCode()
	}
	if err != nil {
		return 1
	}
	return 0
}

func startVault(args []string, withIPCLock bool) (*exec.Cmd, error) {
	cmd := exec.Command(vaultBinary, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "HOME=/home/vault", "USER=vault")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: vaultUID, Gid: vaultGID, Groups: []uint32{vaultGID}},
	}
	if withIPCLock {
		cmd.SysProcAttr.AmbientCaps = []uintptr{unix.CAP_IPC_LOCK}
	}
	return cmd, cmd.Start()
}

// execOther replaces the process with a non-vault command, as `exec "$@"`.
func execOther(args []string) int {
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "docker-entrypoint.sh: %s: %v\n", args[0], err)
		return 127
	}
	err = syscall.Exec(path, args, os.Environ())
	fmt.Fprintf(os.Stderr, "docker-entrypoint.sh: exec %s: %v\n", path, err)
	return 126
}
