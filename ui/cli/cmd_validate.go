package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
	"github.com/fineract-installer/fineract-installer/steps/audit"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

func newValidateCmd(a *app) *cobra.Command {
	var reportDir string
	var target targetFlags
	var src answersSource
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Prove each security claim against the running system",
		Long: `Run the validation checklist against the running stack: TLS handshakes,
container inspection, network probes, Vault, PostgreSQL, secret leakage and
backups. Each check says pass, warn or fail, what it observed, and the fix.
Exits 1 when a check fails.

With --target kubernetes the checks read the cluster's live objects and
compare them with the manifests the answers render: each namespace's Pod
Security labels, the hardening admission policy and its binding, a weakened
pod refused by the API server (a dry run, nothing is stored), the default
deny and no NetworkPolicy the installer did not render, no Secret in the
stack's namespaces, no object changed since applied (a server-side dry run),
every workload ready and the gateway's Service reachable.`,
		Example: `  fineract-installer validate
  fineract-installer validate --report ./evidence   # evidence.md and evidence.html for auditors
  fineract-installer validate -o json
  fineract-installer validate --target kubernetes --answers answers.yaml --kubeconfig ~/.kube/bank`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if onKube, err := target.kubernetes(); err != nil {
				return err
			} else if onKube {
				return runValidateKube(cmd, a, src, target, reportDir)
			}
			if err := refuseKubeOnly(cmd, "answers", "demo"); err != nil {
				return err
			}
			env, done, err := installedEnv(ctx, a)
			if err != nil {
				return err
			}
			defer done()
			t, err := env.ValidationTarget()
			if err != nil {
				return err
			}
			rs := validate.Run(ctx, t, validate.All())
			if err := a.printer().checklist(rs); err != nil {
				return err
			}
			if reportDir != "" {
				if err := writeReports(a, reportDir, env.Answers.Host.Hostname, rs); err != nil {
					return err
				}
			}
			if _, _, failed := validate.Summary(rs); failed > 0 {
				return &silentError{code: ExitFailed}
			}
			return nil
		},
	}
	target.flags(cmd)
	src.flags(cmd)
	cmd.Flags().StringVar(&reportDir, "report", "", "also write the evidence report (evidence.md, evidence.html) into `DIR`")
	return cmd
}

// truncate cuts s to at most n terminal cells, ending in "…" when cut;
// it never splits a character or an escape sequence.
func truncate(s string, n int) string {
	return ansi.Truncate(s, n, "…")
}

// writeReports writes the evidence report in Markdown and HTML into dir,
// each readable by its owner only (it describes the bank's defences). Each
// file is written under a new name and renamed into place, so a link or a
// file someone left at a report's path is replaced, never followed.
func writeReports(a *app, dir, hostname string, rs []validate.Result) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("report dir: %w", err)
	}
	info := validate.ReportInfo{Project: a.project, Hostname: hostname, Installer: "fineract-installer " + a.build.Version, Generated: a.now()}
	if data, err := audit.Read(a.dir); err == nil {
		rep := audit.Verify(data, nil)
		info.AuditIntact = rep.OK()
		if len(rep.Entries) > 0 {
			info.AuditHead = fmt.Sprintf("%d:%s", rep.Head.Seq, rep.Head.Hash)
		}
	}
	reports := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"evidence.md", func(w io.Writer) error { return validate.WriteMarkdown(w, info, rs) }},
		{"evidence.html", func(w io.Writer) error { return validate.WriteHTML(w, info, rs) }},
	}
	var paths []string
	for _, r := range reports {
		var b bytes.Buffer
		if err := r.write(&b); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		path := filepath.Join(dir, r.name)
		if err := atomicfile.WriteFile(path, b.Bytes(), 0o600); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		paths = append(paths, path)
	}
	if !a.printer().json() {
		fmt.Fprintf(a.io.Out, "Evidence report: %s\n", strings.Join(paths, ", "))
	}
	return nil
}
