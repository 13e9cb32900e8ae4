// Package labtest gives tests a real Docker engine and the small local
// images they run. No registry is reachable where the tests run, so images
// are made from files on the machine (a static busybox) and imported.
//
// Tests that need the engine fail when it cannot be reached and CI=true or
// FINERACT_REQUIRE_DOCKER=1 is set (the test command sets it); elsewhere they
// skip with a message saying how to get an engine.
package labtest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"

	"github.com/fineract-installer/fineract-installer/compose"
)

// BusyboxBinary is the static busybox the lab images are made from
// (Debian's busybox-static package).
const BusyboxBinary = "/bin/busybox"

// busyboxApplets are linked in the image so compose files can name them.
var busyboxApplets = []string{
	"sh", "ls", "cat", "echo", "sleep", "wget", "nc", "ip", "id", "true", "false",
	"touch", "test", "env", "printf", "grep", "hostname", "mkdir", "rm", "ps",
	"httpd", "date", "kill", "head", "tail", "wc", "stat", "sysctl", "timeout",
}

// Required reports whether engine tests must fail rather than skip.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("FINERACT_REQUIRE_DOCKER") == "1"
}

// Engine connects to the Docker engine or stops the test.
func Engine(t testing.TB) *compose.Engine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	e, err := compose.Connect(ctx)
	if err != nil {
		if Required() {
			t.Fatalf("this test needs a Docker engine: %v", err)
		}
		t.Skipf("no Docker engine (run lab/test.sh, which installs and starts one): %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// Busybox returns the reference of a local busybox image, importing it the
// first time. The tag carries a hash of the binary and applet list, so a
// changed busybox gets a new image and an unchanged one is reused.
func Busybox(t testing.TB, e *compose.Engine) string {
	t.Helper()
	ref, err := EnsureBusybox(context.Background(), e)
	if err != nil {
		t.Fatalf("lab busybox image: %v", err)
	}
	return ref
}

// EnsureBusybox imports the busybox image unless it is already present.
func EnsureBusybox(ctx context.Context, e *compose.Engine) (string, error) {
	bin, err := os.ReadFile(BusyboxBinary)
	if err != nil {
		return "", fmt.Errorf("read %s (install Debian's busybox-static): %w", BusyboxBinary, err)
	}
	h := sha256.New()
	h.Write(bin)
	h.Write([]byte(strings.Join(busyboxApplets, ",")))
	ref := "fineract-lab/busybox:" + hex.EncodeToString(h.Sum(nil))[:16]
	if _, err := e.API().ImageInspect(ctx, ref); err == nil {
		return ref, nil
	} else if !errdefs.IsNotFound(err) {
		return "", fmt.Errorf("inspect %s: %w", ref, err)
	}
	rootfs, err := busyboxRootfs(bin)
	if err != nil {
		return "", err
	}
	rc, err := e.API().ImageImport(ctx, image.ImportSource{Source: bytes.NewReader(rootfs), SourceName: "-"}, ref,
		image.ImportOptions{Changes: []string{`CMD ["sh"]`, "ENV PATH=/bin"}})
	if err != nil {
		return "", fmt.Errorf("import %s: %w", ref, err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return "", fmt.Errorf("import %s: %w", ref, err)
	}
	return ref, nil
}

// busyboxRootfs builds a tar of a minimal root filesystem.
func busyboxRootfs(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := []string{"bin/", "etc/", "tmp/", "run/", "var/", "data/", "proc/", "sys/", "dev/"}
	for _, d := range dirs {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: mode}); err != nil {
			return nil, err
		}
	}
	files := map[string][]byte{
		"etc/passwd": []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/tmp:/bin/sh\n"),
		"etc/group":  []byte("root:x:0:\nnogroup:x:65534:\napp:x:1000:\n"),
	}
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(bin)), Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, err
	}
	for _, a := range busyboxApplets {
		if err := tw.WriteHeader(&tar.Header{Name: "bin/" + a, Linkname: "busybox", Typeflag: tar.TypeSymlink, Mode: 0o777}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// Project returns a unique compose project name for a test and removes
// everything of that project (volumes included) when the test ends.
func Project(t testing.TB, e *compose.Engine) string {
	t.Helper()
	var b [3]byte
	_, _ = rand.Read(b[:])
	base := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 30 {
		base = base[:30]
	}
	name := "fit-" + base + "-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := e.Down(ctx, name, compose.DownOptions{Volumes: true}, nil); err != nil {
			t.Errorf("clean up project %s: %v", name, err)
		}
	})
	return name
}

// Hardened is a YAML anchor with the settings the engine's hardening
// policy requires of every service: a non-root user, cap_drop ALL and
// no-new-privileges. A test compose file starts with it and merges it into
// each service (`<<: *hardened`), so its services pass the policy the way
// the installer's stack does.
const Hardened = `x-hardened: &hardened
  user: "65534:65534"
  cap_drop: [ALL]
  security_opt: ["no-new-privileges:true"]
`

// WriteProject writes a compose file into a temp dir and loads it.
func WriteProject(t testing.TB, project, yaml string, env map[string]string) (dir string, load func() *compose.Project) {
	t.Helper()
	dir = t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, func() *compose.Project {
		t.Helper()
		p, err := compose.Load(context.Background(), compose.LoadOptions{Files: []string{file}, ProjectName: project, Env: env})
		if err != nil {
			t.Fatalf("load test project: %v", err)
		}
		return p
	}
}
