package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"time"
)

// issued is a freshly signed leaf with its key.
type issued struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// issueLeaf generates a key and signs a certificate for r, valid from now
// for LeafLifetime but never beyond the CA's own end.
func issueLeaf(ca *authority, r Request, now time.Time) (*issued, error) {
	key, err := generateKey(r.KeyType)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, err
	}
	ku := x509.KeyUsageDigitalSignature
	if _, ok := key.(*rsa.PrivateKey); ok {
		ku |= x509.KeyUsageKeyEncipherment // TLS 1.2 RSA key exchange
	}
	ips := make([]net.IP, 0, len(r.IPs))
	for _, ip := range r.IPs {
		ips = append(ips, net.IP(ip.AsSlice()))
	}
	notAfter := now.Add(LeafLifetime)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: r.CommonName},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              ku,
		ExtKeyUsage:           r.Usage.extKeyUsages(),
		BasicConstraintsValid: true,
		DNSNames:              r.DNSNames,
		IPAddresses:           ips,
		SubjectKeyId:          ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("read back: %w", err)
	}
	// Never write a certificate that its own clients would refuse.
	if err := verifyLeaf(cert, ca, now); err != nil {
		return nil, fmt.Errorf("self-check: %w", err)
	}
	return &issued{cert: cert, key: key}, nil
}

// verifyLeaf checks a leaf against the CA the way TLS clients do: signature,
// validity and name constraints (usage is compared separately).
func verifyLeaf(leaf *x509.Certificate, ca *authority, now time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	return err
}
