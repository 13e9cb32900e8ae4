package e2e

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// bankPKI is what a bank's PKI team hands over, made here with openssl
// alone: a root, a subordinate CA for the stack limited by name
// constraints to the stack's names, and a gateway certificate from another
// intermediate of the same root.
type bankPKI struct {
	dir string
	// Files: root.crt; issuing.crt and issuing.key (the subordinate CA);
	// issuing-chain.pem (issuing.crt then root.crt); webca.crt (the
	// gateway's intermediate); gateway.crt, gateway.key, gateway-chain.pem.
}

func (b bankPKI) path(name string) string { return filepath.Join(b.dir, name) }

// openssl runs openssl in the PKI's directory.
func (b bankPKI) openssl(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = b.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (b bankPKI) write(t *testing.T, name, content string) string {
	t.Helper()
	if err := os.WriteFile(b.path(name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return b.path(name)
}

func (b bankPKI) concat(t *testing.T, name string, parts ...string) string {
	t.Helper()
	var all []byte
	for _, p := range parts {
		data, err := os.ReadFile(b.path(p))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, data...)
	}
	return b.write(t, name, string(all))
}

// sign issues name.crt for name.key, signed by ca (ca.crt, ca.key), with
// the extensions given, valid for days.
func (b bankPKI) sign(t *testing.T, name, subject, ca string, days int, ext string) {
	t.Helper()
	b.write(t, name+".ext", ext)
	b.openssl(t, "req", "-new", "-key", name+".key", "-subj", subject, "-out", name+".csr")
	b.openssl(t, "x509", "-req", "-in", name+".csr", "-CA", ca+".crt", "-CAkey", ca+".key", "-CAcreateserial",
		"-days", fmt.Sprint(days), "-sha256", "-extfile", name+".ext", "-out", name+".crt")
}

// fingerprint is openssl's SHA-256 fingerprint of a certificate file,
// colons removed.
func (b bankPKI) fingerprint(t *testing.T, name string) string {
	t.Helper()
	out := b.openssl(t, "x509", "-noout", "-fingerprint", "-sha256", "-in", name)
	_, fp, _ := strings.Cut(strings.TrimSpace(out), "=")
	return strings.ReplaceAll(fp, ":", "")
}

// verify runs `openssl verify` for a certificate against the bank's root,
// with the intermediate given; openssl enforces name constraints too.
func (b bankPKI) verify(t *testing.T, cert, intermediate string) error {
	t.Helper()
	out, err := exec.Command("openssl", "verify", "-CAfile", b.path("root.crt"), "-untrusted", b.path(intermediate), cert).CombinedOutput()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), ": OK") {
		return fmt.Errorf("openssl verify %s: %v: %s", cert, err, out)
	}
	return nil
}

func newBankPKI(t *testing.T, hostname string, stackNames []string) bankPKI {
	t.Helper()
	b := bankPKI{dir: t.TempDir()}
	const caExt = "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
	// Root: RSA 3072, self-signed.
	b.openssl(t, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072", "-out", "root.key")
	b.openssl(t, "req", "-x509", "-new", "-key", "root.key", "-days", "3650", "-sha256", "-subj", "/O=Example Bank/CN=Example Bank Root CA",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "root.crt")
	// The stack's subordinate CA: ECDSA P-256 in openssl's own SEC 1 form,
	// permitted to sign the stack's names only.
	b.openssl(t, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "issuing.key")
	var permitted []string
	for _, n := range stackNames {
		permitted = append(permitted, "permitted;DNS:"+n)
	}
	b.sign(t, "issuing", "/O=Example Bank/CN=Example Bank Fineract Issuing CA", "root", 1825,
		caExt+"nameConstraints=critical,"+strings.Join(permitted, ",")+"\n")
	b.concat(t, "issuing-chain.pem", "issuing.crt", "root.crt")
	// The gateway's certificate, from the bank's web intermediate.
	b.openssl(t, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "webca.key")
	b.sign(t, "webca", "/O=Example Bank/CN=Example Bank Web CA", "root", 1825, caExt)
	b.gatewayCert(t, "gateway", hostname, 200)
	return b
}

// gatewayCert issues name.crt for host from the web intermediate, and
// name-chain.pem with the intermediate after it.
func (b bankPKI) gatewayCert(t *testing.T, name, host string, days int) {
	t.Helper()
	b.openssl(t, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", name+".key")
	b.sign(t, name, "/CN="+host, "webca", days,
		"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:"+host+"\n")
	b.concat(t, name+"-chain.pem", name+".crt", "webca.crt")
}

// expiredCA makes a self-signed CA whose validity ended in 2021, with
// `openssl ca` (the only openssl command that sets past dates).
func (b bankPKI) expiredCA(t *testing.T) {
	t.Helper()
	for _, d := range []string{"newcerts"} {
		if err := os.MkdirAll(b.path(d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	b.write(t, "index.txt", "")
	b.write(t, "serial", "01\n")
	b.write(t, "ca.cnf", `[ca]
default_ca = old
[old]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
[v3]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
`)
	b.openssl(t, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "expired.key")
	b.openssl(t, "req", "-new", "-key", "expired.key", "-subj", "/CN=Example Bank Old CA", "-out", "expired.csr")
	b.openssl(t, "ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", "expired.key", "-in", "expired.csr",
		"-startdate", "20200101000000Z", "-enddate", "20210101000000Z", "-extensions", "v3", "-notext", "-out", "expired.crt")
}

// withCertificates writes the stack's answers file importing c.
func (s *stack) withCertificates(t *testing.T, file string, c answers.Certificates) string {
	t.Helper()
	a := s.ans
	a.Certificates = c
	data, err := yamlOf(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// servedChain dials the gateway as a browser that trusts the bank's root
// would and returns the SHA-256 of each certificate it sent.
func (s *stack) servedChain(t *testing.T, rootFile string) []string {
	t.Helper()
	pem, err := os.ReadFile(rootFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", s.ans.Gateway.HTTPSPort),
		&tls.Config{RootCAs: roots, ServerName: s.ans.Host.Hostname})
	if err != nil {
		t.Fatalf("TLS to the gateway with the bank's root: %v", err)
	}
	defer conn.Close()
	var out []string
	for _, c := range conn.ConnectionState().PeerCertificates {
		sum := sha256.Sum256(c.Raw)
		out = append(out, fmt.Sprintf("%X", sum[:]))
	}
	return out
}

type checkResult struct{ ID, Status, Evidence string }

func (s *stack) validateChecks(t *testing.T, ctx context.Context) (int, map[string]checkResult) {
	t.Helper()
	r := s.run(ctx, "validate", "-o", "json")
	var list []checkResult
	if err := checklistResults(r.stdout, &list); err != nil {
		t.Fatalf("validate: exit %d %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	out := map[string]checkResult{}
	for _, c := range list {
		out[c.ID] = c
	}
	return r.code, out
}

// The bank brings its PKI: a subordinate CA, made with openssl, signs every
// service certificate of the install (openssl verifies each against the
// bank's root), and the gateway serves a chain from another intermediate of
// the same root, exactly as given. A key of another CA, an expired CA and a
// gateway certificate for another name are each refused with exit 2 before
// anything is written. The gateway's renewal is swapped in with only the
// gateway recreated, and a restore on a host without the bank's files
// brings the same CA back.
func TestImportedCertificatesEndToEnd(t *testing.T) {
	s := newStack(t, 14)
	ctx := ctxFor(t, 40*time.Minute)
	host := s.ans.Host.Hostname
	var stackNames []string
	for _, svc := range s.bundle.Services {
		if svc.Name != "gateway" {
			stackNames = append(stackNames, svc.Name)
		}
	}
	bank := newBankPKI(t, host, stackNames)
	bank.expiredCA(t)
	bank.openssl(t, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "stranger.key")
	bank.gatewayCert(t, "elsewhere", "elsewhere.example.org", 200)
	good := answers.Certificates{Source: answers.CertImport,
		CACert: bank.path("issuing-chain.pem"), CAKey: bank.path("issuing.key"),
		GatewayChain: bank.path("gateway-chain.pem"), GatewayKey: bank.path("gateway.key")}

	// Bad input: exit 2, the file and the problem named, nothing written.
	refusals := []struct {
		name    string
		certs   answers.Certificates
		command string
		want    []string
	}{
		{"key of another CA", with(good, func(c *answers.Certificates) { c.CAKey = bank.path("stranger.key") }), "install",
			[]string{"import the CA from " + bank.path("issuing-chain.pem") + " and " + bank.path("stranger.key"), "does not match the CA certificate CN=Example Bank Fineract Issuing CA"}},
		{"expired CA", with(good, func(c *answers.Certificates) { c.CACert, c.CAKey = bank.path("expired.crt"), bank.path("expired.key") }), "certs",
			[]string{"import the CA from " + bank.path("expired.crt"), "CN=Example Bank Old CA expired on 2021-01-01"}},
		{"gateway certificate for another name", with(good, func(c *answers.Certificates) {
			c.GatewayChain, c.GatewayKey = bank.path("elsewhere-chain.pem"), bank.path("elsewhere.key")
		}), "install", []string{"import the gateway certificate from " + bank.path("elsewhere-chain.pem"), "does not cover " + host}},
	}
	for _, c := range refusals {
		file := s.withCertificates(t, filepath.Join(t.TempDir(), "answers.yaml"), c.certs)
		args := []string{"install", "--answers", file, "--yes"}
		if c.command == "certs" {
			args = []string{"certs", "generate", "--answers", file}
		}
		r := s.run(ctx, args...)
		if r.code != 2 {
			t.Errorf("%s: %s exit %d, want 2\n%s%s", c.name, c.command, r.code, r.stdout, r.stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: the error does not say %q:\n%s", c.name, w, r.stderr)
			}
		}
		if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
			t.Fatalf("%s: the refused %s wrote the install dir: %v", c.name, c.command, err)
		}
		if ids := containerIDs(t, s); len(ids) != 0 {
			t.Fatalf("%s: the refused %s created containers %v", c.name, c.command, ids)
		}
	}

	s.answers = s.withCertificates(t, s.answers, good)
	if r := s.install(ctx); r.code != 0 {
		t.Fatalf("install with the bank's PKI: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 30))
	}

	// Every service certificate verifies to the bank's root through the
	// subordinate CA, by openssl, name constraints included.
	pkiDir := filepath.Join(s.dir, "pki")
	leaves, _ := filepath.Glob(filepath.Join(pkiDir, "*.crt"))
	verified := 0
	for _, leaf := range leaves {
		switch filepath.Base(leaf) {
		case "ca.crt", "gateway.crt":
			continue
		}
		if err := bank.verify(t, leaf, "issuing.crt"); err != nil {
			t.Error(err)
		}
		verified++
	}
	if verified < len(stackNames) {
		t.Errorf("only %d service certificates in %s, want one for each of %v", verified, pkiDir, stackNames)
	}
	if err := bank.verify(t, filepath.Join(pkiDir, "gateway.crt"), "webca.crt"); err != nil {
		t.Error(err)
	}
	if fi, err := os.Stat(filepath.Join(pkiDir, "ca.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the imported CA key is not kept like a generated one (0600): %v %v", fi.Mode(), err)
	}

	// The gateway serves exactly the bank's chain: leaf, then intermediate.
	wantChain := []string{bank.fingerprint(t, "gateway.crt"), bank.fingerprint(t, "webca.crt")}
	if got := s.servedChain(t, bank.path("root.crt")); fmt.Sprint(got) != fmt.Sprint(wantChain) {
		t.Errorf("the gateway serves %v, want the imported chain %v", got, wantChain)
	}
	code, checks := s.validateChecks(t, ctx)
	if code != 0 {
		t.Errorf("validate with the bank's PKI: exit %d", code)
	}
	for id, c := range checks {
		if c.Status == "fail" {
			t.Errorf("check %s failed: %s", id, c.Evidence)
		}
	}
	if c := checks["tls-gateway-chain"]; !strings.Contains(strings.ReplaceAll(c.Evidence, ":", ""), wantChain[0]) || !strings.Contains(c.Evidence, "serves exactly pki/gateway.crt") {
		t.Errorf("tls-gateway-chain does not prove the imported chain: %s", c.Evidence)
	}
	if c := checks["tls-internal"]; !strings.Contains(c.Evidence, "verified to the stack's CA CN=Example Bank Fineract Issuing CA") {
		t.Errorf("tls-internal does not prove the bank's CA: %s", c.Evidence)
	}

	// Renewal: a refused chain changes nothing; the renewed one is swapped
	// in with only the gateway recreated, and its end is flagged early.
	before := containerIDs(t, s)
	if r := s.run(ctx, "certs", "rotate", "gateway", "--chain", bank.path("elsewhere-chain.pem"), "--key", bank.path("elsewhere.key"), "--yes"); r.code != 2 || !strings.Contains(r.stderr, "does not cover "+host) {
		t.Errorf("rotating in a certificate for another name: exit %d %s", r.code, r.stderr)
	}
	if got := s.servedChain(t, bank.path("root.crt")); fmt.Sprint(got) != fmt.Sprint(wantChain) {
		t.Errorf("a refused renewal changed the served chain: %v", got)
	}
	bank.gatewayCert(t, "renewed", host, 40)
	if r := s.run(ctx, "certs", "rotate", "gateway", "--chain", bank.path("renewed-chain.pem"), "--key", bank.path("renewed.key"), "--yes"); r.code != 0 {
		t.Fatalf("certs rotate gateway --chain: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	after := containerIDs(t, s)
	for svc, id := range before {
		if changed := after[svc] != id; changed != (svc == "gateway") {
			t.Errorf("after swapping in the renewed gateway certificate, %s changed=%t", svc, changed)
		}
	}
	wantChain = []string{bank.fingerprint(t, "renewed.crt"), bank.fingerprint(t, "webca.crt")}
	if got := s.servedChain(t, bank.path("root.crt")); fmt.Sprint(got) != fmt.Sprint(wantChain) {
		t.Errorf("after the renewal the gateway serves %v, want %v", got, wantChain)
	}
	r := s.run(ctx, "certs", "show")
	if r.code != 0 || !strings.Contains(r.stdout, "gateway: the imported certificate expires in 39 days") ||
		!strings.Contains(r.stdout, "certs rotate gateway --chain FILE --key FILE") {
		t.Errorf("certs show does not warn ahead of the imported certificate's end: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if code, checks := s.validateChecks(t, ctx); code != 0 || checks["tls-gateway-chain"].Status != "pass" {
		t.Errorf("validate after the renewal: exit %d, tls-gateway-chain %+v", code, checks["tls-gateway-chain"])
	}

	// Backup, lose the host and the bank's files, restore: the CA and the
	// gateway chain come back from the archive.
	file := filepath.Join(t.TempDir(), "stack.fib")
	backup := s.command(ctx, "backup", "--out", file)
	backup.Env = append(backup.Env, "FINERACT_BACKUP_PASSPHRASE="+backupPassphrase)
	if out, err := backup.CombinedOutput(); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if r := s.run(ctx, "uninstall", "--purge", "--yes"); r.code != 0 {
		t.Fatalf("purge: exit %d %s", r.code, r.stderr)
	}
	_ = os.RemoveAll(filepath.Join("/run/fineract-stack", s.project))
	for _, f := range []string{"issuing.key", "issuing-chain.pem", "gateway.key", "gateway-chain.pem", "renewed.key", "renewed-chain.pem"} {
		if err := os.Remove(bank.path(f)); err != nil {
			t.Fatal(err)
		}
	}
	restore := s.command(ctx, "restore", file, "--yes")
	restore.Env = append(restore.Env, "FINERACT_BACKUP_PASSPHRASE="+backupPassphrase)
	if out, err := restore.CombinedOutput(); err != nil {
		t.Fatalf("restore without the bank's files: %v\n%s", err, tail(string(out), 30))
	}
	leaves, _ = filepath.Glob(filepath.Join(pkiDir, "*.crt"))
	sort.Strings(leaves)
	for _, leaf := range leaves {
		switch filepath.Base(leaf) {
		case "ca.crt":
		case "gateway.crt":
			if err := bank.verify(t, leaf, "webca.crt"); err != nil {
				t.Errorf("after the restore: %v", err)
			}
		default:
			if err := bank.verify(t, leaf, "issuing.crt"); err != nil {
				t.Errorf("after the restore: %v", err)
			}
		}
	}
	if got := s.servedChain(t, bank.path("root.crt")); fmt.Sprint(got) != fmt.Sprint(wantChain) {
		t.Errorf("after the restore the gateway serves %v, want %v", got, wantChain)
	}
	if code, checks := s.validateChecks(t, ctx); code != 0 {
		for id, c := range checks {
			if c.Status == "fail" {
				t.Errorf("after the restore, check %s failed: %s", id, c.Evidence)
			}
		}
	}
}

func with(c answers.Certificates, f func(*answers.Certificates)) answers.Certificates {
	f(&c)
	return c
}

// The real binary's wizard checks files made with openssl as they are
// typed, with the install's own check, and the review shows the subject,
// issuer, expiry and fingerprint of each; the answers file it saves
// imports them. Nothing is installed.
func TestRealBinaryWizardImportsCertificates(t *testing.T) {
	labtest.Engine(t)
	bin := binary(t)
	host := "bank.example.test"
	bank := newBankPKI(t, host, []string{"vault", "postgres", "fineract", "web-app"})
	bank.openssl(t, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "stranger.key")
	dir := filepath.Join(t.TempDir(), "stack")
	work := t.TempDir()
	term := labtest.StartTerminal(t, fmt.Sprintf("cd %s && %s --dir %s --project fit-wizard-import", work, bin, dir), 120, 40)

	term.WaitFor("What will happen")
	term.Keys("Enter")
	term.WaitFor("r re-check")
	term.Keys("Enter")
	term.WaitFor("Which profile?")
	term.Keys("Enter")
	term.WaitFor("Host name")
	term.Keys("C-u")
	term.Text(host)
	term.Keys("Enter")
	term.WaitFor("┃ IP addresses")
	term.Keys("C-u", "Enter")
	term.WaitFor("Key shares")
	term.Keys("Enter", "Enter", "Enter")
	term.WaitFor("Where do the certificates come from?")
	term.Keys("Down", "Enter")
	term.WaitFor("┃ CA certificate file")
	// Each file is typed once the field shows the last one: keys sent
	// while the screen still takes text may land in the field before.
	field := func(next, path string) {
		term.Keys("Tab")
		term.WaitFor("┃ " + next)
		term.Text(path)
		term.WaitFor(filepath.Base(path))
	}
	term.Text(bank.path("issuing-chain.pem"))
	term.WaitFor("issuing-chain.pem")
	field("CA key file", bank.path("stranger.key"))
	// The messages hold the test's paths, so where they wrap varies.
	s := term.WaitForWords("does not match")
	term.Expect(labtest.Words(s), "✗ CA: import the CA from "+bank.path("issuing-chain.pem"))
	// The CA's name constraints leave out the hostname: fine once the
	// gateway's certificate is imported too, as the CA then need not sign it.
	term.Keys("C-u")
	term.Text(bank.path("issuing.key"))
	term.WaitForWords("does not permit " + host + " (certificate gateway)")
	field("Gateway certificate chain file", bank.path("gateway-chain.pem"))
	field("Gateway key file", bank.path("gateway.key"))
	s = term.WaitFor("✓ Gateway: CN=" + host)
	term.Expect(s, "✓ CA: CN=Example Bank Fineract Issuing CA,O=Example Bank")
	term.Keys("Enter")
	term.WaitFor("monitoring")
	term.Keys("Enter", "Enter", "Enter", "Enter")
	term.WaitFor("Optional service groups")
	term.Keys("Enter")
	s = term.WaitFor("The answers are valid.")
	// The review wraps long lines: compare without the spaces and colons.
	flat := strings.ReplaceAll(strings.Join(strings.Fields(s), ""), ":", "")
	for _, want := range []string{bank.fingerprint(t, "issuing.crt"), bank.fingerprint(t, "gateway.crt"),
		"CA CN=ExampleBankFineractIssuingCA,O=ExampleBank,issuedbyCN=ExampleBankRootCA,O=ExampleBank,validuntil",
		"gateway CN=bank.example.test,issuedbyCN=ExampleBankWebCA,O=ExampleBank,validuntil"} {
		if !strings.Contains(flat, strings.ReplaceAll(want, " ", "")) {
			t.Errorf("the review does not show %s:\n%s", want, s)
		}
	}
	term.Keys("s")
	term.WaitFor("Saved")
	a, err := answers.Load(filepath.Join(work, "answers.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (answers.Certificates{Source: answers.CertImport, CACert: bank.path("issuing-chain.pem"), CAKey: bank.path("issuing.key"),
		GatewayChain: bank.path("gateway-chain.pem"), GatewayKey: bank.path("gateway.key")}); a.Certificates != want {
		t.Errorf("the saved answers import %+v, want %+v", a.Certificates, want)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the wizard wrote the install dir: %v", err)
	}
}
