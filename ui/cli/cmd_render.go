package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// answersSource is how a command gets its answers: a file, or a profile's
// defaults with --demo.
type answersSource struct {
	file string
	demo bool
}

// renderDoc is `render -o json`.
type renderDoc struct {
	Dir         string          `json:"dir"`
	ComposeFile string          `json:"compose_file"`
	Files       []string        `json:"files"`
	Services    []renderService `json:"services"`
}

// renderService is what `render -o json` says of a rendered service: how
// it will run, in the JSON names of the output contract (the renderer's
// own type has fields that are its business only).
type renderService struct {
	Name              string   `json:"name"`
	Group             string   `json:"group"`
	Image             string   `json:"image"`
	UID               int      `json:"uid"`
	GID               int      `json:"gid"`
	MemoryMiB         int      `json:"memory_mib"`
	Networks          []string `json:"networks"`
	Published         []int    `json:"published,omitempty"`
	DataVolumes       []string `json:"data_volumes,omitempty"`
	ReadOnlyException string   `json:"read_only_exception,omitempty"`
	RootReason        string   `json:"root_reason,omitempty"`
}

func newRenderService(s assets.Service) renderService {
	return renderService{Name: s.Name, Group: s.Group, Image: s.Image, UID: s.UID, GID: s.GID, MemoryMiB: s.MemoryMiB,
		Networks: s.Networks, Published: s.Published, DataVolumes: s.DataVolumes,
		ReadOnlyException: s.ReadOnlyException, RootReason: s.RootReason}
}

func (s *answersSource) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.file, "answers", "", "answers `FILE` (start one with fineract-installer answers init)")
	cmd.Flags().BoolVar(&s.demo, "demo", false, "use the demo profile's defaults instead of an answers file")
}

func (s *answersSource) load() (answers.Answers, error) {
	switch {
	case s.file != "" && s.demo:
		return answers.Answers{}, usageError("give either --answers FILE or --demo, not both")
	case s.demo:
		return answers.Defaults(answers.Demo), nil
	case s.file == "":
		return answers.Answers{}, usageError("no answers: pass --answers FILE (see `fineract-installer answers init`) or --demo")
	}
	a, err := answers.Load(s.file)
	if err != nil {
		return answers.Answers{}, withCode(ExitUsage, err)
	}
	return a, nil
}

// renderError is an error found while rendering the stack from the
// answers: bad input (exit 2), pointed at the answers file's line when it
// is about one answer, as the file's own errors are.
func (s *answersSource) renderError(err error) error {
	return withCode(ExitUsage, answers.Locate(s.file, err))
}

func newRenderCmd(a *app) *cobra.Command {
	var src answersSource
	var out string
	var t targetFlags
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Write the compose file and configuration the answers would deploy, to read or review",
		Long: `Write the compose file and every configuration file the answers would
deploy into a directory, without touching Docker. Nothing secret is in them:
secrets reach the services as files from Vault at install time.

With --target kubernetes it writes the Kubernetes manifests instead, one
YAML file per object, for ` + "`kubectl apply --server-side`" + `. DIR must be new,
empty, or an earlier render's; the files of an earlier render are
replaced, and nothing else in DIR is touched.`,
		Example: `  fineract-installer render --answers answers.yaml --out ./rendered
  fineract-installer render --demo --out ./rendered && docker compose -f ./rendered/compose.yaml config
  fineract-installer render --target kubernetes --answers answers.yaml --out ./manifests`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError("--out DIR is required")
			}
			onKube, err := t.kubernetes()
			if err != nil {
				return err
			}
			if onKube {
				return runRenderKube(cmd, a, src, out)
			}
			ans, err := src.load()
			if err != nil {
				return err
			}
			b, err := assets.Render(ans, assets.Options{Project: a.project, SecretsDir: installdir.SecretsDir(a.project)})
			if err != nil {
				return src.renderError(err)
			}
			if err := b.Write(cmd.Context(), out); err != nil {
				return err
			}
			p := a.printer()
			if p.json() {
				files := make([]string, len(b.Files))
				for i, f := range b.Files {
					files[i] = f.Path
				}
				services := make([]renderService, len(b.Services))
				for i, svc := range b.Services {
					services[i] = newRenderService(svc)
				}
				return p.record(typeRender, renderDoc{out, filepath.Join(out, b.ComposeFile), files, services})
			}
			fmt.Fprintf(a.io.Out, "Wrote %d files for %d services to %s\n", len(b.Files), len(b.Services), out)
			for _, f := range b.Files {
				fmt.Fprintf(a.io.Out, "  %s\n", f.Path)
			}
			fmt.Fprintf(a.io.Out, "Compose file: %s\n", filepath.Join(out, b.ComposeFile))
			return nil
		},
	}
	src.flags(cmd)
	t.flags(cmd)
	cmd.Flags().StringVar(&out, "out", "", "`DIR` to write into (created if missing)")
	return cmd
}
