package pki

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestInspectListsEveryCertificate(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org", hostIP)
	ensure(t, s, reqs)
	s.Now = func() time.Time { return testNow.Add(100 * day) }

	inv, err := s.Inspect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Certificates) != len(reqs)+1 || inv.Certificates[0].Name != "ca" {
		t.Fatalf("%d entries, first %q; want the CA first and every leaf", len(inv.Certificates), inv.Certificates[0].Name)
	}
	ca := inv.Certificates[0]
	if !ca.IsCA || ca.Usage != "ca" || !slices.Contains(ca.PermittedNames, "bank.example.org") || !slices.Contains(ca.PermittedNames, "127.0.0.0/8") {
		t.Errorf("CA entry: %+v", ca)
	}
	byName := map[string]CertInfo{}
	for _, c := range inv.Certificates {
		byName[c.Name] = c
		if len(c.Problems) != 0 {
			t.Errorf("%s: unexpected problems %q", c.Name, c.Problems)
		}
	}
	gw := byName["gateway"]
	raw := readCert(t, filepath.Join(s.Dir, "gateway.crt")).Raw
	sum := sha256.Sum256(raw)
	if !strings.EqualFold(strings.ReplaceAll(gw.SHA256, ":", ""), fmt.Sprintf("%x", sum)) {
		t.Errorf("fingerprint %s does not match the certificate", gw.SHA256)
	}
	if gw.DaysLeft != 297 || gw.Usage != "server" || gw.KeyAlgorithm != "ECDSA P-256" ||
		!slices.Equal(gw.DNSNames, []string{"gateway", "bank.example.org", "localhost"}) ||
		!slices.Equal(gw.IPAddresses, []string{"127.0.0.1", "192.0.2.10"}) ||
		!strings.Contains(gw.Issuer, "Fineract Stack CA") || gw.Subject != "CN=gateway" {
		t.Errorf("gateway entry: %+v", gw)
	}
	pg := byName["postgres"]
	if pg.Key == nil || pg.Key.Mode != "0640" || !pg.Key.MatchesCertificate {
		t.Errorf("postgres key: %+v", pg.Key)
	}
	if os.Geteuid() == 0 && (pg.Key.UID != 0 || pg.Key.GID != 999) {
		t.Errorf("postgres key owner %d:%d", pg.Key.UID, pg.Key.GID)
	}

	out, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"days_left":297`, `"sha256":"`, `"mode":"0640"`, `"not_after":"`} {
		if !strings.Contains(string(out), field) {
			t.Errorf("JSON lacks %s", field)
		}
	}
}

func TestInspectReportsProblems(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org", hostIP)
	ensure(t, s, reqs)
	redisKey, _ := os.ReadFile(filepath.Join(s.Dir, "redis.key"))
	os.WriteFile(filepath.Join(s.Dir, "grafana.key"), redisKey, 0o600)
	os.Chmod(filepath.Join(s.Dir, "kibana.key"), 0o644)
	os.Remove(filepath.Join(s.Dir, "vault.key"))
	other := newStore(t, CAOptions{})
	ensure(t, other, reqs)
	data, _ := os.ReadFile(filepath.Join(other.Dir, "keycloak.crt"))
	os.WriteFile(filepath.Join(s.Dir, "keycloak.crt"), data, 0o644)
	s.Now = func() time.Time { return testNow.Add(380 * day) }

	inv, err := s.Inspect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"grafana":  "grafana.key does not match the certificate",
		"kibana":   "kibana.key is accessible to every user (mode 0644)",
		"vault":    "vault.key is missing",
		"keycloak": "does not verify against ca.crt",
		"redis":    "expires in 17 days",
	}
	for _, c := range inv.Certificates {
		if w, ok := want[c.Name]; ok && !slices.ContainsFunc(c.Problems, func(p string) bool { return strings.Contains(p, w) }) {
			t.Errorf("%s: problems %q, want %q", c.Name, c.Problems, w)
		}
	}
}

// An imported CA and a gateway chain from another intermediate of the
// same root: both are marked imported, verify without a problem, and the
// gateway's approaching end is a warning well before it becomes one.
func TestInspectImportedCertificates(t *testing.T) {
	root := makeCert(t, caTemplate("Corp Root"), nil, nil)
	issuing := makeCert(t, caTemplate("Corp Issuing CA"), root, nil)
	web := makeCert(t, caTemplate("Corp Web CA"), root, nil)
	leafTmpl := serverTemplate("bank.example.org", "bank.example.org")
	leafTmpl.NotAfter = testNow.Add(100 * day)
	leaf := makeCert(t, leafTmpl, web, nil)
	s := newStore(t, CAOptions{Import: caImport(issuing, root)})
	gw := gatewayRequest("bank.example.org")
	gw.Import = &Import{CertFile: "chain.pem", KeyFile: "gw.key", CertPEM: joinPEM(leaf.certPEM, web.certPEM), KeyPEM: leaf.keyPEM}
	ensure(t, s, append(fullStack("bank.example.org")[:2], gw))

	inspect := func(at time.Time) map[string]CertInfo {
		s.Now = func() time.Time { return at }
		inv, err := s.Inspect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]CertInfo{}
		for _, c := range inv.Certificates {
			out[c.Name] = c
		}
		return out
	}
	got := inspect(testNow)
	for name, imported := range map[string]bool{"ca": true, "vault": false, "postgres": false, "gateway": true} {
		if c := got[name]; c.Imported != imported || len(c.Problems) != 0 || len(c.Warnings) != 0 {
			t.Errorf("%s: imported %v, problems %q, warnings %q; want imported %v and nothing to say", name, c.Imported, c.Problems, c.Warnings, imported)
		}
	}
	got = inspect(testNow.Add(55 * day))
	if w := got["gateway"].Warnings; len(w) != 1 || !strings.Contains(w[0], "the imported certificate expires in 45 days") || len(got["gateway"].Problems) != 0 {
		t.Errorf("gateway 45 days before its end: warnings %q, problems %q", w, got["gateway"].Problems)
	}
	if w := got["vault"].Warnings; len(w) != 0 {
		t.Errorf("an issued certificate got the imported warning: %q", w)
	}
}
