package pki

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// results maps certificate name to its result, "ca" included.
func results(rep Report) map[string]Result {
	out := map[string]Result{caBase: rep.CA}
	for _, r := range rep.Certificates {
		out[r.Name] = r
	}
	return out
}

// wantOnly asserts that exactly the named certificates were (re)issued,
// with a reason containing the given text, and that all others were reused.
func wantOnly(t *testing.T, rep Report, want map[string]string) {
	t.Helper()
	for name, res := range results(rep) {
		reason, ok := want[name]
		switch {
		case !ok && res.Action != Reused:
			t.Errorf("%s: %s (%v), want reused", name, res.Action, res.Reasons)
		case ok && res.Action == Reused:
			t.Errorf("%s: reused, want a reissue because %q", name, reason)
		case ok && !strings.Contains(strings.Join(res.Reasons, "; "), reason):
			t.Errorf("%s: reasons %q, want one containing %q", name, res.Reasons, reason)
		}
	}
}

func pairFiles(names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, n+".crt", n+".key")
	}
	slices.Sort(out)
	return out
}

func TestEnsureCreatesEverythingThenRerunChangesNothing(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org", hostIP)
	first := ensure(t, s, reqs)
	if first.CA.Action != Created || len(first.Certificates) != len(reqs) {
		t.Fatalf("first run: CA %s, %d certificates", first.CA.Action, len(first.Certificates))
	}
	for _, r := range first.Certificates {
		if r.Action != Created || r.NotAfter.IsZero() || len(r.Files) != 2 {
			t.Errorf("%s: %+v, want created with two files", r.Name, r)
		}
	}
	before := snapshot(t, s.Dir)
	if len(before) != 2+2*len(reqs) {
		t.Fatalf("%d files on disk, want %d", len(before), 2+2*len(reqs))
	}

	// A later run, even weeks later, finds nothing to do.
	s.Now = func() time.Time { return testNow.Add(60 * 24 * time.Hour) }
	plan, err := s.Plan(context.Background(), reqs)
	if err != nil || !plan.UpToDate() {
		t.Fatalf("Plan: up to date %v, err %v", plan.UpToDate(), err)
	}
	second := ensure(t, s, reqs)
	wantOnly(t, second, nil)
	if !second.UpToDate() || second.TrustChanged() || len(second.ChangedFiles()) != 0 {
		t.Errorf("second run reports changes: %v", second.ChangedFiles())
	}
	if changed := changedFiles(before, snapshot(t, s.Dir)); len(changed) != 0 {
		t.Errorf("second run changed %v", changed)
	}
}

func TestPlanWritesNothing(t *testing.T) {
	s := newStore(t, CAOptions{})
	rep, err := s.Plan(context.Background(), fullStack("bank.example.org"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.CA.Action != Created || rep.UpToDate() || len(rep.ChangedFiles()) != 2+2*16 {
		t.Errorf("plan: CA %s, up to date %v, %d files", rep.CA.Action, rep.UpToDate(), len(rep.ChangedFiles()))
	}
	if _, err := os.Stat(s.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Plan created %s (%v)", s.Dir, err)
	}
}

const day = 24 * time.Hour

func names(reqs []Request, except ...string) []string {
	var out []string
	for _, r := range reqs {
		if !slices.Contains(except, r.Name) {
			out = append(out, r.Name)
		}
	}
	return out
}

func TestEnsureReissuesOnlyTheExpiringCertificate(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org", hostIP)
	// Issue everything 380 days ago, then renew all but postgres today:
	// postgres is left with 17 days.
	s.Now = func() time.Time { return testNow.Add(-380 * day) }
	ensure(t, s, reqs)
	s.Now = func() time.Time { return testNow }
	if _, err := s.Rotate(context.Background(), reqs, names(reqs, "postgres")...); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s.Dir)

	rep := ensure(t, s, reqs)
	wantOnly(t, rep, map[string]string{"postgres": "expires in 17 days"})
	if changed := changedFiles(before, snapshot(t, s.Dir)); !slices.Equal(changed, pairFiles("postgres")) {
		t.Errorf("changed %v, want only the postgres pair", changed)
	}
	if got := readCert(t, filepath.Join(s.Dir, "postgres.crt")).NotAfter; !got.Equal(testNow.Add(LeafLifetime)) {
		t.Errorf("new postgres certificate ends %v, want %v", got, testNow.Add(LeafLifetime))
	}

	// Long after, every leaf has expired; the report says since when.
	s.Now = func() time.Time { return testNow.Add((397 + 3) * day) }
	rep = ensure(t, s, reqs)
	if r, _ := rep.Result("redis"); r.Action != Reissued || !strings.Contains(strings.Join(r.Reasons, ";"), "expired 3 days ago") {
		t.Errorf("redis after expiry: %s %q", r.Action, r.Reasons)
	}
}

func TestEnsureAddingSANReissuesOnlyThatCertificate(t *testing.T) {
	s := newStore(t, CAOptions{PermitDNS: []string{"fineract.internal"}})
	reqs := fullStack("bank.example.org", hostIP)
	ensure(t, s, reqs)
	before := snapshot(t, s.Dir)

	reqs[1].DNSNames = append(reqs[1].DNSNames, "db.fineract.internal") // postgres
	rep := ensure(t, s, reqs)
	wantOnly(t, rep, map[string]string{"postgres": "missing SAN db.fineract.internal"})
	if changed := changedFiles(before, snapshot(t, s.Dir)); !slices.Equal(changed, pairFiles("postgres")) {
		t.Errorf("changed %v, want only the postgres pair", changed)
	}
	if got := readCert(t, filepath.Join(s.Dir, "postgres.crt")).DNSNames; !slices.Equal(got, []string{"postgres", "db.fineract.internal"}) {
		t.Errorf("postgres SANs %v", got)
	}

	// Dropping the name again reissues it without the name.
	reqs[1].DNSNames = reqs[1].DNSNames[:1]
	rep = ensure(t, s, reqs)
	wantOnly(t, rep, map[string]string{"postgres": "unexpected SAN db.fineract.internal"})
}

// A SAN outside the CA's constraints re-certifies the CA with the same key;
// the other leaves stay valid and untouched.
func TestEnsureAddingSANOutsideConstraintsRecertifiesCA(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org", hostIP)
	ensure(t, s, reqs)
	before := snapshot(t, s.Dir)

	reqs[1].DNSNames = append(reqs[1].DNSNames, "postgres-primary")
	rep := ensure(t, s, reqs)
	wantOnly(t, rep, map[string]string{
		"ca":       "do not permit postgres-primary",
		"postgres": "missing SAN postgres-primary",
	})
	if rep.CA.Action != Recertified || !rep.TrustChanged() {
		t.Errorf("CA %s, trust changed %v; want recertified", rep.CA.Action, rep.TrustChanged())
	}
	want := append(pairFiles("postgres"), "ca.crt")
	slices.Sort(want)
	if changed := changedFiles(before, snapshot(t, s.Dir)); !slices.Equal(changed, want) {
		t.Errorf("changed %v, want %v", changed, want)
	}
}

// Inside a domain the CA permits, a hostname change reissues only the
// certificates that carry the hostname; ca.crt stays as it is.
func TestHostnameChangeInsidePermittedDomain(t *testing.T) {
	s := newStore(t, CAOptions{PermitDNS: []string{"example.org"}})
	ensure(t, s, fullStack("bank.example.org", hostIP))
	before := snapshot(t, s.Dir)

	moved := netip.MustParseAddr("192.0.2.10") // same IP, new name
	rep := ensure(t, s, fullStack("core.example.org", moved))
	wantOnly(t, rep, map[string]string{"gateway": "missing SAN core.example.org"})
	if r, _ := rep.Result("gateway"); !slices.Contains(r.Reasons, "unexpected SAN bank.example.org (no longer requested)") {
		t.Errorf("gateway reasons %q lack the old name", r.Reasons)
	}
	if rep.TrustChanged() {
		t.Error("ca.crt changed for a hostname inside the permitted domain")
	}
	if changed := changedFiles(before, snapshot(t, s.Dir)); !slices.Equal(changed, pairFiles("gateway")) {
		t.Errorf("changed %v, want only the gateway pair", changed)
	}
}

// Outside the CA's constraints, a hostname change re-certifies the CA with
// the same key: the untouched leaves keep verifying under the new ca.crt,
// and the old ca.crt refuses the new hostname.
func TestHostnameChangeOutsideConstraintsRecertifiesCA(t *testing.T) {
	s := newStore(t, CAOptions{})
	ensure(t, s, fullStack("fineract.local", hostIP))
	oldPool := caPool(t, s.Dir)
	oldCA := readCert(t, filepath.Join(s.Dir, "ca.crt"))
	before := snapshot(t, s.Dir)

	newIP := netip.MustParseAddr("198.51.100.7")
	reqs := fullStack("bank.example.org", newIP)
	rep := ensure(t, s, reqs)
	wantOnly(t, rep, map[string]string{
		"ca":      "do not permit bank.example.org, 198.51.100.7",
		"gateway": "missing SAN bank.example.org",
	})
	if rep.CA.Action != Recertified || !rep.TrustChanged() {
		t.Fatalf("CA %s, trust changed %v; want recertified", rep.CA.Action, rep.TrustChanged())
	}
	want := append(pairFiles("gateway"), "ca.crt")
	slices.Sort(want)
	if changed := changedFiles(before, snapshot(t, s.Dir)); !slices.Equal(changed, want) {
		t.Errorf("changed %v, want %v (ca.key must stay)", changed, want)
	}

	newCA := readCert(t, filepath.Join(s.Dir, "ca.crt"))
	if !newCA.NotAfter.Equal(oldCA.NotAfter) || newCA.Subject.String() != oldCA.Subject.String() || !newCA.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(oldCA.PublicKey) {
		t.Error("re-certified CA changed its key, subject or end date")
	}
	if slices.Contains(newCA.PermittedDNSDomains, "fineract.local") || !slices.Contains(newCA.PermittedDNSDomains, "bank.example.org") {
		t.Errorf("re-certified CA permits %v", newCA.PermittedDNSDomains)
	}
	newPool := caPool(t, s.Dir)
	for _, r := range reqs {
		leaf := readCert(t, filepath.Join(s.Dir, r.Name+".crt"))
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: newPool, CurrentTime: testNow, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			t.Errorf("%s does not verify under the re-certified ca.crt: %v", r.Name, err)
		}
	}
	gw := readCert(t, filepath.Join(s.Dir, "gateway.crt"))
	if _, err := gw.Verify(x509.VerifyOptions{DNSName: "bank.example.org", Roots: oldPool, CurrentTime: testNow}); err == nil {
		t.Error("the old ca.crt accepts the new hostname; clients would not need the new one")
	}
	if _, err := gw.Verify(x509.VerifyOptions{DNSName: "bank.example.org", Roots: newPool, CurrentTime: testNow}); err != nil {
		t.Errorf("new gateway certificate under the new ca.crt: %v", err)
	}
	if again := ensure(t, s, reqs); !again.UpToDate() {
		t.Errorf("run after the hostname change is not idle: %v", again.ChangedFiles())
	}
}

func TestEnsureReplacesUnusableCAAndReissuesEverything(t *testing.T) {
	cases := []struct {
		name   string
		breakf func(t *testing.T, s *Store)
		reason string
	}{
		{"key missing", func(t *testing.T, s *Store) { os.Remove(filepath.Join(s.Dir, "ca.key")) }, "ca.key is missing"},
		{"key of another CA", func(t *testing.T, s *Store) {
			other := newStore(t, CAOptions{})
			ensure(t, other, nil)
			data, _ := os.ReadFile(filepath.Join(other.Dir, "ca.key"))
			os.WriteFile(filepath.Join(s.Dir, "ca.key"), data, 0o600)
		}, "does not match"},
		{"ending within a leaf lifetime", func(t *testing.T, s *Store) {
			s.Now = func() time.Time { return testNow.Add(CALifetime - 400*day) }
		}, "the CA expires in 400 days"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, CAOptions{})
			reqs := fullStack("bank.example.org", hostIP)
			ensure(t, s, reqs)
			oldKey, _ := os.ReadFile(filepath.Join(s.Dir, "ca.key"))
			tc.breakf(t, s)
			rep := ensure(t, s, reqs)
			if rep.CA.Action != Reissued || !strings.Contains(strings.Join(rep.CA.Reasons, ";"), tc.reason) {
				t.Fatalf("CA %s %q, want reissued because %q", rep.CA.Action, rep.CA.Reasons, tc.reason)
			}
			for _, r := range rep.Certificates {
				if r.Action != Reissued || !slices.Contains(r.Reasons, "the CA was replaced") {
					t.Errorf("%s: %s %q, want reissued with the CA", r.Name, r.Action, r.Reasons)
				}
			}
			if newKey, _ := os.ReadFile(filepath.Join(s.Dir, "ca.key")); string(newKey) == string(oldKey) {
				t.Error("ca.key kept")
			}
			pool := caPool(t, s.Dir)
			for _, r := range reqs {
				if _, err := readCert(t, filepath.Join(s.Dir, r.Name+".crt")).Verify(x509.VerifyOptions{Roots: pool, CurrentTime: s.now(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
					t.Errorf("%s does not verify under the new CA: %v", r.Name, err)
				}
			}
		})
	}
}

func TestEnsureReissuesOnChangedRequest(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org", hostIP)
	ensure(t, s, reqs)

	i := slices.IndexFunc(reqs, func(r Request) bool { return r.Name == "kafka" })
	reqs[i].Usage = UsageServer
	reqs[i].KeyType = RSA3072
	j := slices.IndexFunc(reqs, func(r Request) bool { return r.Name == "fineract-postgres-client" })
	reqs[j].CommonName = "fineract_tenants"
	rep := ensure(t, s, reqs)
	wantOnly(t, rep, map[string]string{
		"kafka":                    "usage is server+client, want server",
		"fineract-postgres-client": `common name is "fineract", want "fineract_tenants"`,
	})
	if r, _ := rep.Result("kafka"); !slices.Contains(r.Reasons, "key is ECDSA P-256, want rsa-3072") {
		t.Errorf("kafka reasons %q lack the key type", r.Reasons)
	}
	kafka := readCert(t, filepath.Join(s.Dir, "kafka.crt"))
	if k, ok := kafka.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 3072 || kafka.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment {
		t.Errorf("kafka: key %s, usage %v; want RSA 3072 with keyEncipherment", describeKey(kafka.PublicKey), kafka.KeyUsage)
	}
}

func TestEnsureReissuesTamperedPair(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org", hostIP)
	ensure(t, s, reqs)
	redisKey, _ := os.ReadFile(filepath.Join(s.Dir, "redis.key"))
	os.WriteFile(filepath.Join(s.Dir, "grafana.key"), redisKey, 0o600)
	os.WriteFile(filepath.Join(s.Dir, "kibana.crt"), []byte("not a certificate\n"), 0o644)
	os.Remove(filepath.Join(s.Dir, "logstash.crt"))
	foreign := newStore(t, CAOptions{})
	ensure(t, foreign, reqs)
	for _, f := range []string{"vault.crt", "vault.key"} {
		data, _ := os.ReadFile(filepath.Join(foreign.Dir, f))
		os.WriteFile(filepath.Join(s.Dir, f), data, 0o600)
	}

	rep := ensure(t, s, reqs)
	wantOnly(t, rep, map[string]string{
		"grafana":  "grafana.key does not match the certificate",
		"kibana":   "holds no PEM certificate",
		"logstash": "logstash.crt is missing",
		"vault":    "not by the current CA",
	})
}

func TestEnsureRejectsInvalidRequestsBeforeWriting(t *testing.T) {
	cases := map[string]Request{
		"bad name":           {Name: "../etc/passwd", DNSNames: []string{"x"}, Usage: UsageServer},
		"reserved name":      {Name: "ca", DNSNames: []string{"x"}, Usage: UsageServer},
		"no usage":           {Name: "x", DNSNames: []string{"x"}},
		"server without SAN": {Name: "x", Usage: UsageServer},
		"wildcard":           {Name: "x", DNSNames: []string{"*.example.org"}, Usage: UsageServer},
		"IP as DNS name":     {Name: "x", DNSNames: []string{"10.0.0.1"}, Usage: UsageServer},
		"bad label":          {Name: "x", DNSNames: []string{"-x.example.org"}, Usage: UsageServer},
		"unknown key type":   {Name: "x", DNSNames: []string{"x"}, Usage: UsageServer, KeyType: "dsa"},
		"bad owner":          {Name: "x", DNSNames: []string{"x"}, Usage: UsageServer, UID: -2},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			s := newStore(t, CAOptions{})
			_, err := s.Ensure(context.Background(), []Request{r})
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("got %v, want ErrInvalidRequest", err)
			}
			if _, err := os.Stat(s.Dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("an invalid request left %s behind", s.Dir)
			}
		})
	}
	s := newStore(t, CAOptions{})
	r := Request{Name: "x", DNSNames: []string{"x"}, Usage: UsageServer, UID: -1, GID: -1}
	if _, err := s.Ensure(context.Background(), []Request{r, r}); !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "requested twice") {
		t.Errorf("duplicate request: %v", err)
	}
}

func TestEnsureStopsWhenCancelled(t *testing.T) {
	s := newStore(t, CAOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Ensure(ctx, fullStack("bank.example.org")); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestEnsureRemovesLeftoverTempFiles(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org")
	ensure(t, s, reqs)
	leftover := filepath.Join(s.Dir, ".redis.key.tmp-123456")
	if err := os.WriteFile(leftover, []byte("half a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	ensure(t, s, reqs)
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover temp file still there (%v)", err)
	}
}
