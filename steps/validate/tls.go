package validate

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fineract-installer/fineract-installer/compose/nsdial"
)

// TLSChecks prove encryption in transit by real handshakes.
func TLSChecks() []Check {
	transit := []Control{ControlTransit}
	return []Check{
		{ID: "tls-gateway-version", Area: AreaTLS, Title: "Gateway refuses TLS older than its minimum", Controls: transit, Run: checkGatewayVersion},
		{ID: "tls-gateway-chain", Area: AreaTLS, Title: "Gateway certificate verifies for the hostname", Controls: transit, Run: checkGatewayChain},
		{ID: "tls-internal", Area: AreaTLS, Title: "Every internal TLS endpoint verifies with the stack's CA", Controls: transit, Run: checkInternalTLS},
		{ID: "tls-internal-version", Area: AreaTLS, Title: "Internal endpoints that require TLS 1.3 refuse TLS 1.2", Controls: transit, Run: checkInternalVersions},
		{ID: "tls-postgres", Area: AreaTLS, Title: "PostgreSQL speaks TLS (SSLRequest answered)", Controls: transit, Run: checkPostgresTLS},
		{ID: "tls-expiry", Area: AreaTLS, Title: "Served certificates have more than 30 days left", Controls: transit, Run: checkExpiry},
	}
}

// handshake is the outcome of one TLS handshake.
type handshake struct {
	endpoint string
	version  uint16
	leaf     *x509.Certificate
	// served is every certificate the server sent, in order; chains are
	// the paths verification built from them to a trusted root.
	served []*x509.Certificate
	chains [][]*x509.Certificate
	err    error
	// reached is true once a connection was made: a later err is the
	// server's answer, not a listener that could not be reached.
	reached bool
}

// tlsProbe performs a verified handshake over conn and reports what the
// server presented, even when the server then refuses a client without a
// certificate (mutual TLS): verification happens on what it sent.
func tlsProbe(ctx context.Context, conn net.Conn, serverName string, roots *x509.CertPool, maxVersion uint16) handshake {
	h := handshake{endpoint: serverName}
	cfg := &tls.Config{ServerName: serverName, RootCAs: roots, MinVersion: tls.VersionTLS12, MaxVersion: maxVersion,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) > 0 {
				h.leaf = cs.PeerCertificates[0]
			}
			h.served, h.chains = cs.PeerCertificates, cs.VerifiedChains
			h.version = cs.Version
			return nil
		}}
	tc := tls.Client(conn, cfg)
	defer tc.Close()
	deadline, ok := ctx.Deadline()
	if !ok || time.Until(deadline) > 10*time.Second {
		deadline = time.Now().Add(10 * time.Second)
	}
	_ = tc.SetDeadline(deadline)
	h.err = tc.HandshakeContext(ctx)
	if h.err == nil {
		h.version = tc.ConnectionState().Version
	}
	return h
}

// caPool is the stack's CA, from the install dir.
func (t *Target) caPool() (*x509.CertPool, error) {
	certs, err := t.caCerts()
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// caCerts are the stack's CA certificate and, for an imported
// intermediate CA, its issuers.
func (t *Target) caCerts() ([]*x509.Certificate, error) {
	if t.CA == nil {
		return nil, errors.New("the stack's CA certificate is not available")
	}
	certs, err := parsePEMCerts(t.CA)
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("the stack's CA certificate does not parse: %v", err)
	}
	return certs, nil
}

// gatewayPool is what browsers trust the gateway with: the system trust
// store (a public certificate the operator imported) and the stack's CA.
func (t *Target) gatewayPool() (*x509.CertPool, error) {
	certs, err := t.caCerts()
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// parsePEMCerts reads every certificate of a PEM bundle, in order.
func parsePEMCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return out, nil
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

// chainsTo reports whether a verified path runs through the stack's CA.
func chainsTo(chains [][]*x509.Certificate, ca *x509.Certificate) bool {
	for _, chain := range chains {
		for _, c := range chain {
			if c.Equal(ca) {
				return true
			}
		}
	}
	return false
}

// dialService connects to a port of a service from inside its own network
// namespace: every internal listener, without publishing anything.
func (t *Target) dialService(ctx context.Context, service string, port int) (net.Conn, error) {
	cs, err := t.inspectAll(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := cs[service]
	if !ok || c.State == nil || c.State.Pid == 0 {
		return nil, fmt.Errorf("%s is not running", service)
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	return nsdial.DialInNamespaceWith(ctx, d, fmt.Sprintf("/proc/%d/ns/net", c.State.Pid), "tcp", fmt.Sprintf("127.0.0.1:%d", port))
}

// gatewayAddr is where the published gateway listens on the host.
func (t *Target) gatewayAddr() string {
	host := t.Answers.Gateway.BindIP
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(t.Answers.Gateway.HTTPSPort))
}

func (t *Target) gatewayHandshake(ctx context.Context, maxVersion uint16) handshake {
	roots, err := t.gatewayPool()
	if err != nil {
		return handshake{err: err}
	}
	conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", t.gatewayAddr())
	if err != nil {
		return handshake{err: err}
	}
	return tlsProbe(ctx, conn, t.Answers.Host.Hostname, roots, maxVersion)
}

func checkGatewayVersion(ctx context.Context, t *Target) Finding {
	h := t.gatewayHandshake(ctx, tls.VersionTLS12)
	switch {
	case t.Answers.Gateway.AllowTLS12 && h.err == nil:
		return pass(fmt.Sprintf("%s accepted TLS 1.2, as the answers allow (allow_tls12)", t.gatewayAddr()))
	case t.Answers.Gateway.AllowTLS12:
		return fail(fmt.Sprintf("a TLS 1.2 client was refused although allow_tls12 is set: %v", h.err), "re-run the install to render the gateway configuration again")
	case h.err == nil:
		return fail(fmt.Sprintf("%s accepted a TLS 1.2-only client", t.gatewayAddr()), "the gateway must serve TLS 1.3 only: re-run the install to render its configuration")
	}
	h13 := t.gatewayHandshake(ctx, tls.VersionTLS13)
	if h13.err != nil {
		return fail(fmt.Sprintf("TLS 1.2 refused, but TLS 1.3 also fails: %v", h13.err), "see `fineract-installer logs gateway`")
	}
	return pass(fmt.Sprintf("%s: TLS 1.2 client refused (%v); TLS 1.3 accepted", t.gatewayAddr(), shortErr(h.err)))
}

// checkGatewayChain verifies the gateway for the hostname as a browser
// would, and requires it to serve exactly the chain in pki/gateway.crt:
// the one the installer issued or the operator imported, certificate by
// certificate.
func checkGatewayChain(ctx context.Context, t *Target) Finding {
	const fix = "`fineract-installer certs show`; `certs rotate gateway` reissues it (`--chain FILE --key FILE` for an imported one)"
	h := t.gatewayHandshake(ctx, tls.VersionTLS13)
	if h.err != nil {
		return fail(fmt.Sprintf("handshake with %s as %s: %v", t.gatewayAddr(), t.Answers.Host.Hostname, h.err), fix)
	}
	want, err := parsePEMCerts(t.GatewayChain)
	if err != nil || len(want) == 0 {
		return fail(fmt.Sprintf("pki/gateway.crt is missing or holds no readable certificate (%v)", err), fix)
	}
	if !slices.EqualFunc(h.served, want, func(a, b *x509.Certificate) bool { return a.Equal(b) }) {
		return fail(fmt.Sprintf("%s serves %s, but pki/gateway.crt holds %s", t.gatewayAddr(), describeChain(h.served), describeChain(want)),
			"recreate the gateway so it loads pki/gateway.crt: `fineract-installer install --answers FILE` (or `certs rotate gateway`)")
	}
	root := "a trusted root"
	if len(h.chains) > 0 {
		root = h.chains[0][len(h.chains[0])-1].Subject.String()
	}
	return pass(fmt.Sprintf("%s serves exactly pki/gateway.crt: %s; valid for %s, verified to %s", t.gatewayAddr(), describeChain(h.served),
		t.Answers.Host.Hostname, root))
}

// describeChain names each certificate with its SHA-256 fingerprint.
func describeChain(certs []*x509.Certificate) string {
	parts := make([]string, len(certs))
	for i, c := range certs {
		sum := sha256.Sum256(c.Raw)
		parts[i] = fmt.Sprintf("%s (SHA-256 %X)", c.Subject, sum[:])
	}
	return strings.Join(parts, ", ")
}

// internalHandshakes probes every internal TLS listener once per run.
func (t *Target) internalHandshakes(ctx context.Context, maxVersion uint16) []handshake {
	roots, err := t.caPool()
	if err != nil {
		return []handshake{{endpoint: "CA", err: err}}
	}
	var mu sync.Mutex
	var out []handshake
	var wg sync.WaitGroup
	for _, svc := range t.Expect.Services {
		for _, ep := range svc.TLS {
			if ep.Postgres {
				continue // checked through its own protocol
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("%s:%d", svc.Name, ep.Port)
				var h handshake
				conn, err := t.dialService(ctx, svc.Name, ep.Port)
				if err != nil {
					h = handshake{err: err}
				} else {
					h = tlsProbe(ctx, conn, svc.Name, roots, maxVersion)
					h.reached = true
				}
				h.endpoint = name
				if maxVersion == tls.VersionTLS12 && !ep.MinTLS13 {
					return // only listeners that promise 1.3 are asked to refuse 1.2
				}
				mu.Lock()
				out = append(out, h)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].endpoint < out[j].endpoint })
	return out
}

// A server that refuses a client without a certificate fails the handshake
// after sending its own: that still proves TLS and the chain.
func mutualTLSRefusal(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "certificate required") || strings.Contains(err.Error(), "bad certificate"))
}

func checkInternalTLS(ctx context.Context, t *Target) Finding {
	cas, err := t.caCerts()
	if err != nil {
		return fail(err.Error(), "`fineract-installer certs generate` writes the CA again")
	}
	var good, bad, subjects []string
	for _, h := range t.internalHandshakes(ctx, tls.VersionTLS13) {
		switch {
		case h.leaf != nil && (h.err == nil || mutualTLSRefusal(h.err)) && !chainsTo(h.chains, cas[0]):
			bad = append(bad, fmt.Sprintf("%s: %s does not chain to the stack's CA %s", h.endpoint, h.leaf.Subject, cas[0].Subject))
			subjects = append(subjects, strings.Split(h.endpoint, ":")[0])
		case h.leaf != nil && (h.err == nil || mutualTLSRefusal(h.err)):
			note := tlsName(h.version)
			if h.err != nil {
				note += ", client certificate required"
			}
			good = append(good, fmt.Sprintf("%s (%s, %s)", h.endpoint, h.leaf.Subject.CommonName, note))
		default:
			bad = append(bad, fmt.Sprintf("%s: %v", h.endpoint, shortErr(h.err)))
			subjects = append(subjects, strings.Split(h.endpoint, ":")[0])
		}
	}
	if len(bad) > 0 {
		return Finding{Status: Fail, Evidence: strings.Join(bad, "; "), Fix: "`fineract-installer certs show` lists the certificates; `certs rotate SERVICE` reissues one", Subject: strings.Join(subjects, ", ")}
	}
	return pass(fmt.Sprintf("verified to the stack's CA %s: %s", cas[0].Subject, strings.Join(good, "; ")))
}

func checkInternalVersions(ctx context.Context, t *Target) Finding {
	var good, bad []string
	for _, h := range t.internalHandshakes(ctx, tls.VersionTLS12) {
		switch {
		case !h.reached:
			// Not a refusal: nothing answered at all.
			bad = append(bad, fmt.Sprintf("%s could not be reached (%v)", h.endpoint, shortErr(h.err)))
		case h.err == nil:
			bad = append(bad, h.endpoint+" accepted TLS 1.2")
		default:
			good = append(good, fmt.Sprintf("%s refused TLS 1.2 (%s)", h.endpoint, shortErr(h.err)))
		}
	}
	if len(bad) > 0 {
		// What did refuse stays in the evidence next to what did not.
		return fail(strings.Join(append(bad, good...), "; "), "re-run the install to render the configuration again; start what could not be reached")
	}
	return pass(strings.Join(good, "; "))
}

// sslRequest is PostgreSQL's request to switch the connection to TLS:
// length 8, then the magic code 80877103.
var sslRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

// postgresHandshake speaks PostgreSQL's SSLRequest, then TLS.
func (t *Target) postgresHandshake(ctx context.Context, maxVersion uint16) (answer byte, h handshake) {
	roots, err := t.caPool()
	if err != nil {
		return 0, handshake{err: err}
	}
	conn, err := t.dialService(ctx, "postgres", 5432)
	if err != nil {
		return 0, handshake{err: err}
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(sslRequest); err != nil {
		conn.Close()
		return 0, handshake{err: err}
	}
	var b [1]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		conn.Close()
		return 0, handshake{err: err}
	}
	if b[0] != 'S' {
		conn.Close()
		return b[0], handshake{err: fmt.Errorf("server answered %q to SSLRequest", b[0])}
	}
	return 'S', tlsProbe(ctx, conn, "postgres", roots, maxVersion)
}

func checkPostgresTLS(ctx context.Context, t *Target) Finding {
	if _, ok := t.Expect.Service("postgres"); !ok {
		return pass("no PostgreSQL in this stack")
	}
	answer, h := t.postgresHandshake(ctx, tls.VersionTLS13)
	if h.err != nil {
		return fail(fmt.Sprintf("SSLRequest answered %q; handshake: %v", answer, h.err), "PostgreSQL must run with ssl = on and the stack's certificate")
	}
	if cas, err := t.caCerts(); err != nil || !chainsTo(h.chains, cas[0]) {
		return fail(fmt.Sprintf("postgres presents %s, which does not chain to the stack's CA", h.leaf.Subject), "`fineract-installer certs rotate postgres` reissues it")
	}
	_, old := t.postgresHandshake(ctx, tls.VersionTLS12)
	evidence := fmt.Sprintf("SSLRequest answered 'S'; %s handshake verified for postgres (%s)", tlsName(h.version), h.leaf.Subject)
	if old.err == nil {
		return fail(evidence+"; but a TLS 1.2 client was accepted", "set ssl_min_protocol_version = 'TLSv1.3'")
	}
	return pass(evidence + "; TLS 1.2 refused")
}

func checkExpiry(ctx context.Context, t *Target) Finding {
	var leaves []handshake
	if gw := t.gatewayHandshake(ctx, tls.VersionTLS13); gw.leaf != nil {
		gw.endpoint = "gateway"
		leaves = append(leaves, gw)
	}
	for _, h := range t.internalHandshakes(ctx, tls.VersionTLS13) {
		if h.leaf != nil {
			leaves = append(leaves, h)
		}
	}
	if _, ok := t.Expect.Service("postgres"); ok {
		if _, h := t.postgresHandshake(ctx, tls.VersionTLS13); h.leaf != nil {
			h.endpoint = "postgres:5432"
			leaves = append(leaves, h)
		}
	}
	if len(leaves) == 0 {
		return fail("no certificate could be read from any endpoint", "see the other TLS checks")
	}
	status := Pass
	var parts, soon []string
	for _, h := range leaves {
		days := int(time.Until(h.leaf.NotAfter).Hours() / 24)
		parts = append(parts, fmt.Sprintf("%s %dd", h.endpoint, days))
		switch {
		case days < 0:
			status = Fail
			soon = append(soon, h.endpoint)
		case days < 30 && status != Fail:
			status = Warn
			soon = append(soon, h.endpoint)
		}
	}
	f := Finding{Status: status, Evidence: strings.Join(parts, ", ")}
	if status != Pass {
		f.Fix = "`fineract-installer certs rotate` reissues them"
		f.Subject = strings.Join(soon, ", ")
	}
	return f
}

func tlsName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLS 1.3"
	case tls.VersionTLS12:
		return "TLS 1.2"
	}
	return fmt.Sprintf("TLS 0x%04x", v)
}

func shortErr(err error) string {
	if err == nil {
		return "ok"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i > 0 && len(s)-i < 80 {
		return s[i+2:]
	}
	return s
}
