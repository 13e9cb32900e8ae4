// Command logstash-standin is the lab's STAND-IN for Logstash 8.19.19
// (docker.elastic.co/logstash/logstash). It is not Logstash: Elastic's
// images cannot be fetched where the lab runs, so the lab image tagged
// with that reference installs this program as
// /usr/share/logstash/bin/logstash, the path the installer's compose file
// runs, and it honours the parts of Logstash's contract the stack uses:
//
//   - --path.settings DIR: DIR/logstash.yml (path.data, api.http.host,
//     api.http.port, api.enabled) and DIR/pipelines.yml (pipeline.id,
//     path.config), each pipeline's configuration in Logstash's config
//     language (plain plugin blocks; unknown settings are refused as
//     Logstash refuses them);
//   - input beats: the Beats (lumberjack v2) protocol through
//     github.com/elastic/go-lumber, Elastic's own Go implementation, with
//     ssl_enabled, ssl_certificate, ssl_key (PKCS#8 only, as the plugin
//     requires), ssl_certificate_authorities, ssl_client_authentication
//     (none, optional, required) and ssl_supported_protocols; a batch is
//     acknowledged only once Elasticsearch took it;
//   - output elasticsearch: hosts, ssl_* (certificate authorities,
//     client certificate and key, ssl_verification_mode full or none),
//     user/password, and data streams (data_stream, data_stream_type,
//     _dataset, _namespace; create actions to type-dataset-namespace, the
//     data_stream.* fields set on each event; the settings Logstash
//     refuses with data streams, such as ilm_* and template, refused);
//     per-item failures retried (403, 429, 5xx) or dropped (400, 404) as
//     the plugin does;
//   - the monitoring API (GET /) on api.http.host:api.http.port, for the
//     healthcheck; path.data/uuid written at start, as Logstash does.
//
// What it cannot prove: anything about the JVM (heap, the temporary
// directory and JRuby's native code: the tmpdir fix is proved by the
// render test only), filters, codecs, queues, the dead letter queue, and
// the real plugins' defaults beyond the settings listed.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/fineract-installer/fineract-installer/lab/standin/internal/flatconf"
)

const version = "8.19.19"

func main() {
	log.SetFlags(0)
	log.SetPrefix("logstash-standin: ")
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	fs := flag.NewFlagSet("logstash", flag.ContinueOnError)
	settingsDir := fs.String("path.settings", "/usr/share/logstash/config", "settings directory")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	conf, err := flatconf.Read(filepath.Join(*settingsDir, "logstash.yml"))
	if err != nil {
		return fmt.Errorf("read logstash.yml: %w", err)
	}
	dataDir := conf.String("path.data", "/usr/share/logstash/data")
	id, err := nodeUUID(dataDir)
	if err != nil {
		return err
	}
	pipelines, err := loadPipelines(filepath.Join(*settingsDir, "pipelines.yml"))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, len(pipelines)+1)
	for _, p := range pipelines {
		run, err := newPipeline(p)
		if err != nil {
			return fmt.Errorf("pipeline %s: %w", p.id, err)
		}
		go func() { errc <- run(ctx) }()
		log.Printf("pipeline %s started (%s)", p.id, p.path)
	}
	apiOn, err := conf.Bool("api.enabled", true)
	if err != nil {
		return err
	}
	if apiOn {
		port, err := conf.Int("api.http.port", 9600)
		if err != nil {
			return err
		}
		addr := net.JoinHostPort(conf.String("api.http.host", "127.0.0.1"), strconv.Itoa(port))
		go func() { errc <- serveAPI(ctx, addr, id, conf.String("node.name", "logstash"), pipelines) }()
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

// nodeUUID reads or writes path.data/uuid, as Logstash does at start: it
// proves the data volume is writable.
func nodeUUID(dir string) (string, error) {
	p := filepath.Join(dir, "uuid")
	if data, err := os.ReadFile(p); err == nil && len(data) > 0 {
		return string(data), nil
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	if err := os.WriteFile(p, []byte(id), 0o664); err != nil {
		return "", fmt.Errorf("path.data %s is not writable: %w", dir, err)
	}
	return id, nil
}

type pipelineRef struct {
	id, path string
}

func loadPipelines(file string) ([]pipelineRef, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read pipelines.yml: %w", err)
	}
	var list []map[string]any
	if err := yaml.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("pipelines.yml: %w", err)
	}
	var out []pipelineRef
	for _, m := range list {
		id, _ := m["pipeline.id"].(string)
		p, _ := m["path.config"].(string)
		if id == "" || p == "" {
			return nil, errors.New("pipelines.yml: each pipeline needs pipeline.id and path.config (the stand-in does not take config.string)")
		}
		out = append(out, pipelineRef{id: id, path: p})
	}
	if len(out) == 0 {
		return nil, errors.New("pipelines.yml lists no pipeline")
	}
	return out, nil
}

func serveAPI(ctx context.Context, addr, id, name string, pipelines []pipelineRef) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"host": hostname(), "version": version, "http_address": addr,
			"id": id, "name": name, "status": "green", "snapshot": false, "build_flavor": "default",
			"pipeline": map[string]any{"workers": 1, "batch_size": 125}, "standin": true})
	})
	mux.HandleFunc("GET /_node/pipelines", func(w http.ResponseWriter, r *http.Request) {
		ids := map[string]any{}
		for _, p := range pipelines {
			ids[p.id] = map[string]any{"config_path": p.path}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"pipelines": ids})
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Printf("monitoring API on %s", addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("monitoring API: %w", err)
	}
	return nil
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
