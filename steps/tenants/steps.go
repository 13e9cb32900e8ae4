package tenants

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/fineract-installer/fineract-installer/steps"
)

// Passwords keeps each tenant role's password (in Vault, see
// VaultPasswords).
type Passwords interface {
	// Ensure returns the tenant's password, generating and storing it the
	// first time.
	Ensure(ctx context.Context, tenant string) (string, error)
	// EnsureUsers returns the passwords of the tenant's Fineract built-in
	// users (assets.FineractBuiltinUsers), generating them the first time.
	EnsureUsers(ctx context.Context, tenant string) (map[string]string, error)
	// Users reads them without generating any.
	Users(ctx context.Context, tenant string) (map[string]string, error)
	// Delete forgets the tenant's password; an unknown tenant is no error.
	Delete(ctx context.Context, tenant string) error
}

// AddStep creates tenants on a running stack. Check everything that can
// refuse them (CheckAdd) before running it.
type AddStep struct {
	PG    *Postgres
	Names []string
	// Passwords holds the roles' passwords, already ensured in Vault.
	Passwords map[string]string
	// MasterPassword is Fineract's tenant master password
	// (FINERACT_DEFAULT_TENANTDB_MASTER_PASSWORD).
	MasterPassword string
	Connection     Connection
	// RestartFineract restarts Fineract and returns once it is healthy.
	RestartFineract func(ctx context.Context) error
	// SecureAdmin, when set, is called once for each new tenant after
	// Fineract serves it and before its first snapshot: it replaces the
	// default users' well-known passwords of the tenant's fresh database
	// and hands out the admin password. A rerun of an interrupted add may
	// call it again for a tenant that has no snapshot yet, so it must be
	// idempotent.
	SecureAdmin func(ctx context.Context, tenant string, emit steps.Emitter) error
}

// ID implements steps.Step.
func (s AddStep) ID() string { return "tenants-add" }

// Title implements steps.Step.
func (s AddStep) Title() string { return "Add tenants" }

// Check always says no: adding is asked for. Run skips what is in place.
func (s AddStep) Check(context.Context) (bool, error) { return false, nil }

// Run implements steps.Step.
func (s AddStep) Run(ctx context.Context, emit steps.Emitter) error {
	hash, err := MasterPasswordHash(s.MasterPassword)
	if err != nil {
		return err
	}
	n := int64(len(s.Names))
	for i, name := range s.Names {
		pw, ok := s.Passwords[name]
		if !ok || pw == "" {
			return fmt.Errorf("no database password for tenant %s", name)
		}
		if err := s.PG.CreateDatabase(ctx, name, pw); err != nil {
			return steps.Fail(err, "run the same command again to finish; `fineract-installer tenants list` shows each tenant's state")
		}
		enc, err := EncryptPassword(s.MasterPassword, pw)
		if err != nil {
			return err
		}
		if err := s.PG.Register(ctx, name, s.Connection, enc, hash); err != nil {
			return steps.Fail(err, "run the same command again to finish; `fineract-installer tenants list` shows each tenant's state")
		}
		emit.Progress(name, int64(i+1), n, "tenants", "database "+Database(name)+" and tenant store entry")
	}
	state, err := s.state(ctx)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(s.Names, func(n string) bool { return !state[n].Migrated }) {
		// Fineract creates a tenant's schema only at start
		// (TenantDatabaseUpgradeService, see the package doc).
		emit.Info("fineract", "restarting Fineract: it creates a new tenant's tables when it starts")
		if err := s.RestartFineract(ctx); err != nil {
			return steps.Fail(fmt.Errorf("restart Fineract: %w", err), "see `fineract-installer logs fineract`; then run the same command again to finish")
		}
		if state, err = s.state(ctx); err != nil {
			return err
		}
	}
	for i, name := range s.Names {
		t := state[name]
		if !t.Migrated {
			return &steps.Failure{Cause: fmt.Sprintf("Fineract is running but did not create the tables of tenant %s", name),
				Hint: "see `fineract-installer logs fineract` for its Liquibase run; then run the same command again"}
		}
		if t.Snapshot {
			continue
		}
		if s.SecureAdmin != nil {
			if err := s.SecureAdmin(ctx, name, emit); err != nil {
				return steps.Fail(fmt.Errorf("secure the users of tenant %s: %w", name, err), "run the same command again to finish")
			}
		}
		if err := s.PG.TakeSnapshot(ctx, name); err != nil {
			return steps.Fail(err, "run the same command again to finish")
		}
		emit.Progress(name, int64(i+1), n, "tenants", "served by Fineract; snapshot taken for `demo reset`")
	}
	return nil
}

func (s AddStep) state(ctx context.Context) (map[string]Tenant, error) {
	ts, err := s.PG.List(ctx)
	if err != nil {
		return nil, err
	}
	m := map[string]Tenant{}
	for _, t := range ts {
		m[t.Name] = t
	}
	return m, nil
}

// ErrExists says a tenant to add is there already.
var ErrExists = errors.New("tenant exists")

// CheckAdd refuses names that are taken: a tenant that went through every
// step of an add. A tenant left half-made by an interrupted add is not
// refused: adding it again finishes it. It returns those, to be reported.
func (p *Postgres) CheckAdd(ctx context.Context, names []string) (resumed []Tenant, err error) {
	if err := ValidateNew(names); err != nil {
		return nil, err
	}
	ts, err := p.List(ctx)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, t := range ts {
		if !slices.Contains(names, t.Name) {
			continue
		}
		switch {
		case t.Complete():
			errs = append(errs, fmt.Errorf("%w: %s (remove it first with `fineract-installer tenants remove %s`)", ErrExists, t.Name, t.Name))
		case t.Snapshot && !t.Registered:
			// Adding it again would keep the snapshot of the tenant that
			// was being removed, and a reset would bring its data back.
			errs = append(errs, fmt.Errorf("%w: %s is left half-removed (its snapshot is still there); finish with `fineract-installer tenants remove %s`", ErrExists, t.Name, t.Name))
		case t.Snapshot && !t.DatabaseExists:
			errs = append(errs, fmt.Errorf("%w: %s has no database, left by an interrupted reset; finish with `fineract-installer demo reset %s`", ErrExists, t.Name, t.Name))
		default:
			resumed = append(resumed, t)
		}
	}
	return resumed, errors.Join(errs...)
}

// Describe says how far an interrupted add got with t.
func (t Tenant) Describe() string {
	switch {
	case t.Complete():
		return "ready"
	case t.Registered && t.Migrated:
		return "served, no snapshot yet"
	case t.Registered:
		return "registered, tables not created yet (Fineract restarts to create them)"
	case t.DatabaseExists:
		return "database exists but not registered"
	case t.RoleExists:
		return "role exists, no database"
	}
	return "snapshot only"
}

// RemoveStep removes tenants: their Vault secret, their store entry, their
// databases and role.
type RemoveStep struct {
	PG    *Postgres
	Names []string
	Vault VaultAccess
}

// ID implements steps.Step.
func (s RemoveStep) ID() string { return "tenants-remove" }

// Title implements steps.Step.
func (s RemoveStep) Title() string { return "Remove tenants" }

// Check always says no.
func (s RemoveStep) Check(context.Context) (bool, error) { return false, nil }

// Run implements steps.Step.
func (s RemoveStep) Run(ctx context.Context, emit steps.Emitter) error {
	// The passwords go first: were the rest to fail, a rerun finds the
	// tenants by their databases and finishes.
	if err := s.Vault.With(ctx, emit, func(pw Passwords) error {
		for _, name := range s.Names {
			if err := pw.Delete(ctx, name); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for i, name := range s.Names {
		if err := s.PG.Remove(ctx, name); err != nil {
			return steps.Fail(err, "run the same command again to finish")
		}
		emit.Progress(name, int64(i+1), int64(len(s.Names)), "tenants", "removed: store entry, databases, role and Vault secret")
	}
	return nil
}

// CheckKnown refuses names that are no tenant of the installation (and
// the default tenant, unless allowDefault). It returns the tenants named,
// or every tenant when names is empty.
func (p *Postgres) CheckKnown(ctx context.Context, names []string, allowDefault bool) ([]Tenant, error) {
	var errs []error
	for _, n := range names {
		if n == Default && !allowDefault {
			errs = append(errs, errors.New("the default tenant is part of the installation and cannot be removed"))
		} else if err := validKnown(n); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	ts, err := p.List(ctx)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return ts, nil
	}
	var out []Tenant
	for _, n := range names {
		i := slices.IndexFunc(ts, func(t Tenant) bool { return t.Name == n })
		if i < 0 {
			errs = append(errs, fmt.Errorf("no tenant %q in this installation (see `fineract-installer tenants list`)", n))
			continue
		}
		out = append(out, ts[i])
	}
	return out, errors.Join(errs...)
}

// SnapshotStep takes a snapshot of each tenant.
type SnapshotStep struct {
	PG    *Postgres
	Names []string
}

// ID implements steps.Step.
func (s SnapshotStep) ID() string { return "tenants-snapshot" }

// Title implements steps.Step.
func (s SnapshotStep) Title() string { return "Snapshot tenants" }

// Check always says no.
func (s SnapshotStep) Check(context.Context) (bool, error) { return false, nil }

// Run implements steps.Step.
func (s SnapshotStep) Run(ctx context.Context, emit steps.Emitter) error {
	for i, name := range s.Names {
		if err := s.PG.TakeSnapshot(ctx, name); err != nil {
			return steps.Fail(err, "the tenant's previous snapshot, if any, is kept; run the same command again")
		}
		emit.Progress(name, int64(i+1), int64(len(s.Names)), "tenants", "snapshot taken")
	}
	return nil
}

// ResetStep returns each tenant to its snapshot.
type ResetStep struct {
	PG    *Postgres
	Names []string
}

// ID implements steps.Step.
func (s ResetStep) ID() string { return "tenants-reset" }

// Title implements steps.Step.
func (s ResetStep) Title() string { return "Reset tenants" }

// Check always says no.
func (s ResetStep) Check(context.Context) (bool, error) { return false, nil }

// Run implements steps.Step.
func (s ResetStep) Run(ctx context.Context, emit steps.Emitter) error {
	for i, name := range s.Names {
		if err := s.PG.Reset(ctx, name); err != nil {
			return steps.Fail(err, "the snapshot is untouched: run the same command again to finish")
		}
		emit.Progress(name, int64(i+1), int64(len(s.Names)), "tenants", "reset to its snapshot")
	}
	return nil
}

// RestartStep restarts Fineract and waits until it is healthy: after a
// reset, it forgets what it kept in memory of the tenants' old databases.
type RestartStep struct {
	Restart func(ctx context.Context) error
}

// ID implements steps.Step.
func (s RestartStep) ID() string { return "fineract-restart" }

// Title implements steps.Step.
func (s RestartStep) Title() string { return "Restart Fineract" }

// Check always says no.
func (s RestartStep) Check(context.Context) (bool, error) { return false, nil }

// Run implements steps.Step.
func (s RestartStep) Run(ctx context.Context, _ steps.Emitter) error {
	if err := s.Restart(ctx); err != nil {
		return steps.Fail(fmt.Errorf("restart Fineract: %w", err), "see `fineract-installer logs fineract`")
	}
	return nil
}
