package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"golang.org/x/sync/errgroup"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// ImageOptions says where missing images come from.
type ImageOptions struct {
	// Bundle is a `docker save` tarball to load missing images from
	// (offline install), with its manifest at BundleManifestPath(Bundle).
	// It is checked against the manifest before anything is loaded. When
	// empty, missing images are pulled.
	Bundle string
	// PullParallel bounds concurrent pulls (default 3).
	PullParallel int
}

// progressEvery throttles byte-progress events so a fast pull does not
// flood the UI with thousands of events.
const progressEvery = 100 * time.Millisecond

// ProjectImages lists the distinct images a project's services use.
func ProjectImages(p *types.Project) []string {
	seen := map[string]bool{}
	var refs []string
	for _, s := range p.Services {
		if s.Image != "" && !seen[s.Image] {
			seen[s.Image] = true
			refs = append(refs, s.Image)
		}
	}
	sort.Strings(refs)
	return refs
}

// EnsureImages makes every image present locally: images already there are
// skipped; missing ones are loaded from the bundle or pulled with progress.
// It returns each reference's image ID.
func (e *Engine) EnsureImages(ctx context.Context, refs []string, o ImageOptions, emit event.Emitter) (map[string]string, error) {
	return e.ensureImages(ctx, refs, o, newReporter(emit))
}

func (e *Engine) ensureImages(ctx context.Context, refs []string, o ImageOptions, r *reporter) (map[string]string, error) {
	ids, missing, err := e.localImages(ctx, refs)
	if err != nil {
		return nil, err
	}
	if len(missing) == 0 {
		return ids, nil
	}
	if o.Bundle != "" {
		if err := e.loadBundle(ctx, o.Bundle, missing, r); err != nil {
			r.failed(event.ResourceImage, o.Bundle, event.ActionLoad, err)
			return nil, err
		}
		loaded, _, err := e.localImages(ctx, missing)
		if err != nil {
			return nil, err
		}
		for k, v := range loaded {
			ids[k] = v
		}
		return ids, nil
	}

	g, gctx := errgroup.WithContext(ctx)
	limit := o.PullParallel
	if limit <= 0 {
		limit = 3
	}
	g.SetLimit(limit)
	for _, ref := range missing {
		g.Go(func() error { return e.pull(gctx, ref, r) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	pulled, still, err := e.localImages(ctx, missing)
	if err != nil {
		return nil, err
	}
	if len(still) > 0 {
		return nil, fmt.Errorf("images %s are still missing after the pull", strings.Join(still, ", "))
	}
	for k, v := range pulled {
		ids[k] = v
	}
	return ids, nil
}

// localImages splits refs into present (with their IDs) and missing.
func (e *Engine) localImages(ctx context.Context, refs []string) (map[string]string, []string, error) {
	ids := map[string]string{}
	var missing []string
	for _, ref := range refs {
		img, err := e.api.ImageInspect(ctx, ref)
		switch {
		case err == nil:
			ids[ref] = img.ID
		case errdefs.IsNotFound(err):
			missing = append(missing, ref)
		default:
			return nil, nil, fmt.Errorf("inspect image %s: %w", ref, err)
		}
	}
	return ids, missing, nil
}

// layerProgress aggregates per-layer pull progress into one byte count.
type layerProgress struct {
	layers map[string][2]int64 // id -> {current, total}
}

func (l *layerProgress) update(m jsonmessage.JSONMessage) {
	if m.ID == "" {
		return
	}
	cur := l.layers[m.ID]
	switch {
	case m.Status == "Downloading" && m.Progress != nil:
		cur = [2]int64{m.Progress.Current, m.Progress.Total}
	case m.Status == "Download complete" || m.Status == "Pull complete" || m.Status == "Already exists":
		cur[0] = cur[1]
	default:
		if _, ok := l.layers[m.ID]; ok {
			return
		}
	}
	l.layers[m.ID] = cur
}

func (l *layerProgress) totals() (cur, total int64) {
	for _, v := range l.layers {
		cur += v[0]
		total += v[1]
	}
	return cur, total
}

func (e *Engine) pull(ctx context.Context, ref string, r *reporter) error {
	r.working(event.ResourceImage, ref, event.ActionPull, "")
	rc, err := e.api.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		err = pullError(ref, err)
		r.failed(event.ResourceImage, ref, event.ActionPull, err)
		return err
	}
	defer rc.Close()
	lp := &layerProgress{layers: map[string][2]int64{}}
	dec := json.NewDecoder(rc)
	last := time.Time{}
	for {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			err = pullError(ref, fmt.Errorf("read pull progress: %w", err))
			r.failed(event.ResourceImage, ref, event.ActionPull, err)
			return err
		}
		if m.Error != nil {
			err := pullError(ref, errors.New(m.Error.Message))
			r.failed(event.ResourceImage, ref, event.ActionPull, err)
			return err
		}
		lp.update(m)
		if time.Since(last) >= progressEvery {
			last = time.Now()
			cur, total := lp.totals()
			r.bytes(ref, event.ActionPull, event.StatusWorking, cur, total, fmt.Sprintf("%d layers", len(lp.layers)))
		}
	}
	cur, total := lp.totals()
	r.bytes(ref, event.ActionPull, event.StatusDone, cur, total, "")
	return nil
}

func pullError(ref string, err error) error {
	return withHint(fmt.Errorf("pull image %s: %w", ref, err),
		"if this host cannot reach the registry, load the images from an offline bundle instead: make one with `fineract-installer images bundle --out stack-images.tar` on a connected host, copy it with its stack-images.tar"+BundleManifestSuffix+" and pass --images-bundle stack-images.tar")
}

// countingReader reports how much of a bundle has been sent to the engine.
type countingReader struct {
	r     io.Reader
	n     int64
	total int64
	rep   *reporter
	name  string
	last  time.Time
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if time.Since(c.last) >= progressEvery {
		c.last = time.Now()
		c.rep.bytes(c.name, event.ActionLoad, event.StatusWorking, c.n, c.total, "")
	}
	return n, err
}

// sendBundle streams a verified bundle to the engine's load.
func (e *Engine) sendBundle(ctx context.Context, f *os.File, path string, r *reporter) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open image bundle: %w", err)
	}
	r.working(event.ResourceImage, path, event.ActionLoad, "")
	cr := &countingReader{r: f, total: fi.Size(), rep: r, name: path}
	resp, err := e.api.ImageLoad(ctx, cr, client.ImageLoadWithQuiet(true))
	if err != nil {
		return fmt.Errorf("load image bundle %s: %w", path, err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("load image bundle %s: read engine response: %w", path, err)
		}
		if m.Error != nil {
			return fmt.Errorf("load image bundle %s: %s", path, m.Error.Message)
		}
	}
	r.bytes(path, event.ActionLoad, event.StatusDone, cr.n, cr.total, "")
	return nil
}
