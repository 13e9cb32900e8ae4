package install

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/pki"
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
	// Kept are services left out because their certificate was imported:
	// only the operator's CA renews those.
	Kept []string
}

// ID implements steps.Step.
func (s RotateStep) ID() string { return "rotate" }

// Title implements steps.Step.
func (s RotateStep) Title() string { return "Reissue certificates" }

// Check always says no: rotating is asked for, never found done.
func (s RotateStep) Check(context.Context) (bool, error) { return false, nil }

// Run implements steps.Step.
func (s RotateStep) Run(ctx context.Context, emit steps.Emitter) error {
	for _, k := range s.Kept {
		emit.Warn(k + "'s certificate was imported and is kept: renew it with `certs rotate " + k + " --chain FILE --key FILE`")
	}
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
		reportCertificate(emit, r, msg)
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

// Rotation is what a rotation reissues and restarts.
type Rotation struct {
	// Services are recreated after the rotation; Certs are their
	// certificates' names.
	Services []string
	Certs    []string
	// Kept are services left out of a rotation of all because their
	// certificate was imported.
	Kept []string
	// Import is true when a renewed gateway chain is swapped in (see
	// SwapInGatewayImport).
	Import bool
}

// ErrNotRotatable marks a rotation refused for the services it names: the
// command's arguments are wrong, and nothing was changed.
var ErrNotRotatable = errors.New("cannot rotate")

// PlanRotation decides what a rotation of services reissues: every
// service with certificates when none is named, leaving out those whose
// certificate was imported unless importing swaps a renewed one in.
func PlanRotation(env *Env, services []string, importing bool) (Rotation, error) {
	imported := map[string]bool{}
	for _, r := range env.CertRequests() {
		imported[r.Name] = r.Imported
	}
	byService := map[string][]string{}
	for _, s := range env.Bundle.Services {
		for _, c := range s.Certs {
			byService[s.Name] = append(byService[s.Name], c.Name)
		}
	}
	rot := Rotation{Services: services, Import: importing}
	if len(services) == 0 {
		for _, s := range slices.Sorted(maps.Keys(byService)) {
			if slices.ContainsFunc(byService[s], func(c string) bool { return imported[c] }) {
				rot.Kept = append(rot.Kept, s)
				continue
			}
			rot.Services = append(rot.Services, s)
		}
		if len(rot.Services) == 0 {
			return Rotation{}, fmt.Errorf("%w: every certificate was imported, so only its CA can renew it: run `fineract-installer certs rotate SERVICE --chain FILE --key FILE`", ErrNotRotatable)
		}
	}
	for _, s := range rot.Services {
		certs, ok := byService[s]
		if !ok {
			return Rotation{}, fmt.Errorf("%w: service %q has no certificate (services with certificates: %s)", ErrNotRotatable, s, strings.Join(slices.Sorted(maps.Keys(byService)), ", "))
		}
		for _, c := range certs {
			if imported[c] && !importing {
				return Rotation{}, fmt.Errorf("%w: %s's certificate was imported, so only its CA can renew it: get the renewed chain and key, then run `fineract-installer certs rotate %s --chain FILE --key FILE`", ErrNotRotatable, s, s)
			}
		}
		rot.Certs = append(rot.Certs, certs...)
	}
	return rot, nil
}

// Plan is the rotation: the certificates reissued (or the import swapped
// in), then the services that mount them recreated; the new files change
// their configuration hash, so exactly those are. Vault comes back sealed
// from a restart and is unsealed with custody. A rotation interrupted or
// failed part-way is run again whole: reissuing is never found done, and
// recreating finds in place what already was.
func (rot Rotation) Plan(env *Env, custody Custody) *steps.Plan {
	return AddRestart((&steps.Plan{}).Then(RotateStep{Env: env, Services: rot.Services, Certs: rot.Certs, SaveAnswers: rot.Import, Kept: rot.Kept}), env, custody, rot.Services)
}

// SwapInGatewayImport reads the gateway's renewed chain and key into env,
// makes them the answers' gateway certificate, and checks them as an
// import would, before anything changes. A refused file is a
// *pki.ImportError.
func SwapInGatewayImport(ctx context.Context, env *Env, chain, key string) error {
	var err error
	if chain, err = filepath.Abs(chain); err != nil {
		return err
	}
	if key, err = filepath.Abs(key); err != nil {
		return err
	}
	imp, err := pki.ReadImport(chain, key)
	if err != nil {
		return &pki.ImportError{Name: "gateway", CertFile: chain, KeyFile: key, Err: err}
	}
	env.Imports.Gateway = imp
	env.Answers.Certificates.Source = answers.CertImport
	env.Answers.Certificates.GatewayChain, env.Answers.Certificates.GatewayKey = chain, key
	_, err = env.Store().Plan(ctx, env.CertRequests())
	return err
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
