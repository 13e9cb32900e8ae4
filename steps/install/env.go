// Package install builds the plan of a full installation from the answers:
// preflight, install dir, rendered configuration, certificates and images,
// networks, Vault, secrets, services. Each step is idempotent; its Check
// looks at the real system, so a rerun skips what is in place.
package install

import (
	"context"
	"fmt"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// Env is what the steps of one installation share.
type Env struct {
	// Installation names the install dir (answers.InstallDir unless
	// overridden), the project and everything in them.
	*installation.Installation
	Answers answers.Answers
	Engine  *compose.Engine
	// EngineErr says why Engine is nil; preflight reports it.
	EngineErr error
	// Bundle is the rendered stack, made once when the plan is built.
	Bundle assets.Bundle
	// SecretsDir is where service secrets are materialised (a tmpfs):
	// Installation.SecretsDir, unless a test puts them elsewhere.
	SecretsDir string
	// AcceptImageChange names services whose image may differ from the
	// image record: the images step records their new image.
	AcceptImageChange []string
	// Imports is the certificate material to import (see LoadImports).
	Imports CertImports
	// Now is the clock certificates are checked and issued at; nil means
	// time.Now.
	Now func() time.Time
	// CertsForVault says the certificate files are read by the installer
	// alone, which gives them to Vault for the pods (the Kubernetes
	// target): they keep the installer's own uid, not each service's, so
	// issuing them needs no root.
	CertsForVault bool

	// planned, when set, is the stack as the render step would write it:
	// a plan's step checks see it instead of the install dir's files.
	planned *plannedStack
}

// plannedStack is the rendered stack held in memory for a plan.
type plannedStack struct {
	project *compose.Project
	// pending holds the rendered files by absolute path.
	pending map[string][]byte
}

// NewEnv renders the stack for the answers. It binds e to the
// installation's image record: from then on every apply through e runs
// only the images recorded in dir (see Installation.ImageRecordFile).
func NewEnv(a answers.Answers, project, dir, secretsDir string, e *compose.Engine) (*Env, error) {
	b, err := assets.Render(a, assets.Options{Project: project, SecretsDir: secretsDir})
	if err != nil {
		return nil, err
	}
	if e != nil {
		e.SetImageVerifier(recordVerifier{dir: dir})
	}
	return &Env{Installation: installation.New(dir, project), Answers: a, Engine: e, Bundle: b, SecretsDir: secretsDir}, nil
}

// LoadProject loads the rendered compose file from the install dir, fitted
// to the engine (loadProject).
func (env *Env) LoadProject(ctx context.Context) (*compose.Project, error) {
	p, _, err := env.loadProject(ctx)
	return p, err
}

// loadProject loads the rendered stack and fits it to the engine: a
// service asking for more open files than the engine can give gets what it
// can (the same on every load, so the config hashes agree between steps);
// notes say which, for the services step to report.
func (env *Env) loadProject(ctx context.Context) (*compose.Project, []string, error) {
	if env.planned != nil {
		return env.planned.project, nil, nil
	}
	p, err := compose.Load(ctx, compose.LoadOptions{Files: []string{env.ComposeFile()}, WorkingDir: env.Dir, ProjectName: env.Project})
	if err != nil {
		return nil, nil, fmt.Errorf("load the rendered stack: %w", err)
	}
	var notes []string
	if max, ok := EngineOpenFiles("/"); ok {
		notes = FitOpenFiles(p, max)
	}
	return p, notes, nil
}

// converged is the engine's Converged, seeing the planned files in a plan.
func (env *Env) converged(ctx context.Context, p *compose.Project, services []string, requireHealthy bool) (bool, error) {
	o := compose.ConvergedOptions{Services: services, RequireHealthy: requireHealthy}
	if env.planned != nil {
		o.Pending = env.planned.pending
	}
	ok, _, err := env.Engine.ConvergedWith(ctx, p, o)
	return ok, err
}

// WithImages is env rendered with the references images gives its
// services (see assets.Options.Images): the installation as it was
// installed, for an upgrade's way back. It shares env's engine.
func (env *Env) WithImages(images map[string]string) (*Env, error) {
	b, err := assets.Render(env.Answers, assets.Options{Project: env.Project, SecretsDir: env.SecretsDir, Images: images})
	if err != nil {
		return nil, err
	}
	out := *env
	out.Bundle = b
	return &out, nil
}
