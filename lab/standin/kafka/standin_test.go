package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/fineract-installer/fineract-installer/steps/pki"
)

// node is a formatted stand-in node listening on loopback ports, with the
// stack's certificate layout: kafka.pem (key and chain) and ca.crt.
type node struct {
	dir       string
	broker    string
	roots     *x509.CertPool
	clientCrt tls.Certificate
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startNode(t *testing.T) *node {
	t.Helper()
	dir := t.TempDir()
	store := &pki.Store{Dir: dir}
	reqs := []pki.Request{
		{Name: "kafka", DNSNames: []string{"localhost"}, Usage: pki.UsageServer | pki.UsageClient, UID: -1, GID: -1},
		{Name: "fineract", DNSNames: []string{"fineract"}, Usage: pki.UsageServer | pki.UsageClient, UID: -1, GID: -1},
	}
	if _, err := store.Ensure(context.Background(), reqs); err != nil {
		t.Fatal(err)
	}
	read := func(n string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if err := os.WriteFile(filepath.Join(dir, "kafka.pem"), append(read("kafka.key"), read("kafka.crt")...), 0o600); err != nil {
		t.Fatal(err)
	}
	brokerAddr, ctrlAddr := freeAddr(t), freeAddr(t)
	_, ctrlPort, _ := net.SplitHostPort(ctrlAddr)
	_, brokerPort, _ := net.SplitHostPort(brokerAddr)
	conf := strings.Join([]string{
		"process.roles=broker,controller", "node.id=1",
		"controller.quorum.voters=1@localhost:" + ctrlPort,
		"controller.listener.names=CONTROLLER",
		"listeners=SSL://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + ctrlPort,
		"advertised.listeners=SSL://kafka:9092",
		"listener.security.protocol.map=SSL:SSL,CONTROLLER:SSL",
		"ssl.keystore.type=PEM", "ssl.keystore.location=" + filepath.Join(dir, "kafka.pem"),
		"ssl.truststore.type=PEM", "ssl.truststore.location=" + filepath.Join(dir, "ca.crt"),
		"ssl.client.auth=required", "ssl.enabled.protocols=TLSv1.3",
		"ssl.endpoint.identification.algorithm=https",
		"log.dirs=" + filepath.Join(dir, "data"),
	}, "\n")
	cfgPath := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(cfgPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	id, _ := randomUUID()
	var out bytes.Buffer
	if err := storageCommand([]string{"format", "--ignore-formatted", "--cluster-id", id, "--config", cfgPath}, &out); err != nil {
		t.Fatal(err)
	}
	p, _ := readProps(cfgPath)
	cfg, err := loadBrokerConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := readMeta(cfg.LogDirs)
	if err != nil || cluster != id {
		t.Fatalf("meta.properties: %q, %v", cluster, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&broker{cfg: cfg, clusterID: cluster}).run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	client, err := tls.LoadX509KeyPair(filepath.Join(dir, "fineract.crt"), filepath.Join(dir, "fineract.key"))
	if err != nil {
		t.Fatal(err)
	}
	n := &node{dir: dir, broker: brokerAddr, roots: x509.NewCertPool(), clientCrt: client}
	n.roots.AppendCertsFromPEM(read("ca.crt"))
	// The broker listener opens once the controller quorum answered.
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", brokerAddr)
		if err == nil {
			c.Close()
			return n
		}
		if i == 100 {
			t.Fatalf("broker listener never opened: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *node) dial(t *testing.T, certs []tls.Certificate) net.Conn {
	t.Helper()
	c, err := tls.Dial("tcp", n.broker, &tls.Config{RootCAs: n.roots, ServerName: "localhost", Certificates: certs, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func roundTrip(t *testing.T, c net.Conn, req kmsg.Request, resp kmsg.Response) error {
	t.Helper()
	if _, err := c.Write(kmsg.NewRequestFormatter(kmsg.FormatterClientID("test")).AppendRequest(nil, req, 7)); err != nil {
		return err
	}
	msg, err := readFrame(c)
	if err != nil {
		return err
	}
	resp.SetVersion(req.GetVersion())
	body := msg[4:]
	if resp.IsFlexible() && resp.Key() != 18 {
		body = body[1:] // response header v1: no tagged fields
	}
	return resp.ReadFrom(body)
}

func TestKeyStoreMustHoldOnePKCS8Key(t *testing.T) {
	n := startNode(t)
	ks, err := os.ReadFile(filepath.Join(n.dir, "kafka.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := kafkaPEMKeyStore(ks); err != nil {
		t.Errorf("the stack's kafka.pem: %v", err)
	}
	sec1 := bytes.Replace(ks, []byte("PRIVATE KEY-----"), []byte("EC PRIVATE KEY-----"), 2)
	if err := kafkaPEMKeyStore(sec1); err == nil {
		t.Error("a key store without a PKCS#8 PRIVATE KEY block was accepted")
	}
	crt, _ := os.ReadFile(filepath.Join(n.dir, "kafka.crt"))
	if err := kafkaPEMKeyStore(append(append([]byte(nil), ks...), ks[:bytes.Index(ks, crt)]...)); err == nil {
		t.Error("a key store with two private keys was accepted")
	}
}

func TestFormatIsANoOpOnceFormatted(t *testing.T) {
	n := startNode(t)
	meta := filepath.Join(n.dir, "data", metaFile)
	before, _ := os.ReadFile(meta)
	id, _ := randomUUID()
	cfg := filepath.Join(n.dir, "server.properties")
	var out bytes.Buffer
	if err := storageCommand([]string{"format", "--ignore-formatted", "--cluster-id", id, "--config", cfg}, &out); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(meta); !bytes.Equal(before, after) {
		t.Error("format --ignore-formatted rewrote meta.properties")
	}
	if err := storageCommand([]string{"format", "--cluster-id", id, "--config", cfg}, &out); err == nil || !strings.Contains(err.Error(), "already formatted") {
		t.Errorf("format without --ignore-formatted: %v", err)
	}
	if err := storageCommand([]string{"format", "--cluster-id", "not-a-uuid", "--config", cfg}, &out); err == nil {
		t.Error("a cluster id that is no Uuid was accepted")
	}
	noVoters := filepath.Join(t.TempDir(), "server.properties")
	if err := os.WriteFile(noVoters, []byte("process.roles=broker,controller\nnode.id=1\nlog.dirs="+t.TempDir()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := storageCommand([]string{"format", "--cluster-id", id, "--config", noVoters}, &out); err == nil || !strings.Contains(err.Error(), "controller.quorum.voters") {
		t.Errorf("a controller without controller.quorum.voters: %v", err)
	}
}

func TestClientWithCertificateGetsApiVersionsAndMetadata(t *testing.T) {
	n := startNode(t)
	c := n.dial(t, []tls.Certificate{n.clientCrt})
	defer c.Close()
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 3
	av.ClientSoftwareName, av.ClientSoftwareVersion = "test", "1"
	avResp := kmsg.NewPtrApiVersionsResponse()
	if err := roundTrip(t, c, av, avResp); err != nil || avResp.ErrorCode != 0 || len(avResp.ApiKeys) != 2 {
		t.Fatalf("ApiVersions: %v, %+v", err, avResp)
	}
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 12
	mdResp := kmsg.NewPtrMetadataResponse()
	if err := roundTrip(t, c, md, mdResp); err != nil {
		t.Fatal(err)
	}
	if len(mdResp.Brokers) != 1 || mdResp.Brokers[0].Host != "kafka" || mdResp.Brokers[0].Port != 9092 || mdResp.ControllerID != 1 {
		t.Errorf("metadata: %+v", mdResp)
	}
}

func TestClientsWithoutCertificateAreRefused(t *testing.T) {
	n := startNode(t)
	c := n.dial(t, nil)
	defer c.Close()
	err := roundTrip(t, c, kmsg.NewPtrApiVersionsRequest(), kmsg.NewPtrApiVersionsResponse())
	if err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Errorf("TLS client without a certificate: %v", err)
	}
	plain, err := net.Dial("tcp", n.broker)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	_ = plain.SetDeadline(time.Now().Add(10 * time.Second))
	req := kmsg.NewRequestFormatter().AppendRequest(nil, kmsg.NewPtrApiVersionsRequest(), 1)
	if _, err := plain.Write(req); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(plain)
	if len(got) > 0 && !errors.Is(err, os.ErrDeadlineExceeded) {
		// Anything read must be a TLS alert, never a Kafka answer.
		if got[0] != 0x15 {
			t.Errorf("plain client got %x", got)
		}
	}
}
