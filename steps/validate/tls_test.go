package validate

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/pki"
)

// testServer serves TLS with a certificate for "postgres" from a fresh CA.
func testServer(t *testing.T, cfg func(*tls.Config)) (addr string, roots *x509.CertPool) {
	dir := t.TempDir()
	store := &pki.Store{Dir: dir}
	if _, err := store.Ensure(context.Background(), []pki.Request{{Name: "postgres", DNSNames: []string{"postgres"}, Usage: pki.UsageServer, UID: -1, GID: -1}}); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "postgres.crt"), filepath.Join(dir, "postgres.key"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	roots = x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	c := &tls.Config{Certificates: []tls.Certificate{cert}}
	cfg(c)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = conn.(*tls.Conn).Handshake(); conn.Close() }()
		}
	}()
	return ln.Addr().String(), roots
}

func probeAddr(t *testing.T, addr, name string, roots *x509.CertPool, max uint16) handshake {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return tlsProbe(context.Background(), conn, name, roots, max)
}

func TestTLSProbe(t *testing.T) {
	only12, roots := testServer(t, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 })
	if h := probeAddr(t, only12, "postgres", roots, tls.VersionTLS13); h.err != nil || h.version != tls.VersionTLS12 {
		t.Errorf("TLS 1.2 server: %v %x", h.err, h.version)
	}
	only13, roots13 := testServer(t, func(c *tls.Config) { c.MinVersion = tls.VersionTLS13 })
	if h := probeAddr(t, only13, "postgres", roots13, tls.VersionTLS12); h.err == nil {
		t.Error("a TLS 1.3-only server accepted a TLS 1.2 client")
	}
	if h := probeAddr(t, only13, "vault", roots13, tls.VersionTLS13); h.err == nil {
		t.Error("a certificate for postgres verified as vault")
	}
	if h := probeAddr(t, only13, "postgres", x509.NewCertPool(), tls.VersionTLS13); h.err == nil {
		t.Error("a certificate verified without the CA")
	}
	mtls, rootsM := testServer(t, func(c *tls.Config) { c.ClientAuth = tls.RequireAnyClientCert })
	h := probeAddr(t, mtls, "postgres", rootsM, tls.VersionTLS13)
	if h.leaf == nil || h.leaf.Subject.CommonName != "postgres" {
		t.Errorf("mutual TLS server: no verified leaf (%v)", h.err)
	}
}
