package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/fineract-installer/fineract-installer/compose/imagetar"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

// ErrUntrustedImage marks a refusal to use an image or load an image bundle
// because it is not the one expected. Refusals before a load or before any
// container is touched leave the host as it was.
var ErrUntrustedImage = errors.New("untrusted image")

// untrusted is an error that also matches ErrUntrustedImage, without the
// sentinel's text in its message.
type untrusted struct{ err error }

func (u untrusted) Error() string   { return u.err.Error() }
func (u untrusted) Unwrap() []error { return []error{u.err, ErrUntrustedImage} }

func untrustedf(format string, args ...any) error {
	return untrusted{fmt.Errorf(format, args...)}
}

// BundleManifestSuffix is appended to an images bundle's file name to name
// the manifest that must sit next to it.
const BundleManifestSuffix = ".manifest.json"

// BundleManifestPath is the manifest expected for the bundle at path.
func BundleManifestPath(bundle string) string { return bundle + BundleManifestSuffix }

// bundleManifestVersion is the manifest format this program reads and writes.
const bundleManifestVersion = 1

// maxBundleManifest bounds the manifest read into memory.
const maxBundleManifest = 1 << 20

// BundleManifest lists the images an offline bundle must hold, by content:
// the bundle is checked against it before the engine sees a byte.
type BundleManifest struct {
	Version int           `json:"version"`
	Images  []BundleImage `json:"images"`
}

// BundleImage is one image of a bundle.
type BundleImage struct {
	// Image is the reference the stack uses ("hashicorp/vault:1.21.4").
	Image string `json:"image"`
	// ID is the image ID the engine that made the bundle reported.
	ID string `json:"id"`
	// Config is the SHA-256 of the image's config blob. Engines with the
	// classic image store use it as the image ID; engines with the
	// containerd image store use a manifest digest (then ID differs).
	Config string `json:"config"`
}

// accepts reports whether an engine's image ID is this image's.
func (b BundleImage) accepts(id string) bool { return id == b.ID || id == b.Config }

// ReadBundleManifest reads and checks a bundle manifest.
func ReadBundleManifest(path string) (BundleManifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return BundleManifest{}, fmt.Errorf("read the bundle manifest: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBundleManifest+1))
	if err != nil {
		return BundleManifest{}, fmt.Errorf("read the bundle manifest %s: %w", path, err)
	}
	if len(data) > maxBundleManifest {
		return BundleManifest{}, fmt.Errorf("bundle manifest %s is larger than %d bytes", path, maxBundleManifest)
	}
	m, err := ParseBundleManifest(data)
	if err != nil {
		return BundleManifest{}, fmt.Errorf("bundle manifest %s: %w", path, err)
	}
	return m, nil
}

// ParseBundleManifest decodes a manifest and checks every field.
func ParseBundleManifest(data []byte) (BundleManifest, error) {
	var m BundleManifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return BundleManifest{}, fmt.Errorf("decode: %w", err)
	}
	if m.Version != bundleManifestVersion {
		return BundleManifest{}, fmt.Errorf("version %d is not known (this installer reads version %d)", m.Version, bundleManifestVersion)
	}
	if len(m.Images) == 0 {
		return BundleManifest{}, errors.New("it lists no image")
	}
	seen := map[string]bool{}
	for i, img := range m.Images {
		ref, err := familiar(img.Image)
		if err != nil {
			return BundleManifest{}, fmt.Errorf("image %d: %w", i+1, err)
		}
		if seen[ref] {
			return BundleManifest{}, fmt.Errorf("image %s is listed twice", ref)
		}
		seen[ref] = true
		for _, d := range []string{img.ID, img.Config} {
			if err := checkSHA256(d); err != nil {
				return BundleManifest{}, fmt.Errorf("image %s: %w", ref, err)
			}
		}
	}
	return m, nil
}

// Marshal encodes the manifest as the file `images bundle` writes.
func (m BundleManifest) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode the bundle manifest: %w", err)
	}
	return append(data, '\n'), nil
}

func checkSHA256(d string) error {
	dg, err := digest.Parse(d)
	if err != nil || dg.Algorithm() != digest.SHA256 {
		return fmt.Errorf("%q is not a sha256:<64 hex digits> digest", d)
	}
	return nil
}

// familiar is a reference in the short form the docker CLI shows
// ("postgres:16", "quay.io/keycloak/keycloak:26"), so that references
// written differently compare equal. It must name a tag.
func familiar(ref string) (string, error) {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w", ref, err)
	}
	if _, ok := n.(reference.Tagged); !ok {
		return "", fmt.Errorf("image reference %q names no tag", ref)
	}
	return reference.FamiliarString(n), nil
}

// checkBundle compares what a bundle would load with its manifest. Every
// image the tarball holds, named or not, must be one the manifest lists,
// and every name the tarball would give must point to the image the
// manifest lists under that name. It returns the names the load would
// set, with the image expected under each.
func checkBundle(idx *imagetar.Index, m BundleManifest) (map[string]BundleImage, error) {
	byRef := map[string]BundleImage{}
	byContent := map[string]BundleImage{}
	for _, img := range m.Images {
		ref, _ := familiar(img.Image)
		byRef[ref] = img
		byContent[img.Config] = img
		byContent[img.ID] = img
	}
	names := map[string]BundleImage{}
	name := func(raw, content string) error {
		ref, err := familiar(raw)
		if err != nil {
			return fmt.Errorf("the tarball names an image %q: %w", raw, err)
		}
		want, ok := byRef[ref]
		switch {
		case !ok:
			return fmt.Errorf("the tarball holds %s, which the manifest does not list", ref)
		case !want.accepts(content):
			return fmt.Errorf("the tarball holds %s as %s, the manifest says %s", ref, content, want.Config)
		}
		names[ref] = want
		return nil
	}
	for _, img := range idx.Images {
		cfg := img.Config.String()
		for _, t := range img.Tags {
			if err := name(t, cfg); err != nil {
				return nil, err
			}
		}
		if _, ok := byContent[cfg]; !ok {
			return nil, fmt.Errorf("the tarball holds an image (config %s) that the manifest does not list", cfg)
		}
	}
	for _, d := range idx.Descriptors {
		// A manifest entry proves its image by its config; an index only by
		// its own digest, which the engine that made the bundle reported.
		content := d.Digest.String()
		if _, ok := byContent[content]; !ok && d.Config != "" {
			content = d.Config.String()
		}
		if _, ok := byContent[content]; !ok {
			return nil, fmt.Errorf("the tarball's index.json holds an image (%s) that the manifest does not list", d.Digest)
		}
		for _, n := range d.Names {
			if err := name(n, content); err != nil {
				return nil, err
			}
		}
	}
	return names, nil
}

// openBundle opens an images bundle that nobody else can change while it is
// verified and then loaded: a regular file, owned by this user or root,
// writable by its owner alone.
func openBundle(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open image bundle: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open image bundle: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("image bundle %s is not a regular file", path)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || (st.Uid != 0 && int(st.Uid) != os.Geteuid()) || fi.Mode().Perm()&0o022 != 0 {
		f.Close()
		owner := "unknown"
		if ok {
			owner = fmt.Sprint(st.Uid)
		}
		return nil, untrustedf("image bundle %s can be changed by another user (owner uid %s, mode %v), so what is verified might not be what is loaded; copy it somewhere only you can write, or `chmod go-w` it", path, owner, fi.Mode().Perm())
	}
	return f, nil
}

// loadBundle verifies the bundle against its manifest, then loads it. Before
// the load: the tarball's indexes must match the manifest, every missing
// reference must be in it, and no image present on this host may be
// replaced by another. After the load, every name it set must resolve to
// the expected image.
func (e *Engine) loadBundle(ctx context.Context, path string, missing []string, r *reporter) error {
	m, err := ReadBundleManifest(BundleManifestPath(path))
	if err != nil {
		return withHint(err, "an images bundle needs its manifest next to it, as `fineract-installer images bundle --out "+path+"` writes it")
	}
	f, err := openBundle(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r.working(event.ResourceImage, path, event.ActionVerify, "")
	idx, err := imagetar.Read(f, imagetar.DefaultLimits())
	if err != nil {
		return untrustedf("image bundle %s: %w; nothing was loaded", path, err)
	}
	names, err := checkBundle(idx, m)
	if err != nil {
		return untrustedf("image bundle %s does not match its manifest: %w; nothing was loaded", path, err)
	}
	var absent []string
	for _, ref := range missing {
		if fam, err := familiar(ref); err != nil || names[fam].ID == "" {
			absent = append(absent, ref)
		}
	}
	if len(absent) > 0 {
		return fmt.Errorf("image bundle %s does not contain %s; nothing was loaded; make the bundle with `fineract-installer images bundle` on a host that has the images", path, strings.Join(absent, ", "))
	}
	refs := slices.Sorted(maps.Keys(names))
	present, _, err := e.localImages(ctx, refs)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if id, ok := present[ref]; ok && !names[ref].accepts(id) {
			return untrustedf("loading image bundle %s would replace %s on this host (%s) with %s; nothing was loaded; remove the local image first if the bundle's is the one you want", path, ref, id, names[ref].ID)
		}
	}
	r.done(event.ResourceImage, path, event.ActionVerify, fmt.Sprintf("%d images match the manifest", len(names)))
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read image bundle: %w", err)
	}
	if err := e.sendBundle(ctx, f, path, r); err != nil {
		return err
	}
	loaded, gone, err := e.localImages(ctx, refs)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if id := loaded[ref]; !names[ref].accepts(id) {
			return untrustedf("image bundle %s loaded %s as %q, the manifest says %s; do not use it: remove it with `docker rmi %s`", path, ref, id, names[ref].ID, ref)
		}
	}
	if len(gone) > 0 {
		return fmt.Errorf("image bundle %s: %s still missing after the load", path, strings.Join(gone, ", "))
	}
	return nil
}

// SaveBundle writes the images refs name, as `docker save` does, into f (an
// empty file open for reading and writing) and returns the manifest an
// offline host needs to check it. The manifest is made from the written
// tarball itself, read back the way loadBundle reads it.
func (e *Engine) SaveBundle(ctx context.Context, refs []string, f *os.File, emit event.Emitter) (BundleManifest, error) {
	r := newReporter(emit)
	ids, err := e.ensureImages(ctx, refs, ImageOptions{}, r)
	if err != nil {
		return BundleManifest{}, err
	}
	fams := make([]string, 0, len(refs))
	for _, ref := range refs {
		fam, err := familiar(ref)
		if err != nil {
			return BundleManifest{}, err
		}
		fams = append(fams, fam)
	}
	r.working(event.ResourceImage, f.Name(), event.ActionSave, "")
	rc, err := e.api.ImageSave(ctx, refs)
	if err != nil {
		return BundleManifest{}, fmt.Errorf("save images: %w", err)
	}
	n, err := io.Copy(f, rc)
	rc.Close()
	if err != nil {
		return BundleManifest{}, fmt.Errorf("save images to %s: %w", f.Name(), err)
	}
	r.bytes(f.Name(), event.ActionSave, event.StatusDone, n, n, "")
	idx, err := imagetar.Read(f, imagetar.DefaultLimits())
	if err != nil {
		return BundleManifest{}, fmt.Errorf("read back the saved images: %w", err)
	}
	configs := map[string]string{}
	for _, img := range idx.Images {
		for _, t := range img.Tags {
			if fam, err := familiar(t); err == nil {
				configs[fam] = img.Config.String()
			}
		}
	}
	m := BundleManifest{Version: bundleManifestVersion}
	for i, ref := range refs {
		cfg, ok := configs[fams[i]]
		if !ok {
			return BundleManifest{}, fmt.Errorf("the saved tarball does not name %s", ref)
		}
		m.Images = append(m.Images, BundleImage{Image: fams[i], ID: ids[ref], Config: cfg})
	}
	sort.Slice(m.Images, func(i, j int) bool { return m.Images[i].Image < m.Images[j].Image })
	// A tag moved between the inspect and the save would pair one image's
	// ID with another's content.
	for _, img := range m.Images {
		if !savedAs(idx, img) {
			return BundleManifest{}, fmt.Errorf("%s changed while it was saved; run the command again", img.Image)
		}
	}
	// The bundle must pass the check an offline host will make.
	if _, err := checkBundle(idx, m); err != nil {
		return BundleManifest{}, fmt.Errorf("the saved tarball does not match its manifest (%w); run the command again", err)
	}
	return m, nil
}

// savedAs reports whether the tarball holds img under the ID the engine
// reported: as its config digest (classic image store), or as the digest
// of an index.json entry naming it (containerd image store).
func savedAs(idx *imagetar.Index, img BundleImage) bool {
	if img.ID == img.Config {
		return true
	}
	for _, d := range idx.Descriptors {
		if d.Digest.String() != img.ID {
			continue
		}
		for _, n := range d.Names {
			if fam, err := familiar(n); err == nil && fam == img.Image {
				return true
			}
		}
	}
	return false
}
