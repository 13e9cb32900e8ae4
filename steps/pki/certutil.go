package pki

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// serialLimit bounds serial numbers to 128 random bits.
var serialLimit = new(big.Int).Lsh(big.NewInt(1), 128)

func randomSerial() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, serialLimit)
		if err != nil {
			return nil, fmt.Errorf("draw serial number: %w", err)
		}
		if n.Sign() > 0 { // RFC 5280: serials are positive
			return n, nil
		}
	}
}

// certName names a certificate in messages: its CN, or the full subject.
func certName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return "CN=" + c.Subject.CommonName
	}
	return c.Subject.String()
}

// selfSigned reports whether c is signed by its own key. CheckSignature
// rather than CheckSignatureFrom, so a self-signed leaf counts too.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// fingerprint is the SHA-256 of the DER certificate, as browsers and
// `openssl x509 -fingerprint -sha256` show it.
func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// daysLeft counts whole days until t; negative once t has passed.
func daysLeft(t, now time.Time) int {
	d := t.Sub(now)
	if d < 0 {
		return -int((-d + 24*time.Hour - 1) / (24 * time.Hour))
	}
	return int(d / (24 * time.Hour))
}

// sansOf lists a certificate's DNS and IP subject alternative names.
func sansOf(c *x509.Certificate) []string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

// checkValidity refuses a certificate outside its validity period. role
// says what it is for ("CA certificate", "server certificate").
func checkValidity(c *x509.Certificate, now time.Time, role string) error {
	if now.Before(c.NotBefore) {
		return invalid(ErrNotYetValid,
			fmt.Sprintf("the %s %s is not valid before %s (it is now %s)", role, certName(c), formatTime(c.NotBefore), formatTime(now)),
			"check the host clock, or use a certificate that is already valid")
	}
	if now.After(c.NotAfter) {
		return invalid(ErrExpired,
			fmt.Sprintf("the %s %s expired on %s (valid from %s; it is now %s)", role, certName(c), formatTime(c.NotAfter), formatTime(c.NotBefore), formatTime(now)),
			"renew it and import the new one")
	}
	return nil
}
