package pki

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// OpenSSL-based services (Postgres, Redis, nginx) must accept what this
// package issues, name constraints and a CA with extended key usage
// included, and must read its PKCS#8 keys.
func TestOpenSSLAcceptsIssuedCertificates(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed; cannot check interoperability with OpenSSL-based services")
	}
	s := &Store{Dir: filepath.Join(t.TempDir(), "certs")} // real clock: openssl verifies now
	reqs := fullStack("bank.example.org", hostIP)
	ensure(t, s, reqs)
	run := func(args ...string) (string, error) {
		out, err := exec.Command(openssl, args...).CombinedOutput()
		return string(out), err
	}
	ca := filepath.Join(s.Dir, "ca.crt")
	for _, r := range reqs {
		crt := filepath.Join(s.Dir, r.Name+".crt")
		purposes := map[Usage]string{UsageServer: "sslserver", UsageClient: "sslclient"}
		for u, purpose := range purposes {
			args := []string{"verify", "-x509_strict", "-CAfile", ca, "-purpose", purpose}
			if r.Usage&UsageServer != 0 && u == UsageServer {
				args = append(args, "-verify_hostname", r.DNSNames[len(r.DNSNames)-1])
			}
			out, err := run(append(args, crt)...)
			ok := err == nil && strings.Contains(out, ": OK")
			if want := r.Usage&u != 0; ok != want {
				t.Errorf("%s as %s: openssl says %q (err %v), want accepted=%v", r.Name, purpose, strings.TrimSpace(out), err, want)
			}
		}
		if out, err := run("pkey", "-in", filepath.Join(s.Dir, r.Name+".key"), "-noout"); err != nil {
			t.Errorf("%s.key: openssl cannot read it: %v\n%s", r.Name, err, out)
		}
	}

	// A certificate for a foreign name, signed with the real CA key, is
	// refused by OpenSSL's name constraint check too.
	a := loadAuthority(t, s.Dir, time.Now())
	foreign := &testCert{cert: a.cert, key: a.key}
	tmpl := serverTemplate("www.example.com", "www.example.com")
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	leaf := makeCert(t, tmpl, foreign, nil)
	leafPath := filepath.Join(t.TempDir(), "foreign.crt")
	if err := os.WriteFile(leafPath, leaf.certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run("verify", "-CAfile", ca, "-purpose", "sslserver", leafPath)
	if err == nil || !strings.Contains(out, "permitted subtree violation") {
		t.Errorf("openssl accepted a name outside the constraints: %q (err %v)", strings.TrimSpace(out), err)
	}
}
