package labtest

import (
	"context"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"

	"github.com/fineract-installer/fineract-installer/compose"
)

// ImageVariant makes a new image from base that differs from it only by a
// label, tags it ref and returns its ID: tests use it to put another image
// behind a reference, as a moved tag or a tampered bundle would. The image
// is removed with all its tags when the test ends (containers made from it
// must be gone by then).
func ImageVariant(t testing.TB, e *compose.Engine, base, ref, variant string) string {
	t.Helper()
	ctx := context.Background()
	c, err := e.API().ContainerCreate(ctx, &container.Config{Image: base, Cmd: []string{"true"}}, nil, nil, nil, "")
	if err != nil {
		t.Fatalf("image variant %s: %v", ref, err)
	}
	defer func() { _ = e.API().ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}) }()
	id, err := e.API().ContainerCommit(ctx, c.ID, container.CommitOptions{
		Reference: ref, Changes: []string{"LABEL org.fineract-installer.test-variant=" + variant},
	})
	if err != nil {
		t.Fatalf("image variant %s: %v", ref, err)
	}
	t.Cleanup(func() {
		if _, err := e.API().ImageRemove(ctx, id.ID, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil && !errdefs.IsNotFound(err) {
			t.Errorf("remove image variant %s: %v", ref, err)
		}
	})
	return id.ID
}
