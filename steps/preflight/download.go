package preflight

import (
	"context"
	"fmt"

	"github.com/fineract-installer/fineract-installer/compose"
)

// Download is what pulling one image would fetch, as its registry says.
type Download struct {
	Ref string `json:"ref"`
	// Digest is the manifest the reference resolves to at its registry.
	Digest string `json:"digest,omitempty"`
	// Bytes adds up the compressed layers of the engine's platform's
	// image; meaningful only when Known.
	Bytes int64 `json:"bytes"`
	Known bool  `json:"known"`
	// Unknown says why the size is not known.
	Unknown string `json:"unknown,omitempty"`
}

// Downloads asks, as the registry check does (through the engine, then the
// manifest by digest), how much pulling each of refs would download. A
// reference that does not resolve, or whose manifest cannot be read, gets
// Known false and the reason: the size is never guessed.
func Downloads(ctx context.Context, e *compose.Engine, refs []string) ([]Download, error) {
	if len(refs) == 0 {
		return []Download{}, nil
	}
	info, err := e.API().Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("ask the engine for its platform: %w", err)
	}
	out := make([]Download, 0, len(refs))
	for _, r := range resolveAll(ctx, Input{Engine: e}, refs, enginePlatform(&info)) {
		d := Download{Ref: r.ref, Digest: r.digest}
		switch {
		case r.err != nil:
			d.Unknown = fmt.Sprintf("does not resolve through the Docker engine: %v", r.err)
		case r.sizeErr != nil:
			d.Unknown = r.sizeErr.Error()
		default:
			d.Known = true
			for _, n := range r.layers {
				d.Bytes += n
			}
		}
		out = append(out, d)
	}
	return out, nil
}
