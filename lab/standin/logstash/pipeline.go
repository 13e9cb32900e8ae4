package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-lumber/lj"
	lumber "github.com/elastic/go-lumber/server/v2"

	"github.com/fineract-installer/fineract-installer/lab/standin/internal/tlsfiles"
)

// beatsSettings and esSettings are the settings the stand-in accepts for
// each plugin (logstash-input-beats, logstash-output-elasticsearch). Those
// it does not act on are accepted only where the stack could set them
// harmlessly.
var (
	beatsSettings = []string{"id", "host", "port", "ssl_enabled", "ssl_certificate", "ssl_key", "ssl_certificate_authorities",
		"ssl_client_authentication", "ssl_supported_protocols", "client_inactivity_timeout", "tags", "type"}
	esSettings = []string{"id", "hosts", "ssl_enabled", "ssl_verification_mode", "ssl_certificate_authorities", "ssl_certificate",
		"ssl_key", "ssl_supported_protocols", "user", "password", "data_stream", "data_stream_type", "data_stream_dataset",
		"data_stream_namespace", "data_stream_sync_fields", "data_stream_auto_routing", "index", "action",
		// Refused with data streams below, as the plugin refuses them.
		"ilm_enabled", "ilm_policy", "ilm_rollover_alias", "ilm_pattern", "template", "template_name", "manage_template"}
)

// newPipeline checks a pipeline's configuration and returns its runner.
func newPipeline(ref pipelineRef) (func(context.Context) error, error) {
	matches, err := filepath.Glob(ref.path)
	if err != nil || len(matches) == 0 {
		return nil, fmt.Errorf("path.config %s matches no file", ref.path)
	}
	var src strings.Builder
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			return nil, err
		}
		src.Write(data)
		src.WriteByte('\n')
	}
	pc, err := parsePipeline(src.String())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref.path, err)
	}
	if len(pc.Filters) > 0 {
		return nil, errors.New("the stand-in runs no filters")
	}
	if len(pc.Inputs) != 1 || pc.Inputs[0].Name != "beats" {
		return nil, errors.New("the stand-in runs one beats input")
	}
	if len(pc.Outputs) != 1 || pc.Outputs[0].Name != "elasticsearch" {
		return nil, errors.New("the stand-in runs one elasticsearch output")
	}
	in, err := newBeatsInput(pc.Inputs[0])
	if err != nil {
		return nil, err
	}
	out, err := newESOutput(pc.Outputs[0])
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { return in.run(ctx, out) }, nil
}

type beatsInput struct {
	addr string
	tls  *tls.Config
}

func newBeatsInput(pl plugin) (*beatsInput, error) {
	if err := pl.known(beatsSettings...); err != nil {
		return nil, err
	}
	port := pl.str("port")
	if port == "" {
		return nil, errors.New("beats: port is required")
	}
	host := pl.str("host")
	if host == "" {
		host = "0.0.0.0"
	}
	in := &beatsInput{addr: net.JoinHostPort(host, port)}
	if pl.str("ssl_enabled") != "true" {
		return in, nil
	}
	cert, err := pkcs8KeyPair(pl.str("ssl_certificate"), pl.str("ssl_key"))
	if err != nil {
		return nil, fmt.Errorf("beats: %w", err)
	}
	min, err := tlsfiles.MinVersion(pl.list("ssl_supported_protocols"))
	if err != nil {
		return nil, fmt.Errorf("beats: ssl_supported_protocols: %w", err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: min}
	switch mode := pl.str("ssl_client_authentication"); mode {
	case "", "none":
		c.ClientAuth = tls.NoClientCert
	case "optional", "required":
		cas := pl.list("ssl_certificate_authorities")
		if len(cas) == 0 {
			return nil, errors.New("beats: ssl_client_authentication " + mode + " needs ssl_certificate_authorities")
		}
		if c.ClientCAs, err = tlsfiles.Pool(cas...); err != nil {
			return nil, fmt.Errorf("beats: %w", err)
		}
		c.ClientAuth = tls.VerifyClientCertIfGiven
		if mode == "required" {
			c.ClientAuth = tls.RequireAndVerifyClientCert
		}
	default:
		return nil, fmt.Errorf("beats: ssl_client_authentication %q is not none, optional or required", mode)
	}
	in.tls = c
	return in, nil
}

// pkcs8KeyPair loads a certificate and a key that must be PKCS#8 ("BEGIN
// PRIVATE KEY"): the Logstash plugins read no other key format.
func pkcs8KeyPair(certFile, keyFile string) (tls.Certificate, error) {
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("read ssl_key: %w", err)
	}
	if b, _ := pem.Decode(data); b == nil || b.Type != "PRIVATE KEY" {
		return tls.Certificate{}, fmt.Errorf("ssl_key %s is not a PKCS#8 key (BEGIN PRIVATE KEY)", keyFile)
	}
	return tlsfiles.KeyPair(certFile, keyFile)
}

func (in *beatsInput) run(ctx context.Context, out *esOutput) error {
	ln, err := net.Listen("tcp", in.addr)
	if err != nil {
		return fmt.Errorf("beats: %w", err)
	}
	if in.tls != nil {
		ln = tls.NewListener(ln, in.tls)
	}
	srv, err := lumber.NewWithListener(ln, lumber.Timeout(30*time.Second))
	if err != nil {
		return fmt.Errorf("beats: %w", err)
	}
	defer srv.Close()
	log.Printf("beats input listening on %s (TLS %t)", in.addr, in.tls != nil)
	for {
		select {
		case <-ctx.Done():
			return nil
		case b, ok := <-srv.ReceiveChan():
			if !ok {
				return errors.New("beats: the server stopped")
			}
			out.deliver(ctx, b)
		}
	}
}

type esOutput struct {
	hosts      []string
	client     *http.Client
	user, pass string
	dataStream bool
	dsType     string
	dsDataset  string
	dsNS       string
	index      string
}

func newESOutput(pl plugin) (*esOutput, error) {
	if err := pl.known(esSettings...); err != nil {
		return nil, err
	}
	o := &esOutput{hosts: pl.list("hosts"), user: pl.str("user"), pass: pl.str("password"), index: pl.str("index")}
	if len(o.hosts) == 0 {
		o.hosts = []string{"http://localhost:9200"}
	}
	o.dataStream = pl.str("data_stream") == "true"
	if o.dataStream {
		// logstash-output-elasticsearch data_stream_support.rb,
		// invalid_data_stream_params: these cannot go with data streams.
		for _, k := range []string{"index", "ilm_enabled", "ilm_policy", "ilm_rollover_alias", "ilm_pattern", "template", "template_name", "manage_template"} {
			if _, ok := pl.Settings[k]; ok {
				return nil, fmt.Errorf("elasticsearch: Invalid data stream configuration: [%q]", k)
			}
		}
		if a := pl.str("action"); a != "" && a != "create" {
			return nil, fmt.Errorf("elasticsearch: Invalid data stream configuration: [\"action\"]")
		}
		o.dsType, o.dsDataset, o.dsNS = or(pl.str("data_stream_type"), "logs"), or(pl.str("data_stream_dataset"), "generic"), or(pl.str("data_stream_namespace"), "default")
		for _, v := range []string{o.dsDataset, o.dsNS} {
			if strings.ContainsAny(v, `\/*?"<>| ,#:`) {
				return nil, fmt.Errorf("elasticsearch: Invalid identifier %q", v)
			}
		}
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cas := pl.list("ssl_certificate_authorities"); len(cas) > 0 {
		pool, err := tlsfiles.Pool(cas...)
		if err != nil {
			return nil, fmt.Errorf("elasticsearch: %w", err)
		}
		tc.RootCAs = pool
	}
	switch mode := or(pl.str("ssl_verification_mode"), "full"); mode {
	case "full":
	case "none":
		tc.InsecureSkipVerify = true
	default:
		return nil, fmt.Errorf("elasticsearch: ssl_verification_mode %q is not full or none", mode)
	}
	if pl.str("ssl_certificate") != "" || pl.str("ssl_key") != "" {
		cert, err := pkcs8KeyPair(pl.str("ssl_certificate"), pl.str("ssl_key"))
		if err != nil {
			return nil, fmt.Errorf("elasticsearch: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	o.client = &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 60 * time.Second}
	return o, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// deliver sends a batch to Elasticsearch, retrying until every event is
// stored or dropped, then acknowledges it to the Beat.
func (o *esOutput) deliver(ctx context.Context, b *lj.Batch) {
	pending := make([]map[string]any, 0, len(b.Events))
	for _, ev := range b.Events {
		m, ok := ev.(map[string]any)
		if !ok {
			continue
		}
		pending = append(pending, o.prepare(m))
	}
	for attempt := 0; len(pending) > 0; attempt++ {
		retry, err := o.bulk(ctx, pending)
		if err != nil {
			log.Printf("elasticsearch: %v; retrying", err)
		}
		pending = retry
		if len(pending) == 0 || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Duration(1<<min(attempt, 6))*time.Second, 64*time.Second)):
		}
	}
	if ctx.Err() == nil {
		b.ACK()
	}
}

// prepare sets @timestamp and, for data streams, the data_stream fields
// (data_stream_sync_fields).
func (o *esOutput) prepare(ev map[string]any) map[string]any {
	if _, ok := ev["@timestamp"]; !ok {
		ev["@timestamp"] = time.Now().UTC().Format(time.RFC3339Nano)
	}
	if o.dataStream {
		ds, _ := ev["data_stream"].(map[string]any)
		if ds == nil {
			ds = map[string]any{}
		}
		setDefault(ds, "type", o.dsType)
		setDefault(ds, "dataset", o.dsDataset)
		setDefault(ds, "namespace", o.dsNS)
		ev["data_stream"] = ds
	}
	return ev
}

func setDefault(m map[string]any, k, v string) {
	if s, _ := m[k].(string); s == "" {
		m[k] = v
	}
}

func (o *esOutput) target(ev map[string]any) string {
	if !o.dataStream {
		return or(o.index, "logstash")
	}
	ds := ev["data_stream"].(map[string]any)
	return fmt.Sprintf("%s-%s-%s", ds["type"], ds["dataset"], ds["namespace"])
}

// bulk sends events and returns those to retry.
func (o *esOutput) bulk(ctx context.Context, events []map[string]any) ([]map[string]any, error) {
	var body bytes.Buffer
	action := "index"
	if o.dataStream {
		action = "create"
	}
	for _, ev := range events {
		meta, _ := json.Marshal(map[string]any{action: map[string]any{"_index": o.target(ev)}})
		doc, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		body.Write(meta)
		body.WriteByte('\n')
		body.Write(doc)
		body.WriteByte('\n')
	}
	var lastErr error
	for _, host := range o.hosts {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(host, "/")+"/_bulk", bytes.NewReader(body.Bytes()))
		if err != nil {
			return events, err
		}
		req.Header.Set("Content-Type", "application/x-ndjson")
		if o.user != "" {
			req.SetBasicAuth(o.user, o.pass)
		}
		resp, err := o.client.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			lastErr = fmt.Errorf("bulk request to %s: HTTP %d: %s", host, resp.StatusCode, truncate(data))
			continue
		}
		var res struct {
			Errors bool `json:"errors"`
			Items  []map[string]struct {
				Status int             `json:"status"`
				Error  json.RawMessage `json:"error"`
			} `json:"items"`
		}
		if err := json.Unmarshal(data, &res); err != nil {
			return events, fmt.Errorf("bulk answer: %w", err)
		}
		if !res.Errors {
			return nil, nil
		}
		var retry []map[string]any
		for i, item := range res.Items {
			for _, r := range item {
				switch {
				case r.Status < 300:
				case r.Status == 400 || r.Status == 404:
					log.Printf("elasticsearch: could not index event (status %d, dropped): %s", r.Status, truncate(r.Error))
				default:
					log.Printf("elasticsearch: retrying failed action (status %d): %s", r.Status, truncate(r.Error))
					if i < len(events) {
						retry = append(retry, events[i])
					}
				}
			}
		}
		return retry, nil
	}
	return events, lastErr
}

func truncate(b []byte) string {
	s := string(b)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strconv.Quote(s)
}
