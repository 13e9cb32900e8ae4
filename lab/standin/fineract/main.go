// Command fineract-standin is the lab's STAND-IN for Apache Fineract. It is
// not Fineract: Fineract's image cannot be fetched where the lab runs, so the
// lab image tagged with Fineract's reference runs this small program.
//
// It is configured exactly like the real image, through the settings the
// installer renders for Fineract: the FINERACT_* environment variables with
// the defaults of Fineract's application.properties, secrets from a Spring
// config tree (SPRING_CONFIG_IMPORT=configtree:/run/secrets/,... : the file
// name is the property name), and the HTTPS certificate from a PEM SSL
// bundle in an imported .properties file (server.ssl.bundle,
// spring.ssl.bundle.pem.<name>.keystore.*).
//
// What it does:
//   - connects to the tenant store (FINERACT_HIKARI_JDBC_URL, username,
//     password) and to the default tenant's database
//     (FINERACT_DEFAULT_TENANTDB_*) with pgx, honouring the JDBC URL's
//     sslmode and sslrootcert (verify-full checks the server's name);
//   - migrates like Fineract's TenantDatabaseUpgradeService, retrying until
//     the databases answer: the tenant store (tenants and
//     tenant_server_connections with Fineract's columns; on a new store the
//     default tenant registered from FINERACT_DEFAULT_TENANTDB_* with its
//     password encrypted under fineract.tenant.master-password, tenant.go,
//     tenantcrypt.go), then the database of every tenant in the store
//     (m_office, m_appuser, m_role, m_appuser_role, m_permission,
//     m_role_permission, m_password_validation_policy,
//     m_appuser_previous_password with Fineract's seeded rows, and the
//     stand-in's lab_rows; tenantdb.go);
//   - serves HTTPS (or HTTP when FINERACT_SERVER_SSL_ENABLED=false) on
//     FINERACT_SERVER_PORT under the context path /fineract-provider:
//     GET  /actuator/health (and /liveness, /readiness): {"status":"UP"}
//     only when the tenant store and the default tenant's database answer
//     the test query, else DOWN with 503;
//     GET  /actuator/info, /actuator/prometheus (when Fineract would);
//     under /api/v1, for the tenant named by the Fineract-Platform-TenantId
//     header or the tenantIdentifier parameter and looked up in the store
//     on every request, authenticated against that tenant's m_appuser:
//     POST /authentication, GET /users, GET and PUT /users/{id}
//     (users.go; Fineract's validation, status codes and error bodies,
//     apierrors.go), GET /userdetails with OAuth on (bearer tokens verified
//     against the issuer's keys over TLS, the user named by the token's sub,
//     oauth.go), and GET, POST /lab/rows and GET /lab/rows/{id} (stand-in
//     only, rows per tenant, for end-to-end tests).
//
// Schema versions: every migration is a change set recorded in Liquibase's
// databasechangelog table with Liquibase's rules (changelog.go). The
// release is fixed at build time (release.go): v1, v2 (one more change set
// that adds and backfills lab_rows.note_length) and v2-broken (v2's
// migration, then never healthy), for the lab's upgrade and rollback tests.
//
// When Fineract migrates a tenant (apache/fineract read at develop 4198b0b
// (2024-10)): fineract-provider/.../core/service/migration/
// TenantDatabaseUpgradeService.java is an InitializingBean; its
// afterPropertiesSet runs once, at start, upgradeTenantStore() and then
// upgradeIndividualTenants(), which runs Liquibase (schema and initial
// data) on every tenant findAllTenants() returns at that moment. Nothing
// migrates later. Requests, however, read the store: the tenant lookup
// (BasicAuthTenantDetailsServiceJdbc.loadTenantById) finds a tenant
// inserted while Fineract runs (misses are not cached), and
// TomcatJdbcDataSourcePerTenantService makes its pool on first use. So a
// tenant added while Fineract runs is found, but its database has no
// tables until Fineract restarts: requests to it fail (the stand-in
// answers 500); after a restart it is migrated, seeded (mifos/password)
// and served. The stand-in does the same.
//
// It never logs a password.
package main

import (
	"context"
	"crypto/tls"
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

// logger writes Spring-like lines to stdout.
type logger struct {
	mu sync.Mutex
}

func (l *logger) line(level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(os.Stdout, "%s %5s %d --- [fineract-standin] %s\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), level, os.Getpid(), msg)
}

func (l *logger) Info(msg string) { l.line("INFO", msg) }
func (l *logger) Warn(msg string) { l.line("WARN", msg) }

func main() {
	log := &logger{}
	if err := run(log); err != nil {
		log.line("ERROR", "Application run failed: "+err.Error())
		os.Exit(1)
	}
}

func run(log *logger) error {
	rel, err := releaseNamed(release)
	if err != nil {
		return err
	}
	log.Info("Fineract STAND-IN for the fineract-installer lab (not Apache Fineract), release " + rel.Name + ", starting")
	p, err := newProps(os.Environ())
	if err != nil {
		return err
	}
	for _, s := range p.sources {
		log.Info(fmt.Sprintf("imported %s (%d properties)", s.location, len(s.values)))
	}
	cfg, err := loadConfig(p)
	if err != nil {
		return err
	}
	var tlsConf *tls.Config
	if cfg.TLS.Enabled {
		tlsConf, err = cfg.TLS.serverTLS(log.Warn)
		if err != nil {
			return err
		}
	}
	db, err := openDatabase(cfg, rel, log)
	if err != nil {
		return err
	}
	defer db.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	migrated := make(chan error, 1)
	go func() { migrated <- db.migrate(ctx) }()

	srv := &server{cfg: cfg, db: db, log: log}
	if cfg.OAuth {
		if srv.oauth, err = newVerifier(cfg.OAuthSettings); err != nil {
			return err
		}
		log.Info("OAuth2 resource server: issuer " + cfg.OAuthSettings.IssuerURI)
	}
	hs := &http.Server{
		Handler:           srv.routes(),
		TLSConfig:         tlsConf,
		ReadHeaderTimeout: 15 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		return err
	}
	scheme := "http"
	if tlsConf != nil {
		scheme = "https"
	}
	log.Info(fmt.Sprintf("serving %s on port %d, context path %q", scheme, cfg.Port, cfg.ContextPath))
	errc := make(chan error, 1)
	go func() {
		if tlsConf != nil {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case err := <-migrated:
		if err != nil {
			// Fineract's context fails to start: the process ends.
			_ = hs.Close()
			return err
		}
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	log.Info("shutting down gracefully")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
