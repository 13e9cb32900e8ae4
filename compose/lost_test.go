package compose_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/fineract-installer/fineract-installer/compose"
)

// An engine that is going away answers "unavailable" first (its containerd
// is stopping), then does not answer at all; both mean the engine is lost.
// A container the engine refuses for another reason is not.
func TestEngineLost(t *testing.T) {
	stopping := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"message":"transport is closing: unavailable"}`)
	}))
	defer stopping.Close()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		fmt.Fprint(w, `{"message":"container is marked for removal and cannot be started"}`)
	}))
	defer refusing.Close()

	start := func(host string) error {
		cli, err := client.NewClientWithOpts(client.WithHost(host), client.WithVersion("1.41"))
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		return cli.ContainerStart(context.Background(), "postgres", container.StartOptions{})
	}
	gone := "unix://" + filepath.Join(t.TempDir(), "docker.sock")
	for name, c := range map[string]struct {
		host string
		lost bool
	}{
		"stopping": {"tcp://" + stopping.Listener.Addr().String(), true},
		"gone":     {gone, true},
		"refusing": {"tcp://" + refusing.Listener.Addr().String(), false},
	} {
		err := start(c.host)
		if err == nil {
			t.Fatalf("%s: the start succeeded", name)
		}
		if got := compose.EngineLost(fmt.Errorf("start postgres: %w", err)); got != c.lost {
			t.Errorf("%s (%v): EngineLost = %t, want %t", name, err, got, c.lost)
		}
	}
}
