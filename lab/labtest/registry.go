package labtest

import (
	"context"
	"encoding/base64"
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
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/fineract-installer/fineract-installer/compose"
)

// registryBinary builds lab/registry (the Distribution project's registry,
// its own module) into the lab cache.
func registryBinary() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate lab/registry")
	}
	return GoBinary("registry", filepath.Join(filepath.Dir(self), "..", "registry"), ".")
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
