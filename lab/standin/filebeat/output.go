package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lumber "github.com/elastic/go-lumber/client/v2"

	"github.com/fineract-installer/fineract-installer/lab/standin/internal/flatconf"
	"github.com/fineract-installer/fineract-installer/lab/standin/internal/tlsfiles"
)

type logstashOutput struct {
	hosts []string
	tls   *tls.Config

	mu     sync.Mutex
	client *lumber.SyncClient
	next   int

	acked  atomic.Int64
	failed atomic.Int64
}

func newLogstashOutput(conf flatconf.Settings) (*logstashOutput, error) {
	ls := conf.Under("output.logstash")
	o := &logstashOutput{hosts: ls.Strings("hosts")}
	if len(o.hosts) == 0 {
		return nil, errors.New("output.logstash.hosts is empty (the stand-in ships to Logstash only)")
	}
	on, err := ls.Bool("ssl.enabled", ls.String("ssl.certificate_authorities", "") != "")
	if err != nil || !on {
		return o, err
	}
	min, err := tlsfiles.MinVersion(ls.Strings("ssl.supported_protocols"))
	if err != nil {
		return nil, fmt.Errorf("output.logstash.ssl.supported_protocols: %w", err)
	}
	c := &tls.Config{MinVersion: min}
	if cas := ls.Strings("ssl.certificate_authorities"); len(cas) > 0 {
		if c.RootCAs, err = tlsfiles.Pool(cas...); err != nil {
			return nil, err
		}
	}
	switch mode := ls.String("ssl.verification_mode", "full"); mode {
	case "full":
	case "none":
		c.InsecureSkipVerify = true
	default:
		return nil, fmt.Errorf("output.logstash.ssl.verification_mode %q: the stand-in knows full and none", mode)
	}
	if cf := ls.String("ssl.certificate", ""); cf != "" {
		cert, err := tlsfiles.KeyPair(cf, ls.String("ssl.key", ""))
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{cert}
	}
	o.tls = c
	return o, nil
}

// send delivers a batch and waits for Logstash's acknowledgement,
// reconnecting (to the next host) and resending until it is acknowledged
// or ctx ends.
func (o *logstashOutput) send(ctx context.Context, batch []any) error {
	for attempt := 0; ; attempt++ {
		err := o.trySend(batch)
		if err == nil {
			o.acked.Add(int64(len(batch)))
			return nil
		}
		o.failed.Add(1)
		log.Printf("output.logstash: %v; retrying", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(time.Duration(1<<min(attempt, 6))*time.Second, 60*time.Second)):
		}
	}
}

func (o *logstashOutput) trySend(batch []any) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.client == nil {
		host := o.hosts[o.next%len(o.hosts)]
		o.next++
		conn, err := net.DialTimeout("tcp", host, 30*time.Second)
		if err != nil {
			return err
		}
		if o.tls != nil {
			c := o.tls.Clone()
			if c.ServerName == "" {
				c.ServerName, _, _ = strings.Cut(host, ":")
			}
			tc := tls.Client(conn, c)
			_ = tc.SetDeadline(time.Now().Add(30 * time.Second))
			if err := tc.Handshake(); err != nil {
				conn.Close()
				return fmt.Errorf("TLS with %s: %w", host, err)
			}
			_ = tc.SetDeadline(time.Time{})
			conn = tc
		}
		cl, err := lumber.NewSyncClientWithConn(conn, lumber.Timeout(60*time.Second))
		if err != nil {
			conn.Close()
			return err
		}
		o.client = cl
	}
	n, err := o.client.Send(batch)
	if err == nil && n < len(batch) {
		err = fmt.Errorf("only %d of %d events acknowledged by Logstash", n, len(batch))
	}
	if err != nil {
		o.client.Close()
		o.client = nil
	}
	return err
}

func serveHTTP(ctx context.Context, addr string, out *logstashOutput) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"beat": "filebeat", "name": hostname(), "version": version, "standin": true})
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"libbeat": map[string]any{"output": map[string]any{
			"events": map[string]any{"acked": out.acked.Load()}, "write": map[string]any{"errors": out.failed.Load()}}}})
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http endpoint: %w", err)
	}
	return nil
}
