package pki

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkEnsureFullStack measures a first install: the CA and every leaf
// of the full-stack fixture, written to a fresh directory with fsyncs.
func BenchmarkEnsureFullStack(b *testing.B) {
	reqs := fullStack("bank.example.org", hostIP)
	base := b.TempDir()
	i := 0
	for b.Loop() {
		i++
		s := &Store{Dir: filepath.Join(base, strconv.Itoa(i))}
		if _, err := s.Ensure(context.Background(), reqs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueFullStackInMemory is the crypto part of the above alone:
// CA and leaves generated, signed and self-checked, nothing written.
func BenchmarkIssueFullStackInMemory(b *testing.B) {
	reqs, err := prepareRequests(fullStack("bank.example.org", hostIP))
	if err != nil {
		b.Fatal(err)
	}
	nc := wantedConstraints(reqs, CAOptions{})
	for b.Loop() {
		now := time.Now()
		ca, err := newAuthority(now, "", nc)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range reqs {
			if _, err := issueLeaf(ca, r, now); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEnsureNothingToDo measures a rerun that finds every file fine.
func BenchmarkEnsureNothingToDo(b *testing.B) {
	reqs := fullStack("bank.example.org", hostIP)
	s := &Store{Dir: filepath.Join(b.TempDir(), "certs")}
	if _, err := s.Ensure(context.Background(), reqs); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rep, err := s.Ensure(context.Background(), reqs)
		if err != nil || !rep.UpToDate() {
			b.Fatalf("rerun: up to date %v, %v", rep.UpToDate(), err)
		}
	}
}

// BenchmarkOpenSSLShellFullStack measures the shell script this package
// replaced: openssl with RSA 4096, a CA, then per service a key, a CSR and
// a signed certificate, for the same requests as BenchmarkEnsureFullStack.
func BenchmarkOpenSSLShellFullStack(b *testing.B) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		b.Skip("openssl is not installed, so the shell approach cannot be measured on this machine")
	}
	reqs := fullStack("bank.example.org", hostIP)
	base := b.TempDir()
	i := 0
	for b.Loop() {
		i++
		dir := filepath.Join(base, strconv.Itoa(i))
		if err := os.Mkdir(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		run := func(args ...string) {
			cmd := exec.Command(openssl, args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		run("req", "-x509", "-newkey", "rsa:4096", "-nodes", "-sha256", "-days", "3650",
			"-subj", "/CN=Fineract Stack CA", "-keyout", "ca.key", "-out", "ca.crt",
			"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
		for _, r := range reqs {
			run("req", "-new", "-newkey", "rsa:4096", "-nodes", "-subj", "/CN="+commonName(r),
				"-keyout", r.Name+".key", "-out", r.Name+".csr")
			if err := os.WriteFile(filepath.Join(dir, r.Name+".ext"), []byte(opensslExtensions(r)), 0o600); err != nil {
				b.Fatal(err)
			}
			run("x509", "-req", "-in", r.Name+".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
				"-days", "397", "-sha256", "-extfile", r.Name+".ext", "-out", r.Name+".crt")
		}
	}
}

// opensslExtensions is the extension file the shell script wrote per service.
func opensslExtensions(r Request) string {
	var sans []string
	for _, d := range r.DNSNames {
		sans = append(sans, "DNS:"+d)
	}
	for _, ip := range r.IPs {
		sans = append(sans, "IP:"+ip.String())
	}
	var eku []string
	if r.Usage&UsageServer != 0 {
		eku = append(eku, "serverAuth")
	}
	if r.Usage&UsageClient != 0 {
		eku = append(eku, "clientAuth")
	}
	ext := "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=" + strings.Join(eku, ",") + "\n"
	if len(sans) > 0 {
		ext += "subjectAltName=" + strings.Join(sans, ",") + "\n"
	}
	return ext
}

func commonName(r Request) string {
	if r.CommonName != "" {
		return r.CommonName
	}
	return r.Name
}
