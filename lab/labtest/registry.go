package labtest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/fineract-installer/fineract-installer/compose"
)

var (
	registryBuild sync.Mutex
	registryPath  string
)

// registryBinary builds lab/registry (the Distribution project's registry,
// its own module) into the lab cache, named by the hash of the binary; go
// build's cache makes a rebuild of unchanged sources cheap.
func registryBinary() (string, error) {
	registryBuild.Lock()
	defer registryBuild.Unlock()
	if registryPath != "" {
		return registryPath, nil
	}
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate lab/registry")
	}
	src := filepath.Join(filepath.Dir(self), "..", "registry")
	dir, err := cacheDir()
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "registry-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("go", "build", "-trimpath", "-o", tmp.Name(), ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build lab/registry: %v\n%s", err, out)
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
	final := filepath.Join(dir, "registry-"+hex.EncodeToString(h.Sum(nil))[:16])
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", err
	}
	registryPath = final
	return final, nil
}

// cacheDir is the lab's cache directory, as the image scripts use it.
func cacheDir() (string, error) {
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

// Registry runs a real container registry (lab/registry, in memory) on a
// free port of 127.0.0.1 for the test and returns its host:port. The
// Docker engine treats 127.0.0.0/8 as an insecure registry by default, so
// it pushes and pulls there over plain HTTP with no configuration.
func Registry(t testing.TB) string {
	t.Helper()
	bin, err := registryBinary()
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  inmemory: {}\nhttp:\n  addr: %s\n", addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", config)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the registry: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("the registry on %s did not answer: %v\n%s", addr, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Push tags the local image src as ref and pushes it through the engine,
// then removes the tag, so ref is at the registry and not on this host.
func Push(ctx context.Context, e *compose.Engine, src, ref string) error {
	if err := e.API().ImageTag(ctx, src, ref); err != nil {
		return fmt.Errorf("tag %s as %s: %w", src, ref, err)
	}
	defer func() { _, _ = e.API().ImageRemove(ctx, ref, image.RemoveOptions{}) }()
	// The engine wants an X-Registry-Auth header even for an open registry.
	auth := base64.URLEncoding.EncodeToString([]byte("{}"))
	rc, err := e.API().ImagePush(ctx, ref, image.PushOptions{RegistryAuth: auth})
	if err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("push %s: %w", ref, err)
		}
		if m.Error != nil {
			return fmt.Errorf("push %s: %s", ref, m.Error.Message)
		}
	}
}
