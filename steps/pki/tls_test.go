package pki

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tlsServer accepts connections with the postgres certificate, TLS 1.3
// only, and requires a client certificate from the CA. It answers "ok".
func tlsServer(t *testing.T, dir string) string {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "postgres.crt"), filepath.Join(dir, "postgres.key"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    caPool(t, dir),
	})
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
			go func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				if err := conn.(*tls.Conn).Handshake(); err != nil {
					return
				}
				io.WriteString(conn, "ok")
			}()
		}
	}()
	return ln.Addr().String()
}

// dialAndRead completes a handshake and reads the server's answer: with
// TLS 1.3 a refused client certificate only shows on the first read.
func dialAndRead(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	d := tls.Dialer{Config: cfg, NetDialer: &net.Dialer{Timeout: 10 * time.Second}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	tc := c.(*tls.Conn)
	buf := make([]byte, 2)
	if _, err := io.ReadFull(tc, buf); err != nil {
		return tc.ConnectionState(), err
	}
	return tc.ConnectionState(), nil
}

func TestTLSHandshakeWithIssuedCertificates(t *testing.T) {
	s := &Store{Dir: filepath.Join(t.TempDir(), "certs")} // real clock: crypto/tls checks validity now
	ensure(t, s, fullStack("bank.example.org", hostIP))
	addr := tlsServer(t, s.Dir)
	pool := caPool(t, s.Dir)
	load := func(name string) []tls.Certificate {
		c, err := tls.LoadX509KeyPair(filepath.Join(s.Dir, name+".crt"), filepath.Join(s.Dir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{c}
	}
	client := load("fineract-postgres-client")

	cases := []struct {
		name    string
		cfg     *tls.Config
		wantErr string // "" means the handshake must succeed
	}{
		{"mutual TLS 1.3", &tls.Config{RootCAs: pool, ServerName: "postgres", Certificates: client, MinVersion: tls.VersionTLS13}, ""},
		{"client capped at TLS 1.2", &tls.Config{RootCAs: pool, ServerName: "postgres", Certificates: client, MaxVersion: tls.VersionTLS12}, "protocol version"},
		{"client without certificate", &tls.Config{RootCAs: pool, ServerName: "postgres", MinVersion: tls.VersionTLS13}, "certificate required"},
		{"server-only certificate as client", &tls.Config{RootCAs: pool, ServerName: "postgres", Certificates: load("redis"), MinVersion: tls.VersionTLS13}, "bad certificate"},
		{"wrong server name", &tls.Config{RootCAs: pool, ServerName: "wrong.invalid", Certificates: client}, "not wrong.invalid"},
		{"system roots only", &tls.Config{ServerName: "postgres", Certificates: client}, "unknown authority"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state, err := dialAndRead(addr, tc.cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("handshake failed: %v", err)
				}
				if state.Version != tls.VersionTLS13 {
					t.Errorf("negotiated %s, want TLS 1.3", tls.VersionName(state.Version))
				}
				if _, err := state.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: "postgres", Roots: pool}); err != nil {
					t.Errorf("server chain does not verify to the CA: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
