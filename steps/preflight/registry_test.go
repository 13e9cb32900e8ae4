package preflight

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// blobBytes asks the registry itself how many bytes it serves for the
// layers of repo:tag: the manifest's layer digests, each measured by the
// Content-Length of its blob.
func blobBytes(t *testing.T, addr, repo, tag string) (int64, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/v2/%s/manifests/%s", addr, repo, tag), nil)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Layers []struct{ Digest string } `json:"layers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || len(m.Layers) == 0 {
		t.Fatalf("manifest of %s:%s: %v %+v", repo, tag, err, m)
	}
	var total int64
	for _, l := range m.Layers {
		h, err := http.Head(fmt.Sprintf("http://%s/v2/%s/blobs/%s", addr, repo, l.Digest))
		if err != nil {
			t.Fatal(err)
		}
		h.Body.Close()
		if h.StatusCode != http.StatusOK || h.ContentLength <= 0 {
			t.Fatalf("blob %s: %s", l.Digest, h.Status)
		}
		total += h.ContentLength
	}
	return total, resp.Header.Get("Docker-Content-Digest")
}

func registryInput(t *testing.T, refs ...string) Input {
	e := labtest.Engine(t)
	in := Input{Answers: testAnswers(t), Project: "fit-preflight-registry", Engine: e}
	for i, ref := range refs {
		in.Services = append(in.Services, assets.Service{Name: fmt.Sprintf("svc%d", i), Image: ref})
	}
	return in
}

func registryResults(t *testing.T, in Input) []Result {
	t.Helper()
	var out []Result
	for _, r := range Run(context.Background(), in) {
		if r.ID == "registry" {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		t.Fatal("no registry result")
	}
	for _, r := range out {
		t.Logf("%s %s: %s; %s", r.Status, r.Title, r.Observed, r.Fix)
	}
	return out
}

func TestRegistryCheckResolvesThroughTheEngineAndShowsTheDownloadSize(t *testing.T) {
	e := labtest.Engine(t)
	addr := labtest.Registry(t)
	ref := addr + "/fit-preflight/busybox:1"
	if err := labtest.Push(context.Background(), e, labtest.Busybox(t, e), ref); err != nil {
		t.Fatal(err)
	}
	size, digest := blobBytes(t, addr, "fit-preflight/busybox", "1")

	rs := registryResults(t, registryInput(t, ref))
	if len(rs) != 1 || rs[0].Status != Pass {
		t.Fatalf("a pushed image must resolve: %+v", rs)
	}
	for _, want := range []string{ref + "@" + digest, fmt.Sprintf("(%d bytes)", size), "compressed layers"} {
		if !strings.Contains(rs[0].Observed, want) {
			t.Errorf("observed %q lacks %q", rs[0].Observed, want)
		}
	}

	missing := addr + "/fit-preflight/busybox:no-such-tag"
	rs = registryResults(t, registryInput(t, ref, missing))
	var failed, passed []Result
	for _, r := range rs {
		if r.Status == Fail {
			failed = append(failed, r)
		} else {
			passed = append(passed, r)
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0].Title, missing) || !strings.Contains(failed[0].Fix, "fix the image tag") || strings.Contains(failed[0].Fix, "proxy") {
		t.Errorf("a tag the registry does not have must fail, named: %+v", failed)
	}
	if len(passed) != 1 || !strings.Contains(passed[0].Observed, "1 of 2 images") {
		t.Errorf("the resolving image is still reported: %+v", passed)
	}
}

// A multi-platform reference resolves to an index; the size shown is that
// of the image for the engine's platform, not of the other one.
func TestRegistryCheckSizesTheEnginesPlatformOfAnIndex(t *testing.T) {
	e := labtest.Engine(t)
	info, err := e.API().Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	plat := enginePlatform(&info)
	other := "arm64"
	if plat.arch == "arm64" {
		other = "amd64"
	}
	addr := labtest.Registry(t)
	mine, err := random.Image(3000, 2)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := random.Image(5000, 3)
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: theirs, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: other}}},
		mutate.IndexAddendum{Add: mine, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: plat.os, Architecture: plat.arch, Variant: plat.variant}}},
	)
	ref := addr + "/fit-preflight/multi:1"
	tag, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(tag, idx); err != nil {
		t.Fatal(err)
	}
	layers, err := mine.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			t.Fatal(err)
		}
		want += n
	}
	digest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	rs := registryResults(t, registryInput(t, ref))
	if len(rs) != 1 || rs[0].Status != Pass || !strings.Contains(rs[0].Observed, ref+"@"+digest.String()) ||
		!strings.Contains(rs[0].Observed, fmt.Sprintf("(%d bytes)", want)) || !strings.Contains(rs[0].Observed, plat.String()+" images") {
		t.Errorf("want the index %s sized as its %s image, %d bytes: %+v", digest, plat, want, rs)
	}
}

func TestRegistryCheckNamesARegistryThatIsDown(t *testing.T) {
	ref := fmt.Sprintf("127.0.0.1:%d/fit-preflight/busybox:1", freePort(t))
	rs := registryResults(t, registryInput(t, ref))
	if len(rs) != 1 || rs[0].Status != Fail || !strings.Contains(rs[0].Title, ref) {
		t.Fatalf("a registry that is down must fail the reference: %+v", rs)
	}
	if !strings.Contains(rs[0].Observed, "connection refused") || !strings.Contains(rs[0].Fix, "proxy") || strings.Contains(rs[0].Fix, "fix the image tag") || !strings.Contains(rs[0].Fix, "images bundle") {
		t.Errorf("the failure must say why and what to do: %+v", rs[0])
	}
}

func TestRegistryCheckIsSkippedWithAnImagesBundle(t *testing.T) {
	ref := fmt.Sprintf("127.0.0.1:%d/fit-preflight/busybox:1", freePort(t))
	in := registryInput(t, ref)
	in.Answers.Images.Source = answers.ImagesBundle
	in.Answers.Images.Bundle = "/media/usb/stack-images.tar"
	rs := registryResults(t, in)
	if len(rs) != 1 || rs[0].Status != Pass || !strings.Contains(rs[0].Observed, "skipped") || !strings.Contains(rs[0].Observed, in.Answers.Images.Bundle) {
		t.Errorf("with a bundle no registry is asked: %+v", rs)
	}
}

// TestRegistryCheckAsksNothingForImagesHere: an image on this host is never
// pulled (a changed one is the images step's to refuse, with exit 4), so
// the registry is not asked, even where it could not be reached.
func TestRegistryCheckAsksNothingForImagesHere(t *testing.T) {
	e := labtest.Engine(t)
	ref := labtest.Busybox(t, e)
	in := registryInput(t, ref)
	rs := registryResults(t, in)
	if len(rs) != 1 || rs[0].Status != Pass || !strings.Contains(rs[0].Observed, "no registry is needed") {
		t.Errorf("an image here needs no registry: %+v", rs)
	}
}
