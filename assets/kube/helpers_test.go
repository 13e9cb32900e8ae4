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
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

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

// workload is one rendered pod template with where it runs.
type workload struct {
	kind, namespace, name string
	template              corev1.PodTemplateSpec
	replicas              int32
}

func workloads(t testing.TB, m Manifests) []workload {
	t.Helper()
	var out []workload
	for _, u := range m.Objects {
		w := workload{kind: u.GetKind(), namespace: u.GetNamespace(), name: u.GetName(), replicas: 1}
		var err error
		switch u.GetKind() {
		case "Deployment":
			var d appsv1.Deployment
			err = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d)
			w.template, w.replicas = d.Spec.Template, *d.Spec.Replicas
		case "StatefulSet":
			var s appsv1.StatefulSet
			err = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &s)
			w.template, w.replicas = s.Spec.Template, *s.Spec.Replicas
		case "DaemonSet":
			var s appsv1.DaemonSet
			err = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &s)
			w.template = s.Spec.Template
		default:
			continue
		}
		if err != nil {
			t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
		}
		out = append(out, w)
	}
	return out
}

func (w workload) service() string { return w.template.Labels[LabelName] }

func object(m Manifests, kind, namespace, name string) *unstructured.Unstructured {
	for _, u := range m.Objects {
		if u.GetKind() == kind && u.GetNamespace() == namespace && u.GetName() == name {
			return u
		}
	}
	return nil
}

func bundleFor(t testing.TB, a answers.Answers) assets.Bundle {
	t.Helper()
	a.Backup.WALArchiving = false
	b, err := assets.Render(a, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// comboRenders caches one rendering per combination (with its bundle):
// several tests read every combination, and rendering them once keeps the
// package's tests fast under -race.
var (
	comboMu     sync.Mutex
	comboRender = map[string]comboResult{}
	sharedDir   string
)

type comboResult struct {
	a answers.Answers
	b assets.Bundle
	m Manifests
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kube-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// renderedCombo is a combination's answers, bundle and manifests, with
// fineract.read_replicas 2 so the read instances are among them.
func renderedCombo(t *testing.T, c combo) (answers.Answers, assets.Bundle, Manifests) {
	t.Helper()
	comboMu.Lock()
	defer comboMu.Unlock()
	if r, ok := comboRender[c.String()]; ok {
		return r.a, r.b, r.m
	}
	a := answers.Defaults(c.profile)
	a.Groups = append([]string{answers.GroupCore}, c.groups...)
	a.Host.Hostname = "bank.example.test"
	a.InstallDir = filepath.Join(sharedDir, strings.ReplaceAll(c.String(), "/", "_"))
	pki := filepath.Join(a.InstallDir, "pki")
	if err := os.MkdirAll(pki, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(writeCA(t, pki, "installer-ca"), filepath.Join(pki, "ca.crt")); err != nil {
		t.Fatal(err)
	}
	a.Kubernetes = &answers.Kubernetes{Vault: answers.KubernetesVault{Address: "https://10.20.0.5:8200"},
		Fineract: answers.KubernetesFineract{ReadReplicas: 2}}
	r := comboResult{a: a, b: bundleFor(t, a), m: render(t, a)}
	comboRender[c.String()] = r
	return r.a, r.b, r.m
}
