package compose_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// pinned approves only the image IDs it holds, by service.
type pinned map[string]string

var errNotPinned = errors.New("not the pinned image")

func (p pinned) VerifyImages(_ context.Context, found []compose.ServiceImage) error {
	for _, f := range found {
		if p[f.Service] != f.ID {
			return fmt.Errorf("%w: %s runs %s", errNotPinned, f.Service, f.ID)
		}
	}
	return nil
}

// Containers are made from the image ID that was approved, not from the
// tag, which may point elsewhere by then; the reference stays visible.
// When the tag moves, the verifier stops the next apply before any
// container is replaced.
func TestUpRunsTheApprovedImageIDAndRefusesAMovedTag(t *testing.T) {
	bi := newBundleImages(t)
	ref := bi.repo + ":app"
	bi.tag(t, bi.a, ref)
	project := labtest.Project(t, bi.e)
	// The containers go before the images they run.
	t.Cleanup(func() { _ = bi.e.Down(context.Background(), project, compose.DownOptions{}, nil) })
	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf(`
services:
  app:
    image: %s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
`, ref), nil)
	bi.e.SetImageVerifier(pinned{"app": bi.a})
	t.Cleanup(func() { bi.e.SetImageVerifier(nil) })
	up(t, bi.e, load(), compose.UpOptions{})

	c := inspect(t, bi.e, project+"-app-1")
	if c.Config.Image != bi.a || c.Image != bi.a || c.Config.Labels[compose.LabelImageRef] != ref {
		t.Fatalf("container made from %q (image %s, label %q); want it made from the ID %s with %s in its label", c.Config.Image, c.Image, c.Config.Labels[compose.LabelImageRef], bi.a, ref)
	}
	st, err := bi.e.Status(ctxT(t), project)
	if err != nil || len(st) != 1 || st[0].Image != ref || st[0].ImageID != bi.a {
		t.Fatalf("status %+v (%v): want image %s, image_id %s", st, err, ref, bi.a)
	}

	// The tag moves to another image.
	bi.tag(t, bi.b, ref)
	before := containerIDs(t, bi.e, project)
	err = bi.e.Up(ctxT(t), load(), compose.UpOptions{}, nil)
	if !errors.Is(err, errNotPinned) {
		t.Fatalf("apply after the tag moved: %v; want the verifier's refusal", err)
	}
	if err := bi.e.CheckImages(ctxT(t), load(), []string{"app"}, compose.ImageOptions{}, nil); !errors.Is(err, errNotPinned) {
		t.Errorf("CheckImages after the tag moved: %v; want the verifier's refusal", err)
	}
	if after := containerIDs(t, bi.e, project); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("containers changed although the image was refused: before %v after %v", before, after)
	}
	if c := inspect(t, bi.e, project+"-app-1"); c.Image != bi.a || !c.State.Running {
		t.Errorf("the container now runs %s (running %t); want it left on %s", c.Image, c.State.Running, bi.a)
	}
}
