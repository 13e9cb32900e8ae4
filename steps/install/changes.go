package install

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/pki"
	"github.com/fineract-installer/fineract-installer/steps/preflight"
)

// Changes is what `install` with env's answers would do on this host,
// found without changing anything: the steps that would run, the
// certificates that would be issued and what would happen to each
// service, network, volume and image.
type Changes struct {
	Dir     string `json:"dir"`
	Project string `json:"project"`
	// Steps are the install's steps after preflight (which always runs)
	// with what each one's Check says now.
	Steps []StepChange `json:"steps"`
	// Certificates is the certificate store's plan; nil when it cannot be
	// made (CertificatesError says why).
	Certificates      *pki.Report `json:"certificates,omitempty"`
	CertificatesError string      `json:"certificates_error,omitempty"`
	// Stack is the engine's plan for the stack the answers render.
	Stack *compose.ProjectPlan `json:"stack"`
	// Stops are why the install would stop before it changes any
	// container: an image that is not the recorded one (exit code 4),
	// unless accepted with --accept-image-change.
	Stops []string `json:"stops,omitempty"`
	// Downloads are the images Stack pulls, with their size where the
	// registry tells it.
	Downloads []preflight.Download `json:"downloads"`
}

// StepChange is one step of the install and whether it would run.
type StepChange struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Run   bool   `json:"run"`
	// ObservesOnly marks a step that runs every time and changes nothing
	// (validation): its running is no pending change.
	ObservesOnly bool `json:"observes_only,omitempty"`
	// Error is why the step's Check could not tell; the step then runs.
	Error string `json:"error,omitempty"`
}

// Pending reports whether an install would change anything.
func (c *Changes) Pending() bool {
	if c.Stack != nil && c.Stack.Changes() {
		return true
	}
	if c.Certificates != nil && !c.Certificates.UpToDate() {
		return true
	}
	for _, s := range c.Steps {
		if s.Run && !s.ObservesOnly {
			return true
		}
	}
	return false
}

// observer is a step that only looks (ValidateStep).
type observer interface{ ObservesOnly() bool }

// PlanChanges says what an install with env would do. It only reads: the
// rendered configuration is compared from memory with what the install dir
// holds, the containers through the engine, the certificates through the
// store's Plan, the steps through their Check.
func PlanChanges(ctx context.Context, env *Env) (*Changes, error) {
	if env.Engine == nil {
		return nil, fmt.Errorf("plan: the Docker engine is needed to compare the stack: %w", env.EngineErr)
	}
	c := &Changes{Dir: env.Dir, Project: env.Project, Steps: []StepChange{}}
	p, pending, err := env.renderedProject(ctx)
	if err != nil {
		return nil, err
	}
	// The steps after the render step are checked against the stack it
	// would write, not the install dir's files it would replace.
	planning := *env
	planning.planned = &plannedStack{project: p, pending: pending}
	opts := compose.UpOptions{Policy: env.Policy()}
	if env.Answers.Images.Source == answers.ImagesBundle {
		opts.Images.Bundle = env.Answers.Images.Bundle
	}
	if c.Stack, err = env.Engine.Plan(ctx, p, compose.PlanOptions{Up: opts, Pending: pending}); err != nil {
		return nil, fmt.Errorf("plan the stack: %w", err)
	}
	for i, s := range c.Stack.Services {
		if s.Action == compose.ServiceRemove {
			// The stack is what the answers render: a service the
			// engine finds no longer in it is one they no longer select.
			c.Stack.Services[i].Reasons = []string{"not in the answers any more"}
		}
	}
	images, err := env.PlanImages(ctx)
	if err != nil {
		return nil, fmt.Errorf("compare the images with the image record: %w", err)
	}
	for _, ip := range images {
		if ip.Changed() && !ip.Accept {
			c.Stops = append(c.Stops, fmt.Sprintf("%s: %s is %s here, the installation was made with %s %s; install stops before any container changes unless run with --accept-image-change %s",
				ip.Service, ip.Found.Image, ip.Found.ID, ip.Recorded.Image, ip.Recorded.ID, ip.Service))
		}
	}
	var pulls []string
	for _, img := range c.Stack.Images {
		if img.Action == compose.ImagePull {
			pulls = append(pulls, img.Ref)
		}
	}
	if c.Downloads, err = preflight.Downloads(ctx, env.Engine, pulls); err != nil {
		return nil, err
	}
	if rep, err := env.Store().Plan(ctx, env.CertRequests()); err != nil {
		c.CertificatesError = certFailure(err).Error()
	} else {
		c.Certificates = &rep
	}
	// The plan's steps only need custody and the handout when they run.
	for _, s := range Plan(&planning, Custody{}, nil, nil).Steps() {
		done, err := s.Check(ctx)
		sc := StepChange{ID: s.ID(), Title: s.Title(), Run: !done}
		if o, ok := s.(observer); ok {
			sc.ObservesOnly = o.ObservesOnly()
		}
		if err != nil {
			sc.Error = steps.Explain(err).Cause
		}
		c.Steps = append(c.Steps, sc)
	}
	return c, nil
}

// renderedProject loads the stack the answers render as the install would
// after writing it, without writing it: the compose file from memory, and
// every rendered file as pending content for the comparison.
func (env *Env) renderedProject(ctx context.Context) (*compose.Project, map[string][]byte, error) {
	var composeData []byte
	pending := map[string][]byte{}
	for _, f := range env.Bundle.Files {
		path := filepath.Join(env.Dir, filepath.FromSlash(f.Path))
		pending[path] = f.Data
		if f.Path == env.Bundle.ComposeFile {
			composeData = f.Data
		}
	}
	if composeData == nil {
		return nil, nil, fmt.Errorf("plan: the rendered stack has no compose file %s", env.Bundle.ComposeFile)
	}
	p, err := compose.LoadContent(ctx, env.ComposeFile(), composeData, compose.LoadOptions{WorkingDir: env.Dir, ProjectName: env.Project})
	if err != nil {
		return nil, nil, fmt.Errorf("load the rendered stack: %w", err)
	}
	// Fitted to the engine as every load of the stack is, so the hashes
	// agree with what the services step applies.
	if max, ok := EngineOpenFiles("/"); ok {
		FitOpenFiles(p, max)
	}
	return p, pending, nil
}
