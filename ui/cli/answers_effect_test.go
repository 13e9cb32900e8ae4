package cli

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// answerProbe shows that one field of the answers does something. Either
// change turns valid answers into other valid answers that differ in the
// field (base, when set, first makes the field matter: the monitoring
// network only exists with a group that uses it), and the commands must
// then render or issue something else; or the field acts only on a running
// system, and the end-to-end test named here exercises it.
type answerProbe struct {
	base    func(a *answers.Answers)
	change  func(a *answers.Answers)
	refused bool // the field has one valid value: every other is refused
	e2e     *e2eEvidence
}

// e2eEvidence names the end-to-end test (lab/e2e) that exercises a field
// only a running system shows, a text its body must hold (where it sets or
// checks the field) and why no offline observation shows it.
type e2eEvidence struct {
	test, mentions, why string
}

// TestEveryAnswerHasAnEffect walks the whole answers schema: a field
// nobody reads (as certificates.ca_cert once was: validated, then dropped)
// fails here, and so does a new field nobody gave a probe. What is observed
// is what the real commands produce from an answers file: `render` (every
// configuration file) and `certs generate` (every certificate, where it is
// written, and whether it is the operator's own).
func TestEveryAnswerHasAnEffect(t *testing.T) {
	root := t.TempDir()
	files := writeImportFiles(t, filepath.Join(root, "bank"), "fineract.local")
	importCA := func(a *answers.Answers) {
		a.Certificates = answers.Certificates{Source: answers.CertImport, CACert: files.caCert, CAKey: files.caKey}
	}
	withMonitoring := func(a *answers.Answers) { a.Groups = []string{answers.GroupCore, answers.GroupMonitoring} }
	segment := func(role string, f func(s *answers.Segment)) func(a *answers.Answers) {
		return func(a *answers.Answers) {
			segs := map[string]*answers.Segment{"dmz": &a.Network.DMZ, "app": &a.Network.App, "data": &a.Network.Data, "monitoring": &a.Network.Monitoring}
			f(segs[role])
		}
	}
	ceremony := "TestProductionInstallWithKeyCeremony"
	probes := map[string]answerProbe{
		// The Docker target ignores the block; render --target kubernetes
		// is made of it (observe renders it when the answers have one).
		"kubernetes": {change: func(a *answers.Answers) {
			a.Kubernetes = &answers.Kubernetes{Vault: answers.KubernetesVault{Address: "https://10.20.0.5:8200"}}
		}},
		"version":          {change: func(a *answers.Answers) { a.Version = 2 }, refused: true},
		"profile":          {change: func(a *answers.Answers) { a.Profile = answers.Demo }},
		"host.hostname":    {change: func(a *answers.Answers) { a.Host.Hostname = "bank.example.org" }},
		"host.ips":         {change: func(a *answers.Answers) { a.Host.IPs = []string{"192.0.2.10"} }},
		"vault.key_shares": {e2e: &e2eEvidence{ceremony, "KeyShares: 5", "Vault is initialised with them: the test counts the shares shown"}},
		"vault.key_threshold": {e2e: &e2eEvidence{ceremony, "KeyThreshold: 3",
			"Vault is initialised with it: the test checks that 3 of 5 shares are needed and unseals with three"}},
		"vault.custody": {e2e: &e2eEvidence{ceremony, "Custody: answers.CustodyShow",
			"it decides where the shares go when Vault is initialised: shown once, and no custody file written"}},
		"vault.pgp_keys": {e2e: &e2eEvidence{"TestProductionInstallWithPGPKeyHolders", "PGPKeys",
			"the shares are encrypted to them when Vault is initialised; the key holders decrypt theirs"}},
		"certificates.source":  {change: importCA},
		"certificates.ca_cert": {change: importCA},
		"certificates.ca_key":  {change: importCA},
		"certificates.gateway_chain": {base: importCA, change: func(a *answers.Answers) {
			a.Certificates.GatewayChain, a.Certificates.GatewayKey = files.gwChain, files.gwKey
		}},
		"certificates.gateway_key": {base: importCA, change: func(a *answers.Answers) {
			a.Certificates.GatewayChain, a.Certificates.GatewayKey = files.gwChain, files.gwKey
		}},
		"gateway.https_port":  {change: func(a *answers.Answers) { a.Gateway.HTTPSPort = 8443 }},
		"gateway.http_port":   {change: func(a *answers.Answers) { a.Gateway.HTTPPort = 8080 }},
		"gateway.bind_ip":     {change: func(a *answers.Answers) { a.Gateway.BindIP = "127.0.0.1" }},
		"gateway.allow_tls12": {change: func(a *answers.Answers) { a.Gateway.AllowTLS12 = true }},
		"groups":              {change: withMonitoring},
		"install_dir":         {change: func(a *answers.Answers) { a.InstallDir = filepath.Join(root, "elsewhere") }},
		"images.source": {e2e: &e2eEvidence{"TestSerialInterruptedImageLoadResumes", `"--images-bundle", bundle`,
			"images are pulled or loaded at install; --images-bundle sets images.source: bundle and images.bundle"}},
		"images.bundle": {e2e: &e2eEvidence{"TestSerialInterruptedImageLoadResumes", `"--images-bundle", bundle`,
			"the install loads every image from it"}},
		"credentials.pgp_key": {e2e: &e2eEvidence{"TestProductionInstallWithPGPKeyHolders", "Credentials.PGPKey",
			"the passwords the install sets are handed out encrypted to it, not in a clear-text file"}},
		"service_ids_from": {change: func(a *answers.Answers) { a.ServiceIDsFrom = 80000 }},
		// The ILM policy the install step sends to Elasticsearch
		// (config/elasticsearch/ilm-policy.json).
		// postgresql.conf's archiving settings, the repository mount and the WAL key.
		"backup.wal_archiving":   {change: func(a *answers.Answers) { a.Backup.WALArchiving = false }},
		"backup.archive_timeout": {change: func(a *answers.Answers) { a.Backup.ArchiveTimeout = "10m"; a.Backup.RPO = "10m" }},
		"backup.repository":      {change: func(a *answers.Answers) { a.Backup.Repository = filepath.Join(root, "repo") }},
		"backup.keep_base": {e2e: &e2eEvidence{"TestPointInTimeRestore", "keep_base 1",
			"retention acts on base backups in a repository: the test ages two and checks which a new backup removes"}},
		"backup.keep_days": {e2e: &e2eEvidence{"TestPointInTimeRestore", "keep_days 1",
			"retention acts on base backups in a repository: the test ages two and checks which a new backup removes"}},
		"backup.offsite.s3": {e2e: &e2eEvidence{"TestOffsiteCopyUnreachableStoreCatchesUp", "Offsite.S3 = &answers.S3Target",
			"the copy at the end of a backup, backup offsite copy and validate's backup-offsite-age reach the store it names: the test compares the store with the repository"}},
		"backup.rpo": {e2e: &e2eEvidence{"TestOffsiteCopyUnreachableStoreCatchesUp", "older than the RPO of 1m0s",
			"validate holds the newest archived segment and the newest off-host copy to it: the test dates the copy back past it and sees the warning"}},
		"log_retention_days": {base: func(a *answers.Answers) { a.Groups = []string{answers.GroupCore, answers.GroupLogging} },
			change: func(a *answers.Answers) { a.LogRetentionDays = 30 }},
	}
	for _, role := range []string{"dmz", "app", "data", "monitoring"} {
		p := answerProbe{change: segment(role, func(s *answers.Segment) { s.Name = "renamed-" + role })}
		q := answerProbe{change: segment(role, func(s *answers.Segment) { s.Subnet = "10.77." + fmt.Sprint(len(role)) + ".0/24" })}
		if role == "monitoring" {
			p.base, q.base = withMonitoring, withMonitoring
		}
		probes["network."+role+".name"], probes["network."+role+".subnet"] = p, q
	}

	fields := answerFields(reflect.TypeOf(answers.Answers{}), "")
	for _, path := range fields {
		if _, ok := probes[path]; !ok {
			t.Errorf("answers field %s has no probe: show what it changes (or which end-to-end test exercises it) here", path)
		}
	}
	for path := range probes {
		if !contains(fields, path) {
			t.Errorf("probe %s names no field of the answers", path)
		}
	}

	defaults := func() answers.Answers {
		a := answers.Defaults(answers.Production)
		a.InstallDir = filepath.Join(root, "stack")
		return a
	}
	for _, path := range fields {
		p, ok := probes[path]
		if !ok {
			continue
		}
		t.Run(path, func(t *testing.T) {
			if p.e2e != nil {
				checkE2EEvidence(t, path, *p.e2e)
				return
			}
			before, after := defaults(), defaults()
			if p.base != nil {
				p.base(&before)
				p.base(&after)
			}
			p.change(&after)
			if reflect.DeepEqual(fieldAt(before, path), fieldAt(after, path)) {
				t.Fatalf("the probe leaves %s at %v", path, fieldAt(before, path))
			}
			if err := before.Validate(); err != nil {
				t.Fatalf("the answers before the change are invalid: %v", err)
			}
			if err := after.Validate(); (err != nil) != p.refused {
				t.Fatalf("%s = %v: validation says %v", path, fieldAt(after, path), err)
			}
			was, now := observe(t, root, files, before), observe(t, root, files, after)
			if p.refused {
				if now.exit[0] != ExitUsage {
					t.Errorf("%s = %v was not refused: %+v", path, fieldAt(after, path), now.exit)
				}
				return
			}
			if reflect.DeepEqual(was, now) {
				t.Errorf("changing %s from %v to %v changed nothing the commands produce", path, fieldAt(before, path), fieldAt(after, path))
			}
		})
	}
}

// answerFields lists every leaf of the answers schema by its dotted YAML
// path ("network.dmz.subnet"), through reflection: a new field is listed
// the moment it exists.
func answerFields(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct {
			out = append(out, answerFields(f.Type, prefix+name+".")...)
			continue
		}
		out = append(out, prefix+name)
	}
	return out
}

// fieldAt returns the value at a dotted YAML path.
func fieldAt(a answers.Answers, path string) any {
	v := reflect.ValueOf(a)
	for _, part := range strings.Split(path, ".") {
		for i := 0; i < v.NumField(); i++ {
			if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); name == part {
				v = v.Field(i)
				break
			}
		}
	}
	return v.Interface()
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// observation is what the commands produced from one answers file.
type observation struct {
	exit     [2]int            // render, certs generate
	rendered map[string]string // rendered file -> SHA-256
	pkiDir   string            // where certs generate wrote, relative to the test's root
	certs    map[string]string // certificate file -> what it holds
}

// observe runs `render` and `certs generate` on the answers and records
// what they produced, then removes it so the next run starts afresh.
// Certificates issued here differ from run to run (keys, serials), so what
// is recorded of them is their subject, issuer and names, and whether a
// certificate or key is the operator's own.
func observe(t *testing.T, root string, files importFiles, a answers.Answers) observation {
	t.Helper()
	data, err := yaml.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "answers.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "rendered")
	defer os.RemoveAll(out)
	defer os.RemoveAll(a.InstallDir)
	var o observation
	r := run(t, "", "render", "--answers", file, "--out", out)
	o.exit[0] = r.code
	o.rendered = map[string]string{}
	_ = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			sum := sha256.Sum256(b)
			rel, _ := filepath.Rel(out, p)
			o.rendered[rel] = hex.EncodeToString(sum[:])
		}
		return nil
	})
	if r.code != 0 {
		return o
	}
	r = run(t, "", "certs", "generate", "--answers", file)
	o.exit[1] = r.code
	if r.code != 0 {
		t.Fatalf("certs generate: exit %d\n%s%s", r.code, r.out, r.err)
	}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "ca.crt" {
			o.pkiDir, _ = filepath.Rel(root, filepath.Dir(p))
		}
		return nil
	})
	o.certs = map[string]string{}
	entries, _ := os.ReadDir(filepath.Join(root, o.pkiDir))
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(root, o.pkiDir, e.Name()))
		o.certs[e.Name()] = files.describe(b)
	}
	if a.Kubernetes != nil {
		// After certs generate: the manifests carry the installation's CA.
		kubeOut := filepath.Join(root, "manifests")
		defer os.RemoveAll(kubeOut)
		if r := run(t, "", "render", "--target", "kubernetes", "--answers", file, "--out", kubeOut); r.code != 0 {
			t.Fatalf("render --target kubernetes: exit %d\n%s%s", r.code, r.out, r.err)
		}
		_ = filepath.WalkDir(kubeOut, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				b, _ := os.ReadFile(p)
				sum := sha256.Sum256(b)
				rel, _ := filepath.Rel(kubeOut, p)
				o.rendered["kubernetes/"+rel] = hex.EncodeToString(sum[:])
			}
			return nil
		})
	}
	return o
}

// importFiles is operator material for the probes: a CA, and a gateway
// certificate chain it signed.
type importFiles struct {
	caCert, caKey, gwChain, gwKey string
	known                         map[string]string // SHA-256 of a certificate or public key -> its name
}

// describe says what a PEM file of the pki directory holds.
func (f importFiles) describe(data []byte) string {
	var parts []string
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				parts = append(parts, "bad certificate")
				continue
			}
			sum := sha256.Sum256(c.Raw)
			desc := fmt.Sprintf("cert subject=%s issuer=%s dns=%v ip=%v", c.Subject, c.Issuer, c.DNSNames, c.IPAddresses)
			if name, ok := f.known[hex.EncodeToString(sum[:])]; ok {
				desc += " operator's " + name
			}
			parts = append(parts, desc)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				parts = append(parts, "bad key")
				continue
			}
			pub, _ := x509.MarshalPKIXPublicKey(k.(crypto.Signer).Public())
			sum := sha256.Sum256(pub)
			desc := fmt.Sprintf("key %T", k)
			if name, ok := f.known[hex.EncodeToString(sum[:])]; ok {
				desc += " operator's " + name
			}
			parts = append(parts, desc)
		default:
			parts = append(parts, b.Type)
		}
	}
	if len(parts) == 0 {
		sum := sha256.Sum256(data) // a trust store or other binary file
		return fmt.Sprintf("%d bytes, %s", len(data), hex.EncodeToString(sum[:4]))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// writeImportFiles makes a CA and a gateway chain for host under dir.
func writeImportFiles(t *testing.T, dir, host string) importFiles {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f := importFiles{known: map[string]string{}}
	write := func(name string, blocks ...*pem.Block) string {
		var b bytes.Buffer
		for _, bl := range blocks {
			_ = pem.Encode(&b, bl)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	issue := func(tmpl, parent *x509.Certificate, signer *ecdsa.PrivateKey, name string) (*x509.Certificate, *ecdsa.PrivateKey, *pem.Block, *pem.Block) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if parent == nil {
			parent, signer = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
		sum := sha256.Sum256(der)
		f.known[hex.EncodeToString(sum[:])] = name + " certificate"
		pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		sum = sha256.Sum256(pub)
		f.known[hex.EncodeToString(sum[:])] = name + " key"
		return c, key, &pem.Block{Type: "CERTIFICATE", Bytes: der}, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}
	}
	now := time.Now()
	ca, caKey, caPEM, caKeyPEM := issue(&x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Probe Bank CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(3 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil, "CA")
	_, _, gwPEM, gwKeyPEM := issue(&x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(300 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, caKey, "gateway")
	f.caCert, f.caKey = write("ca.pem", caPEM), write("ca.key", caKeyPEM)
	f.gwChain, f.gwKey = write("gateway.pem", gwPEM), write("gateway.key", gwKeyPEM)
	return f
}

// checkE2EEvidence requires the named end-to-end test to exist and to set
// or check the field where it says.
func checkE2EEvidence(t *testing.T, path string, ev e2eEvidence) {
	t.Helper()
	if ev.why == "" {
		t.Errorf("%s: say why only a running system shows it", path)
	}
	names, err := filepath.Glob(filepath.Join("..", "..", "lab", "e2e", "*_test.go"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no end-to-end tests found: %v", err)
	}
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Name.Name != ev.test {
				continue
			}
			body := string(src[fset.Position(fn.Body.Pos()).Offset:fset.Position(fn.Body.End()).Offset])
			if !strings.Contains(body, ev.mentions) {
				t.Errorf("%s: %s does not hold %q, so it does not show the field's effect", path, ev.test, ev.mentions)
			}
			return
		}
	}
	t.Errorf("%s: no end-to-end test %s in lab/e2e", path, ev.test)
}
