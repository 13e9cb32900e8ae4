package answers

import (
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/pgp"
)

// problem is a validation finding tied to a dotted path in the file.
type problem struct {
	*Error
	path string
}

type problems []problem

func (ps problems) errors() Errors {
	out := make(Errors, len(ps))
	for i, p := range ps {
		out[i] = p.Error
	}
	return out
}

func (ps *problems) add(path, format string, args ...any) {
	*ps = append(*ps, problem{Error: &Error{Msg: fmt.Sprintf(format, args...)}, path: path})
}

// ParseHostAddr parses an address of this host given in the answers. An
// IPv6 zone (fe80::1%eth0) is refused: it is free text that ends up in
// certificates, configuration files and compose port bindings, and a link-
// local address cannot serve browsers anyway.
func ParseHostAddr(s string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		// The zone may hold anything; show the address part only.
		if i := strings.IndexByte(s, '%'); i >= 0 {
			return netip.Addr{}, fmt.Errorf("%q has an IPv6 zone (the part after %%); give the address without it", s[:i])
		}
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	if ip.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q has an IPv6 zone (the part after %%); give the address without it", ip.WithZone("").String())
	}
	return ip, nil
}

// Validate checks the answers for mistakes a person can fix.
func (a Answers) Validate() error {
	if ps := a.validate(); len(ps) > 0 {
		return ps.errors()
	}
	return nil
}

func (a Answers) validate() problems {
	var ps problems
	if a.Version != 1 {
		ps.add("version", "version %d is not supported by this installer; use version: 1", a.Version)
	}
	if a.Host.Hostname == "" {
		ps.add("host.hostname", "host.hostname is empty; give the name people will type in the browser")
	} else if !validHostname(a.Host.Hostname) {
		ps.add("host.hostname", "host.hostname %q is not a valid DNS name (letters, digits, hyphens and dots only)", a.Host.Hostname)
	}
	for _, ip := range a.Host.IPs {
		if _, err := ParseHostAddr(ip); err != nil {
			ps.add("host.ips", "host.ips: %v", err)
		}
	}
	if a.Gateway.BindIP != "" {
		if _, err := ParseHostAddr(a.Gateway.BindIP); err != nil {
			ps.add("gateway.bind_ip", "gateway.bind_ip: %v", err)
		}
	}
	a.validateVault(&ps)
	a.validateCredentials(&ps)
	a.validateBackup(&ps)
	if a.Kubernetes != nil {
		a.Kubernetes.validate(&ps, "kubernetes")
	}
	a.validateCertificates(&ps)
	a.validateNetwork(&ps)
	a.validateGroups(&ps)
	if a.Gateway.HTTPSPort < 1 || a.Gateway.HTTPSPort > 65535 || a.Gateway.HTTPPort < 1 || a.Gateway.HTTPPort > 65535 {
		ps.add("gateway", "gateway ports must be between 1 and 65535")
	} else if a.Gateway.HTTPSPort == a.Gateway.HTTPPort {
		ps.add("gateway.http_port", "gateway.http_port and https_port are both %d; they must differ", a.Gateway.HTTPPort)
	}
	if a.InstallDir == "" || !strings.HasPrefix(a.InstallDir, "/") {
		ps.add("install_dir", "install_dir %q must be an absolute path", a.InstallDir)
	}
	if from := a.ServiceIDsFrom; from < 10000 || from > 2_000_000_000 || (from <= 65535 && from+ServiceIDsBlock > 65534) {
		ps.add("service_ids_from", "service_ids_from %d: choose a start for a block of %d ids between 10000 and 2000000000 that holds neither 65534 (nobody) nor 65535; the default is %d", from, ServiceIDsBlock, DefaultServiceIDsFrom)
	}
	if d := a.LogRetentionDays; d < 1 || d > MaxLogRetentionDays {
		ps.add("log_retention_days", "log_retention_days %d: give the number of days Elasticsearch keeps container logs, between 1 and %d (the %s default is %d)",
			d, MaxLogRetentionDays, a.Profile, Defaults(a.Profile).LogRetentionDays)
	}
	switch a.Images.Source {
	case ImagesRegistry:
	case ImagesBundle:
		if a.Images.Bundle == "" {
			ps.add("images.bundle", "images.source is bundle but images.bundle names no file")
		} else if _, err := os.Stat(a.Images.Bundle); err != nil {
			ps.add("images.bundle", "images.bundle %s cannot be read: %v", a.Images.Bundle, err)
		}
	default:
		ps.add("images.source", "images.source %q is not known; use registry or bundle", a.Images.Source)
	}
	return ps
}

func (a Answers) validateCredentials(ps *problems) {
	if a.Credentials.PGPKey == "" {
		return
	}
	if _, err := pgp.ParsePublicKey(a.Credentials.PGPKey); err != nil {
		ps.add("credentials.pgp_key", "credentials.pgp_key: %v", err)
	}
}

func (a Answers) validateVault(ps *problems) {
	v := a.Vault
	if v.KeyShares < 1 || v.KeyShares > 10 {
		ps.add("vault.key_shares", "vault.key_shares is %d; use between 1 and 10", v.KeyShares)
	}
	if v.KeyThreshold < 1 {
		ps.add("vault.key_threshold", "vault.key_threshold is %d; it must be at least 1", v.KeyThreshold)
	}
	if v.KeyThreshold > v.KeyShares {
		ps.add("vault.key_threshold", "vault.key_threshold (%d) is larger than vault.key_shares (%d): Vault could never be unsealed; lower the threshold or add shares", v.KeyThreshold, v.KeyShares)
	}
	if v.KeyShares > 1 && v.KeyThreshold == 1 {
		ps.add("vault.key_threshold", "vault.key_threshold 1 with %d shares lets any single key holder unseal; use a threshold of at least 2", v.KeyShares)
	}
	switch v.Custody {
	case CustodyShow:
	case CustodyFile:
		if a.Profile != Demo {
			ps.add("vault.custody", "vault.custody file keeps the unseal keys on this host, which only the demo profile allows; use custody: show in production")
		}
	default:
		ps.add("vault.custody", "vault.custody %q is not known; use show or file", v.Custody)
	}
	if len(v.PGPKeys) > 0 && len(v.PGPKeys) != v.KeyShares {
		ps.add("vault.pgp_keys", "vault.pgp_keys has %d keys but key_shares is %d; give one public key per share", len(v.PGPKeys), v.KeyShares)
	}
}

func (a Answers) validateCertificates(ps *problems) {
	c := a.Certificates
	switch c.Source {
	case CertImport:
		// The files are read and checked where they are imported (install,
		// certs generate), with the installation's names: an
		// installation's own copy of its answers works without them.
		if c.CACert == "" && c.GatewayChain == "" && c.CAKey == "" && c.GatewayKey == "" {
			ps.add("certificates", "certificates.source is import but neither ca_cert nor gateway_chain is set; give a CA (ca_cert, ca_key), a gateway certificate (gateway_chain, gateway_key) or both")
		}
		pairs := [][4]string{{"ca_cert", "ca_key", c.CACert, c.CAKey}, {"gateway_chain", "gateway_key", c.GatewayChain, c.GatewayKey}}
		for _, p := range pairs {
			if (p[2] == "") != (p[3] == "") {
				given := p[0]
				if p[2] == "" {
					given = p[1]
				}
				ps.add("certificates."+given, "certificates.%s and certificates.%s must be given together", p[0], p[1])
			}
		}
	case CertGenerate:
		if c.CACert != "" || c.CAKey != "" || c.GatewayChain != "" || c.GatewayKey != "" {
			ps.add("certificates.source", "certificates.source is generate, so the files named under certificates would be ignored; set source: import to use them, or remove them")
		}
	default:
		ps.add("certificates.source", "certificates.source %q is not known; use generate or import", c.Source)
	}
}

func (a Answers) validateNetwork(ps *problems) {
	type seg struct {
		role   string
		prefix netip.Prefix
	}
	var segs []seg
	names := map[string]string{}
	all := a.Network.Segments()
	for _, role := range installation.NetworkRoles() {
		s := all[role]
		path := "network." + role
		if s.Name == "" {
			ps.add(path+".name", "%s.name is empty", path)
		} else if other, dup := names[s.Name]; dup {
			ps.add(path+".name", "%s.name %q is also used by network.%s; each network needs its own name", path, s.Name, other)
		} else {
			names[s.Name] = role
		}
		p, err := netip.ParsePrefix(s.Subnet)
		if err != nil {
			ps.add(path+".subnet", "%s.subnet %q is not a subnet in CIDR form, e.g. 10.231.10.0/24", path, s.Subnet)
			continue
		}
		if p.Masked() != p {
			ps.add(path+".subnet", "%s.subnet %s has host bits set; did you mean %s?", path, s.Subnet, p.Masked())
			continue
		}
		if !p.Addr().Is4() || p.Bits() > 28 {
			ps.add(path+".subnet", "%s.subnet %s must be IPv4 and at least a /28", path, s.Subnet)
			continue
		}
		if !p.Addr().IsPrivate() {
			ps.add(path+".subnet", "%s.subnet %s is not a private range (10/8, 172.16/12, 192.168/16); public addresses would shadow real hosts", path, s.Subnet)
			continue
		}
		for _, o := range segs {
			if o.prefix.Overlaps(p) {
				ps.add(path+".subnet", "%s.subnet %s overlaps network.%s.subnet %s; give each network its own range", path, p, o.role, o.prefix)
			}
		}
		segs = append(segs, seg{role, p})
	}
}

func (a Answers) validateGroups(ps *problems) {
	known := map[string]bool{}
	for _, g := range Groups {
		known[g] = true
	}
	for _, g := range a.Groups {
		if !known[g] {
			valid := append([]string(nil), Groups...)
			sort.Strings(valid)
			msg := fmt.Sprintf("unknown group %q", g)
			if s := closest(g, valid); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			ps.add("groups", "%s (groups: %s)", msg, strings.Join(Groups, ", "))
		}
	}
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
