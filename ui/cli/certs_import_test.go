package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/pki"
)

// Import files that do not fit are refused by `certs generate` with exit 2,
// naming the file and the problem, before anything is written; the ones
// that fit are put in place and listed as the operator's.
func TestCertsGenerateImportsOrRefusesBeforeWriting(t *testing.T) {
	root := t.TempDir()
	files := writeImportFiles(t, filepath.Join(root, "bank"), "fineract.local")
	other := writeImportFiles(t, filepath.Join(root, "other"), "elsewhere.example.org")
	dir := filepath.Join(root, "stack")
	answersFile := func(c answers.Certificates) string {
		a := answers.Defaults(answers.Production)
		a.InstallDir, a.Certificates = dir, c
		data, err := yaml.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, "answers.yaml")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := answers.Certificates{Source: answers.CertImport, CACert: files.caCert, CAKey: files.caKey, GatewayChain: files.gwChain, GatewayKey: files.gwKey}
	for _, c := range []struct {
		name  string
		edit  func(*answers.Certificates)
		wants []string
	}{
		{"key of another CA", func(c *answers.Certificates) { c.CAKey = other.caKey },
			[]string{"import the CA from " + files.caCert + " and " + other.caKey + ": the private key (ECDSA P-256) does not match the CA certificate CN=Probe Bank CA"}},
		{"missing file", func(c *answers.Certificates) { c.CACert = filepath.Join(root, "nowhere.pem") },
			[]string{"the certificate file " + filepath.Join(root, "nowhere.pem") + " cannot be read: no such file or directory"}},
		{"gateway certificate for another name", func(c *answers.Certificates) { c.GatewayChain, c.GatewayKey = other.gwChain, other.gwKey },
			[]string{"import the gateway certificate from " + other.gwChain, "does not cover fineract.local"}},
		{"both at once", func(c *answers.Certificates) {
			c.CAKey, c.GatewayChain, c.GatewayKey = other.caKey, other.gwChain, other.gwKey
		},
			[]string{"does not match the CA certificate", "does not cover fineract.local"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			certs := good
			c.edit(&certs)
			r := run(t, "", "certs", "generate", "--answers", answersFile(certs))
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d\n%s%s", r.code, ExitUsage, r.out, r.err)
			}
			for _, w := range append(c.wants, "nothing was changed") {
				if !strings.Contains(r.err, w) {
					t.Errorf("the error does not say %q:\n%s", w, r.err)
				}
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("a refused import wrote the install dir: %v", err)
			}
		})
	}

	if r := run(t, "", "certs", "generate", "--answers", answersFile(good)); r.code != 0 {
		t.Fatalf("certs generate with good imports: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r := run(t, "", "certs", "show", "--dir", dir, "-o", "json")
	var inv pki.Inventory
	if err := json.Unmarshal([]byte(r.out), &inv); err != nil || r.code != 0 {
		t.Fatalf("certs show: exit %d %v\n%s%s", r.code, err, r.out, r.err)
	}
	for _, c := range inv.Certificates {
		if c.Name == "ca" && (!c.Imported || c.Subject != "CN=Probe Bank CA") {
			t.Errorf("the CA is not listed as the operator's: %+v", c)
		}
		if c.Issuer != "CN=Probe Bank CA" {
			t.Errorf("%s was not issued by the imported CA: issuer %s", c.Name, c.Issuer)
		}
	}
}

// --chain and --key go together and renew the gateway only; both are
// refused before the installation is even looked at.
func TestCertsRotateChainFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"certs", "rotate", "gateway", "--chain", "new.pem"}, "--chain and --key go together"},
		{[]string{"certs", "rotate", "postgres", "--chain", "new.pem", "--key", "new.key"}, "--chain and --key swap in the gateway's certificate"},
		{[]string{"certs", "rotate", "--chain", "new.pem", "--key", "new.key"}, "--chain and --key swap in the gateway's certificate"},
	} {
		r := run(t, "", append(c.args, "--dir", t.TempDir())...)
		if r.code != ExitUsage || !strings.Contains(r.err, c.want) {
			t.Errorf("%v: exit %d %q, want exit 2 and %q", c.args, r.code, r.err, c.want)
		}
	}
}
