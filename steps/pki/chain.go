package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ChainOptions says what a server certificate chain must satisfy.
type ChainOptions struct {
	// Names are the DNS names and IP addresses clients connect to; the
	// certificate must cover each of them.
	Names []string
	// Roots are the trusted roots; nil means the system trust store, as
	// for a certificate from a public CA.
	Roots *x509.CertPool
	// Now is the time to check validity at; zero means time.Now().
	Now time.Time
	// Trust names Roots in messages; empty means "the trusted roots given".
	Trust string
}

// ServerChain is a validated server certificate with its chain.
type ServerChain struct {
	// Certificates holds the server certificate first, then the
	// intermediates from the chain file that lead to its root, in issuing
	// order. A root in the file is left out: clients have it already.
	Certificates []*x509.Certificate
	// Warnings are problems that do not block use, such as an end date
	// within RenewImportedBefore.
	Warnings []string
	key      crypto.Signer
}

// ValidateServerChain checks a server certificate chain and key an operator
// brings (for the gateway, from a public CA). The chain file starts with the
// server certificate, followed by its intermediates. The errors are
// *ValidationError values naming the problem and the fix.
func ValidateServerChain(chainPEM, keyPEM []byte, opts ChainOptions) (*ServerChain, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	certs, err := parseCertsPEM(chainPEM, "certificate chain file")
	if err != nil {
		return nil, err
	}
	key, err := parseKeyPEM(keyPEM, "key file")
	if err != nil {
		return nil, err
	}
	if err := checkKeyMatch(key, certs, "server certificate",
		"put the server certificate first in the chain file, followed by the intermediates"); err != nil {
		return nil, err
	}
	leaf := certs[0]
	if err := checkKeyStrength(leaf.PublicKey, "the server certificate "+certName(leaf)); err != nil {
		return nil, err
	}
	if leaf.IsCA {
		return nil, invalid(ErrWrongUsage,
			fmt.Sprintf("the first certificate in the chain file, %s, is a CA certificate", certName(leaf)),
			"start the file with the server certificate, followed by the intermediates")
	}
	if len(leaf.ExtKeyUsage) > 0 && usageOf(leaf)&UsageServer == 0 {
		return nil, invalid(ErrWrongUsage,
			fmt.Sprintf("the certificate %s is not valid for TLS servers: its extended key usage allows only %s", certName(leaf), usageOf(leaf)),
			"request a certificate with the serverAuth extended key usage")
	}
	path, err := pathInFile(leaf, certs[1:])
	if err != nil {
		return nil, err
	}
	for i, c := range path {
		role := "server certificate"
		if i > 0 {
			role = "intermediate certificate"
			if selfSigned(c) {
				role = "root certificate"
			}
		}
		if err := checkValidity(c, now, role); err != nil {
			return nil, err
		}
	}
	for _, name := range opts.Names {
		if err := leaf.VerifyHostname(name); err != nil {
			return nil, notCovered(leaf, name)
		}
	}
	roots, trust := opts.Roots, "the trusted roots given"
	if opts.Trust != "" {
		trust = opts.Trust
	}
	if roots == nil {
		if roots, err = x509.SystemCertPool(); err != nil {
			return nil, fmt.Errorf("load the system trust store: %w", err)
		}
		trust = "the system trust store"
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err = leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		var unknown x509.UnknownAuthorityError
		if errors.As(err, &unknown) {
			return nil, unknownAuthority(path, trust)
		}
		return nil, classifyVerifyError(err)
	}
	// The chain is served as the operator's CA delivered it, in issuing
	// order; a root at its end is left out, as clients have it already.
	if top := path[len(path)-1]; len(path) > 1 && selfSigned(top) {
		path = path[:len(path)-1]
	}
	sc := &ServerChain{Certificates: path, key: key}
	if left := leaf.NotAfter.Sub(now); left < RenewImportedBefore {
		sc.Warnings = append(sc.Warnings, fmt.Sprintf("the server certificate %s expires on %s, in %d days; import a renewed certificate",
			certName(leaf), formatTime(leaf.NotAfter), daysLeft(leaf.NotAfter, now)))
	}
	return sc, nil
}

func notCovered(leaf *x509.Certificate, name string) error {
	sans := sansOf(leaf)
	listed := "it lists " + strings.Join(sans, ", ")
	if len(sans) == 0 {
		listed = fmt.Sprintf("it lists no subject alternative names, only the common name %q, which clients ignore", leaf.Subject.CommonName)
	}
	return invalid(ErrHostnameNotCovered,
		fmt.Sprintf("the server certificate %s does not cover %s; %s", certName(leaf), name, listed),
		fmt.Sprintf("request a certificate that lists %s as a subject alternative name, or change the hostname", name))
}

// unknownAuthority explains a chain that does not reach a trusted root:
// either it ends at a root nobody trusts, or an issuer is missing.
func unknownAuthority(path []*x509.Certificate, trust string) error {
	top := path[len(path)-1]
	if selfSigned(top) {
		what := "ends at the self-signed root " + certName(top)
		if len(path) == 1 {
			what = "is a self-signed certificate, " + certName(top)
		}
		return invalid(ErrUntrustedRoot,
			fmt.Sprintf("the chain is complete but %s, which is not in %s", what, trust),
			"use a certificate from a CA that clients trust, or import that root as the CA instead of a gateway certificate")
	}
	return invalid(ErrChainIncomplete,
		fmt.Sprintf("the chain stops at %s, issued by %s, whose certificate is neither in the chain file nor in %s", certName(top), top.Issuer, trust),
		fmt.Sprintf("append the intermediate certificate of %s after %s in the chain file (your CA provides it as the chain or bundle file)", top.Issuer, certName(top)))
}

// pathInFile follows issuers from start through others as far as the file
// allows, ending at a self-signed root or at the first missing issuer.
func pathInFile(start *x509.Certificate, others []*x509.Certificate) ([]*x509.Certificate, error) {
	path := []*x509.Certificate{start}
	used := make([]bool, len(others))
	for cur := start; !selfSigned(cur); {
		next, problem := -1, error(nil)
		for i, c := range others {
			if used[i] || !bytes.Equal(c.RawSubject, cur.RawIssuer) {
				continue
			}
			if !c.IsCA {
				problem = invalid(ErrNotCA,
					fmt.Sprintf("the issuer certificate %s in the file is not a CA certificate, so it cannot have signed %s", certName(c), certName(cur)),
					"use the chain your CA delivered with this certificate")
				continue
			}
			if err := cur.CheckSignatureFrom(c); err != nil {
				problem = invalid(ErrChainIncomplete,
					fmt.Sprintf("%s names %s as its issuer, but its signature does not verify with the %s certificate in the file (%v)", certName(cur), cur.Issuer, certName(c), err),
					"the file mixes certificates from different chains; use the chain your CA delivered with this certificate")
				continue
			}
			next = i
			break
		}
		if next < 0 {
			if problem != nil {
				return nil, problem
			}
			return path, nil
		}
		used[next] = true
		cur = others[next]
		path = append(path, cur)
	}
	return path, nil
}

// verifyPath runs x509.Verify over a path that ends at its root.
func verifyPath(path []*x509.Certificate, now time.Time, usage x509.ExtKeyUsage) error {
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(path[len(path)-1])
	for _, c := range path[1 : len(path)-1] {
		inter.AddCert(c)
	}
	_, err := path[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}})
	if err != nil {
		return classifyVerifyError(err)
	}
	return nil
}

// classifyVerifyError turns an x509.Verify error into a ValidationError.
func classifyVerifyError(err error) error {
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) {
		name := certName(inv.Cert)
		switch inv.Reason {
		case x509.NotAuthorizedToSign:
			return invalid(ErrNotCA, fmt.Sprintf("%s signs another certificate in the chain but is not a CA certificate", name),
				"use the chain your CA delivered with this certificate")
		case x509.Expired:
			return invalid(ErrExpired, fmt.Sprintf("%s is outside its validity period (%s to %s)", name, formatTime(inv.Cert.NotBefore), formatTime(inv.Cert.NotAfter)),
				"renew it and import the new one")
		case x509.CANotAuthorizedForThisName:
			return invalid(ErrNameNotPermitted, fmt.Sprintf("a CA's name constraints forbid a name in %s: %s", name, inv.Detail),
				"use names the CA permits, or a CA without those constraints")
		case x509.IncompatibleUsage:
			return invalid(ErrWrongUsage, fmt.Sprintf("the extended key usages along the chain of %s do not allow this use", name),
				"request a certificate whose chain allows TLS server authentication")
		}
	}
	return invalid(ErrChainIncomplete, fmt.Sprintf("the chain does not verify: %v", err), "use the full chain your CA delivered")
}
