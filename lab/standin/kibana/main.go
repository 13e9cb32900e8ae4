// Command kibana-standin is the lab's STAND-IN for Kibana 8.19.19
// (docker.elastic.co/kibana/kibana). It is not Kibana: Elastic's images
// cannot be fetched where the lab runs, so the lab image tagged with that
// reference installs this program as /usr/local/bin/kibana-docker, the
// command the installer's compose file runs, and it honours the parts of
// Kibana's contract the stack uses:
//
//   - -c FILE, repeated: kibana.yml and the one-line YAML files with the
//     encryption keys, merged in order (later files win), as Kibana's
//     --config does;
//   - server.host, server.port, server.basePath with
//     server.rewriteBasePath (routes only under the base path),
//     server.ssl.enabled, .certificate, .key, .supportedProtocols;
//   - xpack.security.encryptionKey, xpack.encryptedSavedObjects.
//     encryptionKey and xpack.reporting.encryptionKey: at least 32
//     characters each when set, as Kibana requires;
//   - elasticsearch.hosts with elasticsearch.ssl.certificateAuthorities,
//     .certificate, .key and .verificationMode (full, certificate, none):
//     Kibana's own requests present the certificate (PKI realm), and the
//     status reflects whether Elasticsearch answers them;
//   - GET <basePath>/api/status: 401 without credentials (security on),
//     200 with credentials Elasticsearch accepts (checked with
//     /_security/_authenticate), 401 with others;
//   - path.data (default /usr/share/kibana/data): a uuid file written at
//     start, as Kibana does.
//
// What it cannot prove: the Kibana application (UI, saved objects, the
// encryption itself, sessions and cookies, spaces, the real status
// levels), and the login flow through the gateway.
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fineract-installer/fineract-installer/lab/standin/internal/flatconf"
	"github.com/fineract-installer/fineract-installer/lab/standin/internal/tlsfiles"
)

const version = "8.19.19"

func main() {
	log.SetFlags(0)
	log.SetPrefix("kibana-standin: ")
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	conf := flatconf.Settings{}
	args := os.Args[1:]
	var files []string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-c", "--config":
			if i+1 == len(args) {
				return errors.New(args[i] + " needs a file")
			}
			files = append(files, args[i+1])
			i++
		default:
			return fmt.Errorf("the stand-in does not take %q", args[i])
		}
	}
	if len(files) == 0 {
		files = []string{"/usr/share/kibana/config/kibana.yml"}
	}
	for _, f := range files {
		s, err := flatconf.Read(f)
		if err != nil {
			return fmt.Errorf("config %s: %w", f, err)
		}
		conf.Merge(s)
	}
	for _, k := range []string{"xpack.security.encryptionKey", "xpack.encryptedSavedObjects.encryptionKey", "xpack.reporting.encryptionKey"} {
		if v, ok := conf[k]; ok && len(fmt.Sprint(v)) < 32 {
			return fmt.Errorf("[config validation of [%s]]: value has length [%d] but it must have a minimum length of [32]", k, len(fmt.Sprint(v)))
		}
	}
	dataDir := conf.String("path.data", "/usr/share/kibana/data")
	if err := writeUUID(dataDir); err != nil {
		return err
	}
	es, err := newESClient(conf)
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(conf.String("server.basePath", ""), "/")
	rewrite, err := conf.Bool("server.rewriteBasePath", false)
	if err != nil {
		return err
	}
	prefix := ""
	if rewrite {
		prefix = base
	}
	var esUp atomic.Bool
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go es.watch(ctx, &esUp)

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/api/status", func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || !es.authenticate(r.Context(), user, pass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="kibana"`)
			writeJSON(w, http.StatusUnauthorized, map[string]any{"statusCode": 401, "error": "Unauthorized", "message": "Unauthorized"})
			return
		}
		level := "available"
		if !esUp.Load() {
			level = "unavailable"
		}
		writeJSON(w, http.StatusOK, map[string]any{"name": conf.String("server.name", "kibana"),
			"version": map[string]any{"number": version}, "status": map[string]any{"overall": map[string]any{"level": level},
				"core": map[string]any{"elasticsearch": map[string]any{"level": level}}}, "standin": true})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	port, err := conf.Int("server.port", 5601)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(conf.String("server.host", "localhost"), strconv.Itoa(port)))
	if err != nil {
		return err
	}
	sslOn, err := conf.Bool("server.ssl.enabled", false)
	if err != nil {
		return err
	}
	if sslOn {
		cert, err := tlsfiles.KeyPair(conf.String("server.ssl.certificate", ""), conf.String("server.ssl.key", ""))
		if err != nil {
			return err
		}
		min, err := tlsfiles.MinVersion(conf.Strings("server.ssl.supportedProtocols"))
		if err != nil {
			return fmt.Errorf("server.ssl.supportedProtocols: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: min})
	}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Printf("stand-in for Kibana %s on %s (HTTPS %t, base path %q)", version, ln.Addr(), sslOn, prefix)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func writeUUID(dir string) error {
	p := filepath.Join(dir, "uuid")
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	if err := os.WriteFile(p, []byte(hex.EncodeToString(b[:])), 0o660); err != nil {
		return fmt.Errorf("path.data %s is not writable: %w", dir, err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type esClient struct {
	hosts  []string
	kibana *http.Client // presents Kibana's certificate
	user   *http.Client // a signed-in person's requests: no certificate
}

func newESClient(conf flatconf.Settings) (*esClient, error) {
	hosts := conf.Strings("elasticsearch.hosts")
	if len(hosts) == 0 {
		hosts = []string{"http://localhost:9200"}
	}
	base := &tls.Config{MinVersion: tls.VersionTLS12}
	if cas := conf.Strings("elasticsearch.ssl.certificateAuthorities"); len(cas) > 0 {
		pool, err := tlsfiles.Pool(cas...)
		if err != nil {
			return nil, err
		}
		base.RootCAs = pool
	}
	switch mode := conf.String("elasticsearch.ssl.verificationMode", "full"); mode {
	case "full":
	case "certificate":
		// Chain only, not the name: verified in VerifyConnection.
		base.InsecureSkipVerify = true
		pool := base.RootCAs
		base.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no server certificate")
			}
			_, err := cs.PeerCertificates[0].Verify(x509Opts(pool, cs))
			return err
		}
	case "none":
		base.InsecureSkipVerify = true
	default:
		return nil, fmt.Errorf("elasticsearch.ssl.verificationMode %q is not full, certificate or none", mode)
	}
	userTLS := base.Clone()
	kibTLS := base.Clone()
	if cf := conf.String("elasticsearch.ssl.certificate", ""); cf != "" {
		cert, err := tlsfiles.KeyPair(cf, conf.String("elasticsearch.ssl.key", ""))
		if err != nil {
			return nil, err
		}
		kibTLS.Certificates = []tls.Certificate{cert}
		if on, _ := conf.Bool("elasticsearch.ssl.alwaysPresentCertificate", false); on {
			userTLS.Certificates = kibTLS.Certificates
		}
	}
	return &esClient{hosts: hosts,
		kibana: &http.Client{Transport: &http.Transport{TLSClientConfig: kibTLS}, Timeout: 15 * time.Second},
		user:   &http.Client{Transport: &http.Transport{TLSClientConfig: userTLS}, Timeout: 15 * time.Second}}, nil
}

// watch checks every few seconds that Elasticsearch answers Kibana's own
// requests (its certificate, through the PKI realm).
func (c *esClient) watch(ctx context.Context, up *atomic.Bool) {
	was := false
	for {
		ok := c.get(ctx, c.kibana, "/_cluster/health", "", "") == nil
		up.Store(ok)
		if ok != was {
			log.Printf("Elasticsearch reachable: %t", ok)
			was = ok
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
	}
}

func (c *esClient) authenticate(ctx context.Context, user, pass string) bool {
	return c.get(ctx, c.user, "/_security/_authenticate", user, pass) == nil
}

func (c *esClient) get(ctx context.Context, cl *http.Client, path, user, pass string) error {
	var lastErr error
	for _, h := range c.hosts {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(h, "/")+path, nil)
		if err != nil {
			return err
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := cl.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		lastErr = fmt.Errorf("%s: HTTP %d", path, resp.StatusCode)
	}
	return lastErr
}
