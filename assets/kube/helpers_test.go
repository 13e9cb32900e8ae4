package kube

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// combo is one rendering case: the optional groups and a profile.
type combo struct {
	groups  []string
	profile answers.Profile
}

func (c combo) String() string {
	return fmt.Sprintf("%s/%s", c.profile, strings.Join(append([]string{"core"}, c.groups...), "+"))
}

// allCombos is every subset of the optional groups under both profiles.
func allCombos() []combo {
	optional := answers.Groups[1:]
	var out []combo
	for _, p := range []answers.Profile{answers.Production, answers.Demo} {
		for mask := 0; mask < 1<<len(optional); mask++ {
			var gs []string
			for i, g := range optional {
				if mask&(1<<i) != 0 {
					gs = append(gs, g)
				}
			}
			out = append(out, combo{groups: gs, profile: p})
		}
	}
	return out
}

// writeCA writes a self-signed CA certificate (public part only) to dir.
func writeCA(t testing.TB, dir, name string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testAnswers are a combination's answers with an installation whose
// pki/ca.crt signs Vault.
func testAnswers(t testing.TB, c combo) answers.Answers {
	t.Helper()
	a := answers.Defaults(c.profile)
	a.Groups = append([]string{answers.GroupCore}, c.groups...)
	a.Host.Hostname = "bank.example.test"
	a.InstallDir = t.TempDir()
	if err := os.MkdirAll(filepath.Join(a.InstallDir, "pki"), 0o755); err != nil {
		t.Fatal(err)
	}
	ca := writeCA(t, filepath.Join(a.InstallDir, "pki"), "installer-ca")
	if err := os.Rename(ca, filepath.Join(a.InstallDir, "pki", "ca.crt")); err != nil {
		t.Fatal(err)
	}
	a.Kubernetes = &answers.Kubernetes{Vault: answers.KubernetesVault{Address: "https://10.20.0.5:8200"}}
	return a
}

var testOptions = assets.Options{Project: "fineract", SecretsDir: "/run/fineract-stack/fineract/secrets"}

func render(t testing.TB, a answers.Answers) Manifests {
	t.Helper()
	m, err := Render(a, testOptions)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return m
}
