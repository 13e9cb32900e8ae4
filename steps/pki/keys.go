package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"strings"
)

// minRSABits is the shortest RSA key accepted from an operator.
const minRSABits = 2048

func generateKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case ECDSAP256, "":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	}
	return nil, fmt.Errorf("unknown key type %q", t)
}

// encodeKeyPEM writes PKCS#8, which OpenSSL, Postgres, Redis, nginx, Java
// (Kafka's PEM keystores) and Go all read.
func encodeKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func encodeCertsPEM(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		// Writing to a bytes.Buffer cannot fail.
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// parseCertsPEM reads every certificate in a PEM file, in file order. what
// names the file in messages ("CA certificate file").
func parseCertsPEM(data []byte, what string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	var other []string
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			other = append(other, block.Type)
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, invalid(ErrBadPEM,
				fmt.Sprintf("certificate #%d in the %s does not parse: %v", len(certs)+1, what, err),
				"export the certificate again as PEM")
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		problem := fmt.Sprintf("the %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", what)
		if len(other) > 0 {
			problem += fmt.Sprintf(", only %s", strings.Join(other, ", "))
		}
		return nil, invalid(ErrBadPEM, problem, "check that the certificate and key files are not swapped and that the file is PEM, not DER")
	}
	return certs, nil
}

// parseKeyPEM reads the first private key in a PEM file, in PKCS#8, SEC 1
// or PKCS#1 form. Other blocks (such as openssl's EC PARAMETERS) are skipped.
func parseKeyPEM(data []byte, what string) (crypto.Signer, error) {
	var other []string
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, invalid(ErrEncryptedKey,
				fmt.Sprintf("the %s is encrypted with a passphrase", what),
				"decrypt it first (openssl pkey -in key.pem -out plain.pem) and delete the plain copy after the import")
		}
		var key any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			other = append(other, block.Type)
			continue
		}
		if err != nil {
			return nil, invalid(ErrBadPEM, fmt.Sprintf("the %s does not parse: %v", what, err), "export the key again as unencrypted PEM")
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, invalid(ErrUnsupportedKey, fmt.Sprintf("the %s holds a %T, which cannot sign", what, key), "use an ECDSA P-256/P-384 or RSA 2048+ key")
		}
		return signer, nil
	}
	problem := fmt.Sprintf("the %s holds no PEM private key (-----BEGIN PRIVATE KEY-----)", what)
	if len(other) > 0 {
		problem += fmt.Sprintf(", only %s", strings.Join(other, ", "))
	}
	return nil, invalid(ErrBadPEM, problem, "check that the certificate and key files are not swapped")
}

// keyMatches reports whether key is the private half of cert's public key.
func keyMatches(key crypto.Signer, cert *x509.Certificate) bool {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}

// describeKey names a public key as people know it: "ECDSA P-256", "RSA 2048".
func describeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

// keyTypeOf maps a public key to the KeyType that would have produced it.
func keyTypeOf(pub crypto.PublicKey) KeyType {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return ECDSAP256
		}
	case *rsa.PublicKey:
		if k.N.BitLen() == 3072 {
			return RSA3072
		}
	}
	return KeyType(describeKey(pub))
}

// checkKeyStrength refuses keys that are weak or that browsers and the
// stack's clients do not accept. whose names the certificate in messages.
func checkKeyStrength(pub crypto.PublicKey, whose string) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < minRSABits {
			return invalid(ErrWeakKey,
				fmt.Sprintf("%s has an RSA %d key, which is too weak", whose, bits),
				"use a certificate with an RSA 2048 (or larger) or ECDSA P-256 key")
		}
		return nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384():
			return nil
		}
		return invalid(ErrUnsupportedKey,
			fmt.Sprintf("%s has an ECDSA key on curve %s, which browsers and TLS libraries do not all accept", whose, k.Curve.Params().Name),
			"use a certificate with an ECDSA P-256 or P-384 key, or RSA 2048+")
	}
	return invalid(ErrUnsupportedKey,
		fmt.Sprintf("%s has an %s key, which browsers and older Java clients do not accept", whose, describeKey(pub)),
		"use a certificate with an ECDSA P-256 or P-384 key, or RSA 2048+")
}

// subjectKeyID is the truncated SHA-256 of the public key bits (RFC 7093,
// method 1); leaves need it set explicitly, Go only fills it for CAs.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("decode public key: %w", err)
	}
	sum := sha256.Sum256(spki.PublicKey.Bytes)
	return sum[:20], nil
}
