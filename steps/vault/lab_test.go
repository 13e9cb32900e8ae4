package vault

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// The lab image: a real Vault built from Vault's Go packages by
// lab/images/vault.sh, standing in for the upstream image of the same tag.
const labImage = "hashicorp/vault:1.21.4"

const labVaultConfig = `storage "file" { path = "/vault/file" }
listener "tcp" {
  address         = "0.0.0.0:8200"
  tls_cert_file   = "/vault/tls/vault.crt"
  tls_key_file    = "/vault/tls/vault.key"
  tls_min_version = "tls13"
}
api_addr      = "https://vault:8200"
disable_mlock = false
`

var (
	dockerOnce sync.Once
	dockerCli  *client.Client
	dockerErr  error
)

// requireDocker returns a Docker client with the lab image built. Without a
// reachable engine the test fails under CI=true and is skipped otherwise.
func requireDocker(t *testing.T) *client.Client {
	t.Helper()
	dockerOnce.Do(func() {
		dockerCli, dockerErr = client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if dockerErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, dockerErr = dockerCli.Ping(ctx); dockerErr != nil {
			dockerErr = fmt.Errorf("Docker engine unreachable: %w", dockerErr)
			return
		}
		dockerErr = buildLabImage()
	})
	if dockerErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("these tests need a Docker engine and the lab Vault image under CI: %v", dockerErr)
		}
		t.Skipf("skipping: needs a Docker engine and the lab Vault image (%v); start dockerd to run it", dockerErr)
	}
	return dockerCli
}

// buildLabImage runs lab/images/vault.sh, which does nothing when the image
// is current.
func buildLabImage() error {
	script, err := filepath.Abs(filepath.Join("..", "..", "lab", "images", "vault.sh"))
	if err != nil {
		return err
	}
	cmd := exec.Command("bash", script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building the lab Vault image with %s: %v\n%s", script, err, out.String())
	}
	fmt.Fprint(os.Stderr, out.String())
	return nil
}

// labVault is one lab Vault container with TLS from a test CA.
type labVault struct {
	t   *testing.T
	cli *client.Client
	id  string
	pki testPKI
}

func startLabVault(t *testing.T) *labVault {
	t.Helper()
	cli := requireDocker(t)
	ctx := testCtx(t)
	pki := newTestPKI(t, "vault", "localhost", "127.0.0.1")
	resp, err := cli.ContainerCreate(ctx,
		&container.Config{
			Image:        labImage,
			Cmd:          []string{"server"},
			ExposedPorts: nat.PortSet{"8200/tcp": {}},
			Labels:       map[string]string{"org.fineract-installer.test": "steps/vault"},
		},
		&container.HostConfig{
			CapAdd:       []string{"IPC_LOCK"},
			PortBindings: nat.PortMap{"8200/tcp": {{HostIP: "127.0.0.1", HostPort: ""}}},
		}, nil, nil, "")
	if err != nil {
		t.Fatalf("creating the lab Vault container: %v", err)
	}
	v := &labVault{t: t, cli: cli, id: resp.ID, pki: pki}
	t.Cleanup(v.remove)
	files := []tarFile{
		{name: "vault/config/vault.hcl", mode: 0o644, body: []byte(labVaultConfig)},
		{name: "vault/tls", dir: true, mode: 0o500},
		{name: "vault/tls/vault.crt", mode: 0o444, body: pki.certPEM},
		{name: "vault/tls/vault.key", mode: 0o400, body: pki.keyPEM},
	}
	if err := cli.CopyToContainer(ctx, v.id, "/", tarOf(t, files), container.CopyToContainerOptions{}); err != nil {
		t.Fatalf("copying config and certificates into the container: %v", err)
	}
	if err := cli.ContainerStart(ctx, v.id, container.StartOptions{}); err != nil {
		t.Fatalf("starting the lab Vault: %v", err)
	}
	return v
}

func (v *labVault) remove() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if v.t.Failed() {
		v.t.Logf("lab Vault logs:\n%s", v.logs(ctx))
	}
	_ = v.cli.ContainerRemove(ctx, v.id, container.RemoveOptions{Force: true, RemoveVolumes: true})
}

func (v *labVault) logs(ctx context.Context) string {
	rc, err := v.cli.ContainerLogs(ctx, v.id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "60"})
	if err != nil {
		return err.Error()
	}
	defer rc.Close()
	var out bytes.Buffer
	_, _ = stdcopy.StdCopy(&out, &out, rc)
	return out.String()
}

// addr is Vault's URL on the host; the published port can change on restart.
func (v *labVault) addr() string {
	v.t.Helper()
	info, err := v.cli.ContainerInspect(testCtx(v.t), v.id)
	if err != nil {
		v.t.Fatalf("inspecting the lab Vault: %v", err)
	}
	if info.State == nil || !info.State.Running {
		v.t.Fatalf("the lab Vault container is not running:\n%s", v.logs(testCtx(v.t)))
	}
	b := info.NetworkSettings.Ports["8200/tcp"]
	if len(b) == 0 {
		v.t.Fatal("the lab Vault has no published port 8200")
	}
	return "https://127.0.0.1:" + b[0].HostPort
}

// conn connects with the test CA and waits until Vault answers.
func (v *labVault) conn() *Conn {
	v.t.Helper()
	c, err := Connect(Config{Address: v.addr(), CACertPEM: v.pki.caPEM})
	if err != nil {
		v.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(testCtx(v.t), 30*time.Second)
	defer cancel()
	if _, err := c.WaitResponding(ctx); err != nil {
		v.t.Fatalf("%v\n%s", err, v.logs(testCtx(v.t)))
	}
	return c
}

func (v *labVault) restart() *Conn {
	v.t.Helper()
	timeout := 10
	if err := v.cli.ContainerRestart(testCtx(v.t), v.id, container.StopOptions{Timeout: &timeout}); err != nil {
		v.t.Fatalf("restarting the lab Vault: %v", err)
	}
	return v.conn()
}

// readFile returns one file from the container.
func (v *labVault) readFile(path string) []byte {
	v.t.Helper()
	files := v.readTree(path)
	for _, body := range files {
		return body
	}
	v.t.Fatalf("%s not found in the container", path)
	return nil
}

// readTree returns the regular files under path in the container.
func (v *labVault) readTree(path string) map[string][]byte {
	v.t.Helper()
	rc, _, err := v.cli.CopyFromContainer(testCtx(v.t), v.id, path)
	if err != nil {
		v.t.Fatalf("copying %s out of the container: %v", path, err)
	}
	defer rc.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			v.t.Fatalf("reading %s from the container: %v", path, err)
		}
		if h.Typeflag == tar.TypeReg {
			body, err := io.ReadAll(tr)
			if err != nil {
				v.t.Fatal(err)
			}
			out[h.Name] = body
		}
	}
}

// storageDigest hashes every file name and content of Vault's file storage.
func (v *labVault) storageDigest() string {
	v.t.Helper()
	files := v.readTree("/vault/file")
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(files[n]))
		h.Write(files[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

type tarFile struct {
	name string
	dir  bool
	mode int64
	body []byte
}

// tarOf builds a tar owned by the image's vault user (100:1000).
func tarOf(t *testing.T, files []tarFile) io.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Uid: 100, Gid: 1000, ModTime: time.Now(), Typeflag: tar.TypeReg, Size: int64(len(f.body))}
		if f.dir {
			h.Typeflag, h.Size, h.Name = tar.TypeDir, 0, strings.TrimSuffix(f.name, "/")+"/"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func testCtx(t *testing.T) context.Context {
	return t.Context()
}

// recorder collects events for assertions.
type recorder struct {
	mu     sync.Mutex
	events []event.Event
}

// emitter returns an emitter that records into r.
func (r *recorder) emitter() event.Emitter { return event.Func(r.add) }

func (r *recorder) add(e event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) take() []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.events
	r.events = nil
	return ev
}
