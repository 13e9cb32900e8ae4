package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// issuerServer serves a JWKS over TLS, as Keycloak's certs endpoint does.
func issuerServer(t *testing.T, key *rsa.PublicKey, kid string) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]string{
			"kid": kid, "kty": "RSA", "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sign(t *testing.T, key *rsa.PrivateKey, kid, payload string) string {
	t.Helper()
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT","kid":"` + kid + `"}`))
	in := h + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestVerifierChecksSignatureIssuerExpiryAndClaims(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv := issuerServer(t, &key.PublicKey, "k1")
	const iss = "https://bank.example.test/auth/realms/fineract"
	v := &verifier{set: oauthSettings{IssuerURI: iss, JWKSetURI: srv.URL}, client: srv.Client()}
	exp := time.Now().Add(5 * time.Minute).Unix()
	claims := func(extra string) string {
		return `{"iss":"` + iss + `","sub":"mifos","exp":` + jsonInt(exp) + `,"scope":"openid profile"` + extra + `}`
	}

	c, err := v.verify(context.Background(), sign(t, key, "k1", claims("")))
	if err != nil || c.Subject != "mifos" || c.Scope != "openid profile" {
		t.Fatalf("a good token: %+v, %v", c, err)
	}
	// The key download verifies TLS: an issuer whose certificate the trust
	// store does not hold gives no keys.
	untrusted := &verifier{set: v.set, client: &http.Client{}}
	if _, err := untrusted.verify(context.Background(), sign(t, key, "k1", claims(""))); err == nil {
		t.Error("keys fetched from an untrusted TLS server were used")
	}
	for name, tok := range map[string]string{
		"another issuer":   sign(t, key, "k1", strings.Replace(claims(""), iss, "https://sso.example.test/auth/realms/fineract", 1)),
		"another key":      sign(t, other, "k1", claims("")),
		"unknown key id":   sign(t, key, "k2", claims("")),
		"expired":          sign(t, key, "k1", strings.Replace(claims(""), jsonInt(exp), jsonInt(time.Now().Add(-2*time.Minute).Unix()), 1)),
		"sub twice":        sign(t, key, "k1", claims(`,"sub":"9f1c2d"`)),
		"not a JWS":        "abc.def",
		"tampered payload": tamper(sign(t, key, "k1", claims(""))),
	} {
		if _, err := v.verify(context.Background(), tok); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func tamper(tok string) string {
	p := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(p[1])
	p[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "mifos", "admin", 1)))
	return strings.Join(p, ".")
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestJavaSystemPropertyReadsToolOptions(t *testing.T) {
	opts := "-XX:MaxRAMPercentage=60 -Djavax.net.ssl.trustStore=/etc/fineract/tls/ca-truststore.p12 -Djavax.net.ssl.trustStoreType=PKCS12"
	if v, ok := javaSystemProperty(opts, "javax.net.ssl.trustStore"); !ok || v != "/etc/fineract/tls/ca-truststore.p12" {
		t.Errorf("trustStore = %q, %v", v, ok)
	}
	if _, ok := javaSystemProperty(opts, "javax.net.ssl.trustStorePassword"); ok {
		t.Error("found a password that is not there")
	}
}
