package compose

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/docker/docker/client"
)

// fakeStartEngine refuses every start with the error an engine gives while
// it is itself bringing the container back, and reports the container as
// running or not.
func fakeStartEngine(t *testing.T, running bool) *Engine {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/containers/pg/start"):
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"message":"task 971bdbbc9a26: already exists"}`)
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/containers/pg/json"):
			fmt.Fprintf(w, `{"Id":"pg","State":{"Status":"running","Running":%t}}`, running)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	cli, err := client.NewClientWithOpts(client.WithHost("tcp://"+srv.Listener.Addr().String()), client.WithVersion("1.41"))
	if err != nil {
		t.Fatal(err)
	}
	return New(cli)
}

// Right after an engine restart, the engine starts containers with a
// restart policy itself; a start racing with it is refused although the
// container ends up running, and that counts as started.
func TestStartRacingTheEngineCountsWhenTheContainerRuns(t *testing.T) {
	if err := fakeStartEngine(t, true).startContainer(context.Background(), "pg"); err != nil {
		t.Errorf("the container runs, yet: %v", err)
	}
	err := fakeStartEngine(t, false).startContainer(context.Background(), "pg")
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a container that does not run must keep the start error: %v", err)
	}
}
