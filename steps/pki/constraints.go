package pki

import (
	"crypto/x509"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// nameConstraints is the part of a CA's RFC 5280 name constraints that
// matters for the names this package issues: DNS subtrees and IP ranges. An
// empty permitted list leaves that type unconstrained, as in RFC 5280.
type nameConstraints struct {
	permittedDNS, excludedDNS []string
	permittedIPs, excludedIPs []netip.Prefix
}

// loopback is always permitted: services reach themselves over it.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// wantedConstraints is what a generated CA must permit: localhost,
// loopback, every name in the requests and the extra subtrees the caller
// allows in advance.
func wantedConstraints(reqs []Request, opts CAOptions) nameConstraints {
	dns := append([]string{"localhost"}, opts.PermitDNS...)
	ips := append(slices.Clone(loopback), opts.PermitIPs...)
	for _, r := range reqs {
		if r.Imported {
			continue // the CA does not sign it
		}
		dns = append(dns, r.DNSNames...)
		// OpenSSL checks a dotted CN against the DNS constraints when a
		// certificate has no DNS SANs, so such a CN must be permitted too.
		if len(r.DNSNames) == 0 && strings.Contains(r.CommonName, ".") && checkDNSName(strings.ToLower(r.CommonName)) == nil {
			dns = append(dns, strings.ToLower(r.CommonName))
		}
		for _, ip := range r.IPs {
			ips = append(ips, netip.PrefixFrom(ip, ip.BitLen()))
		}
	}
	return nameConstraints{permittedDNS: compactDNS(dns), permittedIPs: compactPrefixes(ips)}
}

// compactDNS sorts, de-duplicates and drops names inside another subtree.
func compactDNS(names []string) []string {
	var out []string
	for _, n := range names {
		n = strings.ToLower(n)
		covered := false
		for _, o := range names {
			o = strings.ToLower(o)
			if o != n && dnsWithin(n, o) {
				covered = true
				break
			}
		}
		if !covered && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// compactPrefixes sorts, de-duplicates and drops ranges inside another.
func compactPrefixes(prefixes []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range prefixes {
		p = p.Masked()
		covered := false
		for _, o := range prefixes {
			if o.Masked() != p && prefixWithin(p, o) {
				covered = true
				break
			}
		}
		if !covered && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return out
}

// dnsWithin reports whether name lies in the subtree of constraint, with
// the semantics Go's x509.Verify applies: "example.org" covers itself and
// its subdomains, ".example.org" only its subdomains.
func dnsWithin(name, constraint string) bool {
	name, constraint = strings.ToLower(name), strings.ToLower(constraint)
	if constraint == "" {
		return true
	}
	if strings.HasPrefix(constraint, ".") {
		return strings.HasSuffix(name, constraint)
	}
	return name == constraint || strings.HasSuffix(name, "."+constraint)
}

func prefixWithin(p, outer netip.Prefix) bool {
	return outer.Bits() <= p.Bits() && outer.Contains(p.Addr())
}

func constraintsOf(c *x509.Certificate) nameConstraints {
	return nameConstraints{
		permittedDNS: c.PermittedDNSDomains,
		excludedDNS:  c.ExcludedDNSDomains,
		permittedIPs: prefixesOf(c.PermittedIPRanges),
		excludedIPs:  prefixesOf(c.ExcludedIPRanges),
	}
}

func (n nameConstraints) permitsDNS(name string) bool {
	for _, e := range n.excludedDNS {
		if dnsWithin(name, e) {
			return false
		}
	}
	if len(n.permittedDNS) == 0 {
		return true
	}
	for _, p := range n.permittedDNS {
		if dnsWithin(name, p) {
			return true
		}
	}
	return false
}

func (n nameConstraints) permitsPrefix(p netip.Prefix) bool {
	for _, e := range n.excludedIPs {
		if e.Overlaps(p) {
			return false
		}
	}
	if len(n.permittedIPs) == 0 {
		return true
	}
	for _, o := range n.permittedIPs {
		if prefixWithin(p, o) {
			return true
		}
	}
	return false
}

// notPermitted lists the entries of want that n does not permit.
func (n nameConstraints) notPermitted(want nameConstraints) []string {
	var out []string
	for _, d := range want.permittedDNS {
		if !n.permitsDNS(strings.TrimPrefix(d, ".")) {
			out = append(out, d)
		}
	}
	for _, p := range want.permittedIPs {
		if !n.permitsPrefix(p) {
			out = append(out, prefixString(p))
		}
	}
	return out
}

// requestNotPermitted lists a request's names that n does not permit.
func (n nameConstraints) requestNotPermitted(r Request) []string {
	var out []string
	for _, d := range r.DNSNames {
		if !n.permitsDNS(d) {
			out = append(out, d)
		}
	}
	for _, ip := range r.IPs {
		if !n.permitsPrefix(netip.PrefixFrom(ip, ip.BitLen())) {
			out = append(out, ip.String())
		}
	}
	return out
}

// permittedList lists the permitted DNS subtrees and IP ranges.
func (n nameConstraints) permittedList() []string {
	out := slices.Clone(n.permittedDNS)
	for _, p := range n.permittedIPs {
		out = append(out, prefixString(p))
	}
	return out
}

// describe lists the permitted names for messages.
func (n nameConstraints) describe() string {
	if list := n.permittedList(); len(list) > 0 {
		return strings.Join(list, ", ")
	}
	return "any name"
}

// prefixString prints single addresses without their /32 or /128.
func prefixString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

func prefixesOf(nets []*net.IPNet) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(nets))
	for _, n := range nets {
		addr, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		ones, _ := n.Mask.Size()
		out = append(out, netip.PrefixFrom(addr.Unmap(), ones))
	}
	return out
}

func ipNetsOf(prefixes []netip.Prefix) []*net.IPNet {
	out := make([]*net.IPNet, 0, len(prefixes))
	for _, p := range prefixes {
		p = p.Masked()
		out = append(out, &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())})
	}
	return out
}
