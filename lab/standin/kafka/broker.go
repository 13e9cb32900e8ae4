package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fineract-installer/fineract-installer/lab/standin/internal/tlsfiles"
)

// listener is one entry of listeners=NAME://host:port.
type listener struct {
	Name     string
	Host     string
	Port     int
	Protocol string // SSL or PLAINTEXT, from listener.security.protocol.map
}

// brokerConfig is what the stand-in reads from server.properties.
type brokerConfig struct {
	NodeID     int32
	Listeners  []listener
	Advertised []listener
	// Controller names the controller listeners; Voters is
	// controller.quorum.voters as host:port.
	Controller map[string]bool
	Voters     []string
	LogDirs    []string
	// Server is the TLS configuration of SSL listeners; Client the one the
	// node uses towards its controller quorum.
	Server, Client *tls.Config
}

func parseListeners(value string, protocols map[string]string) ([]listener, error) {
	var out []listener
	for _, item := range strings.Split(value, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, addr, ok := strings.Cut(item, "://")
		if !ok {
			return nil, fmt.Errorf("listener %q is not NAME://host:port", item)
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("listener %q: %w", item, err)
		}
		n, err := strconv.Atoi(port)
		if err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("listener %q: bad port", item)
		}
		proto := protocols[name]
		if proto == "" {
			// Without a map, Kafka's listener names are protocols.
			proto = name
		}
		if proto != "SSL" && proto != "PLAINTEXT" {
			return nil, fmt.Errorf("listener %s: security protocol %s is not supported by the stand-in (SSL, PLAINTEXT)", name, proto)
		}
		out = append(out, listener{Name: name, Host: host, Port: n, Protocol: proto})
	}
	return out, nil
}

func loadBrokerConfig(p props) (*brokerConfig, error) {
	c := &brokerConfig{Controller: map[string]bool{}, LogDirs: p.logDirs()}
	id, err := strconv.ParseInt(p["node.id"], 10, 32)
	if err != nil {
		return nil, fmt.Errorf("node.id %q: %w", p["node.id"], err)
	}
	c.NodeID = int32(id)
	protocols := map[string]string{}
	for _, kv := range p.list("listener.security.protocol.map") {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			return nil, fmt.Errorf("listener.security.protocol.map: %q is not NAME:PROTOCOL", kv)
		}
		protocols[k] = v
	}
	if c.Listeners, err = parseListeners(p["listeners"], protocols); err != nil {
		return nil, err
	}
	if len(c.Listeners) == 0 {
		return nil, errors.New("listeners is empty")
	}
	if c.Advertised, err = parseListeners(p["advertised.listeners"], protocols); err != nil {
		return nil, err
	}
	for _, n := range p.list("controller.listener.names") {
		c.Controller[n] = true
	}
	for _, v := range p.list("controller.quorum.voters") {
		_, addr, ok := strings.Cut(v, "@")
		if !ok {
			return nil, fmt.Errorf("controller.quorum.voters: %q is not id@host:port", v)
		}
		c.Voters = append(c.Voters, addr)
	}
	if len(c.LogDirs) == 0 {
		return nil, errors.New("log.dirs is empty")
	}
	if c.Server, c.Client, err = loadTLS(p); err != nil {
		return nil, err
	}
	return c, nil
}

// loadTLS reads the ssl.* settings the assets use: PEM key store and trust
// store files (apache/kafka DefaultSslEngineFactory: a PEM file key store
// holds the private key and the certificate chain), client authentication,
// protocols and host-name verification of the node's own client side.
func loadTLS(p props) (server, client *tls.Config, err error) {
	if t := p["ssl.keystore.type"]; t != "" && t != "PEM" {
		return nil, nil, fmt.Errorf("ssl.keystore.type=%s: the stand-in reads PEM key stores only", t)
	}
	if t := p["ssl.truststore.type"]; t != "" && t != "PEM" {
		return nil, nil, fmt.Errorf("ssl.truststore.type=%s: the stand-in reads PEM trust stores only", t)
	}
	ksPath, tsPath := p["ssl.keystore.location"], p["ssl.truststore.location"]
	if ksPath == "" {
		return nil, nil, nil // no SSL listener can be served; checked by the caller
	}
	if p["ssl.keystore.password"] != "" {
		return nil, nil, errors.New("SSL key store password cannot be specified with PEM format, only key password may be specified")
	}
	if p["ssl.key.password"] != "" {
		return nil, nil, errors.New("ssl.key.password: encrypted PEM keys are not supported by the stand-in")
	}
	ks, err := os.ReadFile(ksPath)
	if err != nil {
		return nil, nil, fmt.Errorf("ssl.keystore.location: %w", err)
	}
	if err := kafkaPEMKeyStore(ks); err != nil {
		return nil, nil, fmt.Errorf("ssl.keystore.location %s: %w", ksPath, err)
	}
	cert, err := tls.X509KeyPair(ks, ks)
	if err != nil {
		return nil, nil, fmt.Errorf("ssl.keystore.location %s: %w", ksPath, err)
	}
	roots := x509.NewCertPool()
	if tsPath != "" {
		ts, err := os.ReadFile(tsPath)
		if err != nil {
			return nil, nil, fmt.Errorf("ssl.truststore.location: %w", err)
		}
		n := 0
		for rest := ts; ; {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if b.Type != "CERTIFICATE" || err != nil {
				return nil, nil, fmt.Errorf("ssl.truststore.location %s: not a PEM certificate bundle", tsPath)
			}
			roots.AddCert(c)
			n++
		}
		if n == 0 {
			return nil, nil, fmt.Errorf("ssl.truststore.location %s holds no certificate", tsPath)
		}
	}
	minV, maxV, err := tlsVersions(p.list("ssl.enabled.protocols"))
	if err != nil {
		return nil, nil, err
	}
	server = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: roots, MinVersion: minV, MaxVersion: maxV}
	switch a := p["ssl.client.auth"]; a {
	case "required":
		server.ClientAuth = tls.RequireAndVerifyClientCert
	case "requested":
		server.ClientAuth = tls.VerifyClientCertIfGiven
	case "", "none":
		server.ClientAuth = tls.NoClientCert
	default:
		return nil, nil, fmt.Errorf("ssl.client.auth=%s: not none, requested or required", a)
	}
	client = &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, MinVersion: minV, MaxVersion: maxV}
	// An empty ssl.endpoint.identification.algorithm turns host-name
	// verification off; "https" (Kafka's default) keeps it.
	if p["ssl.endpoint.identification.algorithm"] == "" {
		if _, set := p["ssl.endpoint.identification.algorithm"]; set {
			client.InsecureSkipVerify = true
			client.VerifyPeerCertificate = verifyChainOnly(roots)
		}
	}
	return server, client, nil
}

// kafkaPEMKeyStore applies Kafka's rules for a PEM key store file
// (apache/kafka DefaultSslEngineFactory.PemStore): exactly one unencrypted
// PKCS#8 "PRIVATE KEY" (SEC1 or PKCS#1 blocks are not read) and at least
// one certificate.
func kafkaPEMKeyStore(data []byte) error {
	keys, certs := 0, 0
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		switch b.Type {
		case "PRIVATE KEY":
			keys++
		case "CERTIFICATE":
			certs++
		}
	}
	switch {
	case keys == 0:
		return errors.New("private key not provided (a PKCS#8 PRIVATE KEY block)")
	case keys > 1:
		return fmt.Errorf("expected one private key, but found %d", keys)
	case certs == 0:
		return errors.New("at least one certificate expected, but none found")
	}
	return nil
}

// tlsVersions reads ssl.enabled.protocols (Kafka's default is TLSv1.2,TLSv1.3).
func tlsVersions(protocols []string) (minV, maxV uint16, err error) {
	minV, maxV, err = tlsfiles.Versions(protocols)
	if err != nil {
		return 0, 0, fmt.Errorf("ssl.enabled.protocols: %w", err)
	}
	return minV, maxV, nil
}

// verifyChainOnly verifies the peer's chain without its host name.
func verifyChainOnly(roots *x509.CertPool) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("no certificate")
		}
		certs := make([]*x509.Certificate, len(raw))
		for i, r := range raw {
			c, err := x509.ParseCertificate(r)
			if err != nil {
				return err
			}
			certs[i] = c
		}
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
		return err
	}
}

func serverStart(args []string) error {
	if len(args) != 1 {
		return errors.New("USAGE: kafka-server-start.sh server.properties (the stand-in takes no --override)")
	}
	if err := checkLog4j(os.Getenv("KAFKA_LOG4J_OPTS")); err != nil {
		return err
	}
	p, err := readProps(args[0])
	if err != nil {
		return err
	}
	cfg, err := loadBrokerConfig(p)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	cluster, err := readMeta(cfg.LogDirs)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	b := &broker{cfg: cfg, clusterID: cluster}
	return b.run(ctx)
}

// checkLog4j requires the file -Dlog4j2.configurationFile names to be
// readable: log4j2 would fall back to its defaults otherwise.
func checkLog4j(opts string) error {
	for _, f := range strings.Fields(opts) {
		if path, ok := strings.CutPrefix(f, "-Dlog4j2.configurationFile="); ok {
			path = strings.TrimPrefix(path, "file:")
			if _, err := os.ReadFile(path); err != nil {
				return fmt.Errorf("KAFKA_LOG4J_OPTS: %w", err)
			}
		}
	}
	return nil
}

type broker struct {
	cfg       *brokerConfig
	clusterID string
}

func (b *broker) listen(l listener) (net.Listener, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(l.Host, strconv.Itoa(l.Port)))
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", l.Name, err)
	}
	if l.Protocol == "SSL" {
		if b.cfg.Server == nil {
			ln.Close()
			return nil, fmt.Errorf("listener %s is SSL but ssl.keystore.location is not set", l.Name)
		}
		ln = tls.NewListener(ln, b.cfg.Server)
	}
	log.Printf("INFO Awaiting socket connections on %s:%d (%s, %s)", l.Host, l.Port, l.Name, l.Protocol)
	return ln, nil
}

// run opens the controller listeners, reaches the controller quorum as a
// combined node's broker does, then opens the broker listeners.
func (b *broker) run(ctx context.Context) error {
	log.Printf("INFO [KafkaRaftServer nodeId=%d] Starting (kafka-standin, cluster %s)", b.cfg.NodeID, b.clusterID)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	serve := func(l listener) error {
		ln, err := b.listen(l)
		if err != nil {
			return err
		}
		lns = append(lns, ln)
		go b.accept(ctx, ln, l)
		return nil
	}
	for _, l := range b.cfg.Listeners {
		if b.cfg.Controller[l.Name] {
			if err := serve(l); err != nil {
				return err
			}
		}
	}
	if err := b.reachQuorum(ctx); err != nil {
		return err
	}
	for _, l := range b.cfg.Listeners {
		if !b.cfg.Controller[l.Name] {
			if err := serve(l); err != nil {
				return err
			}
		}
	}
	log.Printf("INFO [KafkaRaftServer nodeId=%d] Kafka Server started", b.cfg.NodeID)
	<-ctx.Done()
	log.Printf("INFO [KafkaRaftServer nodeId=%d] shut down", b.cfg.NodeID)
	return nil
}

// reachQuorum connects to every voter of controller.quorum.voters with the
// node's own certificate, verifying the voter's (by host name unless
// ssl.endpoint.identification.algorithm is empty), and asks ApiVersions.
func (b *broker) reachQuorum(ctx context.Context) error {
	for _, addr := range b.cfg.Voters {
		for {
			err := b.askVoter(ctx, addr)
			if err == nil {
				log.Printf("INFO [RaftManager nodeId=%d] Connected to controller %s", b.cfg.NodeID, addr)
				break
			}
			log.Printf("WARN [RaftManager nodeId=%d] Connection to controller %s failed: %v", b.cfg.NodeID, addr, err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(2 * time.Second):
			}
		}
	}
	return nil
}

func (b *broker) askVoter(ctx context.Context, addr string) error {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	proto := "SSL"
	for _, l := range b.cfg.Listeners {
		if b.cfg.Controller[l.Name] {
			proto = l.Protocol
		}
	}
	if proto == "SSL" {
		host, _, _ := net.SplitHostPort(addr)
		cfg := b.cfg.Client.Clone()
		cfg.ServerName = host
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		conn = tc
	}
	return apiVersionsRoundTrip(conn)
}
