package pki

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// Usage says what a certificate's key may do in TLS. Combine with |.
type Usage uint8

const (
	// UsageServer lets the certificate identify a TLS server (serverAuth).
	UsageServer Usage = 1 << iota
	// UsageClient lets the certificate authenticate a TLS client (clientAuth).
	UsageClient
)

func (u Usage) String() string {
	switch u {
	case UsageServer:
		return "server"
	case UsageClient:
		return "client"
	case UsageServer | UsageClient:
		return "server+client"
	case 0:
		return "none"
	}
	return fmt.Sprintf("usage(%d)", uint8(u))
}

func (u Usage) extKeyUsages() []x509.ExtKeyUsage {
	var out []x509.ExtKeyUsage
	if u&UsageServer != 0 {
		out = append(out, x509.ExtKeyUsageServerAuth)
	}
	if u&UsageClient != 0 {
		out = append(out, x509.ExtKeyUsageClientAuth)
	}
	return out
}

// usageOf reads the TLS usage from a certificate's extended key usage.
func usageOf(cert *x509.Certificate) Usage {
	var u Usage
	for _, e := range cert.ExtKeyUsage {
		switch e {
		case x509.ExtKeyUsageServerAuth:
			u |= UsageServer
		case x509.ExtKeyUsageClientAuth:
			u |= UsageClient
		case x509.ExtKeyUsageAny:
			u |= UsageServer | UsageClient
		}
	}
	return u
}

// KeyType selects the key algorithm of a leaf certificate.
type KeyType string

const (
	// ECDSAP256 is the default: small, fast, and accepted by every client in the stack.
	ECDSAP256 KeyType = "ecdsa-p256"
	// RSA3072 is for clients that cannot use ECDSA keys (old Java keystores, old JDBC drivers).
	RSA3072 KeyType = "rsa-3072"
)

// Request describes one leaf certificate. The caller derives requests from
// the services it deploys; this package does not know the services.
type Request struct {
	// Name is the file base name: <Name>.crt and <Name>.key. Lower-case
	// letters, digits, '.', '_' and '-'; "ca" is reserved.
	Name string
	// CommonName is the subject CN; empty means Name. TLS clients ignore it
	// for host names, but Postgres maps a client certificate's CN to a user.
	CommonName string
	// DNSNames and IPs become the subject alternative names, exactly.
	DNSNames []string
	IPs      []netip.Addr
	// Usage is UsageServer, UsageClient or both.
	Usage Usage
	// KeyType is the key algorithm; empty means ECDSAP256.
	KeyType KeyType
	// UID and GID own both files: the consuming container's user. -1 leaves
	// that id as it is (as with os.Chown); 0 is root.
	UID, GID int
	// GroupReadable writes the key 0640 instead of 0600, for services that
	// read it through their group (Postgres accepts root:postgres 0640).
	GroupReadable bool
	// Imported marks a certificate the operator brings (a public certificate
	// for the gateway): it is checked on every run, never issued here.
	// Without Import it must already be in the directory.
	Imported bool
	// Import is the server certificate chain and key to put in the
	// directory (it implies Imported): Plan validates them against the
	// request's names and the trusted roots, and Ensure (or Rotate, naming
	// the request) writes them unless the files already hold them.
	Import *Import
}

var (
	fileNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	dnsLabelPattern = regexp.MustCompile(`^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$`)
)

// normalize checks a request and returns it with lower-case, de-duplicated
// names and defaults filled in.
func (r Request) normalize() (Request, error) {
	fail := func(format string, args ...any) (Request, error) {
		return Request{}, fmt.Errorf("%w: certificate %q: %s", ErrInvalidRequest, r.Name, fmt.Sprintf(format, args...))
	}
	if !fileNamePattern.MatchString(r.Name) || strings.Contains(r.Name, "..") {
		return fail("the name must be 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if r.Name == caBase {
		return fail(`the name "ca" is reserved for the CA's own files`)
	}
	if r.CommonName == "" {
		r.CommonName = r.Name
	}
	r.Imported = r.Imported || r.Import != nil
	if r.Usage == 0 || r.Usage&^(UsageServer|UsageClient) != 0 {
		return fail("usage must be UsageServer, UsageClient or both, not %s", r.Usage)
	}
	switch r.KeyType {
	case "":
		r.KeyType = ECDSAP256
	case ECDSAP256, RSA3072:
	default:
		return fail("unknown key type %q (use %q or %q)", r.KeyType, ECDSAP256, RSA3072)
	}
	if r.UID < -1 || r.GID < -1 {
		return fail("UID and GID must be -1 (leave as is) or a user/group id, not %d:%d", r.UID, r.GID)
	}
	dns := make([]string, 0, len(r.DNSNames))
	for _, n := range r.DNSNames {
		n = strings.ToLower(n)
		if err := checkDNSName(n); err != nil {
			return fail("%v", err)
		}
		if !slices.Contains(dns, n) {
			dns = append(dns, n)
		}
	}
	r.DNSNames = dns
	ips := make([]netip.Addr, 0, len(r.IPs))
	for _, ip := range r.IPs {
		if !ip.IsValid() || ip.Zone() != "" {
			return fail("IP address %q is not usable in a certificate (no zones, no empty addresses)", ip)
		}
		ip = ip.Unmap()
		if !slices.Contains(ips, ip) {
			ips = append(ips, ip)
		}
	}
	r.IPs = ips
	if r.Usage&UsageServer != 0 && len(r.DNSNames)+len(r.IPs) == 0 {
		return fail("a server certificate needs at least one DNS name or IP address; clients ignore the common name")
	}
	return r, nil
}

// checkDNSName accepts host names as Docker and TLS clients use them.
// Underscores are allowed because compose service names may contain them.
func checkDNSName(n string) error {
	switch {
	case n == "":
		return fmt.Errorf("empty DNS name")
	case strings.Contains(n, "*"):
		return fmt.Errorf("wildcard %q is not issued; list each name", n)
	case len(n) > 253:
		return fmt.Errorf("DNS name %q is longer than 253 characters", n)
	}
	if _, err := netip.ParseAddr(n); err == nil {
		return fmt.Errorf("%q is an IP address; put it in IPs, not DNSNames", n)
	}
	for _, label := range strings.Split(n, ".") {
		if !dnsLabelPattern.MatchString(label) {
			return fmt.Errorf("%q is not a valid DNS name (label %q)", n, label)
		}
	}
	return nil
}

// prepareRequests normalizes every request and refuses duplicate names.
func prepareRequests(reqs []Request) ([]Request, error) {
	out := make([]Request, 0, len(reqs))
	seen := map[string]bool{}
	for _, r := range reqs {
		n, err := r.normalize()
		if err != nil {
			return nil, err
		}
		if seen[n.Name] {
			return nil, fmt.Errorf("%w: certificate %q is requested twice", ErrInvalidRequest, n.Name)
		}
		seen[n.Name] = true
		out = append(out, n)
	}
	return out, nil
}

// wantedNames lists a request's SANs as strings, DNS names first.
func (r Request) wantedNames() []string {
	out := slices.Clone(r.DNSNames)
	for _, ip := range r.IPs {
		out = append(out, ip.String())
	}
	return out
}
