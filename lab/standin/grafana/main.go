// Command grafana-standin is the lab's STAND-IN for Grafana. It is not
// Grafana: Debian does not package Grafana and no registry is reachable
// where the lab runs, so the lab image tagged with the assets' Grafana
// reference (grafana/grafana:12.4.0) runs this small program, started by
// the image's /run.sh as in the real image (grafana/grafana
// packaging/docker/run.sh: GF_PATHS_* defaults, GF_*__FILE variables
// replaced by the content of the file they name, HOME set, the plugins
// directory made in the data directory).
//
// It reads the settings the installer gives Grafana, by their GF_*
// environment names (Grafana's conf/defaults.ini section_key upper-cased):
// server.protocol, http_port, cert_file, cert_key, min_tls_version,
// root_url and serve_from_sub_path; security.admin_user, admin_password
// and secret_key; auth.anonymous.enabled; users.allow_sign_up. It reads
// the data source provisioning files ($GF_PATHS_PROVISIONING/datasources/
// *.yml and *.yaml, with $VAR, ${VAR}, $__env{VAR} and $__file{path}
// expanded) and serves, under the sub path of root_url:
//
//	GET  /api/health                         {"database":"ok","version":"12.4.0",...}
//	POST /login                              the admin's user and password
//	GET  /api/user                           the signed-in user
//	GET  /api/datasources                    the provisioned data sources
//	GET  /api/datasources/uid/UID            one of them
//	GET  /api/datasources/uid/UID/health     a real query to the data source
//
// The API authenticates with basic authentication (Grafana's
// auth.basic.enabled default) or the session cookie of /login. As in
// Grafana, the admin password is taken on the first start only and kept in
// the data directory (GF_PATHS_DATA); a later change of
// GF_SECURITY_ADMIN_PASSWORD does not change it.
//
// The health of a Prometheus data source is checked as Grafana's
// Prometheus plugin does: an instant query of 1+1 to URL/api/v1/query with
// the data source's TLS settings (tlsAuthWithCACert with tlsCACert,
// tlsAuth with tlsClientCert and tlsClientKey, serverName, tlsSkipVerify)
// and basic authentication (basicAuth, basicAuthUser, basicAuthPassword).
//
// What it cannot prove: anything about Grafana's UI, dashboards, alerting,
// its SQLite database, plugins, or data source types other than
// Prometheus.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// version is the Grafana version the stand-in plays (the assets' pin).
const version = "12.4.0"

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "grafana-standin: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return err
	}
	admin, err := loadAdmin(cfg)
	if err != nil {
		return err
	}
	sources, err := loadDatasources(cfg.ProvisioningDir, os.Getenv)
	if err != nil {
		return err
	}
	srv := &server{cfg: cfg, admin: admin, sources: sources, sessions: map[string]time.Time{}}
	hs := &http.Server{Addr: fmt.Sprintf(":%d", cfg.Port), Handler: srv.routes(), ReadHeaderTimeout: 10 * time.Second}
	if cfg.TLS != nil {
		hs.TLSConfig = cfg.TLS
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hs.Shutdown(shut)
	}()
	log.Printf("logger=http.server level=info msg=\"HTTP Server Listen\" address=%s protocol=%s subUrl=%s (grafana-standin %s, %d data sources)", hs.Addr, cfg.Protocol, cfg.SubPath, version, len(sources))
	if cfg.TLS != nil {
		err = hs.ListenAndServeTLS("", "")
	} else {
		err = hs.ListenAndServe()
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
