package compose_test

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
)

func containerStop() container.StopOptions {
	timeout := 5
	return container.StopOptions{Timeout: &timeout}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
