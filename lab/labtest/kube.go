package labtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// The lab's Kubernetes control plane is the upstream kube-apiserver and
// etcd, each built from its own small module under lab/controlplane (see
// its README for why and what it can and cannot show). A binary is cached
// under a hash of its module's files and the Go version, so a cold build
// (minutes for the API server) happens once per cache.
const (
	kubeAPIServerModule = "lab/controlplane/apiserver"
	etcdModule          = "lab/controlplane/etcd"

	// kubeContext names the cluster, user and context of the kubeconfig.
	kubeContext = "lab"
	// kubeServiceAccountIssuer is the issuer the API server signs
	// service account tokens as; nothing outside the lab reads them.
	kubeServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

	// kubeAPIServerLDFlags stamps the release into the binary, as the
	// Kubernetes release build does: a module build would otherwise report
	// v0.0.0-master to /version, and clients that check the server's
	// version (a chart's kubeVersion, for one) would see that.
	kubeAPIServerLDFlags = "-X k8s.io/component-base/version.gitMajor=1" +
		" -X k8s.io/component-base/version.gitMinor=37" +
		" -X k8s.io/component-base/version.gitVersion=v1.37.2" +
		" -X k8s.io/component-base/version.gitTreeState=clean"
)

// KubeBinaries returns the cached kube-apiserver and etcd binaries,
// building each first when the cache has none for its current sources.
func KubeBinaries(ctx context.Context) (apiserver, etcd string, err error) {
	env, err := goEnv(ctx, "GOMOD", "GOVERSION")
	if err != nil {
		return "", "", err
	}
	if env[0] == "" || env[0] == os.DevNull {
		return "", "", errors.New("the control plane is built from the fineract-installer module: run from inside it")
	}
	root := filepath.Dir(env[0])
	apiserver, err = cachedModuleBinary(ctx, "kube-apiserver", filepath.Join(root, kubeAPIServerModule), env[1], kubeAPIServerLDFlags)
	if err != nil {
		return "", "", err
	}
	etcd, err = cachedModuleBinary(ctx, "etcd", filepath.Join(root, etcdModule), env[1], "")
	if err != nil {
		return "", "", err
	}
	return apiserver, etcd, nil
}

func goEnv(ctx context.Context, names ...string) ([]string, error) {
	out, err := exec.CommandContext(ctx, "go", append([]string{"env"}, names...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("go env %s: %w", strings.Join(names, " "), err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != len(names) {
		return nil, fmt.Errorf("go env %s: %d lines for %d names", strings.Join(names, " "), len(lines), len(names))
	}
	return lines, nil
}

// cachedModuleBinary builds the main package of the module in dir as
// NAME-<hash> in the lab cache unless that file exists. The hash covers
// go.mod, go.sum and main.go, the Go version and the link flags, so any
// change to the pinned versions or the toolchain gives a new binary. A lock file
// serialises builds of several test processes.
func cachedModuleBinary(ctx context.Context, name, dir, goVersion, ldflags string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", goVersion, ldflags)
	for _, f := range []string{"go.mod", "go.sum", "main.go"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return "", fmt.Errorf("%s sources: %w", name, err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	final := filepath.Join(cache, name+"-"+hex.EncodeToString(h.Sum(nil))[:16])
	if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() {
		return final, nil
	}
	lock, err := os.OpenFile(filepath.Join(cache, name+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock the %s build: %w", name, err)
	}
	if _, err := os.Stat(final); err == nil {
		return final, nil // built by another process while this one waited
	}
	tmp := final + ".tmp"
	// -mod=readonly: the committed go.sum pins every module, so the build
	// fails rather than resolving anything anew.
	build := exec.CommandContext(ctx, "go", "build", "-mod=readonly", "-trimpath", "-ldflags", ldflags, "-o", tmp, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	started := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s in %s: %v\n%s", name, dir, err, tail(out, 4000))
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "labtest: built %s in %s\n", name, time.Since(started).Round(time.Second))
	return final, nil
}

// ControlPlane is a kube-apiserver with its own etcd on 127.0.0.1. It has
// no kubelet, scheduler, controller-manager or network plugin: objects are
// stored and admitted (Pod Security, ValidatingAdmissionPolicy, RBAC,
// schema validation) but no pod ever runs, nothing creates a namespace's
// "default" ServiceAccount (callers create the ServiceAccounts their pods
// name) and a deleted namespace stays Terminating. StartKubelet adds a
// stand-in kubelet that serves container logs only (kubelet.go).
type ControlPlane struct {
	// URL is https://127.0.0.1:PORT.
	URL string
	// CAPEM is the PEM certificate of the CA that signed the server's
	// certificate.
	CAPEM []byte
	// Token is a static bearer token of a user in system:masters.
	Token string
	// Kubeconfig is a kubeconfig file for that user, context "lab".
	Kubeconfig string

	dir    string
	procs  []*controlPlaneProcess // started order: etcd, then kube-apiserver
	stopMu sync.Mutex

	// kubeletServingCA signs the stand-in kubelets' serving certificates;
	// the API server trusts it (--kubelet-certificate-authority), as it
	// trusts a cluster's kubelet CA. kubeletClientCA signs the API
	// server's kubelet client certificate, which the stand-ins require.
	kubeletServingCA, kubeletClientCA *labCA
}

type controlPlaneProcess struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

// RESTConfig is a client configuration for the admin user.
func (cp *ControlPlane) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            cp.URL,
		BearerToken:     cp.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: bytes.Clone(cp.CAPEM)},
		QPS:             50,
		Burst:           100,
	}
}

// StartControlPlane builds (or reuses) the binaries, starts etcd and
// kube-apiserver with their files in dir and waits until the API server
// is ready. ctx bounds the build and the start, not the processes' life:
// Stop ends them.
func StartControlPlane(ctx context.Context, dir string) (*ControlPlane, error) {
	// Keys, the admin token and logs are written by path below: only a
	// directory no other uid can write keeps those paths ours.
	if err := checkPrivateDir(dir); err != nil {
		return nil, err
	}
	apiserverBin, etcdBin, err := KubeBinaries(ctx)
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{dir: dir}
	ok := false
	defer func() {
		if !ok {
			cp.Stop()
		}
	}()
	ports, err := freeLoopbackPorts(3)
	if err != nil {
		return nil, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	cp.URL = "https://127.0.0.1:" + strconv.Itoa(ports[2])

	files, err := cp.writeFiles()
	if err != nil {
		return nil, err
	}
	// --unsafe-no-fsync: the data lives as long as one test process.
	if err := cp.start("etcd", etcdBin,
		"--name", "lab", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "lab="+peerURL, "--unsafe-no-fsync", "--log-level", "warn"); err != nil {
		return nil, err
	}
	if err := cp.waitFor(ctx, 30*time.Second, http.DefaultClient, etcdURL+"/health", `"health":"true"`); err != nil {
		return nil, err
	}
	// --endpoint-reconciler-type none: the "kubernetes" Service's
	// endpoints would be 127.0.0.1, which Endpoints validation refuses.
	if err := cp.start("kube-apiserver", apiserverBin,
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", strconv.Itoa(ports[2]),
		"--cert-dir", filepath.Join(dir, "apiserver-certs"),
		"--tls-cert-file", files.cert, "--tls-private-key-file", files.key,
		"--service-cluster-ip-range", "10.96.0.0/16",
		"--authorization-mode", "RBAC", "--anonymous-auth=false",
		"--token-auth-file", files.tokens,
		"--service-account-issuer", kubeServiceAccountIssuer,
		"--service-account-key-file", files.saPub, "--service-account-signing-key-file", files.saKey,
		"--endpoint-reconciler-type", "none", "--profiling=false",
		// The API server reaches a node's kubelet (pod logs, see
		// kubelet.go) at the node's InternalIP, verifying the kubelet's
		// certificate with this CA and presenting its own client
		// certificate (kubernetes v1.37.2 pkg/kubelet/client/kubelet_client.go:
		// without a CA it would skip verification).
		"--kubelet-certificate-authority", files.kubeletCA,
		"--kubelet-client-certificate", files.kubeletClientCert, "--kubelet-client-key", files.kubeletClientKey,
		"--kubelet-preferred-address-types", "InternalIP"); err != nil {
		return nil, err
	}
	tlsConfig, err := rest.TLSConfigFor(cp.RESTConfig())
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: &bearerTransport{token: cp.Token, base: &http.Transport{TLSClientConfig: tlsConfig}}}
	if err := cp.waitFor(ctx, 90*time.Second, client, cp.URL+"/readyz", "ok"); err != nil {
		return nil, err
	}
	ok = true
	return cp, nil
}

type bearerTransport struct {
	token string
	base  http.RoundTripper
}

func (b *bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// checkPrivateDir refuses a dir that is a symbolic link, is not the test
// process's own, or that its group or others may write.
func checkPrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("control plane directory: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("control plane directory %s is not a directory", dir)
	case !ok || int(st.Uid) != os.Geteuid():
		return fmt.Errorf("control plane directory %s is not owned by uid %d", dir, os.Geteuid())
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("control plane directory %s is writable by group or others (%v); use a directory only this uid can write, e.g. os.MkdirTemp", dir, fi.Mode().Perm())
	}
	return nil
}

type controlPlaneFiles struct {
	cert, key, tokens, saKey, saPub                string
	kubeletCA, kubeletClientCert, kubeletClientKey string
}

// writeFiles makes the serving certificate and its CA, the admin token,
// the service account signing key and the kubeconfig.
func (cp *ControlPlane) writeFiles() (f controlPlaneFiles, err error) {
	f = controlPlaneFiles{
		cert:   filepath.Join(cp.dir, "apiserver.crt"),
		key:    filepath.Join(cp.dir, "apiserver.key"),
		tokens: filepath.Join(cp.dir, "tokens.csv"),
		saKey:  filepath.Join(cp.dir, "service-account.key"),
		saPub:  filepath.Join(cp.dir, "service-account.pub"),

		kubeletCA:         filepath.Join(cp.dir, "kubelet-ca.crt"),
		kubeletClientCert: filepath.Join(cp.dir, "kubelet-client.crt"),
		kubeletClientKey:  filepath.Join(cp.dir, "kubelet-client.key"),
	}
	if cp.kubeletServingCA, err = newLabCA("lab kubelet serving CA"); err != nil {
		return f, err
	}
	if cp.kubeletClientCA, err = newLabCA("lab kubelet client CA"); err != nil {
		return f, err
	}
	clientCert, clientKey, err := cp.kubeletClientCA.issue(kubeletClientName, x509.ExtKeyUsageClientAuth, nil)
	if err != nil {
		return f, err
	}
	caPEM, certPEM, keyPEM, err := loopbackServingCert()
	if err != nil {
		return f, err
	}
	cp.CAPEM = caPEM
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return f, err
	}
	// The API server reads the signing key as an "EC PRIVATE KEY" and the
	// verifying key as a PKIX "PUBLIC KEY".
	saDER, err := x509.MarshalECPrivateKey(saKey)
	if err != nil {
		return f, err
	}
	saPubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return f, err
	}
	token := make([]byte, 24)
	if _, err := rand.Read(token); err != nil {
		return f, err
	}
	cp.Token = hex.EncodeToString(token)
	// token,user,uid,"group,..." (the static token file's CSV columns)
	tokens := cp.Token + ",lab-admin,lab-admin,\"system:masters\"\n"
	for name, content := range map[string][]byte{
		filepath.Join(cp.dir, "ca.crt"): caPEM,
		f.cert:                          certPEM,
		f.key:                           keyPEM,
		f.tokens:                        []byte(tokens),
		f.saKey:                         pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: saDER}),
		f.saPub:                         pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPubDER}),
		f.kubeletCA:                     cp.kubeletServingCA.pem,
		f.kubeletClientCert:             clientCert,
		f.kubeletClientKey:              clientKey,
	} {
		if err := os.WriteFile(name, content, 0o600); err != nil {
			return f, err
		}
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[kubeContext] = &clientcmdapi.Cluster{Server: cp.URL, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[kubeContext] = &clientcmdapi.AuthInfo{Token: cp.Token}
	cfg.Contexts[kubeContext] = &clientcmdapi.Context{Cluster: kubeContext, AuthInfo: kubeContext}
	cfg.CurrentContext = kubeContext
	cp.Kubeconfig = filepath.Join(cp.dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, cp.Kubeconfig); err != nil {
		return f, fmt.Errorf("write kubeconfig: %w", err)
	}
	return f, nil
}

// loopbackServingCert makes a CA and a certificate for 127.0.0.1 and
// localhost signed by it, all PEM.
func loopbackServingCert() (caPEM, certPEM, keyPEM []byte, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lab Kubernetes CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

func (cp *ControlPlane) start(name, bin string, args ...string) error {
	log, err := os.Create(filepath.Join(cp.dir, name+".log"))
	if err != nil {
		return err
	}
	defer log.Close() // the child has its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Dir = cp.dir
	cmd.Stdout, cmd.Stderr = log, log
	// A test process that dies (a panic, a timeout) takes its servers
	// with it rather than leaving them running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	p := &controlPlaneProcess{name: name, cmd: cmd, log: log.Name(), done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	cp.procs = append(cp.procs, p)
	return nil
}

// waitFor polls url until it answers 200 with a body containing want,
// failing early when a process exits.
func (cp *ControlPlane) waitFor(ctx context.Context, limit time.Duration, client *http.Client, url, want string) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	started := time.Now()
	var last string
	for {
		for _, p := range cp.procs {
			select {
			case <-p.done:
				return fmt.Errorf("%s exited while waiting for %s: %v\n%s", p.name, url, p.err, cp.logTails())
			default:
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err != nil {
			last = err.Error()
		} else {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			last = fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), want) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s (last answer: %s)\n%s", url, time.Since(started).Round(time.Second), last, cp.logTails())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// logTails is the end of each process's log, for a failure message.
func (cp *ControlPlane) logTails() string {
	var b strings.Builder
	for _, p := range cp.procs {
		log, err := os.ReadFile(p.log)
		if err != nil {
			fmt.Fprintf(&b, "--- %s log: %v\n", p.name, err)
			continue
		}
		fmt.Fprintf(&b, "--- %s log (end of %s):\n%s\n", p.name, p.log, tail(log, 3000))
	}
	return b.String()
}

// Stop ends kube-apiserver, then etcd: SIGTERM, then SIGKILL after 10 s.
// It is safe to call more than once.
func (cp *ControlPlane) Stop() {
	cp.stopMu.Lock()
	defer cp.stopMu.Unlock()
	for i := len(cp.procs) - 1; i >= 0; i-- {
		p := cp.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	cp.procs = nil
}

func freeLoopbackPorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// The shared control plane is one per test process, started by the first
// test that asks for it and stopped by KubeMain when the package's tests
// end. Each package's test binary starts its own, on its own free ports.
var shared struct {
	sync.Mutex
	main bool // KubeMain is running the tests
	cp   *ControlPlane
	dir  string
	err  error // a failed start, reported to every later caller
}

// KubeMain runs a package's tests and then stops its shared control
// plane. A package that calls SharedControlPlane has
//
//	func TestMain(m *testing.M) { labtest.KubeMain(m) }
func KubeMain(m *testing.M) {
	shared.Lock()
	shared.main = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	if shared.cp != nil {
		shared.cp.Stop()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	shared.Unlock()
	os.Exit(code)
}

// SharedControlPlane returns the test process's control plane, starting
// it on first use (building the binaries first if the cache has none, a
// matter of minutes). The test fails, never skips, when it cannot start.
// Tests share it: each works in namespaces of its own.
func SharedControlPlane(t testing.TB) *ControlPlane {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.main {
		t.Fatal("SharedControlPlane needs the package's TestMain to call labtest.KubeMain(m), which stops it")
	}
	if shared.err != nil {
		t.Fatalf("the lab control plane did not start: %v", shared.err)
	}
	if shared.cp != nil {
		return shared.cp
	}
	dir, err := os.MkdirTemp("", "lab-kube-")
	if err != nil {
		t.Fatal(err)
	}
	shared.dir = dir
	// Generous: a cold build of kube-apiserver takes minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	started := time.Now()
	shared.cp, shared.err = StartControlPlane(ctx, dir)
	if shared.err != nil {
		t.Fatalf("the lab control plane did not start: %v", shared.err)
	}
	t.Logf("lab control plane at %s ready in %s", shared.cp.URL, time.Since(started).Round(100*time.Millisecond))
	return shared.cp
}
