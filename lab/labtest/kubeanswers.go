package labtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// KubernetesAnswers are the profile's default answers with a
// kubernetes block laid out in namespace ns, installed in installDir (an
// installation directory: marked), whose installation CA (written to its
// pki/ca.crt, without its key) signs Vault.
func KubernetesAnswers(t testing.TB, profile answers.Profile, installDir, ns string) answers.Answers {
	t.Helper()
	a := answers.Defaults(profile)
	a.Host.Hostname = "bank.example.test"
	a.InstallDir = installDir
	if err := installdir.Mark(installDir); err != nil {
		t.Fatal(err)
	}
	pki := installation.New(installDir, "").PKIDir()
	if err := os.MkdirAll(pki, 0o755); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "installer-ca"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pki, "ca.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	a.Kubernetes = &answers.Kubernetes{Namespace: ns, Vault: answers.KubernetesVault{Address: "https://10.20.0.5:8200"}}
	return a
}
