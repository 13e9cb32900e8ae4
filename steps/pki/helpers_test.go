package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testNow is the fixed clock of most tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var hostIP = netip.MustParseAddr("192.0.2.10")

// fullStack is a realistic request set for every service group: the
// consuming containers' uids, the gateway with the public hostname and IPs,
// and client certificates for mutual TLS.
func fullStack(hostname string, ips ...netip.Addr) []Request {
	root := os.Geteuid() == 0
	own := func(r Request, uid, gid int) Request {
		r.UID, r.GID = -1, -1
		if root {
			r.UID, r.GID = uid, gid
		}
		return r
	}
	server := func(name string, extra ...string) Request {
		return Request{Name: name, DNSNames: append([]string{name}, extra...), Usage: UsageServer}
	}
	both := func(name string) Request {
		return Request{Name: name, DNSNames: []string{name}, Usage: UsageServer | UsageClient}
	}
	loop := netip.MustParseAddr("127.0.0.1")
	vault := server("vault", "localhost")
	vault.IPs = []netip.Addr{loop}
	gateway := server("gateway", hostname, "localhost")
	gateway.IPs = append([]netip.Addr{loop}, ips...)
	postgres := server("postgres")
	postgres.GroupReadable = true // root:postgres 0640, as Postgres allows
	return []Request{
		own(vault, 100, 1000),
		own(postgres, 0, 999),
		own(server("fineract"), 1000, 1000),
		own(server("web-app"), 101, 101),
		own(gateway, 101, 101),
		own(server("keycloak"), 1000, 0),
		own(both("kafka"), 1001, 0),
		own(server("redis"), 999, 999),
		own(both("prometheus"), 65534, 65534),
		own(server("grafana"), 472, 0),
		own(server("postgres-exporter"), 65534, 65534),
		own(both("elasticsearch"), 1000, 0),
		own(both("logstash"), 1000, 1000),
		own(server("kibana"), 1000, 0),
		own(Request{Name: "filebeat-client", CommonName: "filebeat", Usage: UsageClient}, 0, 0),
		own(Request{Name: "fineract-postgres-client", CommonName: "fineract", Usage: UsageClient}, 1000, 1000),
	}
}

func newStore(t testing.TB, opts CAOptions) *Store {
	t.Helper()
	return &Store{Dir: filepath.Join(t.TempDir(), "certs"), CA: opts, Now: func() time.Time { return testNow }}
}

func ensure(t testing.TB, s *Store, reqs []Request) Report {
	t.Helper()
	rep, err := s.Ensure(context.Background(), reqs)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return rep
}

func readCert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := parseCertsPEM(data, path)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

func caPool(t testing.TB, dir string) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(readCert(t, filepath.Join(dir, "ca.crt")))
	return pool
}

func loadAuthority(t testing.TB, dir string, now time.Time) *authority {
	t.Helper()
	crt, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(dir, "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := parseAuthority(crt, key, now)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// fileState is what "changes no file" compares.
type fileState struct {
	data  []byte
	mtime time.Time
	mode  os.FileMode
	uid   uint32
	gid   uint32
}

func snapshot(t testing.TB, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		out[e.Name()] = fileState{data: data, mtime: fi.ModTime(), mode: fi.Mode(), uid: st.Uid, gid: st.Gid}
	}
	return out
}

// changedFiles compares two snapshots and names every file that differs.
func changedFiles(before, after map[string]fileState) []string {
	var out []string
	for name, a := range after {
		b, ok := before[name]
		if !ok || !bytes.Equal(a.data, b.data) || !a.mtime.Equal(b.mtime) || a.mode != b.mode || a.uid != b.uid || a.gid != b.gid {
			out = append(out, name)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// wantValidation asserts an error's class and that its text holds every part.
func wantValidation(t *testing.T, err error, kind error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", kind)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error class: got %q, want %v", err, kind)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Fix == "" {
		t.Errorf("want a *ValidationError with a fix, got %#v", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

// testCert is operator material built outside this package's issuing code.
type testCert struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte
}

// makeCert signs tmpl with parent (self-signed when parent is nil). A nil
// key means a fresh ECDSA P-256 key.
func makeCert(t testing.TB, tmpl *x509.Certificate, parent *testCert, key crypto.Signer) *testCert {
	t.Helper()
	if key == nil {
		var err error
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	serial, err := randomSerial()
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = testNow.Add(-24 * time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = testNow.Add(200 * 24 * time.Hour)
	}
	signer, issuer := key, tmpl
	if parent != nil {
		signer, issuer = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := encodeKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	return &testCert{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM: keyPEM}
}

func caTemplate(cn string) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		NotAfter:              testNow.Add(5 * 365 * 24 * time.Hour),
	}
}

func serverTemplate(cn string, names ...string) *x509.Certificate {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip, err := netip.ParseAddr(n); err == nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	return tmpl
}

// publicChain is a root, an intermediate and a server certificate for
// bank.example.org, as a public CA would deliver them.
type publicChain struct {
	root, inter, leaf *testCert
	roots             *x509.CertPool
}

func newPublicChain(t testing.TB) publicChain {
	t.Helper()
	root := makeCert(t, caTemplate("Test Public Root"), nil, nil)
	inter := makeCert(t, caTemplate("Test Public Issuing CA"), root, nil)
	leaf := makeCert(t, serverTemplate("bank.example.org", "bank.example.org", "www.bank.example.org"), inter, nil)
	roots := x509.NewCertPool()
	roots.AddCert(root.cert)
	return publicChain{root: root, inter: inter, leaf: leaf, roots: roots}
}

func joinPEM(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
