package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps/diagnose"
	"github.com/fineract-installer/fineract-installer/steps/install"
)

// writeBundle writes a support bundle for env next to its install dir.
// diagnoseDoc is `diagnose -o json`.
type diagnoseDoc struct {
	File     string            `json:"file"`
	Manifest diagnose.Manifest `json:"manifest"`
}

func writeBundle(ctx context.Context, env *install.Env, out string, lines int, version string) (string, diagnose.Manifest, error) {
	if out == "" {
		out = filepath.Join(os.TempDir(), fmt.Sprintf("fineract-support-%s.tar.gz", time.Now().UTC().Format("20060102T150405Z")))
	}
	f, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", diagnose.Manifest{}, fmt.Errorf("create support bundle: %w", err)
	}
	m, err := diagnose.Write(ctx, env, f, diagnose.Options{LogLines: lines, Version: version})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return "", m, err
	}
	return out, m, nil
}

func newDiagnoseCmd(a *app) *cobra.Command {
	var out string
	var lines int
	cmd := &cobra.Command{
		Use:   "diagnose",
		Short: "Write a redacted support bundle (tar.gz) for a support engineer",
		Long: `Write a support bundle: installer, Docker and OS versions; answers and
state; preflight and validation results; docker inspect of every stack
container (environment values removed); each service's last log lines;
the project's recent Docker events; the network layout. Every value kept in
Vault, and anything that looks like a token, password or private key, is
replaced; MANIFEST.json in the bundle counts what was removed.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, done, err := installedEnv(cmd.Context(), a)
			if err != nil {
				return err
			}
			defer done()
			path, m, err := writeBundle(cmd.Context(), env, out, lines, a.build.Version)
			if err != nil {
				return err
			}
			p := a.printer()
			if p.json() {
				return p.record(typeDiagnose, diagnoseDoc{path, m})
			}
			var kinds []string
			for k, n := range m.Redacted {
				kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
			}
			sort.Strings(kinds)
			fmt.Fprintf(a.io.Out, "Support bundle: %s (%d files; redacted: %s)\n", path, len(m.Files), strings.Join(kinds, ", "))
			for _, n := range m.Notes {
				fmt.Fprintf(a.io.Out, "note: %s\n", n)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "bundle `FILE` to write (default: a new file in the temp directory)")
	cmd.Flags().IntVar(&lines, "lines", 500, "last `N` log lines per service")
	return cmd
}
