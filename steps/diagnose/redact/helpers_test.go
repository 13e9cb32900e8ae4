package redact

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// Canary secrets, as the installer would generate them.
const (
	dbPassword  = "Vq7#mZ2$kLp9!xR4"
	vaultSecret = "f3b9c1d2-8e4a-4b6f-9c0d-1a2b3c4d5e6f"
	apiKey      = "AKIA5QX3EXAMPLEKEY77"
)

func newRedactor(t testing.TB, values ...string) *Redactor {
	t.Helper()
	known := make([][]byte, len(values))
	for i, v := range values {
		known[i] = []byte(v)
	}
	r, err := New(known, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// stream writes input in the given pieces through a Writer.
func stream(t testing.TB, r *Redactor, pieces ...[]byte) ([]byte, Counts) {
	t.Helper()
	var out bytes.Buffer
	w := r.NewWriter(&out)
	for _, p := range pieces {
		if n, err := w.Write(p); err != nil || n != len(p) {
			t.Fatalf("write: %d, %v", n, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), w.Counts()
}

func mustNotContain(t *testing.T, out []byte, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(out, []byte(s)) {
			t.Fatalf("output still contains %q:\n%s", s, out)
		}
	}
}

// testKeyPEM returns a real PKCS#8 EC private key and a self-signed
// certificate for it, in PEM.
func testKeyPEM(t testing.TB) (key, cert string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fineract"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	c, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c}))
}

func pemBlock(kind string, headers string) string {
	body := strings.Repeat("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n", 5)
	return "-----BEGIN " + kind + "-----\n" + headers + body + "-----END " + kind + "-----\n"
}

// kibanaKey is a Kibana encryption key as the installer generates it.
const kibanaKey = "q9Wm2ZxR7vTa4LpYc8NbE3sKdG6hJuF1oXiV5eQyBtMwSzAr"

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
