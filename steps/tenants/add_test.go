package tenants

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

// TestAddStepRestartsFineractThenSecuresAndSnapshots runs the add step on
// the lab PostgreSQL. Fineract's start is played by RestartFineract, which
// does what TenantDatabaseUpgradeService does to every registered tenant
// (creates Liquibase's changelog table). The first run stops at the
// restart; the rerun finishes, calling SecureAdmin once per tenant, after
// Fineract serves it and before its snapshot.
func TestAddStepRestartsFineractThenSecuresAndSnapshots(t *testing.T) {
	t.Parallel()
	_, env, pg := labPostgres(t)
	ctx := context.Background()
	master, err := MasterPassword(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"dave", "erin"}
	restarts := 0
	fineractDown := true
	migrate := func(ctx context.Context) error {
		restarts++
		if fineractDown {
			return errors.New("fineract did not become healthy")
		}
		ts, err := pg.List(ctx)
		if err != nil {
			return err
		}
		for _, tn := range ts {
			if tn.Registered && tn.DatabaseExists {
				if _, err := pg.run(ctx, tn.Database, nil, `CREATE TABLE IF NOT EXISTS databasechangelog (id text);`); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var secured []string
	secure := func(ctx context.Context, tenant string, _ steps.Emitter) error {
		ts, err := pg.List(ctx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(ts, func(tn Tenant) bool { return tn.Name == tenant })
		if i < 0 || !ts[i].Migrated || ts[i].Snapshot {
			t.Errorf("SecureAdmin(%s) called on %+v: want a served tenant without a snapshot", tenant, ts)
		}
		secured = append(secured, tenant)
		return nil
	}
	step := AddStep{PG: pg, Names: names, Passwords: map[string]string{"dave": "DavePassw0rdDavePassw0rdDave1234", "erin": "ErinPassw0rdErinPassw0rdErin1234"},
		MasterPassword: master, Connection: StackConnection, RestartFineract: migrate, SecureAdmin: secure}

	err = step.Run(ctx, event.Discard)
	var f *steps.Failure
	if !errors.As(err, &f) || !strings.Contains(f.Cause, "restart Fineract") {
		t.Fatalf("first run with Fineract failing: %v", err)
	}
	resumed, err := pg.CheckAdd(ctx, names)
	if err != nil || len(resumed) != 2 {
		t.Fatalf("after the failed run: resumed %+v, %v; want both tenants to finish", resumed, err)
	}
	if d := resumed[0].Describe(); !strings.Contains(d, "registered, tables not created yet") {
		t.Errorf("dave after the failed run: %q", d)
	}

	fineractDown = false
	if err := step.Run(ctx, event.Discard); err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if restarts != 2 || strings.Join(secured, ",") != "dave,erin" {
		t.Errorf("restarts %d, secured %v; want 2 and dave,erin once each", restarts, secured)
	}
	// A third run finds everything in place: no restart, no hook.
	if err := step.Run(ctx, event.Discard); err != nil {
		t.Fatal(err)
	}
	if restarts != 2 || len(secured) != 2 {
		t.Errorf("a run with nothing to do restarted Fineract (%d) or called SecureAdmin (%v)", restarts, secured)
	}
	if _, err := pg.CheckAdd(ctx, names); !errors.Is(err, ErrExists) {
		t.Errorf("adding complete tenants again: %v, want ErrExists", err)
	}
}
