// Command keycloak-standin is the lab's STAND-IN for Keycloak. It is not
// Keycloak: Keycloak's image cannot be fetched where the lab runs and Debian
// does not package it, so the lab image tagged with Keycloak's reference
// runs this small program behind /opt/keycloak/bin/kc.sh.
//
// It takes the container configuration the installer renders for the real
// image (quay.io/keycloak/keycloak 26): the command line
// `--config-file=FILE start --import-realm`, the KC_* variables, the
// configuration file's db-password and bootstrap-admin-password, and the
// realm files in /opt/keycloak/data/import. What it does:
//   - keeps its state (realms, signing keys, users) in PostgreSQL at
//     KC_DB_URL, as KC_DB_USERNAME, honouring the JDBC URL's sslmode and
//     sslrootcert (verify-full checks the server's name);
//   - on the first start creates the master realm with the bootstrap admin
//     and the admin-cli client; --import-realm imports each realm file
//     whose realm does not exist yet (realm settings, clients, users);
//   - serves HTTPS (TLS versions from KC_HTTPS_PROTOCOLS, certificate from
//     KC_HTTPS_CERTIFICATE_FILE and _KEY_FILE) on KC_HTTPS_PORT under
//     KC_HTTP_RELATIVE_PATH, with issuer KC_HOSTNAME/realms/<realm>: OIDC
//     discovery, the authorization endpoint (code flow, PKCE, a login form),
//     the token endpoint (authorization_code, and password for clients with
//     direct access grants), JWKS, userinfo, and an admin API subset (GET a
//     realm; create, find and delete users);
//   - serves /health/live and /health/ready in plain HTTP on the management
//     port (KC_HTTP_MANAGEMENT_PORT) when KC_HEALTH_ENABLED is true.
//
// Sessions live in memory only. It never logs a password or a token.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// logger writes Quarkus-like lines to stdout.
type logger struct{ mu sync.Mutex }

func (l *logger) line(level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(os.Stdout, "%s %-5s [keycloak-standin] %s\n", time.Now().UTC().Format("2006-01-02 15:04:05,000"), level, msg)
}

func (l *logger) Info(msg string) { l.line("INFO", msg) }
func (l *logger) Warn(msg string) { l.line("WARN", msg) }

func main() {
	log := &logger{}
	if err := run(log); err != nil {
		log.line("ERROR", err.Error())
		os.Exit(1)
	}
}

func run(log *logger) error {
	log.Info("keycloak-standin: a lab STAND-IN for Keycloak, not Keycloak")
	cmd, err := parseArgs(os.Args[1:])
	if err != nil {
		return err
	}
	cfg, err := loadConfig(cmd.ConfigFile, os.Getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.bootstrap(ctx, cfg); err != nil {
		return err
	}
	if cmd.ImportRealm {
		if err := st.importDir(ctx, importDir, log); err != nil {
			return err
		}
	}
	tlsCfg, err := cfg.serverTLS()
	if err != nil {
		return err
	}
	srv := newServer(cfg, st, log)
	https := &http.Server{
		Addr:              ":" + strconv.Itoa(cfg.HTTPSPort),
		Handler:           srv.routes(),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", https.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", https.Addr, err)
	}
	errc := make(chan error, 2)
	go func() { errc <- https.ServeTLS(ln, "", "") }()
	var mgmt *http.Server
	if cfg.HealthEnabled {
		mgmt = &http.Server{Addr: ":" + strconv.Itoa(cfg.ManagementPort), Handler: srv.management(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- mgmt.ListenAndServe() }()
	}
	log.Info(fmt.Sprintf("Listening on: https://0.0.0.0:%d%s; management interface http://0.0.0.0:%d%s", cfg.HTTPSPort, cfg.RelativePath, cfg.ManagementPort, cfg.ManagementPath))
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = https.Shutdown(shut)
	if mgmt != nil {
		_ = mgmt.Shutdown(shut)
	}
	log.Info("stopped")
	return nil
}
