package labtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// CacheDir is the lab's cache directory, as the image scripts use it.
func CacheDir() (string, error) {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, ".cache")
	}
	dir := filepath.Join(base, "fineract-installer-lab")
	return dir, os.MkdirAll(dir, 0o755)
}

var (
	goBinaryMu    sync.Mutex
	goBinaryBuilt = map[string]string{}
)

// GoBinary builds a Go package, static, into the lab cache as
// NAME-<hash of the binary> once per test process, and returns its path.
// dir is the module directory to build in ("" for the caller's module);
// go build's own cache makes a rebuild of unchanged sources cheap.
func GoBinary(name, dir, pkg string) (string, error) {
	goBinaryMu.Lock()
	defer goBinaryMu.Unlock()
	if p := goBinaryBuilt[name]; p != "" {
		return p, nil
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(cache, name+"-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("go", "build", "-trimpath", "-o", tmp.Name(), pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	f, err := os.Open(tmp.Name())
	if err != nil {
		return "", err
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return "", err
	}
	final := filepath.Join(cache, name+"-"+hex.EncodeToString(h.Sum(nil))[:16])
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", err
	}
	goBinaryBuilt[name] = final
	return final, nil
}
