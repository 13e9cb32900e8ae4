package cli

import (
	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps/kubecheck"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// runValidateKube is `validate --target kubernetes`: the Kubernetes
// checklist (package kubecheck) against the cluster the flags name, with
// the expectation rendered from the answers, printed and reported as the
// Docker target's checklist is. Exits 1 when a check fails.
func runValidateKube(cmd *cobra.Command, a *app, src answersSource, t targetFlags, reportDir string) error {
	ans, m, c, err := kubeStack(cmd, a, src, t)
	if err != nil {
		return err
	}
	rs := kubecheck.Run(cmd.Context(), c, m)
	if err := a.printer().checklist(rs); err != nil {
		return err
	}
	if reportDir != "" {
		if err := writeReports(a, reportDir, ans.Host.Hostname, rs); err != nil {
			return err
		}
	}
	if _, _, failed := validate.Summary(rs); failed > 0 {
		return &silentError{code: ExitFailed}
	}
	return nil
}
