package validate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/backup/offsite"
)

// OffsiteChecks look at the off-host copy of the backup repository.
func OffsiteChecks() []Check {
	return []Check{
		{ID: "backup-offsite-age", Area: AreaBackups, Title: "The newest off-host copy of the backups is within the RPO", Controls: []Control{ControlBackup}, Run: checkOffsiteAge},
	}
}

// checkOffsiteAge reads last-copy.json from the off-host store, with the
// credentials the installation keeps in Vault, and compares its age with
// the RPO: a store that cannot be reached fails with the cause.
func checkOffsiteAge(ctx context.Context, t *Target) Finding {
	if t.Answers.Backup.Offsite.S3 == nil {
		if t.Answers.Profile == answers.Production {
			return Finding{Status: Warn, Evidence: "no off-host copy is configured: a lost host takes every backup with it",
				Fix: "add backup.offsite.s3 to the answers, set its credentials with `fineract-installer backup offsite set-credentials`, then `fineract-installer backup offsite copy`"}
		}
		return pass("no off-host copy is configured (backup.offsite.s3); the demo profile does not need one")
	}
	conn, err := t.Vault()
	if err != nil {
		return fail("cannot reach Vault for the off-host store's credentials: "+err.Error(), "unseal Vault (`fineract-installer unseal`), then validate again")
	}
	st, err := offsite.Connect(ctx, offsite.Installation{Answers: t.Answers, Project: t.Project, CA: t.CA,
		TokenFile: t.installation().OffsiteTokenFile(), Vault: conn})
	if err != nil {
		return connectFinding(err)
	}
	return offsiteAge(ctx, st, t.Answers.Backup.RPODuration(), time.Now())
}

// connectFinding is the finding when the store cannot be connected to.
// Credentials not set yet is the state every installation with a store is
// in after install (they go into the Vault install sets up), so it warns,
// as a store without a copy yet does; anything else fails with its cause.
func connectFinding(err error) Finding {
	var f *steps.Failure
	if errors.Is(err, offsite.ErrNoCredentials) && errors.As(err, &f) {
		return Finding{Status: Warn, Evidence: f.Cause + " yet: nothing is copied off this host", Fix: f.Hint + ", then `fineract-installer backup offsite copy`"}
	}
	return failureFinding(err)
}

// offsiteAge is the finding for the store's newest complete copy at now.
func offsiteAge(ctx context.Context, st *offsite.Store, rpo time.Duration, now time.Time) Finding {
	m, err := st.LastCopy(ctx)
	if errors.Is(err, offsite.ErrNoCopy) {
		return Finding{Status: Warn, Evidence: "no complete copy in " + st.Location() + " yet",
			Fix: "run `fineract-installer backup offsite copy`"}
	}
	if err != nil {
		return failureFinding(err)
	}
	age := now.Sub(m.Time).Round(time.Second)
	evidence := fmt.Sprintf("newest complete copy in %s ended %s (%s ago): %d objects, %d bytes, each verified by SHA-256",
		st.Location(), m.Time.UTC().Format(time.RFC3339), age, m.Objects, m.Bytes)
	if age > rpo {
		return Finding{Status: Warn, Evidence: evidence + fmt.Sprintf("; older than the RPO of %s", rpo),
			Fix: fmt.Sprintf("run `fineract-installer backup offsite copy`, and schedule it at least every %s", rpo)}
	}
	return pass(evidence)
}

// failureFinding fails with a step failure's cause and hint.
func failureFinding(err error) Finding {
	var f *steps.Failure
	if errors.As(err, &f) && f.Hint != "" {
		return fail(f.Error(), f.Hint)
	}
	return fail(err.Error(), "fix the cause above, then validate again")
}
