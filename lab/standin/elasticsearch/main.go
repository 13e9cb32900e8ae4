// Command elasticsearch-standin is the lab's STAND-IN for Elasticsearch
// 8.19.19 (docker.elastic.co/elasticsearch/elasticsearch). It is not
// Elasticsearch: Elastic's images cannot be fetched where the lab runs, so
// the lab image tagged with that reference runs this small program, which
// honours the parts of the image's contract the installer's stack uses:
//
//   - configuration from $ES_PATH_CONF/elasticsearch.yml (default
//     /usr/share/elasticsearch/config): http.port, path.data,
//     xpack.security.http.ssl.* (certificate, key,
//     certificate_authorities, client_authentication, supported_protocols;
//     paths relative to the config directory, as Elasticsearch resolves
//     them) and the PKI realm's certificate_authorities and
//     files.role_mapping;
//   - the bootstrap password of the built-in elastic user from
//     ELASTIC_PASSWORD_FILE, with the rules of the image's
//     bin/elasticsearch-env-from-file (the file must have mode 400 or 600;
//     not together with ELASTIC_PASSWORD);
//   - authentication: basic auth for elastic, and the PKI realm (a client
//     certificate verified against the realm's CAs, its subject DN mapped
//     to roles by role_mapping.yml); authorisation by roles.yml's
//     cluster and index privileges and the built-in superuser and
//     kibana_system roles;
//   - the REST API the stack uses: GET /, /_cluster/health,
//     /_security/_authenticate, POST /_bulk (create into data streams and
//     indices, with index templates and data streams made on first write),
//     /<target>/_search and /_count (match_all, match and match_phrase on
//     one field, q=), /_ilm/policy/<name>, /_index_template/<name>,
//     /<target>/_settings (index.lifecycle.name), /_data_stream/<name>;
//     Elasticsearch's built-in "logs" index template (logs-*-*, priority
//     100, ILM policy "logs") is there from the start;
//   - everything it stores kept in path.data (standin-state.json).
//
// What it cannot prove: anything about the real search engine (mappings,
// analysis, scoring, shards, the transport layer and its TLS, security
// auto-configuration, the keystore), and ILM never runs its phases here:
// a policy is stored and reported, no index rolls over or is deleted.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fineract-installer/fineract-installer/lab/standin/internal/flatconf"
	"github.com/fineract-installer/fineract-installer/lab/standin/internal/tlsfiles"
)

// version is the Elasticsearch version the stand-in answers with.
const version = "8.19.19"

func main() {
	log.SetFlags(0)
	log.SetPrefix("elasticsearch-standin: ")
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	confDir := os.Getenv("ES_PATH_CONF")
	if confDir == "" {
		confDir = "/usr/share/elasticsearch/config"
	}
	conf, err := flatconf.Read(filepath.Join(confDir, "elasticsearch.yml"))
	if err != nil {
		return fmt.Errorf("read elasticsearch.yml: %w", err)
	}
	rel := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(confDir, p)
	}
	port, err := conf.Int("http.port", 9200)
	if err != nil {
		return err
	}
	dataDir := rel(conf.String("path.data", "/usr/share/elasticsearch/data"))

	password, err := bootstrapPassword()
	if err != nil {
		return err
	}
	sec, err := loadSecurity(conf, rel, password)
	if err != nil {
		return err
	}
	st, err := openStore(dataDir)
	if err != nil {
		return err
	}
	tlsConf, err := httpTLS(conf, rel)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           &api{store: st, sec: sec, cluster: conf.String("cluster.name", "elasticsearch"), node: conf.String("node.name", "node")},
		TLSConfig:         tlsConf,
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(conf.String("network.host", "0.0.0.0"), strconv.Itoa(port)))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Printf("stand-in for Elasticsearch %s listening on %s (HTTPS %t), data in %s", version, ln.Addr(), tlsConf != nil, dataDir)
	if tlsConf != nil {
		err = srv.ServeTLS(ln, "", "")
	} else {
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// bootstrapPassword is ELASTIC_PASSWORD_FILE's content, else
// ELASTIC_PASSWORD, as the image's bin/elasticsearch-env-from-file (sourced
// by its entrypoint) reads it: both set is an error, the file must have
// mode 400 or 600, and $(cat file) drops trailing newlines.
func bootstrapPassword() (string, error) {
	f := os.Getenv("ELASTIC_PASSWORD_FILE")
	if f == "" {
		return os.Getenv("ELASTIC_PASSWORD"), nil
	}
	if _, set := os.LookupEnv("ELASTIC_PASSWORD"); set {
		return "", errors.New("ERROR: Both ELASTIC_PASSWORD_FILE and ELASTIC_PASSWORD are set. these are mutually exclusive")
	}
	fi, err := os.Stat(f)
	if err != nil {
		return "", fmt.Errorf("ERROR: File %s from ELASTIC_PASSWORD_FILE does not exist or cannot be read: %w", f, err)
	}
	if perm := fi.Mode().Perm(); perm != 0o400 && perm != 0o600 {
		return "", fmt.Errorf("ERROR: File %s from ELASTIC_PASSWORD_FILE must have file permissions 400 or 600, but actually has: %o", f, perm)
	}
	data, err := os.ReadFile(f)
	if err != nil {
		return "", fmt.Errorf("ERROR: File %s from ELASTIC_PASSWORD_FILE is not readable: %w", f, err)
	}
	return strings.TrimRight(string(data), "\n"), nil
}

// httpTLS is the HTTP layer's TLS from xpack.security.http.ssl.*; nil when
// it is off.
func httpTLS(conf flatconf.Settings, rel func(string) string) (*tls.Config, error) {
	on, err := conf.Bool("xpack.security.http.ssl.enabled", false)
	if err != nil || !on {
		return nil, err
	}
	ssl := conf.Under("xpack.security.http.ssl")
	cert, err := tlsfiles.KeyPair(rel(ssl.String("certificate", "")), rel(ssl.String("key", "")))
	if err != nil {
		return nil, err
	}
	min, err := tlsfiles.MinVersion(ssl.Strings("supported_protocols"))
	if err != nil {
		return nil, fmt.Errorf("xpack.security.http.ssl.supported_protocols: %w", err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: min}
	var cas []string
	for _, f := range ssl.Strings("certificate_authorities") {
		cas = append(cas, rel(f))
	}
	if len(cas) > 0 {
		if c.ClientCAs, err = tlsfiles.Pool(cas...); err != nil {
			return nil, err
		}
	}
	// Elasticsearch's default for the HTTP layer is optional.
	switch mode := ssl.String("client_authentication", "optional"); mode {
	case "none":
		c.ClientAuth = tls.NoClientCert
	case "optional":
		c.ClientAuth = tls.VerifyClientCertIfGiven
	case "required":
		c.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		return nil, fmt.Errorf("xpack.security.http.ssl.client_authentication %q is not none, optional or required", mode)
	}
	return c, nil
}
