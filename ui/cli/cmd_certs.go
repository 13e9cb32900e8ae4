package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
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
kept as they are; only the others are reissued, and the output says why.

With certificates.source: import, the CA and/or the gateway's certificate
chain are the files the answers name: every one is checked first (key
matches, CA, validity, chain, names, name constraints); a refused file
stops the command with exit 2 before anything is written.`,
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
				return src.renderError(err)
			}
			if err := loadCertImports(cmd.Context(), env); err != nil {
				return err
			}
			unlock, err := lockInstallDir(ans.InstallDir)
			if err != nil {
				return err
			}
			defer unlock()
			trail, err := beginAudit(a, "certs generate", ans.InstallDir)
			if err != nil {
				return err
			}
			p := a.printer()
			plan := (&steps.Plan{}).Then(install.CertificatesStep{Env: env})
			if err := (&steps.Runner{Plan: plan, Project: a.project, Events: trail.observe(plan, p.stepEvent)}).Run(cmd.Context()); err != nil {
				return trail.finish(cmd.Context(), &silentError{code: ExitFailed})
			}
			return trail.finish(cmd.Context(), nil)
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
			store := &pki.Store{Dir: installation.New(a.dir, a.project).PKIDir()}
			inv, err := store.Inspect(cmd.Context())
			if err != nil {
				return withCode(ExitUsage, fmt.Errorf("%w; pass --dir with the install directory", err))
			}
			p := a.printer()
			if p.json() {
				return p.record(typeCertificates, inv)
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
				for _, w := range c.Warnings {
					fmt.Fprintf(a.io.Out, "%s %s: %s\n", p.warn.Render("!"), c.Name, w)
				}
				if c.Imported && len(c.Problems)+len(c.Warnings) > 0 {
					fmt.Fprintf(a.io.Out, "  %s\n", renewImportedHint(c.Name))
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
	var chain, key string
	var co custodyOptions
	cmd := &cobra.Command{
		Use:   "rotate [SERVICE...]",
		Short: "Reissue the certificates of some services (all when none is named) and restart only those",
		Long: `Reissue the certificates of the services named (all services with
certificates when none is) from the stack's CA, generated or imported, then
recreate only those services and wait until each is ready.

Vault comes back sealed from a restart: rotating its certificate unseals it
with the same custody as ` + "`unseal`" + ` (the demo passphrase from
--unseal-passphrase-file, $` + passphraseEnv + ` or the terminal; the key holders'
shares from the terminal or --unseal-keys-file) and delivers the services'
secrets again. Without a way to unseal it, the rotation is refused before
anything changes.

A gateway certificate the operator imported is renewed by the operator's
CA, not here: get the renewed chain and key, then swap them in with
` + "`certs rotate gateway --chain FILE --key FILE`" + `. They are checked like an
import (exit 2 and nothing changed if refused), only the gateway is
recreated, and the installation's answers then name the new files. The
same flags turn a generated gateway certificate into an imported one.`,
		Example: `  fineract-installer certs rotate gateway
  FINERACT_UNSEAL_PASSPHRASE=... fineract-installer certs rotate --yes   # demo profile, Vault included
  fineract-installer certs rotate vault --unseal-keys-file /media/usb/shares --yes
  fineract-installer certs rotate gateway --chain /root/bank/gateway-2027.pem --key /root/bank/gateway-2027.key`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			importing := chain != "" || key != ""
			if importing && (chain == "" || key == "") {
				return usageError("--chain and --key go together: the renewed certificate chain and its key")
			}
			if importing && (len(args) != 1 || args[0] != "gateway") {
				return usageError("--chain and --key swap in the gateway's certificate: `fineract-installer certs rotate gateway --chain FILE --key FILE`")
			}
			if err := requireInstallDir(a); err != nil {
				return err
			}
			if err := refuseWhileLocked(a); err != nil {
				return err
			}
			env, done, err := installedEnv(ctx, a)
			if err != nil {
				return err
			}
			defer done()
			rot, err := install.PlanRotation(env, args, importing)
			if err != nil {
				return withCode(ExitUsage, err)
			}
			if importing {
				if err := install.SwapInGatewayImport(ctx, env, chain, key); err != nil {
					return importFailure(err)
				}
			}
			// A restart that seals Vault needs its custody: read and checked
			// now, before anything changes.
			var custody install.Custody
			if install.SealsOnRestart(rot.Services) {
				if custody, err = custodyFor(a, env, co); err != nil {
					return err
				}
			}
			if err := confirm(a, yes, "rotating restarts "+strings.Join(rot.Services, ", "),
				fmt.Sprintf("Reissue %d certificates and restart %s?", len(rot.Certs), strings.Join(rot.Services, ", "))); err != nil {
				return err
			}
			unlock, err := lockInstallation(a)
			if err != nil {
				return err
			}
			defer unlock()
			return runDay2(ctx, a, "certs rotate", a.dir, rot.Plan(env, custody))
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().StringVar(&chain, "chain", "", "with gateway: the renewed certificate chain to import, a PEM `FILE` (server certificate, then intermediates)")
	cmd.Flags().StringVar(&key, "key", "", "with gateway: the renewed chain's private key, a PEM `FILE` (unencrypted)")
	cmd.Flags().StringVar(&co.passphraseFile, "unseal-passphrase-file", "", "`FILE` holding the demo custody passphrase (mode 0600), to unseal Vault after its restart")
	cmd.Flags().StringVar(&co.keysFile, "unseal-keys-file", "", "`FILE` with unseal key shares, one per line (mode 0600), when Vault restarts and no terminal is available")
	return cmd
}

// loadCertImports reads and checks the certificate files the answers
// import: a refused file stops the command with exit 2, before anything
// changes.
func loadCertImports(ctx context.Context, env *install.Env) error {
	chk := env.LoadImports(ctx)
	if err := chk.Err(); err != nil {
		return usageHint(err, importRefusedHint)
	}
	if chk.Other != nil {
		return withCode(ExitFailed, chk.Other)
	}
	return nil
}

// importRefusedHint is the advice for a refused certificate import.
const importRefusedHint = "nothing was changed: fix or replace the files named above, then run the same command again"

// importFailure gives a refused import exit 2: the files are bad input.
func importFailure(err error) error {
	var ie *pki.ImportError
	if errors.As(err, &ie) {
		return usageHint(err, importRefusedHint)
	}
	return err
}

// renewImportedHint says how an imported certificate is renewed.
func renewImportedHint(name string) string {
	if name == "ca" {
		return "renew the CA with your PKI team, point certificates.ca_cert and ca_key at the new files and run `fineract-installer install --answers FILE`"
	}
	return "get the renewed chain and key from your CA, then run `fineract-installer certs rotate " + name + " --chain FILE --key FILE`"
}
