package upgrade

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/backup"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// Rollback puts the installation back as the image record describes it.
type Rollback struct {
	U *Upgrade
	// Backup is the verified backup the upgrade took, and Passphrase its
	// passphrase.
	Backup     string
	Passphrase []byte
	// Databases restores the databases from Backup: a service that
	// migrates its schema at start was replaced (or may have been).
	Databases bool
	// Results receives the checklist of the stack rolled back.
	Results func([]validate.Result)
}

// NeedsDatabases reports whether a run recorded in st may have let a new
// release migrate a database: the replacement of a service that migrates
// its schema started. It reads the record alone, so the answer does not
// depend on the release of the installer that reads it.
func NeedsDatabases(st *steps.State) bool {
	for svc := range migratesSchema {
		if s, ok := st.Steps[replaceStep{change: Change{Service: svc}}.ID()]; ok && s.Status != steps.StatusPending {
			return true
		}
	}
	return false
}

// Plan is the way back: the configuration rendered with the recorded
// references; when a database may have been migrated, the services using
// PostgreSQL stopped and the databases restored from the backup (the
// restore's own code, see backup.RestoreDatabases); the whole stack
// brought up on the recorded images, each waited for until healthy; the
// checklist; and the journal ended.
func (r *Rollback) Plan() *steps.Plan {
	old := r.U.Old
	p := (&steps.Plan{}).Then(install.RenderStep{Env: old})
	if r.Databases {
		p.Then(stopClientsStep{old}).Then(restoreDatabasesStep{r})
	}
	p.Then(install.ServicesStep{Env: old})
	if r.Databases {
		p.Then(install.TenantTLSStep{Env: old})
	}
	return p.Then(install.ValidateStep{Env: old, Results: r.Results}).Then(endJournalStep{old})
}

// stopClientsStep stops every service that uses PostgreSQL, so that the
// databases can be dropped and created again from the backup.
type stopClientsStep struct{ env *install.Env }

func (stopClientsStep) ID() string                          { return "rollback-stop-clients" }
func (stopClientsStep) Title() string                       { return "Stop the services that use PostgreSQL" }
func (stopClientsStep) Check(context.Context) (bool, error) { return false, nil }
func (s stopClientsStep) Run(ctx context.Context, emit steps.Emitter) error {
	p, err := s.env.LoadProject(ctx)
	if err != nil {
		return err
	}
	var clients []string
	for name, svc := range p.Services {
		if _, ok := svc.DependsOn["postgres"]; ok {
			clients = append(clients, name)
		}
	}
	st, err := s.env.Engine.Status(ctx, s.env.Project)
	if err != nil {
		return err
	}
	timeout := 30
	for _, c := range st {
		if !slices.Contains(clients, c.Service) || c.State != "running" {
			continue
		}
		if err := s.env.Engine.API().ContainerStop(ctx, c.ID, container.StopOptions{Timeout: &timeout}); err != nil {
			return fmt.Errorf("stop %s: %w", c.Service, err)
		}
		emit.Info(c.Service, "stopped")
	}
	return nil
}

// restoreDatabasesStep authenticates and unpacks the backup, then replays
// its databases into the running PostgreSQL.
type restoreDatabasesStep struct{ r *Rollback }

func (restoreDatabasesStep) ID() string { return "rollback-databases" }
func (restoreDatabasesStep) Title() string {
	return "Restore the databases from the backup taken before the upgrade"
}
func (restoreDatabasesStep) Check(context.Context) (bool, error) { return false, nil }
func (s restoreDatabasesStep) Run(ctx context.Context, emit steps.Emitter) error {
	env := s.r.U.Old
	if err := env.StartService(ctx, "postgres", emit); err != nil {
		return err
	}
	u, err := backup.Unpack(s.r.Backup, s.r.Passphrase, filepath.Dir(filepath.Clean(env.Dir)))
	if err != nil {
		return steps.Fail(err, "the stack is stopped part-way: restore the backup by hand with `fineract-installer restore "+s.r.Backup+"`")
	}
	defer u.Remove()
	return backup.RestoreDatabases(ctx, env, u, emit)
}

// endJournalStep removes the journal: the stack runs the recorded images.
type endJournalStep struct{ env *install.Env }

func (endJournalStep) ID() string                          { return "rollback-end" }
func (endJournalStep) Title() string                       { return "End the upgrade" }
func (endJournalStep) Check(context.Context) (bool, error) { return false, nil }
func (s endJournalStep) Run(context.Context, steps.Emitter) error {
	return RemoveJournal(s.env.Dir)
}
