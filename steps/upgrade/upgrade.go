// Package upgrade moves a running installation from the image references it
// recorded (install.ImageRecord) to the pins of this installer's release
// (assets.ImagePins), with a way back.
//
// Everything that can refuse the upgrade is checked before anything
// changes (see Refusal): a Fineract downgrade or a jump over a release the
// upgrade path requires, too little disk for the new images and the backup,
// an unhealthy stack. The plan then takes a backup and verifies it, makes
// the new images present (nothing stops meanwhile), renders the new
// configuration, replaces the changed services one at a time in dependency
// order, each waited for until healthy, and runs the checklist. The image
// record moves to the new images only then.
//
// When a replaced service does not become healthy, or the checklist fails,
// the way back (RollbackPlan) renders the configuration with the recorded
// references again, restores the databases from the backup when a service
// that migrates its schema at start was replaced, and starts the stack as
// it was. An upgrade interrupted after its first replacement is rolled back
// by the next run (see Journal).
package upgrade

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/install"
)

// Change is a service whose image the upgrade replaces.
type Change struct {
	Service string `json:"service"`
	// From is the recorded reference and FromID its image ID.
	From   string `json:"from"`
	FromID string `json:"from_id"`
	// To is this release's pin.
	To string `json:"to"`
	// FromRelease and ToRelease are the upstream releases the recorded
	// image and the pin are builds of, where declared.
	FromRelease string `json:"from_release,omitempty"`
	ToRelease   string `json:"to_release,omitempty"`
}

// migratesSchema are the services that migrate their database's schema
// when a new release starts (Fineract and Keycloak run Liquibase at
// start), which no older release can read: replacing one means the way
// back restores the databases from the backup.
var migratesSchema = map[string]bool{"fineract": true, "keycloak": true}

// ErrNoRecord says the installation has no image record to upgrade from.
var ErrNoRecord = errors.New("the installation has no image record")

// Upgrade is one upgrade of an installation.
type Upgrade struct {
	// Env is the installation rendered with this release's pins; Old with
	// the recorded references (the stack as it runs).
	Env, Old *install.Env
	Record   install.ImageRecord
	// Changes are the services to replace, in dependency order.
	Changes []Change
	// Stack is the stack version moved to.
	Stack string

	// pending is what the new references resolve to on this host, once
	// the images step has made them present.
	pending install.ImageRecord
	failed  failure
}

// New compares the installation's image record with this release's pins.
// It binds the engine to the upgrade (see VerifyImages).
func New(ctx context.Context, env *install.Env) (*Upgrade, error) {
	rec, ok, err := install.LoadImageRecord(env.Dir)
	if err != nil {
		return nil, err
	}
	if !ok || len(rec.Services) == 0 {
		return nil, ErrNoRecord
	}
	old, err := env.WithImages(rec.References())
	if err != nil {
		return nil, fmt.Errorf("render the installation with its recorded images: %w", err)
	}
	u := &Upgrade{Env: env, Old: old, Record: rec, Stack: assets.StackVersion()}
	var changes []Change
	for _, svc := range env.Bundle.Services {
		r, ok := rec.Services[svc.Name]
		if !ok {
			return nil, fmt.Errorf("service %s has no recorded image: run `fineract-installer install` with this installation's answers first", svc.Name)
		}
		if r.Image != svc.Image {
			changes = append(changes, Change{Service: svc.Name, From: r.Image, FromID: r.ID, To: svc.Image,
				FromRelease: r.Release, ToRelease: assets.ReleaseOf(svc.Name, svc.Image)})
		}
	}
	order, err := dependencyOrder(ctx, env)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(changes, func(i, j int) bool {
		return slices.Index(order, changes[i].Service) < slices.Index(order, changes[j].Service)
	})
	u.Changes = changes
	if env.Engine != nil {
		env.Engine.SetImageVerifier(u)
	}
	return u, nil
}

// UpToDate reports whether the installation already runs this release's
// pins.
func (u *Upgrade) UpToDate() bool { return len(u.Changes) == 0 }

// Change returns the change of service, if it is replaced.
func (u *Upgrade) Change(service string) (Change, bool) {
	for _, c := range u.Changes {
		if c.Service == service {
			return c, true
		}
	}
	return Change{}, false
}

// VerifyImages implements compose.ImageVerifier: an image is accepted when
// it is the recorded one, or the new pin's image as the images step of this
// run resolved it. The record on disk is read on every call, as install's
// verifier does.
func (u *Upgrade) VerifyImages(_ context.Context, found []compose.ServiceImage) error {
	rec, _, err := install.LoadImageRecord(u.Env.Dir)
	if err != nil {
		return err
	}
	var refused []compose.ServiceImage
	for _, f := range found {
		one := []compose.ServiceImage{f}
		if rec.Verify(one) == nil {
			continue
		}
		if len(u.pending.Services) > 0 && u.pending.Verify(one) == nil {
			continue
		}
		refused = append(refused, f)
	}
	if len(refused) > 0 {
		return rec.Verify(refused)
	}
	return nil
}

// dependencyOrder lists the installed stack's services so that each
// comes after the services it depends on; ties keep the catalog's order.
func dependencyOrder(ctx context.Context, env *install.Env) ([]string, error) {
	p, err := env.LoadProject(ctx)
	if err != nil {
		return nil, err
	}
	var order []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		var deps []string
		for dep := range p.Services[name].DependsOn {
			deps = append(deps, dep)
		}
		sort.Strings(deps)
		for _, d := range deps {
			visit(d)
		}
		order = append(order, name)
	}
	for _, svc := range env.Bundle.Services {
		visit(svc.Name)
	}
	return order, nil
}

// failure is the first step failure of a plan, kept for the final report
// (the runner reports it as an event; the command reports it again after
// the rollback, with the service's last log lines).
type failure struct {
	mu   sync.Mutex
	step string
	x    steps.Explanation
}

func (f *failure) record(step string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.step == "" && err != nil && !errors.Is(err, context.Canceled) {
		f.step, f.x = step, steps.Explain(err)
	}
}

// Failure is the first step that failed in the upgrade's plan and why; ok
// is false when none did.
func (u *Upgrade) Failure() (step string, x steps.Explanation, ok bool) {
	u.failed.mu.Lock()
	defer u.failed.mu.Unlock()
	return u.failed.step, u.failed.x, u.failed.step != ""
}

// observed runs a step and records its failure.
type observed struct {
	steps.Step
	f *failure
}

func (o observed) Run(ctx context.Context, emit steps.Emitter) error {
	err := o.Step.Run(ctx, emit)
	o.f.record(o.ID(), err)
	return err
}
