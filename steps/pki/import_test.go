package pki

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidateCARefusals(t *testing.T) {
	root := makeCert(t, caTemplate("Corp Root"), nil, nil)
	other := makeCert(t, caTemplate("Other CA"), nil, nil)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	weak := makeCert(t, caTemplate("Weak CA"), nil, rsa1024)
	curve := makeCert(t, caTemplate("Curve CA"), nil, p521)
	ed := makeCert(t, caTemplate("Ed CA"), nil, edKey)
	leafOnly := makeCert(t, serverTemplate("server.example.org", "server.example.org"), root, nil)
	noSignTmpl := caTemplate("No Sign CA")
	noSignTmpl.KeyUsage = x509.KeyUsageDigitalSignature
	noSign := makeCert(t, noSignTmpl, nil, nil)
	expiredTmpl := caTemplate("Old CA")
	expiredTmpl.NotBefore, expiredTmpl.NotAfter = testNow.Add(-400*day), testNow.Add(-10*day)
	expired := makeCert(t, expiredTmpl, nil, nil)
	futureTmpl := caTemplate("Future CA")
	futureTmpl.NotBefore = testNow.Add(2 * day)
	future := makeCert(t, futureTmpl, nil, nil)
	soonTmpl := caTemplate("Ending CA")
	soonTmpl.NotAfter = testNow.Add(10 * day)
	soon := makeCert(t, soonTmpl, nil, nil)
	inter := makeCert(t, caTemplate("Corp Issuing CA"), root, nil)
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0x00}})

	cases := []struct {
		name         string
		certPEM, key []byte
		kind         error
		messageParts []string
	}{
		{"key of another CA", root.certPEM, other.keyPEM, ErrKeyMismatch,
			[]string{"the private key (ECDSA P-256) does not match the CA certificate CN=Corp Root", "supply the key that was generated together with this certificate"}},
		{"key of the second certificate", joinPEM(root.certPEM, inter.certPEM), inter.keyPEM, ErrKeyMismatch,
			[]string{"belongs to certificate #2 in the file (CN=Corp Issuing CA), not to the first one (CN=Corp Root)", "put the CA certificate first"}},
		{"weak RSA key", weak.certPEM, weak.keyPEM, ErrWeakKey, []string{"CN=Weak CA has an RSA 1024 key, which is too weak", "RSA 2048"}},
		{"unsupported curve", curve.certPEM, curve.keyPEM, ErrUnsupportedKey, []string{"curve P-521", "P-256 or P-384"}},
		{"Ed25519", ed.certPEM, ed.keyPEM, ErrUnsupportedKey, []string{"Ed25519 key"}},
		{"server certificate as CA", leafOnly.certPEM, leafOnly.keyPEM, ErrNotCA,
			[]string{"CN=server.example.org is not a CA certificate", "CA:TRUE", "not a server or client certificate"}},
		{"CA without keyCertSign", noSign.certPEM, noSign.keyPEM, ErrNoCertSign,
			[]string{"CN=No Sign CA has a key usage without keyCertSign (digitalSignature)"}},
		{"expired", expired.certPEM, expired.keyPEM, ErrExpired,
			[]string{"CN=Old CA expired on 2026-02-19 12:00 UTC", "valid from 2025-01-25 12:00 UTC", "it is now 2026-03-01 12:00 UTC"}},
		{"not yet valid", future.certPEM, future.keyPEM, ErrNotYetValid,
			[]string{"CN=Future CA is not valid before 2026-03-03 12:00 UTC", "check the host clock"}},
		{"ends within the renewal window", soon.certPEM, soon.keyPEM, ErrExpiresSoon,
			[]string{"CN=Ending CA expires on 2026-03-11 12:00 UTC, in 10 days"}},
		{"intermediate without its root", inter.certPEM, inter.keyPEM, ErrChainIncomplete,
			[]string{"CN=Corp Issuing CA is an intermediate", "issued by CN=Corp Root, whose certificate is not in the file", "up to the self-signed root"}},
		{"encrypted key", root.certPEM, encrypted, ErrEncryptedKey, []string{"the CA key file is encrypted with a passphrase", "openssl pkey"}},
		{"files swapped", root.keyPEM, root.certPEM, ErrBadPEM, []string{"the CA certificate file holds no PEM certificate", "only PRIVATE KEY", "swapped"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ValidateCA(tc.certPEM, tc.key, testNow)
			wantValidation(t, err, tc.kind, tc.messageParts...)

			// The store refuses the same material and writes nothing.
			s := newStore(t, CAOptions{Imported: true})
			if _, err := s.ImportCA(context.Background(), tc.certPEM, tc.key); !errors.Is(err, tc.kind) || !strings.HasPrefix(err.Error(), "import CA: ") {
				t.Errorf("ImportCA: %v", err)
			}
			if _, err := os.Stat(s.Dir); !errors.Is(err, os.ErrNotExist) {
				t.Error("a refused import wrote files")
			}
		})
	}
}

func TestImportedRootCASignsLeaves(t *testing.T) {
	tmpl := caTemplate("Corp Root")
	tmpl.NotAfter = testNow.Add(200 * day) // shorter than a leaf lifetime
	root := makeCert(t, tmpl, nil, nil)
	s := newStore(t, CAOptions{Imported: true})
	res, err := s.ImportCA(context.Background(), root.certPEM, root.keyPEM)
	if err != nil || res.Action != Created {
		t.Fatalf("ImportCA: %+v, %v", res, err)
	}
	if again, err := s.ImportCA(context.Background(), root.certPEM, root.keyPEM); err != nil || again.Action != Reused {
		t.Errorf("importing the same CA again: %+v, %v", again, err)
	}
	reqs := fullStack("bank.example.org", hostIP)
	rep := ensure(t, s, reqs)
	if rep.CA.Action != Reused || rep.TrustChanged() {
		t.Errorf("imported CA: %s, trust changed %v", rep.CA.Action, rep.TrustChanged())
	}
	if !slices.ContainsFunc(rep.CA.Warnings, func(w string) bool { return strings.Contains(w, "the imported CA expires on") }) {
		t.Errorf("no warning that the imported CA ends before a full leaf lifetime: %q", rep.CA.Warnings)
	}
	for _, r := range reqs {
		leaf := readCert(t, filepath.Join(s.Dir, r.Name+".crt"))
		if err := leaf.CheckSignatureFrom(root.cert); err != nil {
			t.Errorf("%s not signed by the imported CA: %v", r.Name, err)
		}
		if !leaf.NotAfter.Equal(root.cert.NotAfter) {
			t.Errorf("%s ends %v, want the CA's end %v", r.Name, leaf.NotAfter, root.cert.NotAfter)
		}
	}
	if again := ensure(t, s, reqs); !again.UpToDate() {
		t.Errorf("rerun with an imported CA changed %v", again.ChangedFiles())
	}
	if _, err := s.Rotate(context.Background(), reqs, "ca"); err == nil || !strings.Contains(err.Error(), "import a new CA") {
		t.Errorf("rotating an imported CA: %v", err)
	}
}

// An imported intermediate CA: ca.crt carries the chain to the root, and
// each leaf file carries the intermediate so servers send a full chain.
func TestImportedIntermediateCA(t *testing.T) {
	root := makeCert(t, caTemplate("Corp Root"), nil, nil)
	inter := makeCert(t, caTemplate("Corp Issuing CA"), root, nil)
	s := newStore(t, CAOptions{Imported: true})
	if _, err := s.ImportCA(context.Background(), joinPEM(inter.certPEM, root.certPEM), inter.keyPEM); err != nil {
		t.Fatal(err)
	}
	reqs := fullStack("bank.example.org", hostIP)
	ensure(t, s, reqs)

	data, _ := os.ReadFile(filepath.Join(s.Dir, "postgres.crt"))
	certs, err := parseCertsPEM(data, "postgres.crt")
	if err != nil || len(certs) != 2 || !certs[1].Equal(inter.cert) {
		t.Fatalf("postgres.crt holds %d certificates (%v), want leaf + intermediate", len(certs), err)
	}
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root.cert)
	inters.AddCert(certs[1])
	if _, err := certs[0].Verify(x509.VerifyOptions{DNSName: "postgres", Roots: roots, Intermediates: inters, CurrentTime: testNow}); err != nil {
		t.Errorf("leaf does not verify to the corporate root: %v", err)
	}
	if again := ensure(t, s, reqs); !again.UpToDate() {
		t.Errorf("rerun changed %v", again.ChangedFiles())
	}
}

func TestImportedCAWithForeignConstraints(t *testing.T) {
	tmpl := caTemplate("Branch CA")
	tmpl.PermittedDNSDomains = []string{"branch.example.org"}
	ca := makeCert(t, tmpl, nil, nil)
	s := newStore(t, CAOptions{Imported: true})
	if _, err := s.ImportCA(context.Background(), ca.certPEM, ca.keyPEM); err != nil {
		t.Fatal(err)
	}
	reqs := []Request{{Name: "vault", DNSNames: []string{"vault"}, Usage: UsageServer, UID: -1, GID: -1}}
	_, err := s.Ensure(context.Background(), reqs)
	wantValidation(t, err, ErrNameNotPermitted, "the imported CA CN=Branch CA does not permit vault (certificate vault)", "allow only branch.example.org")
	if _, statErr := os.Stat(filepath.Join(s.Dir, "vault.crt")); statErr == nil {
		t.Error("a refused request was issued")
	}
}

func TestEnsureWithImportedCAMissing(t *testing.T) {
	s := newStore(t, CAOptions{Imported: true})
	_, err := s.Ensure(context.Background(), fullStack("bank.example.org"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "import the CA first") {
		t.Errorf("got %v", err)
	}
}

func gatewayRequest(names ...string) Request {
	r := Request{Name: "gateway", Usage: UsageServer, UID: -1, GID: -1, Imported: true}
	for _, n := range names {
		if ip, err := netip.ParseAddr(n); err == nil {
			r.IPs = append(r.IPs, ip)
		} else {
			r.DNSNames = append(r.DNSNames, n)
		}
	}
	return r
}

func TestImportServerCertificate(t *testing.T) {
	pc := newPublicChain(t)
	s := newStore(t, CAOptions{})
	s.Roots = pc.roots
	gw := gatewayRequest("bank.example.org")
	// The root in the file is accepted and left out of what is stored.
	res, err := s.ImportServerCertificate(context.Background(), gw, joinPEM(pc.leaf.certPEM, pc.inter.certPEM, pc.root.certPEM), pc.leaf.keyPEM)
	if err != nil || res.Action != Created {
		t.Fatalf("import: %+v, %v", res, err)
	}
	data, _ := os.ReadFile(filepath.Join(s.Dir, "gateway.crt"))
	if want := joinPEM(pc.leaf.certPEM, pc.inter.certPEM); string(data) != string(want) {
		t.Error("gateway.crt is not the server certificate followed by the intermediate")
	}

	reqs := append(fullStack("bank.example.org", hostIP)[:1], gw)
	rep := ensure(t, s, reqs)
	if r, _ := rep.Result("gateway"); r.Action != Reused || len(r.Files) != 0 {
		t.Errorf("imported gateway: %+v, want reused as it is", r)
	}
	if string(must(os.ReadFile(filepath.Join(s.Dir, "gateway.crt")))) != string(data) {
		t.Error("Ensure replaced the imported certificate")
	}
	if _, err := s.Rotate(context.Background(), reqs, "gateway"); err == nil || !strings.Contains(err.Error(), "import a renewed certificate") {
		t.Errorf("rotating an imported certificate: %v", err)
	}

	// The hostname moves away from what the certificate covers: refuse.
	reqs[1] = gatewayRequest("core.example.org")
	_, err = s.Ensure(context.Background(), reqs)
	wantValidation(t, err, ErrHostnameNotCovered, "imported certificate gateway: ", "does not cover core.example.org")

	// Near its end it is still used, with a warning.
	s.Now = func() time.Time { return pc.leaf.cert.NotAfter.Add(-20 * day) }
	reqs[1] = gw
	rep = ensure(t, s, reqs)
	if r, _ := rep.Result("gateway"); len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "in 20 days; import a renewed certificate") {
		t.Errorf("warnings %q", r.Warnings)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestValidateServerChainRefusals(t *testing.T) {
	pc := newPublicChain(t)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weak := makeCert(t, serverTemplate("bank.example.org", "bank.example.org"), pc.inter, rsa1024)
	clientTmpl := serverTemplate("bank.example.org", "bank.example.org")
	clientTmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	clientOnly := makeCert(t, clientTmpl, pc.inter, nil)
	expiredTmpl := serverTemplate("bank.example.org", "bank.example.org")
	expiredTmpl.NotBefore, expiredTmpl.NotAfter = testNow.Add(-100*day), testNow.Add(-5*day)
	expired := makeCert(t, expiredTmpl, pc.inter, nil)
	futureTmpl := serverTemplate("bank.example.org", "bank.example.org")
	futureTmpl.NotBefore = testNow.Add(3 * day)
	future := makeCert(t, futureTmpl, pc.inter, nil)
	oldInterTmpl := caTemplate("Old Issuing CA")
	oldInterTmpl.NotBefore, oldInterTmpl.NotAfter = testNow.Add(-900*day), testNow.Add(-30*day)
	oldInter := makeCert(t, oldInterTmpl, pc.root, nil)
	underOld := makeCert(t, serverTemplate("bank.example.org", "bank.example.org"), oldInter, nil)
	cnOnly := makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "bank.example.org"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, pc.inter, nil)
	impostor := makeCert(t, caTemplate("Test Public Issuing CA"), pc.root, nil) // same name, other key
	selfSigned := makeCert(t, serverTemplate("bank.example.org", "bank.example.org"), nil, nil)
	names := []string{"bank.example.org"}

	cases := []struct {
		name         string
		chain, key   []byte
		names        []string
		roots        *x509.CertPool
		kind         error
		messageParts []string
	}{
		{"key of another certificate", joinPEM(pc.leaf.certPEM, pc.inter.certPEM), pc.root.keyPEM, names, pc.roots, ErrKeyMismatch,
			[]string{"does not match the server certificate CN=bank.example.org"}},
		{"intermediate first", joinPEM(pc.inter.certPEM, pc.leaf.certPEM), pc.leaf.keyPEM, names, pc.roots, ErrKeyMismatch,
			[]string{"belongs to certificate #2 in the file (CN=bank.example.org), not to the first one (CN=Test Public Issuing CA)", "put the server certificate first"}},
		{"intermediate missing", pc.leaf.certPEM, pc.leaf.keyPEM, names, pc.roots, ErrChainIncomplete,
			[]string{"the chain stops at CN=bank.example.org, issued by CN=Test Public Issuing CA, whose certificate is neither in the chain file nor in the trusted roots given",
				"append the intermediate certificate of CN=Test Public Issuing CA after CN=bank.example.org"}},
		{"intermediate missing, system roots", pc.leaf.certPEM, pc.leaf.keyPEM, names, nil, ErrChainIncomplete,
			[]string{"nor in the system trust store"}},
		{"private root", joinPEM(pc.leaf.certPEM, pc.inter.certPEM, pc.root.certPEM), pc.leaf.keyPEM, names, nil, ErrUntrustedRoot,
			[]string{"the chain is complete but ends at the self-signed root CN=Test Public Root, which is not in the system trust store"}},
		{"self-signed server certificate", selfSigned.certPEM, selfSigned.keyPEM, names, pc.roots, ErrUntrustedRoot,
			[]string{"is a self-signed certificate, CN=bank.example.org, which is not in the trusted roots given"}},
		{"wrong intermediate with the same name", joinPEM(pc.leaf.certPEM, impostor.certPEM), pc.leaf.keyPEM, names, pc.roots, ErrChainIncomplete,
			[]string{"CN=bank.example.org names CN=Test Public Issuing CA as its issuer, but its signature does not verify", "mixes certificates from different chains"}},
		{"hostname not covered", joinPEM(pc.leaf.certPEM, pc.inter.certPEM), pc.leaf.keyPEM, []string{"core.example.org"}, pc.roots, ErrHostnameNotCovered,
			[]string{"the server certificate CN=bank.example.org does not cover core.example.org; it lists bank.example.org, www.bank.example.org",
				"lists core.example.org as a subject alternative name"}},
		{"IP not covered", joinPEM(pc.leaf.certPEM, pc.inter.certPEM), pc.leaf.keyPEM, []string{"bank.example.org", "192.0.2.10"}, pc.roots, ErrHostnameNotCovered,
			[]string{"does not cover 192.0.2.10"}},
		{"common name only", joinPEM(cnOnly.certPEM, pc.inter.certPEM), cnOnly.keyPEM, names, pc.roots, ErrHostnameNotCovered,
			[]string{`it lists no subject alternative names, only the common name "bank.example.org", which clients ignore`}},
		{"expired", joinPEM(expired.certPEM, pc.inter.certPEM), expired.keyPEM, names, pc.roots, ErrExpired,
			[]string{"the server certificate CN=bank.example.org expired on 2026-02-24 12:00 UTC (valid from 2025-11-21 12:00 UTC"}},
		{"expired intermediate", joinPEM(underOld.certPEM, oldInter.certPEM), underOld.keyPEM, names, pc.roots, ErrExpired,
			[]string{"the intermediate certificate CN=Old Issuing CA expired on 2026-01-30 12:00 UTC"}},
		{"not yet valid", joinPEM(future.certPEM, pc.inter.certPEM), future.keyPEM, names, pc.roots, ErrNotYetValid,
			[]string{"the server certificate CN=bank.example.org is not valid before 2026-03-04 12:00 UTC"}},
		{"weak key", joinPEM(weak.certPEM, pc.inter.certPEM), weak.keyPEM, names, pc.roots, ErrWeakKey,
			[]string{"has an RSA 1024 key, which is too weak"}},
		{"client certificate", joinPEM(clientOnly.certPEM, pc.inter.certPEM), clientOnly.keyPEM, names, pc.roots, ErrWrongUsage,
			[]string{"is not valid for TLS servers: its extended key usage allows only client", "serverAuth"}},
		{"no certificate", []byte("garbage"), pc.leaf.keyPEM, names, pc.roots, ErrBadPEM,
			[]string{"the certificate chain file holds no PEM certificate"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ValidateServerChain(tc.chain, tc.key, ChainOptions{Names: tc.names, Roots: tc.roots, Now: testNow})
			wantValidation(t, err, tc.kind, tc.messageParts...)
		})
	}

	sc, err := ValidateServerChain(joinPEM(pc.leaf.certPEM, pc.inter.certPEM), pc.leaf.keyPEM, ChainOptions{Names: names, Roots: pc.roots, Now: testNow})
	if err != nil || len(sc.Certificates) != 2 || !sc.Certificates[1].Equal(pc.inter.cert) || len(sc.Warnings) != 0 {
		t.Fatalf("good chain: %v, %v", sc, err)
	}
}
