package cli

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/ui/tui"
)

// factory builds what commands depend on. Each dependency is a func called
// only when a command needs it, so `version` or `render` never dial Docker,
// and tests replace a func to run a command against a fake engine, a fixed
// clock or a made-up environment.
type factory struct {
	IO *Streams
	// Engine connects to the Docker engine. An error says why it cannot
	// be reached (compose.ErrEngineUnreachable when it does not answer).
	Engine func(ctx context.Context) (*compose.Engine, error)
	// Now is the clock of names and reports made from the current time.
	Now func() time.Time
	// Getenv reads the environment (NO_COLOR).
	Getenv func(key string) string
	// Host reads the host's facts the wizard proposes defaults from.
	Host func() tui.HostFacts
}

// newFactory returns the factory of the real program: the engine named by
// DOCKER_HOST and friends, the system clock, the process environment.
func newFactory(io *Streams) *factory {
	return &factory{
		IO:     io,
		Engine: compose.Connect,
		Now:    time.Now,
		Getenv: os.Getenv,
		Host:   sync.OnceValue(readHost),
	}
}
