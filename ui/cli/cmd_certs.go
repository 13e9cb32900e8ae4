package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/pki"
)

func newCertsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "The stack's certificate authority and service certificates",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCertsGenerateCmd(a), newCertsShowCmd(a), newCertsRotateCmd(a))
	return cmd
}

func newCertsGenerateCmd(a *app) *cobra.Command {
	var src answersSource
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Issue, or reuse, the CA and every certificate the answers need (no Docker needed)",
		Long: `Issue the CA and every service certificate the answers need, under the
install dir's pki/ directory. Certificates that are still valid, signed by
the current CA, carry every name needed and have more than 30 days left are
kept as they are; only the others are reissued, and the output says why.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ans, err := src.load()
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("dir") {
				ans.InstallDir = a.dir
			}
			env, err := install.NewEnv(ans, a.project, ans.InstallDir, installdir.SecretsDir(a.project), nil)
			if err != nil {
				return withCode(ExitUsage, err)
			}
			unlock, err := lockInstallDir(ans.InstallDir)
			if err != nil {
				return err
			}
			defer unlock()
			p := a.printer()
			plan := (&steps.Plan{}).Then(install.CertificatesStep{Env: env})
			if err := (&steps.Runner{Plan: plan, Project: a.project, Events: p.stepEvent}).Run(cmd.Context()); err != nil {
				return &silentError{code: ExitFailed}
			}
			return nil
		},
	}
	src.flags(cmd)
	return cmd
}

func newCertsShowCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "List every certificate: subject, names, issuer, expiry, fingerprint",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store := &pki.Store{Dir: a.dir + "/pki"}
			inv, err := store.Inspect(cmd.Context())
			if err != nil {
				return withCode(ExitUsage, fmt.Errorf("%w; pass --dir with the install directory", err))
			}
			p := a.printer()
			if p.json() {
				return p.document(inv)
			}
			rows := [][]cell{{{text: "NAME"}, {text: "SUBJECT"}, {text: "NAMES"}, {text: "ISSUER"}, {text: "EXPIRES"}, {text: "DAYS"}, {text: "SHA-256"}}}
			problems := 0
			for _, c := range inv.Certificates {
				names := append(append([]string{}, c.DNSNames...), c.IPAddresses...)
				days := cell{text: fmt.Sprint(c.DaysLeft), style: goodBad(p, c.DaysLeft > 30)}
				fp := c.SHA256
				if len(fp) > 23 {
					fp = fp[:23] + "…"
				}
				rows = append(rows, []cell{{text: c.Name}, {text: c.Subject}, {text: strings.Join(names, ",")}, {text: c.Issuer}, {text: c.NotAfter.Format("2006-01-02")}, days, {text: fp}})
				problems += len(c.Problems)
			}
			printTable(a.io.Out, rows)
			for _, c := range inv.Certificates {
				for _, pr := range c.Problems {
					fmt.Fprintf(a.io.Out, "%s %s: %s\n", p.warn.Render("!"), c.Name, pr)
				}
			}
			if problems > 0 {
				return &silentError{code: ExitFailed}
			}
			return nil
		},
	}
}

func newCertsRotateCmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "rotate [SERVICE...]",
		Short: "Reissue the certificates of some services (all when none is named) and restart only those",
		Example: `  fineract-installer certs rotate gateway
  fineract-installer certs rotate --yes`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, done, err := installedEnv(ctx, a)
			if err != nil {
				return err
			}
			defer done()
			byService := map[string][]string{}
			for _, s := range env.Bundle.Services {
				for _, c := range s.Certs {
					byService[s.Name] = append(byService[s.Name], c.Name)
				}
			}
			services := args
			if len(services) == 0 {
				for s := range byService {
					services = append(services, s)
				}
				sort.Strings(services)
			}
			var names []string
			for _, s := range services {
				certs, ok := byService[s]
				if !ok {
					known := make([]string, 0, len(byService))
					for k := range byService {
						known = append(known, k)
					}
					sort.Strings(known)
					return usageError("service %q has no certificate (services with certificates: %s)", s, strings.Join(known, ", "))
				}
				names = append(names, certs...)
			}
			if err := confirm(a, yes, "rotating restarts "+strings.Join(services, ", "),
				fmt.Sprintf("Reissue %d certificates and restart %s?", len(names), strings.Join(services, ", "))); err != nil {
				return err
			}
			unlock, err := steps.Lock(a.dir)
			if err != nil {
				return withCode(ExitFailed, err)
			}
			defer unlock()
			p := a.printer()
			proj, err := env.LoadProject(ctx)
			if err != nil {
				return err
			}
			// The services are restarted after the rotation: their images
			// are checked before a certificate changes.
			if err := env.Engine.CheckImages(ctx, proj, services, compose.ImageOptions{}, p.event); err != nil {
				return install.ImageFailure(err)
			}
			rep, err := env.Store().Rotate(ctx, env.CertRequests(), names...)
			if err != nil {
				return err
			}
			for _, r := range rep.Certificates {
				p.event(compose.Event{Resource: "certificate", Name: r.Name, Action: string(r.Action), Status: compose.StatusDone, Text: strings.Join(r.Reasons, "; ")})
			}
			// The new files change the services' configuration hash, so
			// exactly the services that mount them are recreated.
			return install.ImageFailure(env.Engine.Up(ctx, proj, compose.UpOptions{Services: services, Policy: env.Policy()}, p.event))
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}
