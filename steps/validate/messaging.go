package validate

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/delivered"
)

// MessagingChecks prove that Kafka and Redis admit only the stack's own
// clients: each is reached from inside its container's network namespace,
// as a client on the data network would reach it.
func MessagingChecks() []Check {
	return []Check{
		{ID: "messaging-kafka", Area: AreaMessaging, Title: "Kafka refuses plain and certificate-less clients, answers the stack's client", Controls: []Control{ControlTransit, ControlSegmentation}, Run: checkKafka, Group: answers.GroupMessaging},
		{ID: "messaging-redis", Area: AreaMessaging, Title: "Redis refuses plain, certificate-less and unauthenticated clients", Controls: []Control{ControlTransit, ControlSecrets}, Run: checkRedis, Group: answers.GroupMessaging},
	}
}

// clientProbeTimeout bounds one client probe; a server that refuses a client
// closes the connection long before.
const clientProbeTimeout = 10 * time.Second

// clientCert loads the certificate a service of the stack presents as a
// client (pki/<name>.crt and .key), read through the pki directory
// without following links out of it.
func (t *Target) clientCert(name string) (tls.Certificate, error) {
	root, err := os.OpenRoot(t.Dir)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("open the install dir: %w", err)
	}
	defer root.Close()
	crt, err := root.ReadFile("pki/" + name + ".crt")
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("read the %s certificate: %w", name, err)
	}
	key, err := root.ReadFile("pki/" + name + ".key")
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("read the %s key: %w", name, err)
	}
	pair, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load the %s certificate: %w", name, err)
	}
	return pair, nil
}

// hasClientCert reports whether a service of the stack holds a
// certificate with client usage.
func (t *Target) hasClientCert(service string) bool {
	svc, ok := t.Expect.Service(service)
	if !ok {
		return false
	}
	for _, c := range svc.Certs {
		if c.Client {
			return true
		}
	}
	return false
}

// dialTLS opens a verified TLS connection to a service's port, presenting
// the given client certificates (none: nil).
func (t *Target) dialTLS(ctx context.Context, service string, port int, certs []tls.Certificate) (*tls.Conn, error) {
	roots, err := t.caPool()
	if err != nil {
		return nil, err
	}
	raw, err := t.dialService(ctx, service, port)
	if err != nil {
		return nil, err
	}
	_ = raw.SetDeadline(time.Now().Add(clientProbeTimeout))
	c := tls.Client(raw, &tls.Config{ServerName: service, RootCAs: roots, Certificates: certs, MinVersion: tls.VersionTLS12})
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return c, nil
}

// kafkaRoundTrip sends one Kafka request and decodes its response.
func kafkaRoundTrip(conn net.Conn, req kmsg.Request, resp kmsg.Response) error {
	const corr = 1
	if _, err := conn.Write(kmsg.NewRequestFormatter(kmsg.FormatterClientID("fineract-installer-validate")).AppendRequest(nil, req, corr)); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 1<<20 {
		return fmt.Errorf("the answer is not a Kafka response (size %d)", n)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(conn, msg); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if got := int32(binary.BigEndian.Uint32(msg)); got != corr {
		return fmt.Errorf("the answer is not a Kafka response (correlation id %d)", got)
	}
	resp.SetVersion(req.GetVersion())
	body := msg[4:]
	// Response header v1 (flexible versions, except ApiVersions) ends
	// with tagged fields.
	if resp.IsFlexible() && resp.Key() != 18 {
		tags, k := binary.Uvarint(body)
		if k <= 0 || tags != 0 {
			return errors.New("unexpected tagged fields in the response header")
		}
		body = body[k:]
	}
	if err := resp.ReadFrom(body); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// kafkaAnswers reports whether a connection answers an ApiVersions
// request with a Kafka response, and what went wrong if not.
func kafkaAnswers(conn net.Conn) (bool, error) {
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 0 // every broker answers v0
	err := kafkaRoundTrip(conn, req, kmsg.NewPtrApiVersionsResponse())
	return err == nil, err
}

func checkKafka(ctx context.Context, t *Target) Finding {
	const port = 9092
	fix := "Kafka's server.properties must keep listeners=SSL only and ssl.client.auth=required: re-run `fineract-installer install` to render it again"
	var evidence []string

	plain, err := t.dialService(ctx, "kafka", port)
	if err != nil {
		return fail(fmt.Sprintf("cannot reach kafka:%d: %v", port, err), "see `fineract-installer logs kafka`")
	}
	_ = plain.SetDeadline(time.Now().Add(clientProbeTimeout))
	answered, why := kafkaAnswers(plain)
	plain.Close()
	if answered {
		return fail(fmt.Sprintf("kafka:%d answered a plain-text ApiVersions request", port), fix)
	}
	evidence = append(evidence, "plain client refused ("+shortErr(why)+")")

	anon, err := t.dialTLS(ctx, "kafka", port, nil)
	if err != nil {
		if !mutualTLSRefusal(err) {
			return fail(fmt.Sprintf("TLS handshake with kafka:%d: %v", port, err), "`fineract-installer certs show`; see `fineract-installer logs kafka`")
		}
		evidence = append(evidence, "TLS client without a certificate refused ("+shortErr(err)+")")
	} else {
		answered, why = kafkaAnswers(anon)
		anon.Close()
		if answered {
			return fail(fmt.Sprintf("kafka:%d answered a TLS client that showed no certificate", port), fix)
		}
		evidence = append(evidence, "TLS client without a certificate refused ("+shortErr(why)+")")
	}

	// The stack's Kafka client is Fineract, which authenticates with its
	// client certificate (assets: certsFor).
	if !t.hasClientCert("fineract") {
		return pass(strings.Join(evidence, "; ") + "; no client of the stack holds a Kafka client certificate")
	}
	cert, err := t.clientCert("fineract")
	if err != nil {
		return fail(err.Error(), "`fineract-installer certs show` lists the certificates")
	}
	conn, err := t.dialTLS(ctx, "kafka", port, []tls.Certificate{cert})
	if err != nil {
		return fail(strings.Join(evidence, "; ")+fmt.Sprintf("; but the TLS handshake with Fineract's certificate failed: %v", err), "`fineract-installer certs rotate kafka` reissues Kafka's certificate")
	}
	defer conn.Close()
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 3
	av.ClientSoftwareName, av.ClientSoftwareVersion = "fineract-installer", "validate"
	avResp := kmsg.NewPtrApiVersionsResponse()
	if err := kafkaRoundTrip(conn, av, avResp); err != nil || avResp.ErrorCode != 0 {
		return fail(strings.Join(evidence, "; ")+fmt.Sprintf("; Fineract's certificate was accepted but ApiVersions failed (%v, error code %d)", err, avResp.ErrorCode), "see `fineract-installer logs kafka`")
	}
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 4
	mdResp := kmsg.NewPtrMetadataResponse()
	if err := kafkaRoundTrip(conn, md, mdResp); err != nil {
		return fail(strings.Join(evidence, "; ")+fmt.Sprintf("; Metadata request with Fineract's certificate: %v", err), "see `fineract-installer logs kafka`")
	}
	var brokers []string
	for _, b := range mdResp.Brokers {
		brokers = append(brokers, fmt.Sprintf("%d@%s:%d", b.NodeID, b.Host, b.Port))
	}
	if len(brokers) == 0 {
		return fail(strings.Join(evidence, "; ")+"; Metadata lists no broker", "see `fineract-installer logs kafka`")
	}
	cluster := ""
	if mdResp.ClusterID != nil {
		cluster = *mdResp.ClusterID
	}
	evidence = append(evidence, fmt.Sprintf("Fineract's certificate (%s) accepted: %d APIs, brokers %s, cluster %s",
		tlsName(conn.ConnectionState().Version), len(avResp.ApiKeys), strings.Join(brokers, ", "), cluster))
	return pass(strings.Join(evidence, "; "))
}

// redisCommand sends one command as a RESP array and returns the first
// line of the reply.
func redisCommand(rw *bufio.ReadWriter, args ...string) (string, error) {
	fmt.Fprintf(rw, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(rw, "$%d\r\n%s\r\n", len(a), a)
	}
	if err := rw.Flush(); err != nil {
		return "", err
	}
	line, err := rw.ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// redisReply is what a connection answers to PING ("" and the error when
// it does not answer).
func redisReply(conn net.Conn) (string, error) {
	return redisCommand(bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn)), "PING")
}

func checkRedis(ctx context.Context, t *Target) Finding {
	const port = 6379
	fix := "redis.conf must keep port 0, tls-port 6379, tls-auth-clients yes and the ACL file: re-run `fineract-installer install` to render it again"
	var evidence []string

	plain, err := t.dialService(ctx, "redis", port)
	if err != nil {
		return fail(fmt.Sprintf("cannot reach redis:%d: %v", port, err), "see `fineract-installer logs redis`")
	}
	_ = plain.SetDeadline(time.Now().Add(clientProbeTimeout))
	reply, err := redisReply(plain)
	plain.Close()
	if err == nil {
		return fail(fmt.Sprintf("redis:%d answered a plain-text PING: %q", port, reply), fix)
	}
	evidence = append(evidence, "plain client refused ("+shortErr(err)+")")

	if anon, err := t.dialTLS(ctx, "redis", port, nil); err != nil {
		if !mutualTLSRefusal(err) {
			return fail(fmt.Sprintf("TLS handshake with redis:%d: %v", port, err), "`fineract-installer certs show`; see `fineract-installer logs redis`")
		}
		evidence = append(evidence, "TLS client without a certificate refused ("+shortErr(err)+")")
	} else {
		reply, err := redisReply(anon)
		anon.Close()
		if err == nil {
			return fail(fmt.Sprintf("redis:%d answered a TLS client that showed no certificate: %q", port, reply), fix)
		}
		evidence = append(evidence, "TLS client without a certificate refused ("+shortErr(err)+")")
	}

	// Redis' own certificate has client usage (its healthcheck logs in
	// with it): the stack's certificate, but no password yet.
	cert, err := t.clientCert("redis")
	if err != nil {
		return fail(err.Error(), "`fineract-installer certs show` lists the certificates")
	}
	conn, err := t.dialTLS(ctx, "redis", port, []tls.Certificate{cert})
	if err != nil {
		return fail(strings.Join(evidence, "; ")+fmt.Sprintf("; but the TLS handshake with the stack's certificate failed: %v", err), "`fineract-installer certs rotate redis` reissues it")
	}
	defer conn.Close()
	rw := bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn))
	reply, err = redisCommand(rw, "PING")
	if err != nil || !strings.HasPrefix(reply, "-NOAUTH") {
		return fail(strings.Join(evidence, "; ")+fmt.Sprintf("; PING without AUTH answered %q (%v), not -NOAUTH", reply, err),
			"the ACL file must require a password for the default user: re-run the install")
	}
	evidence = append(evidence, "PING without AUTH refused (-NOAUTH)")
	svc, _ := t.Expect.Service("redis")
	password, err := delivered.Value(ctx, svc, t.SecretsDir, assets.RedisVaultPath, assets.RedisVaultKey)
	if err != nil {
		return fail(strings.Join(evidence, "; ")+"; cannot read the delivered Redis password: "+err.Error(), "run as root; after a reboot run `fineract-installer unseal` first")
	}
	if reply, err = redisCommand(rw, "AUTH", password); err != nil || reply != "+OK" {
		return fail(strings.Join(evidence, "; ")+fmt.Sprintf("; AUTH with the delivered password answered %q (%v)", shortReply(reply), err), "run `fineract-installer unseal` to deliver the secrets again")
	}
	if reply, err = redisCommand(rw, "PING"); err != nil || reply != "+PONG" {
		return fail(strings.Join(evidence, "; ")+fmt.Sprintf("; PING after AUTH answered %q (%v)", reply, err), "see `fineract-installer logs redis`")
	}
	evidence = append(evidence, fmt.Sprintf("the stack's client (%s, certificate and delivered password) got +PONG", tlsName(conn.ConnectionState().Version)))
	return pass(strings.Join(evidence, "; "))
}

// shortReply keeps a Redis error reply's code only.
func shortReply(s string) string {
	if code, _, ok := strings.Cut(s, " "); ok {
		return code
	}
	return s
}
