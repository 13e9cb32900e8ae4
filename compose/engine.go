package compose

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/client"
)

// ErrEngineUnreachable means the Docker engine did not answer. Commands map
// it to exit code 3 (the host is not ready).
var ErrEngineUnreachable = errors.New("docker engine unreachable")

// EngineLost reports whether err says the engine stopped answering (it
// was stopped or restarted while a step talked to it).
func EngineLost(err error) bool {
	// A stopping engine first answers "unavailable" (its containerd is
	// going), then stops answering at all.
	return errors.Is(err, ErrEngineUnreachable) || client.IsErrConnectionFailed(err) || errdefs.IsUnavailable(err)
}

// Engine applies compose projects through the Docker Engine API.
type Engine struct {
	api client.APIClient
	// verifier approves images before Up changes any container.
	verifier ImageVerifier
}

// New wraps an existing Docker API client.
func New(api client.APIClient) *Engine { return &Engine{api: api} }

// API returns the underlying Docker client, for callers that inspect objects
// the engine created (validation, diagnosis).
func (e *Engine) API() client.APIClient { return e.api }

// Connect builds a client from the standard DOCKER_HOST / DOCKER_CERT_PATH /
// DOCKER_TLS_VERIFY variables, negotiates the API version (Debian's engine
// speaks 1.41, current engines newer ones) and checks that the engine answers.
func Connect(ctx context.Context) (*Engine, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("configure docker client: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(pingCtx); err != nil {
		_ = cli.Close()
		return nil, withHint(fmt.Errorf("%w at %s: %v", ErrEngineUnreachable, cli.DaemonHost(), err),
			"start the engine (for example `sudo systemctl start docker`) or point DOCKER_HOST at a running one")
	}
	cli.NegotiateAPIVersion(ctx)
	return New(cli), nil
}

// Close releases the client's connections.
func (e *Engine) Close() error { return e.api.Close() }

// APIVersion is the negotiated Docker API version.
func (e *Engine) APIVersion() string { return e.api.ClientVersion() }
