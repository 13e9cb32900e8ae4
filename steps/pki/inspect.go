package pki

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
)

// Inventory lists the certificates in a Store's directory, for
// `certs show`. It serialises to JSON as it is.
type Inventory struct {
	Dir          string     `json:"dir"`
	Certificates []CertInfo `json:"certificates"`
}

// CertInfo describes one certificate file and its key file.
type CertInfo struct {
	// Name is the file base name ("ca" for the CA).
	Name        string   `json:"name"`
	File        string   `json:"file"`
	Subject     string   `json:"subject"`
	Issuer      string   `json:"issuer"`
	Serial      string   `json:"serial"`
	IsCA        bool     `json:"is_ca"`
	Usage       string   `json:"usage"`
	DNSNames    []string `json:"dns_names,omitempty"`
	IPAddresses []string `json:"ip_addresses,omitempty"`
	// PermittedNames are a CA's name constraints; empty means unconstrained.
	PermittedNames []string  `json:"permitted_names,omitempty"`
	KeyAlgorithm   string    `json:"key_algorithm"`
	NotBefore      time.Time `json:"not_before"`
	NotAfter       time.Time `json:"not_after"`
	DaysLeft       int       `json:"days_left"`
	// SHA256 is the certificate's fingerprint, as browsers show it.
	SHA256 string `json:"sha256"`
	// ChainLength counts the certificates in the file (leaf plus chain).
	ChainLength int `json:"chain_length"`
	// Key is the matching key file; nil when there is none.
	Key *KeyFileInfo `json:"key,omitempty"`
	// Imported says the operator brought the certificate: a CA this
	// installer did not generate, or a leaf ca.crt did not sign (a public
	// gateway certificate). Only the operator's CA can renew it.
	Imported bool `json:"imported"`
	// Problems are what a person should look at: expiry, a key that does
	// not match, a key readable by others, a certificate the CA did not sign.
	Problems []string `json:"problems,omitempty"`
	// Warnings need a person soon but break nothing yet: an imported
	// certificate within RenewImportedBefore of its end.
	Warnings []string `json:"warnings,omitempty"`
}

// KeyFileInfo describes a private key file without revealing the key.
type KeyFileInfo struct {
	File               string `json:"file"`
	Mode               string `json:"mode"`
	UID                int    `json:"uid"`
	GID                int    `json:"gid"`
	MatchesCertificate bool   `json:"matches_certificate"`
}

// Inspect lists every certificate in the directory, the CA first, then by
// name. A file that cannot be read or parsed appears with a problem rather
// than failing the whole listing.
func (s *Store) Inspect(ctx context.Context) (Inventory, error) {
	inv := Inventory{Dir: s.Dir, Certificates: []CertInfo{}}
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return inv, fmt.Errorf("list certificates in %s: %w", s.Dir, err)
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".crt") && !strings.HasPrefix(n, ".") && e.Type().IsRegular() {
			names = append(names, strings.TrimSuffix(n, ".crt"))
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == caBase:
			return -1
		case b == caBase:
			return 1
		}
		return strings.Compare(a, b)
	})
	now := s.now()
	var ca *x509.Certificate
	var caGenerated bool
	caPool := x509.NewCertPool()
	if data, ok, _ := readOptional(s.path(caBase + ".crt")); ok {
		if certs, err := parseCertsPEM(data, "ca.crt"); err == nil {
			ca = certs[0]
			caGenerated = (&authority{cert: ca}).generated()
			for _, c := range certs {
				caPool.AddCert(c)
			}
		}
	}
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return inv, err
		}
		inv.Certificates = append(inv.Certificates, s.inspectOne(n, now, ca, caGenerated, caPool))
	}
	return inv, nil
}

func (s *Store) inspectOne(name string, now time.Time, ca *x509.Certificate, caGenerated bool, caPool *x509.CertPool) CertInfo {
	info := CertInfo{Name: name, File: name + ".crt"}
	data, err := os.ReadFile(s.path(info.File))
	if err != nil {
		info.Problems = append(info.Problems, fmt.Sprintf("cannot read: %v", err))
		return info
	}
	certs, err := parseCertsPEM(data, info.File)
	if err != nil {
		info.Problems = append(info.Problems, err.Error())
		return info
	}
	c := certs[0]
	info.Subject, info.Issuer = c.Subject.String(), c.Issuer.String()
	info.Serial = fmt.Sprintf("%X", c.SerialNumber)
	info.IsCA = c.IsCA
	info.Usage = usageOf(c).String()
	if c.IsCA {
		info.Usage = "ca"
		info.PermittedNames = constraintsOf(c).permittedList()
	}
	info.DNSNames = c.DNSNames
	for _, ip := range c.IPAddresses {
		info.IPAddresses = append(info.IPAddresses, ip.String())
	}
	info.KeyAlgorithm = describeKey(c.PublicKey)
	info.NotBefore, info.NotAfter = c.NotBefore, c.NotAfter
	info.DaysLeft = daysLeft(c.NotAfter, now)
	info.SHA256 = fingerprint(c)
	info.ChainLength = len(certs)

	switch left := c.NotAfter.Sub(now); {
	case now.Before(c.NotBefore):
		info.Problems = append(info.Problems, "not valid before "+formatTime(c.NotBefore))
	case left <= 0:
		info.Problems = append(info.Problems, fmt.Sprintf("expired %d days ago", -info.DaysLeft))
	case left < RenewBefore:
		info.Problems = append(info.Problems, fmt.Sprintf("expires in %d days", info.DaysLeft))
	}
	if name == caBase {
		info.Imported = !caGenerated
	} else {
		// A leaf is the installer's when the CA in ca.crt signed it.
		info.Imported = ca == nil || c.CheckSignatureFrom(ca) != nil
	}
	if left := c.NotAfter.Sub(now); info.Imported && left >= RenewBefore && left < RenewImportedBefore {
		info.Warnings = append(info.Warnings, fmt.Sprintf("the imported certificate expires in %d days (%s); only its CA can renew it", info.DaysLeft, formatTime(c.NotAfter)))
	}
	if name != caBase {
		if p := s.trustProblem(certs, ca, caPool, now); p != "" {
			info.Problems = append(info.Problems, p)
		}
	}
	info.Key, info.Problems = s.inspectKey(name, c, info.Problems)
	return info
}

// trustProblem says why a leaf verifies neither against ca.crt nor, as an
// imported certificate, against the trusted roots; "" when it verifies.
func (s *Store) trustProblem(certs []*x509.Certificate, ca *x509.Certificate, caPool *x509.CertPool, now time.Time) string {
	opts := x509.VerifyOptions{Roots: caPool, Intermediates: x509.NewCertPool(), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, caErr := certs[0].Verify(opts)
	if caErr == nil {
		return ""
	}
	opts.Roots = s.Roots
	if _, err := certs[0].Verify(opts); err == nil {
		return ""
	}
	if ca == nil {
		return "there is no readable ca.crt to verify it against"
	}
	return fmt.Sprintf("does not verify against ca.crt (%s): %v", certName(ca), caErr)
}

func (s *Store) inspectKey(name string, c *x509.Certificate, problems []string) (*KeyFileInfo, []string) {
	file := name + ".key"
	fi, err := os.Lstat(s.path(file))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, append(problems, file+" is missing")
	}
	if err != nil {
		return nil, append(problems, fmt.Sprintf("cannot inspect %s: %v", file, err))
	}
	k := &KeyFileInfo{File: file, Mode: fmt.Sprintf("%04o", fi.Mode().Perm())}
	k.UID, k.GID = ownerOf(fi)
	if fi.Mode().Perm()&0o007 != 0 {
		problems = append(problems, fmt.Sprintf("%s is accessible to every user (mode %s)", file, k.Mode))
	}
	data, err := os.ReadFile(s.path(file))
	if err != nil {
		return k, append(problems, fmt.Sprintf("cannot read %s: %v", file, err))
	}
	key, err := parseKeyPEM(data, file)
	if err != nil {
		return k, append(problems, err.Error())
	}
	k.MatchesCertificate = keyMatches(key, c)
	if !k.MatchesCertificate {
		problems = append(problems, file+" does not match the certificate")
	}
	return k, problems
}
