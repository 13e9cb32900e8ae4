package preflight

import (
	"context"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// A plan's download size is what the registry serves for the image's
// layers (measured blob by blob), and a reference that does not resolve
// gets no size but the reason.
func TestDownloadsSizeWhatTheRegistryServes(t *testing.T) {
	e := labtest.Engine(t)
	addr := labtest.Registry(t)
	ref := addr + "/fit-plan/busybox:1"
	if err := labtest.Push(context.Background(), e, labtest.Busybox(t, e), ref); err != nil {
		t.Fatal(err)
	}
	size, digest := blobBytes(t, addr, "fit-plan/busybox", "1")
	missing := addr + "/fit-plan/busybox:no-such-tag"

	ds, err := Downloads(context.Background(), e, []string{ref, missing})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("want 2 downloads, got %+v", ds)
	}
	if d := ds[0]; d.Ref != ref || !d.Known || d.Bytes != size || d.Digest != digest {
		t.Errorf("pushed image: got %+v, want %d bytes at %s", d, size, digest)
	}
	if d := ds[1]; d.Ref != missing || d.Known || d.Bytes != 0 || !strings.Contains(d.Unknown, "does not resolve") {
		t.Errorf("missing tag: got %+v, want no size and the reason", d)
	}
}
