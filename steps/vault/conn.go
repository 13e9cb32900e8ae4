package vault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
)

// Config says how to reach Vault.
type Config struct {
	// Address is Vault's https URL as seen from the installer, e.g.
	// https://127.0.0.1:8200.
	Address string
	// CACertPEM is the installer's CA certificate (PEM). Only servers with a
	// certificate from this CA are trusted; system roots are not used.
	CACertPEM []byte
	// Timeout bounds each HTTP request; 0 means 30 seconds.
	Timeout time.Duration
	// Dial, when set, opens the connections instead of the usual dialer:
	// Vault sits on internal networks the host cannot reach, so the
	// installer dials from inside the Vault container's network namespace.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// ServerName is the name Vault's certificate must carry, when the
	// address does not say it (an IP reached through Dial).
	ServerName string
}

// Conn is a connection to one Vault server. It holds no token: operations
// that need one take it as an argument, so a token lives no longer than the
// step that uses it.
type Conn struct {
	addr   string
	client *api.Client
}

// Connect prepares a TLS client for Vault that trusts only cfg.CACertPEM.
// It does not contact Vault; use Status or WaitResponding for that.
func Connect(cfg Config) (*Conn, error) {
	if !strings.HasPrefix(cfg.Address, "https://") {
		return nil, fmt.Errorf("vault address %q must start with https:// (Vault is only spoken to over TLS)", cfg.Address)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(cfg.CACertPEM) {
		return nil, errors.New("the CA certificate for Vault is not valid PEM: regenerate or re-import the installer's CA")
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	transport := &http.Transport{
		DialContext:         cfg.Dial,
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, ServerName: cfg.ServerName},
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}
	client, err := api.NewClient(&api.Config{
		Address:    cfg.Address,
		HttpClient: &http.Client{Transport: transport, Timeout: timeout},
		Timeout:    timeout,
		MaxRetries: 0, // every call here is deliberate; the steps decide about retries
	})
	if err != nil {
		return nil, fmt.Errorf("creating Vault client for %s: %w", cfg.Address, err)
	}
	// api.NewClient picks up VAULT_TOKEN and friends from the environment;
	// the installer must never act with a token it did not obtain itself.
	client.ClearToken()
	client.ClearNamespace()
	return &Conn{addr: cfg.Address, client: client}, nil
}

// Address is the Vault URL this connection talks to.
func (c *Conn) Address() string { return c.addr }

// withToken returns a client that sends token. The shared client stays
// tokenless.
func (c *Conn) withToken(token string) (*api.Client, error) {
	if token == "" {
		return nil, errors.New("no Vault token given for an operation that needs one")
	}
	cl, err := c.client.Clone()
	if err != nil {
		return nil, fmt.Errorf("cloning Vault client: %w", err)
	}
	cl.SetToken(token)
	return cl, nil
}

// State is where Vault is in its lifecycle.
type State int

// Vault's lifecycle states, as the installer acts on them.
const (
	StateUninitialized State = iota + 1
	StateSealed
	StateUnsealed
)

func (s State) String() string {
	switch s {
	case StateUninitialized:
		return "not initialised"
	case StateSealed:
		return "sealed"
	case StateUnsealed:
		return "unsealed"
	}
	return "unknown"
}

// Status is Vault's seal status.
type Status struct {
	State     State
	Shares    int // total key shares (n)
	Threshold int // shares needed to unseal (t)
	Progress  int // shares entered so far towards the threshold
	Version   string
}

// Status reads Vault's seal status (an unauthenticated call).
func (c *Conn) Status(ctx context.Context) (Status, error) {
	st, err := c.client.Sys().SealStatusWithContext(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("reading Vault's seal status at %s: %w", c.addr, err)
	}
	return statusFrom(st), nil
}

func statusFrom(st *api.SealStatusResponse) Status {
	s := Status{Shares: st.N, Threshold: st.T, Progress: st.Progress, Version: st.Version}
	switch {
	case !st.Initialized:
		s.State = StateUninitialized
	case st.Sealed:
		s.State = StateSealed
	default:
		s.State = StateUnsealed
	}
	return s
}

// WaitResponding polls Vault's seal status until it answers or ctx ends,
// for use right after the container starts. It returns the first status.
func (c *Conn) WaitResponding(ctx context.Context) (Status, error) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		st, err := c.Status(ctx)
		if err == nil {
			return st, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return Status{}, fmt.Errorf("no answer from Vault at %s before the deadline (last error: %v); check `docker logs` of the vault container", c.addr, lastErr)
		case <-tick.C:
		}
	}
}
