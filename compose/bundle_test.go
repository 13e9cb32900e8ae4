package compose_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

// bundleImages are two images that differ only by a label, and the test's
// own repository for the references a bundle carries.
type bundleImages struct {
	e    *compose.Engine
	repo string
	a, b string // image IDs
}

func newBundleImages(t *testing.T) bundleImages {
	e := labtest.Engine(t)
	base := labtest.Busybox(t, e)
	repo := "fineract-lab/" + labtest.Project(t, e)
	return bundleImages{
		e: e, repo: repo,
		a: labtest.ImageVariant(t, e, base, repo+":a", "a"),
		b: labtest.ImageVariant(t, e, base, repo+":b", "b"),
	}
}

// tag points ref at id, and removes ref when the test ends.
func (bi bundleImages) tag(t *testing.T, id, ref string) {
	t.Helper()
	if err := bi.e.API().ImageTag(ctxT(t), id, ref); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = bi.e.API().ImageRemove(ctxT(t), ref, image.RemoveOptions{}) })
}

func (bi bundleImages) untag(t *testing.T, ref string) {
	t.Helper()
	if _, err := bi.e.API().ImageRemove(ctxT(t), ref, image.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
}

// id is what ref resolves to on the engine, "" when it is missing.
func (bi bundleImages) id(t *testing.T, ref string) string {
	t.Helper()
	img, err := bi.e.API().ImageInspect(ctxT(t), ref)
	if err != nil {
		return ""
	}
	return img.ID
}

// listed is what `docker images REPO` shows: each image of the test's
// repository with its tags.
func (bi bundleImages) listed(t *testing.T) string {
	t.Helper()
	imgs, err := bi.e.API().ImageList(ctxT(t), image.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("reference", bi.repo))})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, img := range imgs {
		tags := append([]string(nil), img.RepoTags...)
		sort.Strings(tags)
		rows = append(rows, img.ID+" "+strings.Join(tags, ","))
	}
	sort.Strings(rows)
	return strings.Join(rows, "\n")
}

// save writes a bundle and its manifest with the installer's own command
// path (SaveBundle), into dir.
func (bi bundleImages) save(t *testing.T, dir string, refs ...string) (string, compose.BundleManifest) {
	t.Helper()
	path := filepath.Join(dir, "images.tar")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := bi.e.SaveBundle(ctxT(t), refs, f, nil)
	if err != nil {
		t.Fatalf("save bundle: %v", err)
	}
	writeManifest(t, path, m)
	return path, m
}

func writeManifest(t *testing.T, bundle string, m compose.BundleManifest) {
	t.Helper()
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(compose.BundleManifestPath(bundle), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dockerSave writes what `docker save` writes, without a manifest.
func (bi bundleImages) dockerSave(t *testing.T, path string, refs ...string) {
	t.Helper()
	rc, err := bi.e.API().ImageSave(ctxT(t), refs)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, rc); err != nil {
		t.Fatal(err)
	}
}

func TestBundleLoadsTheImagesItsManifestNames(t *testing.T) {
	bi := newBundleImages(t)
	ref := bi.repo + ":r"
	bi.tag(t, bi.a, ref)
	bundle, m := bi.save(t, t.TempDir(), ref)
	if len(m.Images) != 1 || m.Images[0].Image != ref || m.Images[0].ID != bi.a || m.Images[0].Config != bi.a {
		t.Fatalf("manifest %+v: want %s as %s", m, ref, bi.a)
	}
	bi.untag(t, ref)

	var events []event.Event
	ids, err := bi.e.EnsureImages(ctxT(t), []string{ref}, compose.ImageOptions{Bundle: bundle}, event.Func(func(ev event.Event) { events = append(events, ev) }))
	if err != nil {
		t.Fatalf("load a good bundle: %v", err)
	}
	if ids[ref] != bi.a || bi.id(t, ref) != bi.a {
		t.Fatalf("%s loaded as %s (engine says %s), want %s", ref, ids[ref], bi.id(t, ref), bi.a)
	}
	last := events[len(events)-1]
	if last.Action != event.ActionLoad || last.Status != event.StatusDone || last.Current == 0 || last.Current != last.Total {
		t.Errorf("want a completed load event with byte counts, got %+v", last)
	}

	// A bundle that lacks an image says which one, and loads nothing.
	missing := bi.repo + ":not-in-bundle"
	_, err = bi.e.EnsureImages(ctxT(t), []string{missing}, compose.ImageOptions{Bundle: bundle}, nil)
	if err == nil || !strings.Contains(err.Error(), "does not contain "+missing) {
		t.Errorf("want an error naming the image missing from the bundle, got %v", err)
	}
}

// The attack: a bundle whose tarball holds another image under a
// reference than its manifest says. It is refused before the engine sees
// a byte: neither the reference nor the other image exists afterwards.
func TestBundleHoldingAnotherImageThanItsManifestLoadsNothing(t *testing.T) {
	bi := newBundleImages(t)
	ref := bi.repo + ":r"
	bi.tag(t, bi.a, ref)
	dir := t.TempDir()
	_, good := bi.save(t, dir, ref)

	// The same reference, now on image b, saved with a's manifest.
	bi.tag(t, bi.b, ref)
	bad := filepath.Join(dir, "tampered.tar")
	bi.dockerSave(t, bad, ref)
	writeManifest(t, bad, good)
	bi.untag(t, ref)
	bi.untag(t, bi.repo+":b")
	if bi.id(t, bi.b) != "" || bi.id(t, ref) != "" {
		t.Fatalf("setup: %s or image b still present", ref)
	}
	before := bi.listed(t)
	if !strings.Contains(before, bi.a) {
		t.Fatalf("docker images %s does not list image a:\n%s", bi.repo, before)
	}

	_, err := bi.e.EnsureImages(ctxT(t), []string{ref}, compose.ImageOptions{Bundle: bad}, nil)
	if !errors.Is(err, compose.ErrUntrustedImage) || !strings.Contains(err.Error(), ref) || !strings.Contains(err.Error(), "nothing was loaded") {
		t.Fatalf("want the tampered bundle refused naming %s, got %v", ref, err)
	}
	if id := bi.id(t, ref); id != "" {
		t.Errorf("%s exists after the refusal (as %s)", ref, id)
	}
	if bi.id(t, bi.b) != "" {
		t.Errorf("image b was loaded although the bundle was refused")
	}
	if after := bi.listed(t); after != before {
		t.Errorf("docker images changed although the bundle was refused:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// A plain `docker save` tarball without a manifest is refused, nothing
// loaded: there is nothing to check it against.
func TestBundleWithoutManifestLoadsNothing(t *testing.T) {
	bi := newBundleImages(t)
	ref := bi.repo + ":r"
	bi.tag(t, bi.b, ref)
	bundle := filepath.Join(t.TempDir(), "images.tar")
	bi.dockerSave(t, bundle, ref)
	bi.untag(t, ref)

	_, err := bi.e.EnsureImages(ctxT(t), []string{ref}, compose.ImageOptions{Bundle: bundle}, nil)
	var h interface{ Hint() string }
	if err == nil || !strings.Contains(err.Error(), compose.BundleManifestSuffix) || !errors.As(err, &h) || !strings.Contains(h.Hint(), "images bundle") {
		t.Fatalf("want a refusal naming the missing manifest, with how to make one as its hint, got %v", err)
	}
	if id := bi.id(t, ref); id != "" {
		t.Errorf("%s was loaded (as %s) from a bundle without a manifest", ref, id)
	}
}

// A bundle may carry images the host already has: loading it must not
// move a present reference to another image, even one its manifest
// vouches for.
func TestBundleThatWouldReplaceAPresentImageLoadsNothing(t *testing.T) {
	bi := newBundleImages(t)
	present, missing := bi.repo+":present", bi.repo+":missing"
	bi.tag(t, bi.b, present)
	bi.tag(t, bi.b, missing)
	bundle, _ := bi.save(t, t.TempDir(), present, missing)
	bi.tag(t, bi.a, present)
	bi.untag(t, missing)
	before := bi.listed(t)

	_, err := bi.e.EnsureImages(ctxT(t), []string{present, missing}, compose.ImageOptions{Bundle: bundle}, nil)
	if !errors.Is(err, compose.ErrUntrustedImage) || !strings.Contains(err.Error(), "would replace "+present) {
		t.Fatalf("want a refusal to replace %s, got %v", present, err)
	}
	if id := bi.id(t, present); id != bi.a {
		t.Errorf("%s is %s after the refusal, want it left on %s", present, id, bi.a)
	}
	if id := bi.id(t, missing); id != "" {
		t.Errorf("%s was loaded (as %s)", missing, id)
	}
	if after := bi.listed(t); after != before {
		t.Errorf("docker images changed although the bundle was refused:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// Someone else who can write the bundle could change it between the check
// and the load: such a file is refused.
func TestBundleWritableByOthersIsRefused(t *testing.T) {
	bi := newBundleImages(t)
	ref := bi.repo + ":r"
	bi.tag(t, bi.a, ref)
	bundle, _ := bi.save(t, t.TempDir(), ref)
	bi.untag(t, ref)
	if err := os.Chmod(bundle, 0o666); err != nil {
		t.Fatal(err)
	}
	_, err := bi.e.EnsureImages(ctxT(t), []string{ref}, compose.ImageOptions{Bundle: bundle}, nil)
	if !errors.Is(err, compose.ErrUntrustedImage) || !strings.Contains(err.Error(), "another user") {
		t.Fatalf("want a refusal of a world-writable bundle, got %v", err)
	}
	if id := bi.id(t, ref); id != "" {
		t.Errorf("%s was loaded (as %s)", ref, id)
	}
}

func TestParseBundleManifestRefusesBadManifests(t *testing.T) {
	id := "sha256:" + strings.Repeat("ab", 32)
	cases := map[string]string{
		"not JSON":           `{`,
		"unknown field":      `{"version":1,"images":[{"image":"a/b:1","id":"` + id + `","config":"` + id + `","extra":1}]}`,
		"unknown version":    `{"version":2,"images":[{"image":"a/b:1","id":"` + id + `","config":"` + id + `"}]}`,
		"no image":           `{"version":1,"images":[]}`,
		"untagged reference": `{"version":1,"images":[{"image":"a/b","id":"` + id + `","config":"` + id + `"}]}`,
		"bad digest":         `{"version":1,"images":[{"image":"a/b:1","id":"sha256:xyz","config":"` + id + `"}]}`,
		"listed twice":       `{"version":1,"images":[{"image":"a/b:1","id":"` + id + `","config":"` + id + `"},{"image":"docker.io/a/b:1","id":"` + id + `","config":"` + id + `"}]}`,
	}
	for name, data := range cases {
		if _, err := compose.ParseBundleManifest([]byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
