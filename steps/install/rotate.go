package install

import (
	"context"
	"slices"
	"strings"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
)

// RotateStep reissues the certificates of some services. The images those
// services will be recreated from are checked first, so a changed image
// stops the rotation before any certificate changes.
type RotateStep struct {
	Env *Env
	// Services are recreated after the rotation; Certs are their
	// certificates' names.
	Services []string
	Certs    []string
	// SaveAnswers writes the answers back after the rotation: an imported
	// gateway certificate was swapped in, and the answers name its files.
	SaveAnswers bool
}

// ID implements steps.Step.
func (s RotateStep) ID() string { return "rotate" }

// Title implements steps.Step.
func (s RotateStep) Title() string { return "Reissue certificates" }

// Check always says no: rotating is asked for, never found done.
func (s RotateStep) Check(context.Context) (bool, error) { return false, nil }

// Run implements steps.Step.
func (s RotateStep) Run(ctx context.Context, emit steps.Emitter) error {
	p, err := s.Env.LoadProject(ctx)
	if err != nil {
		return err
	}
	if err := s.Env.Engine.CheckImages(ctx, p, s.Services, compose.ImageOptions{}, emit); err != nil {
		return ImageFailure(err)
	}
	rep, err := s.Env.Store().Rotate(ctx, s.Env.CertRequests(), s.Certs...)
	if err != nil {
		return steps.Fail(err, "see `fineract-installer certs show`; nothing was restarted")
	}
	for _, r := range rep.Certificates {
		msg := string(r.Action)
		if len(r.Reasons) > 0 {
			msg += ": " + strings.Join(r.Reasons, "; ")
		}
		emit.Info(r.Name, msg)
	}
	if s.SaveAnswers {
		if err := s.Env.SaveAnswers(); err != nil {
			return err
		}
	}
	// Files derived from the certificates (Kafka's key and chain in one
	// PEM) follow them.
	return CertificatesStep{Env: s.Env}.writeExtras()
}

// AddRestart appends to plan the steps that recreate services whose
// certificates or configuration changed, each waited for until it is
// ready. Vault comes back sealed from a restart, so it is started on its
// own first and unsealed with custody (its secrets delivered again, as
// `unseal` does); the services step then waits until it, and the others,
// are healthy.
func AddRestart(plan *steps.Plan, env *Env, custody Custody, services []string) *steps.Plan {
	if SealsOnRestart(services) {
		plan.Then(VaultStartStep{Env: env}).Then(VaultSetupStep{Env: env, Custody: custody})
	}
	return plan.Then(ServicesStep{Env: env, Services: services})
}

// SealsOnRestart reports whether restarting any of services seals Vault,
// so that the command needs the unseal key's custody.
func SealsOnRestart(services []string) bool { return slices.Contains(services, vaultService) }
