package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Every issued leaf verifies against the CA for each of its names with
// exactly its usages, and for nothing else.
func TestLeavesVerifyForEachNameAndUsage(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org", hostIP)
	ensure(t, s, reqs)
	pool := caPool(t, s.Dir)
	ca := readCert(t, filepath.Join(s.Dir, "ca.crt"))
	serials := map[string]bool{}

	for _, r := range reqs {
		leaf := readCert(t, filepath.Join(s.Dir, r.Name+".crt"))
		names := append(slices.Clone(r.DNSNames), "")
		for _, ip := range r.IPs {
			names = append(names, ip.String())
		}
		for _, u := range []Usage{UsageServer, UsageClient} {
			want := r.Usage&u != 0
			for _, name := range names {
				_, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: testNow, KeyUsages: u.extKeyUsages()})
				if want && err != nil {
					t.Errorf("%s: verify %q for %s: %v", r.Name, name, u, err)
				}
				if !want && err == nil {
					t.Errorf("%s: verified %q for %s, a usage it was not issued for", r.Name, name, u)
				}
			}
		}
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: "not-" + r.Name + ".invalid", Roots: pool, CurrentTime: testNow, KeyUsages: r.Usage.extKeyUsages()})
		var hostErr x509.HostnameError
		if !errors.As(err, &hostErr) {
			t.Errorf("%s: a name it lacks: got %v, want a hostname error", r.Name, err)
		}

		if got, want := leaf.Subject.CommonName, r.CommonName; want != "" && got != want {
			t.Errorf("%s: CN %q, want %q", r.Name, got, want)
		}
		if leaf.IsCA || leaf.KeyUsage != x509.KeyUsageDigitalSignature {
			t.Errorf("%s: IsCA=%v KeyUsage=%v, want a leaf with digitalSignature only", r.Name, leaf.IsCA, leaf.KeyUsage)
		}
		if life := leaf.NotAfter.Sub(leaf.NotBefore); life > LeafLifetime+backdate {
			t.Errorf("%s: valid for %v, more than 397 days", r.Name, life)
		}
		if n := leaf.SerialNumber; n.Sign() <= 0 || n.BitLen() > 128 || n.BitLen() < 64 || serials[n.String()] {
			t.Errorf("%s: serial %X is not a fresh random 128-bit number", r.Name, n)
		}
		serials[leaf.SerialNumber.String()] = true
		if len(leaf.SubjectKeyId) != 20 || !bytes.Equal(leaf.AuthorityKeyId, ca.SubjectKeyId) {
			t.Errorf("%s: SKI %x AKI %x, want a 20-byte SKI and AKI = CA SKI %x", r.Name, leaf.SubjectKeyId, leaf.AuthorityKeyId, ca.SubjectKeyId)
		}
		if !slices.Equal(leaf.DNSNames, r.DNSNames) || len(leaf.IPAddresses) != len(r.IPs) {
			t.Errorf("%s: SANs %v, want exactly %v", r.Name, sansOf(leaf), r.wantedNames())
		}
		if got := describeKey(leaf.PublicKey); got != "ECDSA P-256" {
			t.Errorf("%s: key %s, want ECDSA P-256", r.Name, got)
		}
	}
}

func TestCAProfile(t *testing.T) {
	s := newStore(t, CAOptions{PermitDNS: []string{"fineract.internal"}})
	ensure(t, s, fullStack("bank.example.org", hostIP))
	ca := readCert(t, filepath.Join(s.Dir, "ca.crt"))

	if !ca.IsCA || !ca.MaxPathLenZero || ca.MaxPathLen != 0 || ca.KeyUsage != x509.KeyUsageCertSign {
		t.Errorf("IsCA=%v MaxPathLen=%d zero=%v KeyUsage=%v, want a CA with path length 0 and keyCertSign only", ca.IsCA, ca.MaxPathLen, ca.MaxPathLenZero, ca.KeyUsage)
	}
	if got := describeKey(ca.PublicKey); got != "ECDSA P-256" {
		t.Errorf("CA key %s, want ECDSA P-256", got)
	}
	if life := ca.NotAfter.Sub(ca.NotBefore); life < CALifetime || life > CALifetime+time.Hour {
		t.Errorf("CA valid for %v, want about 10 years", life)
	}
	if !selfSigned(ca) || len(ca.SubjectKeyId) != 20 {
		t.Errorf("want a self-signed CA with a subject key id")
	}
	critical := false
	for _, e := range ca.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 30}) {
			critical = e.Critical
		}
	}
	if !critical {
		t.Error("name constraints are missing or not critical")
	}
	wantDNS := []string{"bank.example.org", "elasticsearch", "fineract", "fineract.internal", "gateway", "grafana", "kafka", "keycloak",
		"kibana", "localhost", "logstash", "postgres", "postgres-exporter", "prometheus", "redis", "vault", "web-app"}
	if !slices.Equal(ca.PermittedDNSDomains, wantDNS) {
		t.Errorf("permitted DNS %v,\nwant %v", ca.PermittedDNSDomains, wantDNS)
	}
	var ips []string
	for _, n := range ca.PermittedIPRanges {
		ips = append(ips, n.String())
	}
	if want := []string{"127.0.0.0/8", "192.0.2.10/32", "::1/128"}; !slices.Equal(ips, want) {
		t.Errorf("permitted IPs %v, want %v", ips, want)
	}
}

// A certificate for a name outside the CA's constraints is rejected by
// clients even when it is signed with the real CA key, and the issuing code
// refuses to write one.
func TestNameConstraintsRejectForeignNames(t *testing.T) {
	s := newStore(t, CAOptions{})
	ensure(t, s, fullStack("bank.example.org", hostIP))
	ca := loadAuthority(t, s.Dir, testNow)
	pool := caPool(t, s.Dir)

	for _, name := range []string{"www.example.com", "bank.example.org.evil.test", "8.8.8.8", "10.0.0.1"} {
		t.Run(name, func(t *testing.T) {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			tmpl := &x509.Certificate{
				SerialNumber: big1(), Subject: pkix.Name{CommonName: name},
				NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(24 * time.Hour),
				KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			}
			if ip := net.ParseIP(name); ip != nil {
				tmpl.IPAddresses = []net.IP{ip}
			} else {
				tmpl.DNSNames = []string{name}
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			_, err = leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: testNow})
			var inv x509.CertificateInvalidError
			if !errors.As(err, &inv) || inv.Reason != x509.CANotAuthorizedForThisName {
				t.Fatalf("verify %s: got %v, want a name constraint violation", name, err)
			}

			r := Request{Name: "foreign", DNSNames: tmpl.DNSNames, Usage: UsageServer, KeyType: ECDSAP256}
			if ip, err := netip.ParseAddr(name); err == nil {
				r = Request{Name: "foreign", IPs: []netip.Addr{ip}, Usage: UsageServer, KeyType: ECDSAP256}
			}
			if _, err := issueLeaf(ca, r, testNow); err == nil {
				t.Fatalf("issueLeaf wrote a certificate for %s, outside the CA's constraints", name)
			}
		})
	}
}

func big1() *big.Int { n, _ := randomSerial(); return n }
