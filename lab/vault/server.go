package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/cli"
	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/audit"
	"github.com/hashicorp/vault/command/server"
	"github.com/hashicorp/vault/helper/metricsutil"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/internalshared/configutil"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/physical"
	"github.com/hashicorp/vault/sdk/physical/file"
	"github.com/hashicorp/vault/vault"
)

// runServer is `vault server`: load config, build the core, serve the API
// until SIGINT/SIGTERM, then seal and exit.
func runServer(args []string) int {
	flags, err := parseServerFlags(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error parsing server flags: %v\n", err)
		return 1
	}
	if flags.dev {
		fmt.Fprint(os.Stderr, "Dev mode is not supported by this lab build of Vault (it exists to test "+
			"production-style setups). Run the image with the command `server` and a config in /vault/config.\n")
		return 1
	}
	if len(flags.configs) == 0 {
		fmt.Fprintln(os.Stderr, "Must specify at least one config path using -config")
		return 1
	}
	if flags.devRootTokenID != "" {
		fmt.Fprintln(os.Stderr, "You cannot specify a custom root token ID outside of \"dev\" mode. Your request has been ignored.")
	}
	cfg, err := loadConfig(flags.configs)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error loading configuration: %v\n", err)
		return 1
	}
	if flags.logLevel != "" {
		cfg.LogLevel = flags.logLevel
	}
	if err := serve(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		return 1
	}
	return 0
}

// serve builds the core and HTTP listeners from cfg and blocks until a
// shutdown signal arrives.
func serve(cfg *server.Config) error {
	logger := newLogger(cfg)
	ctx := context.Background()

	backend, err := file.NewFileBackend(cfg.Storage.Config, logger.Named("storage.file"))
	if err != nil {
		return fmt.Errorf("initializing storage of type file: %w", err)
	}
	seal, err := newShamirSeal(ctx, backend, logger)
	if err != nil {
		return err
	}

	// As Vault's own server command (command/server.go): the telemetry
	// sinks behind /v1/sys/metrics, which the monitoring group scrapes.
	inmem, sink, prometheusEnabled, err := configutil.SetupTelemetry(&configutil.SetupTelemetryOpts{
		Config: cfg.Telemetry, Ui: &cli.BasicUi{Writer: os.Stderr, ErrorWriter: os.Stderr},
		ServiceName: "vault", DisplayName: "Vault", UserAgent: versionLine(), ClusterName: cfg.ClusterName,
	})
	if err != nil {
		return fmt.Errorf("initializing telemetry: %w", err)
	}

	redirect := cfg.Storage.RedirectAddr
	if v := os.Getenv("VAULT_API_ADDR"); v != "" {
		redirect = configutil.NormalizeAddr(v)
	}
	coreConfig := &vault.CoreConfig{
		RawConfig:    cfg,
		Physical:     backend,
		StorageType:  cfg.Storage.Type,
		RedirectAddr: redirect,
		Seal:         seal,
		AuditBackends: map[string]audit.Factory{
			"file":   audit.NewFileBackend,
			"socket": audit.NewSocketBackend,
			"syslog": audit.NewSyslogBackend,
		},
		CredentialBackends: map[string]logical.Factory{"kubernetes": kubernetesAuthFactory},
		LogicalBackends:    map[string]logical.Factory{"kv": kvFactory},
		BuiltinRegistry:    builtinRegistry{},
		LogLevel:           cfg.LogLevel,
		Logger:             logger,
		AllLoggers:         []hclog.Logger{logger},
		DisableCache:       cfg.DisableCache,
		DisableMlock:       cfg.DisableMlock,
		MaxLeaseTTL:        cfg.MaxLeaseTTL,
		DefaultLeaseTTL:    cfg.DefaultLeaseTTL,
		ClusterName:        cfg.ClusterName,
		CacheSize:          cfg.CacheSize,
		EnableUI:           cfg.EnableUI,
		EnableRaw:          cfg.EnableRawEndpoint,
		SecureRandomReader: rand.Reader,
		DisableSSCTokens:   cfg.DisableSSCTokens,
		MetricsHelper:      metricsutil.NewMetricsHelper(inmem, prometheusEnabled),
		MetricSink:         sink,
		// No cluster address: file storage has no HA, so there is no
		// cluster port to serve (upstream would open 8201 but never use it).
	}
	if cfg.DefaultMaxRequestDuration != 0 {
		vault.DefaultMaxRequestDuration = cfg.DefaultMaxRequestDuration
	}

	core, err := vault.NewCore(coreConfig)
	if err != nil {
		if vault.IsFatalError(err) || core == nil {
			return fmt.Errorf("initializing core: %w", err)
		}
		logger.Warn("non-fatal error during core initialization", "error", err)
	}

	servers, err := startListeners(core, cfg, logger)
	if err != nil {
		return err
	}
	logger.Info("Vault server started", "version", versionLine(), "storage", cfg.Storage.Type,
		"mlock", !cfg.DisableMlock, "listeners", len(servers))

	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR2)
	for s := range sig {
		if s == syscall.SIGUSR2 {
			// As Vault: dump goroutines to the log and keep running.
			logger.Info("received SIGUSR2, dumping goroutines; Vault keeps running")
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
			continue
		}
		if s == syscall.SIGHUP {
			// Vault reloads little on SIGHUP and never the listener TLS;
			// say so instead of pretending.
			logger.Info("SIGHUP received: this lab build reloads nothing; restart to apply config changes")
			continue
		}
		logger.Info("shutdown triggered", "signal", s.String())
		break
	}
	shutdownCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(shutdownCtx)
	}
	if err := core.Shutdown(); err != nil {
		return fmt.Errorf("core shutdown: %w", err)
	}
	return nil
}

// startListeners opens every configured listener with Vault's own listener
// factory (so tls_* settings behave exactly as in Vault) and serves the
// Vault HTTP handler on it.
func startListeners(core *vault.Core, cfg *server.Config, logger hclog.Logger) ([]*http.Server, error) {
	var servers []*http.Server
	for _, lnConfig := range cfg.Listeners {
		ln, _, _, err := server.NewListener(lnConfig, os.Stderr, &cli.BasicUi{Reader: os.Stdin, Writer: os.Stderr, ErrorWriter: os.Stderr})
		if err != nil {
			return nil, fmt.Errorf("initializing listener of type %s: %w", lnConfig.Type, err)
		}
		applyListenerDefaults(lnConfig)
		srv := &http.Server{
			Handler: vaulthttp.Handler.Handler(&vault.HandlerProperties{
				Core:                  core,
				ListenerConfig:        lnConfig,
				DisablePrintableCheck: cfg.DisablePrintableCheck,
			}),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			IdleTimeout:       5 * time.Minute,
			ErrorLog:          logger.StandardLogger(nil),
		}
		go func() { _ = srv.Serve(ln) }()
		logger.Info("listening", "type", lnConfig.Type, "address", ln.Addr().String(), "tls", !lnConfig.TLSDisable)
		servers = append(servers, srv)
	}
	return servers, nil
}

// applyListenerDefaults fills the limits Vault's server command fills
// before building the handler.
func applyListenerDefaults(l *configutil.Listener) {
	if l.MaxRequestSize == 0 {
		l.MaxRequestSize = vaulthttp.DefaultMaxRequestSize
	}
	if l.CustomMaxJSONDepth == 0 {
		l.CustomMaxJSONDepth = vaulthttp.CustomMaxJSONDepth
	}
	if l.CustomMaxJSONStringValueLength == 0 {
		l.CustomMaxJSONStringValueLength = vaulthttp.CustomMaxJSONStringValueLength
	}
	if l.CustomMaxJSONObjectEntryCount == 0 {
		l.CustomMaxJSONObjectEntryCount = vaulthttp.CustomMaxJSONObjectEntryCount
	}
	if l.CustomMaxJSONArrayElementCount == 0 {
		l.CustomMaxJSONArrayElementCount = vaulthttp.CustomMaxJSONArrayElementCount
	}
	if l.MaxRequestDuration == 0 {
		l.MaxRequestDuration = vault.DefaultMaxRequestDuration
	}
}

func newLogger(cfg *server.Config) hclog.Logger {
	level := hclog.LevelFromString(cfg.LogLevel)
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       "vault",
		Level:      level,
		Output:     os.Stderr,
		JSONFormat: strings.EqualFold(cfg.LogFormat, "json"),
	})
}

// Compile-time check that the file backend is a physical backend.
var _ physical.Factory = file.NewFileBackend
