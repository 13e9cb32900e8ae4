// Package imagetar reads what a `docker save` tarball would load, without
// trusting it: which images (by the SHA-256 of their config, computed here
// from the bytes, never taken from a file name) and which names they would
// get. It reads the tarball's own indexes the way the engines do:
// manifest.json (every Docker engine) and, when present, index.json (the
// OCI layout that Docker 25 and later also write, and that engines with the
// containerd image store load).
//
// The tarball may come from anywhere, so the work is bounded before
// anything in it is believed: entry count, name length, and the size of
// every file read into memory. Large entries (layers) are skipped with
// Seek, never read. Anything that would let the engine see other bytes than
// the ones read here is refused: duplicate names, names that are not clean
// relative paths, links other than the shared-layer links `docker save`
// writes, entries below a link, and special files.
package imagetar

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ErrInvalid marks a tarball that is not a well-formed `docker save` output
// or exceeds a limit.
var ErrInvalid = errors.New("not a well-formed docker save tarball")

// Limits bound the work done on an untrusted tarball.
type Limits struct {
	// MaxEntries caps tar entries of every kind.
	MaxEntries int
	// MaxNameLen caps the length of one entry name.
	MaxNameLen int
	// MaxMetadata caps manifest.json and index.json.
	MaxMetadata int64
	// MaxBlob caps one image config or OCI manifest.
	MaxBlob int64
	// MaxImages caps the images manifest.json lists and the descriptors
	// index.json lists.
	MaxImages int
}

// DefaultLimits fit a bundle of the whole stack many times over: `docker
// save` writes a few entries per layer, configs of some kilobytes and an
// index of some kilobytes per image.
func DefaultLimits() Limits {
	return Limits{MaxEntries: 100_000, MaxNameLen: 1024, MaxMetadata: 4 << 20, MaxBlob: 8 << 20, MaxImages: 1024}
}

// Image is one entry of manifest.json.
type Image struct {
	// Tags are the names the engine gives the image (RepoTags, as written).
	Tags []string
	// Config is the SHA-256 of the image's config blob, computed from its
	// bytes. Engines with the classic image store use it as the image ID.
	Config digest.Digest
}

// Descriptor is one entry of index.json.
type Descriptor struct {
	// Names are the full references the entry names the image with
	// (io.containerd.image.name, and org.opencontainers.image.ref.name when
	// it holds a full reference rather than a bare tag).
	Names []string
	// Digest is the entry's digest; the blob it points to hashes to it.
	Digest    digest.Digest
	MediaType string
	// Config is the config digest of an image manifest (the config blob
	// hashes to it too); empty for an image index.
	Config digest.Digest
}

// Index is what the tarball would load.
type Index struct {
	Images      []Image
	Descriptors []Descriptor
}

const (
	manifestFile = "manifest.json"
	indexFile    = "index.json"
)

// entry is what the first pass learned about one tar entry.
type entry struct {
	typ  byte
	size int64
}

// Read reads the tarball's indexes and verifies the content hash of every
// config and OCI manifest they point to. r is read from its start several
// times (each pass seeks over the layers).
func Read(r io.ReadSeeker, lim Limits) (*Index, error) {
	entries, meta, err := scan(r, lim)
	if err != nil {
		return nil, err
	}
	mdata, ok := meta[manifestFile]
	if !ok {
		return nil, fmt.Errorf("%w: no manifest.json (an engine would fall back to the legacy format, which this installer does not load)", ErrInvalid)
	}
	var items []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(mdata, &items); err != nil {
		return nil, fmt.Errorf("%w: manifest.json: %v", ErrInvalid, err)
	}
	if len(items) == 0 || len(items) > lim.MaxImages {
		return nil, fmt.Errorf("%w: manifest.json lists %d images (1 to %d allowed)", ErrInvalid, len(items), lim.MaxImages)
	}
	want := map[string]bool{}
	for i, it := range items {
		if err := blobEntry(entries, it.Config, lim); err != nil {
			return nil, fmt.Errorf("%w: manifest.json image %d: config: %v", ErrInvalid, i+1, err)
		}
		for _, l := range it.Layers {
			if _, ok := entries[l]; !ok {
				return nil, fmt.Errorf("%w: manifest.json image %d: layer %q is not in the tarball", ErrInvalid, i+1, l)
			}
		}
		want[it.Config] = true
	}

	var descs []ocispec.Descriptor
	if idata, ok := meta[indexFile]; ok {
		var idx ocispec.Index
		if err := json.Unmarshal(idata, &idx); err != nil {
			return nil, fmt.Errorf("%w: index.json: %v", ErrInvalid, err)
		}
		if len(idx.Manifests) > lim.MaxImages {
			return nil, fmt.Errorf("%w: index.json lists %d descriptors (at most %d allowed)", ErrInvalid, len(idx.Manifests), lim.MaxImages)
		}
		for i, d := range idx.Manifests {
			name, err := blobName(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("%w: index.json descriptor %d: %v", ErrInvalid, i+1, err)
			}
			if err := blobEntry(entries, name, lim); err != nil {
				return nil, fmt.Errorf("%w: index.json descriptor %d: %v", ErrInvalid, i+1, err)
			}
			want[name] = true
		}
		descs = idx.Manifests
	}

	blobs, err := readEntries(r, entries, want, lim)
	if err != nil {
		return nil, err
	}
	out := &Index{}
	for _, it := range items {
		out.Images = append(out.Images, Image{Tags: it.RepoTags, Config: digest.FromBytes(blobs[it.Config])})
	}

	// OCI manifests point to their config by digest: a third pass reads the
	// configs the second did not.
	configs := map[string]bool{}
	for i, d := range descs {
		name, _ := blobName(d.Digest)
		data := blobs[name]
		if got := digest.FromBytes(data); got != d.Digest {
			return nil, fmt.Errorf("%w: index.json descriptor %d: blob %s hashes to %s", ErrInvalid, i+1, name, got)
		}
		mt, cfg, err := parseTarget(d, data)
		if err != nil {
			return nil, fmt.Errorf("%w: index.json descriptor %d: %v", ErrInvalid, i+1, err)
		}
		desc := Descriptor{Names: descriptorNames(d.Annotations), Digest: d.Digest, MediaType: mt, Config: cfg}
		if cfg != "" {
			cname, err := blobName(cfg)
			if err != nil {
				return nil, fmt.Errorf("%w: index.json descriptor %d: config: %v", ErrInvalid, i+1, err)
			}
			if err := blobEntry(entries, cname, lim); err != nil {
				return nil, fmt.Errorf("%w: index.json descriptor %d: config: %v", ErrInvalid, i+1, err)
			}
			if _, read := blobs[cname]; !read {
				configs[cname] = true
			}
		}
		out.Descriptors = append(out.Descriptors, desc)
	}
	if len(configs) > 0 {
		more, err := readEntries(r, entries, configs, lim)
		if err != nil {
			return nil, err
		}
		for k, v := range more {
			blobs[k] = v
		}
	}
	for _, d := range out.Descriptors {
		if d.Config == "" {
			continue
		}
		name, _ := blobName(d.Config)
		if got := digest.FromBytes(blobs[name]); got != d.Config {
			return nil, fmt.Errorf("%w: config blob %s hashes to %s", ErrInvalid, name, got)
		}
	}
	return out, nil
}

// scan is the first pass: it checks every entry and reads manifest.json and
// index.json.
func scan(r io.ReadSeeker, lim Limits) (map[string]entry, map[string][]byte, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, nil, fmt.Errorf("read image bundle: %w", err)
	}
	tr := tar.NewReader(r)
	entries := map[string]entry{}
	links := map[string]bool{}
	parents := map[string]bool{}
	meta := map[string][]byte{}
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if n >= lim.MaxEntries {
			return nil, nil, fmt.Errorf("%w: more than %d entries", ErrInvalid, lim.MaxEntries)
		}
		if len(hdr.Name) > lim.MaxNameLen {
			return nil, nil, fmt.Errorf("%w: an entry name is longer than %d bytes", ErrInvalid, lim.MaxNameLen)
		}
		name, err := cleanName(hdr.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if _, dup := entries[name]; dup {
			return nil, nil, fmt.Errorf("%w: %q appears twice", ErrInvalid, name)
		}
		for p := path.Dir(name); p != "."; p = path.Dir(p) {
			if links[p] {
				return nil, nil, fmt.Errorf("%w: %q lies below the link %q", ErrInvalid, name, p)
			}
			parents[p] = true
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeDir:
		case tar.TypeSymlink, tar.TypeLink:
			if err := checkLink(name, hdr); err != nil {
				return nil, nil, fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			if parents[name] {
				return nil, nil, fmt.Errorf("%w: the link %q is also a directory of other entries", ErrInvalid, name)
			}
			links[name] = true
		default:
			return nil, nil, fmt.Errorf("%w: %q is a special file (type %q)", ErrInvalid, name, hdr.Typeflag)
		}
		entries[name] = entry{typ: hdr.Typeflag, size: hdr.Size}
		if name != manifestFile && name != indexFile {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalid, name)
		}
		if hdr.Size > lim.MaxMetadata {
			return nil, nil, fmt.Errorf("%w: %s is %d bytes, more than the %d allowed", ErrInvalid, name, hdr.Size, lim.MaxMetadata)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: read %s: %v", ErrInvalid, name, err)
		}
		meta[name] = data
	}
	return entries, meta, nil
}

// readEntries is a later pass: it reads the named regular files, which the
// first pass found and sized. An entry that now has another type or size
// means the file changed under the reader.
func readEntries(r io.ReadSeeker, entries map[string]entry, want map[string]bool, lim Limits) (map[string][]byte, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read image bundle: %w", err)
	}
	tr := tar.NewReader(r)
	out := map[string][]byte{}
	for n := 0; n <= len(entries) && len(out) < len(want); n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		name, err := cleanName(hdr.Name)
		if err != nil || !want[name] {
			continue
		}
		if e := entries[name]; e.typ != hdr.Typeflag || e.size != hdr.Size || hdr.Size > lim.MaxBlob {
			return nil, fmt.Errorf("%w: %q changed while it was read", ErrInvalid, name)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%w: read %s: %v", ErrInvalid, name, err)
		}
		out[name] = data
	}
	if len(out) != len(want) {
		return nil, fmt.Errorf("%w: the tarball changed while it was read", ErrInvalid)
	}
	return out, nil
}

// cleanName returns the entry's path without a directory's trailing slash,
// or an error when the engine could resolve it to another path than its
// text says.
func cleanName(name string) (string, error) {
	n := strings.TrimSuffix(name, "/")
	if n == "" || n == "." || strings.HasPrefix(n, "/") || strings.Contains(n, "\\") || strings.ContainsRune(n, 0) || path.Clean(n) != n || n == ".." || strings.HasPrefix(n, "../") {
		return "", fmt.Errorf("entry name %q is not a clean relative path", name)
	}
	return n, nil
}

// checkLink allows only what `docker save` writes: a layer shared by two
// images is stored once and linked from the other image's directory. Layer
// content is checked by the engine against the verified config.
func checkLink(name string, hdr *tar.Header) error {
	if path.Base(name) != "layer.tar" {
		return fmt.Errorf("link %q: only shared layer.tar files may be links", name)
	}
	target := hdr.Linkname
	if hdr.Typeflag == tar.TypeSymlink {
		if strings.HasPrefix(target, "/") {
			return fmt.Errorf("link %q points outside the tarball", name)
		}
		target = path.Join(path.Dir(name), target)
	}
	if _, err := cleanName(target); err != nil || target == name {
		return fmt.Errorf("link %q points outside the tarball or to itself", name)
	}
	return nil
}

// blobEntry checks that name is a regular file of the tarball that may be
// read into memory.
func blobEntry(entries map[string]entry, name string, lim Limits) error {
	if _, err := cleanName(name); err != nil {
		return err
	}
	e, ok := entries[name]
	switch {
	case !ok:
		return fmt.Errorf("%q is not in the tarball", name)
	case e.typ != tar.TypeReg:
		return fmt.Errorf("%q is not a regular file", name)
	case e.size > lim.MaxBlob:
		return fmt.Errorf("%q is %d bytes, more than the %d allowed", name, e.size, lim.MaxBlob)
	}
	return nil
}

// blobName is where the OCI layout keeps the blob with digest d.
func blobName(d digest.Digest) (string, error) {
	// Checked by its text first: the digest package panics on some
	// malformed digests before Validate.
	if !strings.HasPrefix(string(d), digest.SHA256.String()+":") {
		return "", fmt.Errorf("digest %q: only sha256 is accepted", d)
	}
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("digest %q: %v", d, err)
	}
	return path.Join(ocispec.ImageBlobsDir, d.Algorithm().String(), d.Encoded()), nil
}

// Media types an index.json entry may point to.
const (
	dockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// parseTarget reads the blob an index.json entry points to: an image
// manifest (its config digest is returned) or an image index.
func parseTarget(d ocispec.Descriptor, data []byte) (string, digest.Digest, error) {
	var m struct {
		MediaType string             `json:"mediaType"`
		Config    ocispec.Descriptor `json:"config"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return "", "", fmt.Errorf("blob %s: %v", d.Digest, err)
	}
	mt := d.MediaType
	if mt == "" {
		mt = m.MediaType
	}
	if m.MediaType != "" && m.MediaType != mt {
		return "", "", fmt.Errorf("blob %s says it is %s, its descriptor says %s", d.Digest, m.MediaType, mt)
	}
	switch mt {
	case ocispec.MediaTypeImageManifest, dockerManifest:
		if m.Config.Digest == "" {
			return "", "", fmt.Errorf("image manifest %s names no config", d.Digest)
		}
		return mt, m.Config.Digest, nil
	case ocispec.MediaTypeImageIndex, dockerManifestList:
		return mt, "", nil
	}
	return "", "", fmt.Errorf("blob %s has media type %q, neither an image manifest nor an index", d.Digest, mt)
}

// descriptorNames lists the full references an index.json entry names. A
// bare tag in org.opencontainers.image.ref.name names no repository.
func descriptorNames(ann map[string]string) []string {
	var names []string
	if n := ann["io.containerd.image.name"]; n != "" {
		names = append(names, n)
	}
	if n := ann[ocispec.AnnotationRefName]; strings.ContainsAny(n, "/:@") {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
