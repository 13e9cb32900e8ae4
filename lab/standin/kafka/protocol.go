package main

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The versions the stand-in answers: those of apache/kafka's message
// definitions (clients/src/main/resources/common/message/
// ApiVersionsRequest.json "0-4", MetadataRequest.json "0-12").
var supported = []kmsg.ApiVersionsResponseApiKey{
	{ApiKey: 3, MinVersion: 0, MaxVersion: 12},
	{ApiKey: 18, MinVersion: 0, MaxVersion: 4},
}

// maxRequest bounds what one request may make the stand-in read.
const maxRequest = 1 << 20

const errUnsupportedVersion = 35 // Kafka's UNSUPPORTED_VERSION

func (b *broker) accept(ctx context.Context, ln net.Listener, l listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				log.Printf("ERROR listener %s: %v", l.Name, err)
			}
			return
		}
		go b.serveConn(conn, l)
	}
}

// serveConn answers requests until the client closes the connection or
// sends one the stand-in does not handle. On an SSL listener the TLS
// handshake (with its client certificate check) happens first; a failed
// one is logged as Kafka's SslTransportLayer does and gets no answer.
func (b *broker) serveConn(conn net.Conn, l listener) {
	defer conn.Close()
	if tc, ok := conn.(*tls.Conn); ok {
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			// A peer that closes before the handshake (the healthcheck's
			// TCP probe) is a disconnection, which Kafka's Selector logs at
			// DEBUG only; a failed handshake is a failed authentication.
			if errors.Is(err, io.EOF) {
				return
			}
			log.Printf("INFO [SocketServer listenerType=BROKER, nodeId=%d] Failed authentication with %s (channelId=%s) (SSL handshake failed: %v)", b.cfg.NodeID, conn.RemoteAddr(), l.Name, err)
			return
		}
	}
	for {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Minute))
		resp, err := b.handle(conn)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				log.Printf("INFO [SocketServer nodeId=%d] closing connection from %s on %s: %v", b.cfg.NodeID, conn.RemoteAddr(), l.Name, err)
			}
			return
		}
		if _, err := conn.Write(resp); err != nil {
			return
		}
	}
}

// readFrame reads one size-prefixed Kafka message.
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 8 || n > maxRequest {
		return nil, fmt.Errorf("message size %d out of range", n)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// handle reads one request and returns the framed response.
func (b *broker) handle(r io.Reader) ([]byte, error) {
	msg, err := readFrame(r)
	if err != nil {
		return nil, err
	}
	key := int16(binary.BigEndian.Uint16(msg[0:2]))
	version := int16(binary.BigEndian.Uint16(msg[2:4]))
	corr := int32(binary.BigEndian.Uint32(msg[4:8]))
	body := msg[8:]
	// Request header v1+: a nullable client id (never compact).
	if len(body) < 2 {
		return nil, errors.New("truncated request header")
	}
	if idLen := int16(binary.BigEndian.Uint16(body)); idLen > 0 {
		if len(body) < 2+int(idLen) {
			return nil, errors.New("truncated client id")
		}
		body = body[2+int(idLen):]
	} else {
		body = body[2:]
	}
	var api *kmsg.ApiVersionsResponseApiKey
	for i := range supported {
		if supported[i].ApiKey == key {
			api = &supported[i]
		}
	}
	if api == nil {
		return nil, fmt.Errorf("request with api key %d is not handled by the stand-in", key)
	}
	if version < api.MinVersion || version > api.MaxVersion {
		if key == 18 {
			// Kafka answers an ApiVersions request of an unknown version
			// with UNSUPPORTED_VERSION in a v0 response, listing its own.
			resp := kmsg.NewPtrApiVersionsResponse()
			resp.Version, resp.ErrorCode, resp.ApiKeys = 0, errUnsupportedVersion, supported
			return frame(corr, false, resp.AppendTo(nil)), nil
		}
		return nil, fmt.Errorf("api key %d version %d is not supported", key, version)
	}
	req := kmsg.RequestForKey(key)
	req.SetVersion(version)
	if req.IsFlexible() {
		if body, err = skipTags(body); err != nil {
			return nil, err
		}
	}
	if err := req.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decode api key %d v%d: %w", key, version, err)
	}
	switch q := req.(type) {
	case *kmsg.ApiVersionsRequest:
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.Version, resp.ApiKeys = version, supported
		// ApiVersions responses always use header v0.
		return frame(corr, false, resp.AppendTo(nil)), nil
	case *kmsg.MetadataRequest:
		resp := b.metadata(q)
		return frame(corr, resp.IsFlexible(), resp.AppendTo(nil)), nil
	}
	return nil, fmt.Errorf("api key %d is not handled", key)
}

// metadata lists this node as the only broker and its controller. The
// stand-in has no topics: named ones are UNKNOWN_TOPIC_OR_PARTITION.
func (b *broker) metadata(q *kmsg.MetadataRequest) *kmsg.MetadataResponse {
	resp := kmsg.NewPtrMetadataResponse()
	resp.Version = q.Version
	cluster := b.clusterID
	resp.ClusterID = &cluster
	resp.ControllerID = b.cfg.NodeID
	for _, l := range b.cfg.Advertised {
		if b.cfg.Controller[l.Name] {
			continue
		}
		resp.Brokers = append(resp.Brokers, kmsg.MetadataResponseBroker{NodeID: b.cfg.NodeID, Host: l.Host, Port: int32(l.Port)})
		break
	}
	for _, t := range q.Topics {
		rt := kmsg.NewMetadataResponseTopic()
		rt.Topic, rt.TopicID, rt.ErrorCode = t.Topic, t.TopicID, 3 // UNKNOWN_TOPIC_OR_PARTITION
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// skipTags skips a flexible request header's tagged fields.
func skipTags(b []byte) ([]byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, errors.New("bad tagged field count")
	}
	b = b[k:]
	for range n {
		if _, k = binary.Uvarint(b); k <= 0 {
			return nil, errors.New("bad tag")
		}
		b = b[k:]
		size, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < size {
			return nil, errors.New("bad tag size")
		}
		b = b[k+int(size):]
	}
	return b, nil
}

// frame prefixes a response body with its size and header.
func frame(corr int32, flexibleHeader bool, body []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, 0)
	out = binary.BigEndian.AppendUint32(out, uint32(corr))
	if flexibleHeader {
		out = append(out, 0) // no tagged fields
	}
	out = append(out, body...)
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out
}

// apiVersionsRoundTrip sends ApiVersions v0 and checks the answer.
func apiVersionsRoundTrip(conn net.Conn) error {
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 0
	if _, err := conn.Write(kmsg.NewRequestFormatter(kmsg.FormatterClientID("kafka-standin")).AppendRequest(nil, req, 1)); err != nil {
		return err
	}
	msg, err := readFrame(conn)
	if err != nil {
		return err
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	if err := resp.ReadFrom(msg[4:]); err != nil {
		return err
	}
	if resp.ErrorCode != 0 {
		return fmt.Errorf("ApiVersions error code %d", resp.ErrorCode)
	}
	return nil
}
