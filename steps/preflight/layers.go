package preflight

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// layerSizes reads, from the registry, the compressed size of each layer
// of the manifest the engine resolved ref to (digest), choosing plat's
// image when the digest names an index.
//
// The Docker Engine API has no call that returns a manifest's layers, so
// this one request goes from the installer to the registry itself: it
// uses the installer's proxy environment (HTTPS_PROXY, NO_PROXY), not the
// engine's, and no registry mirror. It asks anonymously, as the engine's
// pull does. The manifest is fetched by digest and go-containerregistry
// checks its bytes against that digest, so the sizes are those of exactly
// what the engine will pull.
func layerSizes(ctx context.Context, ref, digest string, plat platform) (map[string]int64, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", ref, err)
	}
	d := r.Context().Digest(digest)
	desc, err := remote.Get(d,
		remote.WithContext(ctx),
		remote.WithAuth(authn.Anonymous),
		remote.WithPlatform(v1.Platform{OS: plat.os, Architecture: plat.arch, Variant: plat.variant}))
	if err != nil {
		return nil, fmt.Errorf("read the manifest %s: %w", d, err)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("no %s image in %s: %w", plat, d, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("read the %s manifest of %s: %w", plat, d, err)
	}
	sizes := make(map[string]int64, len(m.Layers))
	for _, l := range m.Layers {
		sizes[l.Digest.String()] = l.Size
	}
	return sizes, nil
}
