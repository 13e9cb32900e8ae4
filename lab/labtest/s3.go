package labtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"golang.org/x/sys/unix"
)

// The lab's S3-compatible object store is SeaweedFS (Apache-2.0), a real
// server built from its own module at this version, as its main module:
// its go.mod has replace directives a dependent module would not honour.
// `go mod download` checks the source against the checksum database, and
// the binary is cached under the module version and the Go version, so it
// is built once per cache (a cold build takes several minutes).
const (
	seaweedfsModule  = "github.com/seaweedfs/seaweedfs"
	seaweedfsVersion = "v0.0.0-20261109003541-7506e5f91cd6"
)

// seaweedfsBinary returns the cached `weed` binary, building it first when
// the cache has none. A lock file serialises builds of several test
// processes.
func seaweedfsBinary() (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	goVersion, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOVERSION: %w", err)
	}
	final := filepath.Join(cache, "seaweedfs-"+seaweedfsVersion+"-"+strings.TrimSpace(string(goVersion)))
	if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() {
		return final, nil
	}
	lock, err := os.OpenFile(filepath.Join(cache, "seaweedfs.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock the SeaweedFS build: %w", err)
	}
	if _, err := os.Stat(final); err == nil {
		return final, nil // built by another process while this one waited
	}
	dl := exec.Command("go", "mod", "download", "-json", seaweedfsModule+"@"+seaweedfsVersion)
	dl.Dir = cache // outside any module
	out, err := dl.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w\n%s", seaweedfsModule, seaweedfsVersion, err, out)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: no source directory (%v) %s", seaweedfsModule, seaweedfsVersion, err, mod.Error)
	}
	tmp := final + ".tmp"
	build := exec.Command("go", "build", "-trimpath", "-o", tmp, "./weed")
	build.Dir = mod.Dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build SeaweedFS: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", err
	}
	return final, nil
}

// S3Server is a SeaweedFS server with its S3 gateway on 127.0.0.1 over
// TLS, one identity and one bucket, for one test. Stop and Start make the
// store unreachable and bring it back with its data.
type S3Server struct {
	// Endpoint is https://127.0.0.1:PORT.
	Endpoint  string
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
	// CACert is the PEM file of the CA that signed the server's certificate.
	CACert string
	// Roots trusts that CA alone.
	Roots *x509.CertPool

	t       testing.TB
	bin     string
	dir     string
	args    []string
	sockets []string
	cmd     *exec.Cmd
	log     *os.File
}

// S3 starts a fresh S3 server for the test, with new credentials and an
// empty bucket, and stops it when the test ends.
func S3(t testing.TB) *S3Server {
	t.Helper()
	bin, err := seaweedfsBinary()
	if err != nil {
		t.Fatalf("SeaweedFS: %v", err)
	}
	dir := t.TempDir()
	s := &S3Server{t: t, bin: bin, dir: dir, Region: "us-east-1", Bucket: "offsite-" + randomHex(t, 4),
		AccessKey: "AK" + strings.ToUpper(randomHex(t, 9)), SecretKey: randomHex(t, 20)}
	certFile, keyFile := s.writeTLS()
	identities := map[string]any{"identities": []any{map[string]any{
		"name":        "lab",
		"credentials": []any{map[string]string{"accessKey": s.AccessKey, "secretKey": s.SecretKey}},
		"actions":     []string{"Admin", "Read", "Write", "List", "Tagging"},
	}}}
	cfg, _ := json.Marshal(identities)
	if err := os.WriteFile(filepath.Join(dir, "s3.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	// Every port is chosen here, so parallel tests never collide on the
	// defaults (the gRPC ones would be the HTTP port + 10000).
	p := freePorts(t, 8)
	s.Endpoint = "https://127.0.0.1:" + strconv.Itoa(p[6])
	// weed server puts each service's local gRPC socket at a fixed path
	// under /tmp named by its gRPC port (seaweedfs at seaweedfsVersion,
	// weed/command/server.go, RegisterLocalGrpcSocket): ports
	// chosen here are free, so a socket file there is a dead one.
	for i, name := range map[int]string{1: "master", 3: "volume", 5: "filer", 7: "s3"} {
		s.sockets = append(s.sockets, fmt.Sprintf("/tmp/seaweedfs-%s-grpc-%d.sock", name, p[i]))
	}
	// A collection (one per bucket) grows by 7 volumes at a time for
	// replication 000 (seaweedfs at seaweedfsVersion,
	// weed/topology/volume_growth.go, Copy1Count), and volumes are not
	// preallocated: 16 slots let the bucket and the filer's own collection
	// grow, where 4 ran out under a 42 MiB upload sent in parallel parts.
	s.args = []string{"-logtostderr", "server", "-dir=" + data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.telemetry=false", "-master.volumeSizeLimitMB=64", "-volume.max=16",
		"-master.port=" + strconv.Itoa(p[0]), "-master.port.grpc=" + strconv.Itoa(p[1]),
		"-volume.port=" + strconv.Itoa(p[2]), "-volume.port.grpc=" + strconv.Itoa(p[3]),
		"-filer", "-filer.port=" + strconv.Itoa(p[4]), "-filer.port.grpc=" + strconv.Itoa(p[5]),
		"-s3", "-s3.port=" + strconv.Itoa(p[6]), "-s3.port.grpc=" + strconv.Itoa(p[7]),
		"-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false",
		"-filer.localSocket=" + filepath.Join(dir, "filer.sock"), "-s3.localSocket=" + filepath.Join(dir, "s3.sock"),
		"-s3.config=" + filepath.Join(dir, "s3.json"), "-s3.cert.file=" + certFile, "-s3.key.file=" + keyFile}
	s.log, err = os.Create(filepath.Join(dir, "seaweedfs.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			// The server's own account of a refusal the test saw.
			log, _ := os.ReadFile(s.log.Name())
			t.Logf("SeaweedFS log (end):\n%s", tail(log, 6000))
		}
		s.log.Close()
		s.removeSockets()
	})
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Client().MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{Region: s.Region}); err != nil {
		t.Fatalf("create bucket %s: %v", s.Bucket, err)
	}
	return s
}

// Client is an S3 client for the server with its credentials.
func (s *S3Server) Client() *minio.Client {
	s.t.Helper()
	host := strings.TrimPrefix(s.Endpoint, "https://")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: s.Roots, MinVersion: tls.VersionTLS12}
	c, err := minio.New(host, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure: true, Region: s.Region, Transport: tr})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// Start runs the server (again, on the same ports and data) and waits
// until its S3 gateway answers an authenticated request.
func (s *S3Server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatal("the S3 server is already running")
	}
	s.removeSockets()
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start SeaweedFS: %v", err)
	}
	s.cmd = cmd
	c := s.Client()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := c.ListBuckets(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(s.log.Name())
			s.t.Fatalf("the S3 server at %s did not answer: %v\n%s", s.Endpoint, err, tail(log, 4000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop kills the server (SIGKILL: a store that vanishes, not one that
// says goodbye); its data stays for Start.
func (s *S3Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

func (s *S3Server) removeSockets() {
	for _, p := range s.sockets {
		_ = os.Remove(p)
	}
}

// writeTLS makes a CA and a certificate for 127.0.0.1 signed by it.
func (s *S3Server) writeTLS() (certFile, keyFile string) {
	t := s.t
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lab S3 CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	s.CACert = filepath.Join(s.dir, "ca.pem")
	certFile, keyFile = filepath.Join(s.dir, "cert.pem"), filepath.Join(s.dir, "key.pem")
	for name, block := range map[string]*pem.Block{
		s.CACert: {Type: "CERTIFICATE", Bytes: caDER},
		certFile: {Type: "CERTIFICATE", Bytes: leafDER},
		keyFile:  {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(name, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s.Roots = x509.NewCertPool()
	s.Roots.AddCert(ca)
	return certFile, keyFile
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
