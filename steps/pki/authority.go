package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Lifetimes of what this package issues.
const (
	// CALifetime is how long a generated CA is valid.
	CALifetime = 10 * 365 * 24 * time.Hour
	// LeafLifetime is how long a leaf certificate is valid: the CA/Browser
	// Forum's 398-day ceiling for public server certificates, less a day.
	LeafLifetime = 397 * 24 * time.Hour
	// RenewBefore is how close to its end a certificate is renewed.
	RenewBefore = 30 * 24 * time.Hour
	// RenewImportedBefore is how early a certificate the operator brings is
	// flagged as ending: renewing it takes the operator's CA, not a rerun.
	RenewImportedBefore = 60 * 24 * time.Hour
	// backdate starts validity a little in the past to absorb clock skew.
	backdate = 5 * time.Minute
)

// generatedOrg marks CAs this package generated, so it never re-certifies
// a CA an operator imported.
const generatedOrg = "fineract-installer"

// CAOptions shapes the CA.
type CAOptions struct {
	// CommonName of a CA generated from now on; empty means
	// "Fineract Stack CA <key id>". A re-certified CA keeps its subject.
	CommonName string
	// PermitDNS adds DNS subtrees to a generated CA's name constraints, beyond
	// localhost and the requested names. List every service name of every
	// service group, so enabling a group later leaves ca.crt alone, and a
	// domain (e.g. "example.org") if the hostname may move inside it.
	PermitDNS []string
	// PermitIPs adds IP ranges beyond loopback and the requested addresses.
	PermitIPs []netip.Prefix
	// Imported says the CA is the operator's: it signs leaves but is never
	// created, re-certified or replaced here. Without Import it must already
	// be in the directory.
	Imported bool
	// Import is the operator's CA to put in the directory (it implies
	// Imported): Plan validates it, checks that its name constraints permit
	// every requested name, and Ensure writes it as ca.crt and ca.key unless
	// they already hold it. The key is kept like a generated one: ca.key,
	// mode 0600, in the directory only.
	Import *Import
}

func (o CAOptions) normalize() (CAOptions, error) {
	out := o
	out.PermitDNS = nil
	for _, d := range o.PermitDNS {
		d = strings.ToLower(d)
		if err := checkDNSName(strings.TrimPrefix(d, ".")); err != nil {
			return CAOptions{}, fmt.Errorf("%w: CA option PermitDNS: %v", ErrInvalidRequest, err)
		}
		out.PermitDNS = append(out.PermitDNS, d)
	}
	out.Imported = o.Imported || o.Import != nil
	out.PermitIPs = nil
	for _, p := range o.PermitIPs {
		if !p.IsValid() {
			return CAOptions{}, fmt.Errorf("%w: CA option PermitIPs: %q is not an IP range", ErrInvalidRequest, p)
		}
		out.PermitIPs = append(out.PermitIPs, netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked())
	}
	return out, nil
}

// authority is a CA that can sign: its certificate, the certificates above
// it (for an imported intermediate, root last) and its key.
type authority struct {
	cert  *x509.Certificate
	chain []*x509.Certificate
	key   crypto.Signer
}

// generated reports whether this package made the CA.
func (a *authority) generated() bool {
	return selfSigned(a.cert) && slices.Contains(a.cert.Subject.Organization, generatedOrg)
}

// leafChain is what follows a leaf in its .crt file so servers send a full
// chain: nothing for a root CA, the CA and its intermediates otherwise.
func (a *authority) leafChain() []*x509.Certificate {
	if selfSigned(a.cert) {
		return nil
	}
	out := []*x509.Certificate{a.cert}
	for _, c := range a.chain {
		if !selfSigned(c) {
			out = append(out, c)
		}
	}
	return out
}

// bundlePEM is the content of ca.crt.
func (a *authority) bundlePEM() []byte {
	return encodeCertsPEM(append([]*x509.Certificate{a.cert}, a.chain...)...)
}

// newAuthority generates a CA key and a self-signed CA certificate.
func newAuthority(now time.Time, commonName string, nc nameConstraints) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, err
	}
	if commonName == "" {
		commonName = fmt.Sprintf("Fineract Stack CA %X", ski[:4])
	}
	subject := pkix.Name{CommonName: commonName, Organization: []string{generatedOrg}}
	return certifyAuthority(key, &x509.Certificate{Subject: subject}, now.Add(-backdate), now.Add(CALifetime), nc)
}

// recertify issues a new CA certificate for the same key, subject and end
// date with wider name constraints. Leaves signed by the key stay valid.
func recertify(old *authority, now time.Time, nc nameConstraints) (*authority, error) {
	return certifyAuthority(old.key, &x509.Certificate{RawSubject: old.cert.RawSubject}, now.Add(-backdate), old.cert.NotAfter, nc)
}

func certifyAuthority(key crypto.Signer, subject *x509.Certificate, notBefore, notAfter time.Time, nc nameConstraints) (*authority, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject.Subject,
		RawSubject:            subject.RawSubject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SubjectKeyId:          ski,
		// RFC 5280 requires name constraints to be critical.
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         nc.permittedDNS,
		PermittedIPRanges:           ipNetsOf(nc.permittedIPs),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("sign CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("read back CA certificate: %w", err)
	}
	return &authority{cert: cert, key: key}, nil
}

// ValidateCA checks a CA certificate and key an operator wants to import and
// returns the CA certificate. The certificate file may continue with the
// chain above the CA up to its root; an intermediate CA needs that chain.
// The errors are *ValidationError values naming the problem and the fix.
func ValidateCA(certPEM, keyPEM []byte, now time.Time) (*x509.Certificate, error) {
	a, err := parseAuthority(certPEM, keyPEM, now)
	if err != nil {
		return nil, err
	}
	return a.cert, nil
}

// parseAuthority reads and checks a CA: the one place that decides whether
// a CA is usable, for imports and for the CA already on disk.
func parseAuthority(certPEM, keyPEM []byte, now time.Time) (*authority, error) {
	certs, err := parseCertsPEM(certPEM, "CA certificate file")
	if err != nil {
		return nil, err
	}
	key, err := parseKeyPEM(keyPEM, "CA key file")
	if err != nil {
		return nil, err
	}
	ca := certs[0]
	if err := checkKeyMatch(key, certs, "CA certificate", "put the CA certificate first in the file"); err != nil {
		return nil, err
	}
	if err := checkKeyStrength(ca.PublicKey, "the CA certificate "+certName(ca)); err != nil {
		return nil, err
	}
	if !ca.BasicConstraintsValid || !ca.IsCA {
		return nil, invalid(ErrNotCA,
			fmt.Sprintf("%s is not a CA certificate (its basic constraints do not say CA:TRUE), so it cannot sign certificates", certName(ca)),
			"import the CA certificate itself, not a server or client certificate it issued")
	}
	if ca.KeyUsage != 0 && ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, invalid(ErrNoCertSign,
			fmt.Sprintf("the CA certificate %s has a key usage without keyCertSign (%s), so clients reject what it signs", certName(ca), describeKeyUsage(ca.KeyUsage)),
			"import a CA certificate whose key usage includes keyCertSign")
	}
	path, err := pathInFile(ca, certs[1:])
	if err != nil {
		return nil, err
	}
	for i, c := range path {
		role := "CA certificate"
		if i > 0 {
			role = "issuer certificate"
		}
		if err := checkValidity(c, now, role); err != nil {
			return nil, err
		}
		if left := c.NotAfter.Sub(now); left < RenewBefore {
			return nil, invalid(ErrExpiresSoon,
				fmt.Sprintf("the %s %s expires on %s, in %d days, within the %d-day renewal window", role, certName(c), formatTime(c.NotAfter), daysLeft(c.NotAfter, now), int(RenewBefore.Hours()/24)),
				"renew the CA and import the renewed one")
		}
	}
	top := path[len(path)-1]
	if !selfSigned(top) {
		return nil, invalid(ErrChainIncomplete,
			fmt.Sprintf("the CA certificate %s is an intermediate, and the file stops at %s, issued by %s, whose certificate is not in the file", certName(ca), certName(top), top.Issuer),
			"append the issuer certificates after the CA certificate, up to the self-signed root, so clients can build the chain")
	}
	if len(path) > 1 {
		if err := verifyPath(path, now, x509.ExtKeyUsageAny); err != nil {
			return nil, err
		}
	}
	return &authority{cert: ca, chain: path[1:], key: key}, nil
}

// checkKeyMatch refuses a key that is not the first certificate's, saying
// so precisely when it belongs to another certificate in the same file.
func checkKeyMatch(key crypto.Signer, certs []*x509.Certificate, role, reorder string) error {
	if keyMatches(key, certs[0]) {
		return nil
	}
	for i, c := range certs[1:] {
		if keyMatches(key, c) {
			return invalid(ErrKeyMismatch,
				fmt.Sprintf("the private key belongs to certificate #%d in the file (%s), not to the first one (%s)", i+2, certName(c), certName(certs[0])),
				reorder)
		}
	}
	return invalid(ErrKeyMismatch,
		fmt.Sprintf("the private key (%s) does not match the %s %s (%s key)", describeKey(key.Public()), role, certName(certs[0]), describeKey(certs[0].PublicKey)),
		"supply the key that was generated together with this certificate")
}

func describeKeyUsage(ku x509.KeyUsage) string {
	names := []struct {
		bit  x509.KeyUsage
		name string
	}{
		{x509.KeyUsageDigitalSignature, "digitalSignature"},
		{x509.KeyUsageContentCommitment, "contentCommitment"},
		{x509.KeyUsageKeyEncipherment, "keyEncipherment"},
		{x509.KeyUsageDataEncipherment, "dataEncipherment"},
		{x509.KeyUsageKeyAgreement, "keyAgreement"},
		{x509.KeyUsageCertSign, "keyCertSign"},
		{x509.KeyUsageCRLSign, "cRLSign"},
		{x509.KeyUsageEncipherOnly, "encipherOnly"},
		{x509.KeyUsageDecipherOnly, "decipherOnly"},
	}
	var out []string
	for _, n := range names {
		if ku&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return strings.Join(out, ", ")
}
