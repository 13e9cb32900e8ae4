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
	"net"
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

			// The store refuses the same material, naming the files, and
			// writes nothing.
			s := newStore(t, CAOptions{Import: &Import{CertFile: "/etc/bank/ca.pem", KeyFile: "/etc/bank/ca.key", CertPEM: tc.certPEM, KeyPEM: tc.key}})
			_, err = s.Ensure(context.Background(), fullStack("bank.example.org"))
			var ie *ImportError
			if !errors.Is(err, tc.kind) || !errors.As(err, &ie) || ie.Name != "ca" || !strings.HasPrefix(err.Error(), "import the CA from /etc/bank/ca.pem and /etc/bank/ca.key: ") {
				t.Errorf("Ensure with the CA to import: %v", err)
			}
			if _, err := os.Stat(s.Dir); !errors.Is(err, os.ErrNotExist) {
				t.Error("a refused import wrote files")
			}
		})
	}
}

// caImport is operator material for a CA, as ReadImport would return it.
func caImport(cert *testCert, chain ...*testCert) *Import {
	pemData := cert.certPEM
	for _, c := range chain {
		pemData = joinPEM(pemData, c.certPEM)
	}
	return &Import{CertFile: "ca.pem", KeyFile: "ca.key", CertPEM: pemData, KeyPEM: cert.keyPEM}
}

func TestImportedRootCASignsLeaves(t *testing.T) {
	tmpl := caTemplate("Corp Root")
	tmpl.NotAfter = testNow.Add(200 * day) // shorter than a leaf lifetime
	root := makeCert(t, tmpl, nil, nil)
	s := newStore(t, CAOptions{Import: caImport(root)})
	reqs := fullStack("bank.example.org", hostIP)
	rep := ensure(t, s, reqs)
	if rep.CA.Action != Created || !rep.TrustChanged() || !slices.Equal(rep.CA.Reasons, []string{"imported from ca.pem"}) {
		t.Errorf("imported CA: %+v", rep.CA)
	}
	if im := rep.CA.Imported; im == nil || im.Subject != "CN=Corp Root" || im.SHA256 != fingerprint(root.cert) || im.Chain != 1 {
		t.Errorf("the report does not describe the imported CA: %+v", im)
	}
	if !slices.ContainsFunc(rep.CA.Warnings, func(w string) bool { return strings.Contains(w, "the imported CA expires on") }) {
		t.Errorf("no warning that the imported CA ends before a full leaf lifetime: %q", rep.CA.Warnings)
	}
	// The key is kept like a generated CA's: ca.key, the owner's only.
	if fi, err := os.Stat(filepath.Join(s.Dir, "ca.key")); err != nil || fi.Mode().Perm() != keyMode {
		t.Errorf("ca.key: %v %v", fi.Mode(), err)
	}
	if a := loadAuthority(t, s.Dir, testNow); !a.cert.Equal(root.cert) || !keyMatches(a.key, root.cert) {
		t.Error("ca.crt and ca.key do not hold the imported CA")
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
	if again := ensure(t, s, reqs); !again.UpToDate() || again.CA.Action != Reused {
		t.Errorf("importing the same CA again changed %v", again.ChangedFiles())
	}
	// Later runs work from the copy: the operator's files may be gone.
	later := newStore(t, CAOptions{Imported: true})
	later.Dir = s.Dir
	if again := ensure(t, later, reqs); !again.UpToDate() || again.CA.Imported == nil {
		t.Errorf("a run without the files changed %v", again.ChangedFiles())
	}
	if _, err := s.Rotate(context.Background(), reqs, "ca"); err == nil || !strings.Contains(err.Error(), "import a new CA") {
		t.Errorf("rotating an imported CA: %v", err)
	}
}

// Importing a CA in place of the generated one replaces it and reissues
// every certificate from it; the reverse generates a new CA.
func TestImportReplacesTheGeneratedCA(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org", hostIP)
	ensure(t, s, reqs)
	root := makeCert(t, caTemplate("Corp Root"), nil, nil)
	s.CA = CAOptions{Import: caImport(root)}
	plan, err := s.Plan(context.Background(), reqs)
	if err != nil || plan.CA.Action != Reissued || !slices.Equal(plan.CA.Reasons, []string{"replaced by the CA imported from ca.pem"}) {
		t.Fatalf("plan: %+v, %v", plan.CA, err)
	}
	rep := ensure(t, s, reqs)
	for _, r := range rep.Certificates {
		if r.Action != Reissued || !slices.Contains(r.Reasons, "the CA was replaced") {
			t.Errorf("%s: %s %v, want reissued from the imported CA", r.Name, r.Action, r.Reasons)
		}
		if err := readCert(t, filepath.Join(s.Dir, r.Name+".crt")).CheckSignatureFrom(root.cert); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
	}
	s.CA = CAOptions{}
	if back := ensure(t, s, reqs); back.CA.Action != Reissued || !loadAuthority(t, s.Dir, testNow).generated() {
		t.Errorf("back to generate: %+v", back.CA)
	}
}

// An imported intermediate CA: ca.crt carries the chain to the root, and
// each leaf file carries the intermediate so servers send a full chain.
func TestImportedIntermediateCA(t *testing.T) {
	root := makeCert(t, caTemplate("Corp Root"), nil, nil)
	inter := makeCert(t, caTemplate("Corp Issuing CA"), root, nil)
	s := newStore(t, CAOptions{Import: caImport(inter, root)})
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

// A subordinate CA whose name constraints leave out a name the stack needs
// is refused with the name, before anything is written; one limited to
// exactly the stack's names signs them all.
func TestImportedCANameConstraints(t *testing.T) {
	reqs := []Request{
		{Name: "vault", DNSNames: []string{"vault"}, Usage: UsageServer, UID: -1, GID: -1},
		{Name: "gateway", DNSNames: []string{"bank.example.org"}, IPs: []netip.Addr{hostIP}, Usage: UsageServer, UID: -1, GID: -1},
	}
	root := makeCert(t, caTemplate("Corp Root"), nil, nil)
	narrowTmpl := caTemplate("Branch CA")
	narrowTmpl.PermittedDNSDomains = []string{"branch.example.org", "vault"}
	narrow := makeCert(t, narrowTmpl, root, nil)
	s := newStore(t, CAOptions{Import: caImport(narrow, root)})
	_, err := s.Ensure(context.Background(), reqs)
	wantValidation(t, err, ErrNameNotPermitted, "import the CA from ca.pem and ca.key: the imported CA CN=Branch CA does not permit bank.example.org (certificate gateway)", "allow only branch.example.org, vault")
	if _, statErr := os.Stat(s.Dir); statErr == nil {
		t.Error("a refused import wrote files")
	}

	stackTmpl := caTemplate("Stack CA")
	stackTmpl.PermittedDNSDomains = []string{"vault", "bank.example.org"}
	stackTmpl.PermittedIPRanges = []*net.IPNet{{IP: hostIP.AsSlice(), Mask: net.CIDRMask(32, 32)}}
	stack := makeCert(t, stackTmpl, root, nil)
	s.CA.Import = caImport(stack, root)
	ensure(t, s, reqs)
	// An imported gateway certificate is not the CA's to sign: the CA need
	// not permit its names.
	gw := makeCert(t, serverTemplate("bank.example.org", "bank.example.org", hostIP.String()), root, nil)
	reqs[1] = gatewayRequest("bank.example.org", hostIP.String())
	reqs[1].Import = &Import{CertFile: "gw.pem", KeyFile: "gw.key", CertPEM: gw.certPEM, KeyPEM: gw.keyPEM}
	s.CA.Import = caImport(narrow, root)
	if _, err := s.Plan(context.Background(), reqs); err != nil {
		t.Errorf("the CA was held to the imported gateway's names: %v", err)
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
	gw.Import = &Import{CertFile: "chain.pem", KeyFile: "gw.key", CertPEM: joinPEM(pc.leaf.certPEM, pc.inter.certPEM, pc.root.certPEM), KeyPEM: pc.leaf.keyPEM}
	reqs := append(fullStack("bank.example.org", hostIP)[:1], gw)
	rep := ensure(t, s, reqs)
	if r, _ := rep.Result("gateway"); r.Action != Created || !slices.Equal(r.Reasons, []string{"imported from chain.pem"}) || r.Imported == nil || r.Imported.Chain != 2 || r.Imported.Issuer != "CN=Test Public Issuing CA" {
		t.Fatalf("import: %+v", r)
	}
	data, _ := os.ReadFile(filepath.Join(s.Dir, "gateway.crt"))
	if want := joinPEM(pc.leaf.certPEM, pc.inter.certPEM); string(data) != string(want) {
		t.Error("gateway.crt is not the server certificate followed by the intermediate")
	}
	// The CA did not sign it, so need not permit its names.
	if nc := constraintsOf(loadAuthority(t, s.Dir, testNow).cert); slices.Contains(nc.permittedDNS, "bank.example.org") {
		t.Errorf("the generated CA permits the imported certificate's name: %v", nc.permittedDNS)
	}

	if again := ensure(t, s, reqs); !again.UpToDate() {
		t.Errorf("importing the same chain again changed %v", again.ChangedFiles())
	}
	later := reqs[1]
	later.Import = nil
	reqs[1] = later
	rep = ensure(t, s, reqs)
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
	_, err := s.Ensure(context.Background(), reqs)
	wantValidation(t, err, ErrHostnameNotCovered, "imported the gateway certificate: ", "does not cover core.example.org")

	// Near its end it is still used, with a warning.
	s.Now = func() time.Time { return pc.leaf.cert.NotAfter.Add(-20 * day) }
	reqs[1] = gatewayRequest("bank.example.org")
	rep = ensure(t, s, reqs)
	if r, _ := rep.Result("gateway"); len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "in 20 days; import a renewed certificate") {
		t.Errorf("warnings %q", r.Warnings)
	}
}

// Rotating an imported certificate means importing its renewal: only that
// certificate is written.
func TestRotateSwapsInARenewedImport(t *testing.T) {
	pc := newPublicChain(t)
	s := newStore(t, CAOptions{})
	s.Roots = pc.roots
	gw := gatewayRequest("bank.example.org")
	gw.Import = &Import{CertFile: "chain.pem", KeyFile: "gw.key", CertPEM: joinPEM(pc.leaf.certPEM, pc.inter.certPEM), KeyPEM: pc.leaf.keyPEM}
	reqs := append(fullStack("bank.example.org", hostIP)[:2], gw)
	ensure(t, s, reqs)
	before := snapshot(t, s.Dir)

	renewed := makeCert(t, serverTemplate("bank.example.org", "bank.example.org"), pc.inter, nil)
	reqs[2].Import = &Import{CertFile: "renewed.pem", KeyFile: "renewed.key", CertPEM: joinPEM(renewed.certPEM, pc.inter.certPEM), KeyPEM: renewed.keyPEM}
	rep, err := s.Rotate(context.Background(), reqs, "gateway")
	if err != nil || len(rep.Certificates) != 1 || rep.Certificates[0].Action != Reissued || !slices.Equal(rep.Certificates[0].Reasons, []string{"replaced by the certificate imported from renewed.pem"}) {
		t.Fatalf("rotate: %+v, %v", rep, err)
	}
	if got := changedFiles(before, snapshot(t, s.Dir)); !slices.Equal(got, []string{"gateway.crt", "gateway.key"}) {
		t.Errorf("rotating the imported certificate changed %v", got)
	}
	if !readCert(t, filepath.Join(s.Dir, "gateway.crt")).Equal(renewed.cert) {
		t.Error("gateway.crt is not the renewed certificate")
	}

	// A renewal for another name is refused; nothing changes.
	before = snapshot(t, s.Dir)
	wrong := makeCert(t, serverTemplate("other.example.org", "other.example.org"), pc.inter, nil)
	reqs[2].Import = &Import{CertFile: "wrong.pem", KeyFile: "wrong.key", CertPEM: joinPEM(wrong.certPEM, pc.inter.certPEM), KeyPEM: wrong.keyPEM}
	_, err = s.Rotate(context.Background(), reqs, "gateway")
	wantValidation(t, err, ErrHostnameNotCovered, "import the gateway certificate from wrong.pem and wrong.key: ", "does not cover bank.example.org")
	if got := changedFiles(before, snapshot(t, s.Dir)); len(got) != 0 {
		t.Errorf("a refused renewal changed %v", got)
	}
}

// The gateway's certificate may come from the bank's own PKI: the imported
// CA's root is trusted for it, though the system trust store lacks it.
func TestImportedGatewayFromTheImportedCAsRoot(t *testing.T) {
	root := makeCert(t, caTemplate("Corp Root"), nil, nil)
	issuing := makeCert(t, caTemplate("Corp Issuing CA"), root, nil)
	web := makeCert(t, caTemplate("Corp Web CA"), root, nil)
	leaf := makeCert(t, serverTemplate("bank.example.org", "bank.example.org"), web, nil)
	s := newStore(t, CAOptions{Import: caImport(issuing, root)})
	gw := gatewayRequest("bank.example.org")
	gw.Import = &Import{CertFile: "chain.pem", KeyFile: "gw.key", CertPEM: joinPEM(leaf.certPEM, web.certPEM), KeyPEM: leaf.keyPEM}
	rep := ensure(t, s, append(fullStack("bank.example.org")[:1], gw))
	if r, _ := rep.Result("gateway"); r.Action != Created || r.Imported.Issuer != "CN=Corp Web CA" {
		t.Errorf("gateway: %+v", r)
	}
	// Without the CA the same chain ends at a root nobody here trusts.
	s2 := newStore(t, CAOptions{})
	_, err := s2.Plan(context.Background(), []Request{gw})
	wantValidation(t, err, ErrChainIncomplete, "import the gateway certificate from chain.pem and gw.key: ", "issued by CN=Corp Root, whose certificate is neither in the chain file nor in the system trust store")
}

func TestReadImport(t *testing.T) {
	dir := t.TempDir()
	crt, key := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	if err := os.WriteFile(crt, []byte("cert"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	imp, err := ReadImport(crt, key)
	if err != nil || string(imp.CertPEM) != "cert" || string(imp.KeyPEM) != "key" || imp.CertFile != crt {
		t.Fatalf("ReadImport: %+v, %v", imp, err)
	}
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, make([]byte, maxImportFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		crt, key string
		kind     error
		part     string
	}{
		{filepath.Join(dir, "missing.pem"), key, ErrUnreadable, "the certificate file " + filepath.Join(dir, "missing.pem") + " cannot be read: no such file or directory"},
		{crt, dir, ErrUnreadable, "the key file " + dir + " is not a regular file"},
		{crt, "", ErrUnreadable, "no key file is given"},
		{big, key, ErrBadPEM, "is larger than 1048576 bytes"},
	} {
		_, err := ReadImport(c.crt, c.key)
		wantValidation(t, err, c.kind, c.part)
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
