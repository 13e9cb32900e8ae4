package imagetar

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// file is one tar entry of a test tarball.
type file struct {
	name string
	typ  byte
	data string
	link string
}

func reg(name, data string) file { return file{name: name, typ: tar.TypeReg, data: data} }

func tarball(t testing.TB, files ...file) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Typeflag: f.typ, Mode: 0o644, Linkname: f.link}
		if f.typ == tar.TypeReg {
			h.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if f.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(f.data)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

const config = `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`

func manifestJSON(configPath string, tags ...string) string {
	b, _ := json.Marshal([]map[string]any{{"Config": configPath, "RepoTags": tags, "Layers": []string{"layer/layer.tar"}}})
	return string(b)
}

// legacy is a tarball as Docker 20.10 saves it: config named after its
// digest at the top, one directory per layer, manifest.json.
func legacy(t testing.TB, extra ...file) *bytes.Reader {
	name := digest.FromString(config).Encoded() + ".json"
	files := []file{
		reg(name, config),
		{name: "layer/", typ: tar.TypeDir},
		reg("layer/layer.tar", "layer bytes"),
		reg("manifest.json", manifestJSON(name, "example/app:1")),
	}
	return tarball(t, append(files, extra...)...)
}

func TestReadLegacyTarball(t *testing.T) {
	idx, err := Read(legacy(t), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	want := digest.FromString(config)
	if len(idx.Images) != 1 || idx.Images[0].Config != want || fmt.Sprint(idx.Images[0].Tags) != "[example/app:1]" {
		t.Fatalf("index %+v, want one image example/app:1 with config %s", idx, want)
	}
}

// The digest comes from the bytes, never from the name: a config whose
// name claims another digest is reported with its real one.
func TestConfigDigestIsComputedNotTakenFromTheName(t *testing.T) {
	liar := digest.FromString("the image the manifest promises").Encoded() + ".json"
	r := tarball(t, reg(liar, config), reg("layer/layer.tar", "x"), reg("manifest.json", manifestJSON(liar, "example/app:1")))
	idx, err := Read(r, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if got := idx.Images[0].Config; got != digest.FromString(config) {
		t.Fatalf("config digest %s, want the content's %s", got, digest.FromString(config))
	}
}

// ociTarball is a tarball as Docker 25 and later save it: blobs by digest,
// index.json pointing to an image manifest, manifest.json beside it.
func ociTarball(t testing.TB, mutate func(manifest, index []byte, blobs map[string]string) (string, string)) *bytes.Reader {
	cfg := digest.FromString(config)
	m, _ := json.Marshal(ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cfg, Size: int64(len(config))}})
	md := digest.FromBytes(m)
	idx, _ := json.Marshal(ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{{
		MediaType: ocispec.MediaTypeImageManifest, Digest: md, Size: int64(len(m)),
		Annotations: map[string]string{"io.containerd.image.name": "docker.io/example/app:1", ocispec.AnnotationRefName: "1"},
	}}})
	blobs := map[string]string{"blobs/sha256/" + cfg.Encoded(): config, "blobs/sha256/" + md.Encoded(): string(m), "blobs/sha256/layer": "layer"}
	manifest := manifestJSON("blobs/sha256/"+cfg.Encoded(), "example/app:1")
	manifest = strings.Replace(manifest, "layer/layer.tar", "blobs/sha256/layer", 1)
	index := string(idx)
	if mutate != nil {
		manifest, index = mutate([]byte(manifest), idx, blobs)
	}
	files := []file{{name: "blobs/", typ: tar.TypeDir}, {name: "blobs/sha256/", typ: tar.TypeDir}}
	for _, name := range []string{"blobs/sha256/" + cfg.Encoded(), "blobs/sha256/" + md.Encoded(), "blobs/sha256/layer"} {
		files = append(files, reg(name, blobs[name]))
	}
	files = append(files, reg("index.json", index), reg("manifest.json", manifest), reg("oci-layout", `{"imageLayoutVersion":"1.0.0"}`))
	return tarball(t, files...)
}

func TestReadOCITarball(t *testing.T) {
	idx, err := Read(ociTarball(t, nil), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	cfg := digest.FromString(config)
	if len(idx.Images) != 1 || idx.Images[0].Config != cfg {
		t.Fatalf("images %+v", idx.Images)
	}
	if len(idx.Descriptors) != 1 || idx.Descriptors[0].Config != cfg || fmt.Sprint(idx.Descriptors[0].Names) != "[docker.io/example/app:1]" {
		t.Fatalf("descriptors %+v: want one naming docker.io/example/app:1 (the bare tag is no name) with config %s", idx.Descriptors, cfg)
	}
}

// Hostile or broken tarballs are refused before anything in them is
// believed, each with ErrInvalid.
func TestReadRefusesHostileTarballs(t *testing.T) {
	cfgName := digest.FromString(config).Encoded() + ".json"
	small := DefaultLimits()
	small.MaxEntries, small.MaxMetadata, small.MaxBlob, small.MaxImages = 6, 200, 40, 1
	cases := []struct {
		name string
		r    func(t *testing.T) *bytes.Reader
		lim  Limits
		want string
	}{
		{"no manifest.json", func(t *testing.T) *bytes.Reader { return tarball(t, reg(cfgName, config)) }, DefaultLimits(), "no manifest.json"},
		{"manifest.json twice (the engine would read the second)", func(t *testing.T) *bytes.Reader {
			return legacy(t, reg("manifest.json", manifestJSON(cfgName, "evil/app:1")))
		}, DefaultLimits(), "appears twice"},
		{"the same file written as ./name", func(t *testing.T) *bytes.Reader { return legacy(t, reg("./"+cfgName, "{}")) }, DefaultLimits(), "not a clean relative path"},
		{"path escaping upwards", func(t *testing.T) *bytes.Reader { return legacy(t, reg("../etc/cron.d/x", "x")) }, DefaultLimits(), "not a clean relative path"},
		{"absolute path", func(t *testing.T) *bytes.Reader { return legacy(t, reg("/etc/passwd", "x")) }, DefaultLimits(), "not a clean relative path"},
		{"manifest.json as a symlink", func(t *testing.T) *bytes.Reader {
			return tarball(t, reg(cfgName, config), reg("m", manifestJSON(cfgName, "example/app:1")), file{name: "manifest.json", typ: tar.TypeSymlink, link: "m"})
		}, DefaultLimits(), "only shared layer.tar files may be links"},
		{"a directory symlink to redirect later entries", func(t *testing.T) *bytes.Reader {
			return legacy(t, file{name: "blobs", typ: tar.TypeSymlink, link: "layer"}, reg("blobs/x", "x"))
		}, DefaultLimits(), "only shared layer.tar files may be links"},
		{"entries below a layer link", func(t *testing.T) *bytes.Reader {
			return legacy(t, file{name: "other/layer.tar", typ: tar.TypeSymlink, link: "../layer/layer.tar"}, reg("other/layer.tar/x", "x"))
		}, DefaultLimits(), "lies below the link"},
		{"layer link leaving the tarball", func(t *testing.T) *bytes.Reader {
			return legacy(t, file{name: "other/layer.tar", typ: tar.TypeSymlink, link: "../../../etc/shadow"})
		}, DefaultLimits(), "points outside"},
		{"config is a hard link to another file", func(t *testing.T) *bytes.Reader {
			return tarball(t, reg("real.json", config), file{name: "x/layer.tar", typ: tar.TypeLink, link: "real.json"},
				reg("layer/layer.tar", "x"), reg("manifest.json", manifestJSON("x/layer.tar", "example/app:1")))
		}, DefaultLimits(), "not a regular file"},
		{"device node", func(t *testing.T) *bytes.Reader { return legacy(t, file{name: "dev", typ: tar.TypeChar}) }, DefaultLimits(), "special file"},
		{"fifo", func(t *testing.T) *bytes.Reader { return legacy(t, file{name: "fifo", typ: tar.TypeFifo}) }, DefaultLimits(), "special file"},
		{"config missing", func(t *testing.T) *bytes.Reader {
			return tarball(t, reg("layer/layer.tar", "x"), reg("manifest.json", manifestJSON("nothere.json", "example/app:1")))
		}, DefaultLimits(), "not in the tarball"},
		{"layer missing (a partial load)", func(t *testing.T) *bytes.Reader {
			return tarball(t, reg(cfgName, config), reg("manifest.json", manifestJSON(cfgName, "example/app:1")))
		}, DefaultLimits(), `layer "layer/layer.tar" is not in the tarball`},
		{"manifest.json not JSON", func(t *testing.T) *bytes.Reader { return tarball(t, reg("manifest.json", "[{")) }, DefaultLimits(), "manifest.json"},
		{"manifest.json lists nothing", func(t *testing.T) *bytes.Reader { return tarball(t, reg("manifest.json", "[]")) }, DefaultLimits(), "lists 0 images"},
		{"too many entries", func(t *testing.T) *bytes.Reader {
			var fs []file
			for i := range 7 {
				fs = append(fs, reg(fmt.Sprintf("f%d", i), "x"))
			}
			return tarball(t, fs...)
		}, small, "more than 6 entries"},
		{"manifest.json too large", func(t *testing.T) *bytes.Reader {
			return tarball(t, reg("manifest.json", "["+strings.Repeat(" ", 300)+"]"))
		}, small, "more than the 200 allowed"},
		{"config too large", func(t *testing.T) *bytes.Reader { return legacy(t) }, small, "more than the 40 allowed"},
		{"too many images", func(t *testing.T) *bytes.Reader {
			m := `[{"Config":"a.json","RepoTags":["a:1"]},{"Config":"a.json","RepoTags":["b:1"]}]`
			return tarball(t, reg("a.json", "{}"), reg("manifest.json", m))
		}, small, "lists 2 images"},
		{"long names", func(t *testing.T) *bytes.Reader { return legacy(t, reg(strings.Repeat("a", 2000), "x")) }, DefaultLimits(), "longer than 1024"},
		{"not a tarball", func(t *testing.T) *bytes.Reader { return bytes.NewReader([]byte(strings.Repeat("garbage!", 200))) }, DefaultLimits(), ""},
		{"truncated", func(t *testing.T) *bytes.Reader {
			b, _ := readAll(legacy(t))
			return bytes.NewReader(b[:700])
		}, DefaultLimits(), ""},
		{"index.json entry whose blob is another", func(t *testing.T) *bytes.Reader {
			return ociTarball(t, func(m, idx []byte, blobs map[string]string) (string, string) {
				for name := range blobs {
					if name != "blobs/sha256/layer" && blobs[name] != config {
						blobs[name] = strings.Replace(blobs[name], "config", "config ", 1)
					}
				}
				return string(m), string(idx)
			})
		}, DefaultLimits(), "hashes to"},
		{"index.json manifest whose config blob is another", func(t *testing.T) *bytes.Reader {
			return ociTarball(t, func(m, idx []byte, blobs map[string]string) (string, string) {
				blobs["blobs/sha256/"+digest.FromString(config).Encoded()] = `{"os":"linux","evil":true}`
				return string(m), string(idx)
			})
		}, DefaultLimits(), "hashes to"},
		{"index.json digest of another algorithm", func(t *testing.T) *bytes.Reader {
			return ociTarball(t, func(m, idx []byte, blobs map[string]string) (string, string) {
				return string(m), `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha512:` + strings.Repeat("ab", 64) + `","size":1}]}`
			})
		}, DefaultLimits(), "only sha256"},
		{"index.json entry without a digest (the digest package panics on it)", func(t *testing.T) *bytes.Reader {
			return ociTarball(t, func(m, idx []byte, blobs map[string]string) (string, string) {
				return string(m), `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1}]}`
			})
		}, DefaultLimits(), "only sha256"},
		{"index.json entry of an unknown media type", func(t *testing.T) *bytes.Reader {
			return ociTarball(t, func(m, idx []byte, blobs map[string]string) (string, string) {
				return string(m), strings.Replace(string(idx), ocispec.MediaTypeImageManifest, "application/x-evil", 1)
			})
		}, DefaultLimits(), "says it is"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(c.r(t), c.lim)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v; want ErrInvalid mentioning %q", err, c.want)
			}
		})
	}
}

func readAll(r *bytes.Reader) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r)
	return b.Bytes(), err
}

// Whatever the bytes, Read returns an index or ErrInvalid, within its
// limits.
func FuzzRead(f *testing.F) {
	f.Add(mustBytes(legacy(f)))
	f.Add(mustBytes(ociTarball(f, nil)))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := DefaultLimits()
		lim.MaxEntries, lim.MaxBlob, lim.MaxMetadata = 64, 1<<12, 1<<12
		if _, err := Read(bytes.NewReader(data), lim); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error without ErrInvalid: %v", err)
		}
	})
}

func mustBytes(r *bytes.Reader) []byte {
	b, _ := readAll(r)
	return b
}
