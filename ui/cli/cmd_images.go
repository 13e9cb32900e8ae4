package cli

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

// imagesBundleDoc is the record `images bundle -o json` ends with.
type imagesBundleDoc struct {
	Bundle         string                `json:"bundle"`
	Bytes          int64                 `json:"bytes"`
	Manifest       string                `json:"manifest"`
	ManifestSHA256 string                `json:"manifest_sha256"`
	Images         []compose.BundleImage `json:"images"`
}

func newImagesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "images",
		Short: "Offline image bundles: the stack's images and the manifest that vouches for them",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newImagesBundleCmd(a))
	return cmd
}

func newImagesBundleCmd(a *app) *cobra.Command {
	var src answersSource
	var out string
	cmd := &cobra.Command{
		Use:   "bundle --out FILE",
		Short: "On a connected host: save the stack's images to FILE and their expected IDs to FILE" + compose.BundleManifestSuffix,
		Long: `Save the stack's images (every pinned image, or those the answers need) into
one tarball, as ` + "`docker save`" + ` does, pulling those that are missing, and write
FILE` + compose.BundleManifestSuffix + ` next to it: each reference with its image ID and the
SHA-256 of its config, read back from the tarball just written.

On the offline host, ` + "`install --images-bundle FILE`" + ` checks the tarball against
the manifest before anything is loaded. The manifest is only as good as
the way it travelled: compare its SHA-256, printed here, with
` + "`sha256sum FILE" + compose.BundleManifestSuffix + "`" + ` on the offline host.`,
		Example: `  fineract-installer images bundle --out stack-images.tar
  fineract-installer images bundle --answers answers.yaml --out /media/usb/stack-images.tar`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError("--out FILE is required")
			}
			refs, err := bundleRefs(src)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			e, err := a.engine(ctx)
			if err != nil {
				return err
			}
			defer e.Close()
			p := a.printer()
			m, size, err := writeImagesBundle(cmd, e, refs, out, p)
			if err != nil {
				return err
			}
			data, err := m.Marshal()
			if err != nil {
				return err
			}
			manifest := compose.BundleManifestPath(out)
			if err := atomicfile.WriteFile(manifest, data, 0o644); err != nil {
				return err
			}
			sum := fmt.Sprintf("%x", sha256.Sum256(data))
			if p.json() {
				return p.record(typeImagesBundle, imagesBundleDoc{out, size, manifest, sum, m.Images})
			}
			fmt.Fprintf(a.io.Out, "%s %s: %d images, %s\n", p.ok.Render("Wrote"), out, len(m.Images), humanBytes(size))
			fmt.Fprintf(a.io.Out, "%s %s\n  SHA-256 %s\n", p.ok.Render("Wrote"), manifest, sum)
			fmt.Fprintf(a.io.Out, "Copy both files to the offline host, check the manifest's SHA-256 there, then install with --images-bundle %s.\n", filepath.Base(out))
			return nil
		},
	}
	src.flags(cmd)
	cmd.Flags().StringVar(&out, "out", "", "the tarball `FILE` to write; the manifest goes next to it")
	return cmd
}

// bundleRefs lists the images to bundle: those the answers need, or every
// pinned image without answers.
func bundleRefs(src answersSource) ([]string, error) {
	seen := map[string]bool{}
	var refs []string
	add := func(ref string) {
		if !seen[ref] {
			seen[ref] = true
			refs = append(refs, ref)
		}
	}
	if src.file == "" && !src.demo {
		for _, pin := range assets.ImagePins() {
			add(pin.Image)
		}
		return refs, nil
	}
	ans, err := src.load()
	if err != nil {
		return nil, err
	}
	b, err := assets.Render(ans, assets.Options{Project: "bundle", SecretsDir: "/run/bundle"})
	if err != nil {
		return nil, src.renderError(err)
	}
	for _, svc := range b.Services {
		add(svc.Image)
	}
	return refs, nil
}

// writeImagesBundle saves the images into a new file beside out and puts it
// in place only once its manifest is made, so a failed run leaves no
// tarball that looks complete.
func writeImagesBundle(cmd *cobra.Command, e *compose.Engine, refs []string, out string, p *printer) (compose.BundleManifest, int64, error) {
	// Readable by the offline host's root; writable by its owner alone,
	// as the install requires of a bundle it verifies.
	tmp, err := atomicfile.Create(out, 0o644)
	if err != nil {
		return compose.BundleManifest{}, 0, withCode(ExitUsage, fmt.Errorf("write the bundle: %w", err))
	}
	defer tmp.Cleanup()
	// Events name the file being written by the name it will have.
	progress := p.emitter("images")
	m, err := e.SaveBundle(cmd.Context(), refs, tmp.File, event.Func(func(ev event.Event) {
		if ev.Subject == tmp.Name() {
			ev.Subject = out
		}
		progress.Emit(ev)
	}))
	if err != nil {
		return compose.BundleManifest{}, 0, err
	}
	fi, err := tmp.Stat()
	if err != nil {
		return compose.BundleManifest{}, 0, fmt.Errorf("write the bundle: %w", err)
	}
	if err := tmp.Commit(); err != nil {
		return compose.BundleManifest{}, 0, fmt.Errorf("write the bundle: %w", err)
	}
	return m, fi.Size(), nil
}
