package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Schema versions as Fineract keeps them: Liquibase (4.29.2 in apache/
// fineract develop 4198b0b, buildSrc/src/main/groovy/
// org.apache.fineract.dependencies.gradle) runs at start
// (TenantDatabaseUpgradeService, main.go) and records every change set it
// applied as a row of databasechangelog. The stand-in keeps the same table
// and the same rules, read in liquibase/liquibase at tag v4.29.2
// (fd04dbdbf2e44a03d22d4bbe389463816df5c1e3), liquibase-standard/src/main/java/liquibase/:
//
//   - the table's columns are those of sqlgenerator/core/
//     CreateDatabaseChangeLogTableGenerator.java (no primary key);
//     a table made by an older stand-in gets the missing columns, as
//     changelog/StandardChangeLogHistoryService.java adds them to an
//     older Liquibase's table (ORDEREXECUTED and EXECTYPE backfilled);
//   - a change set runs once: changelog/filter/ShouldRunChangeSetFilter.java
//     skips one whose id, author and file are recorded;
//   - the recorded MD5SUM ("9:" and the MD5 of the change set, change/
//     CheckSum.java, ChecksumVersion.V9) of every change set of the
//     changelog must still match (changelog/visitor/ValidatingVisitor.java,
//     ChangeSet.isCheckSumValid: a NULL stored checksum passes). A
//     mismatch fails validation: Fineract's afterPropertiesSet throws
//     "Error while migrating the schema" and the application does not start;
//   - recorded change sets the changelog does not have (those of a newer
//     release) are neither checked nor refused: both filters only visit the
//     changelog's own change sets, so an older Fineract starts on a
//     database a newer one migrated. That is why a downgrade is a restore,
//     never a start of the older image.
//
// Liquibase serialises migrators with its DATABASECHANGELOGLOCK table; the
// stand-in takes a table lock on databasechangelog in the change set's
// transaction instead (two stand-ins on one store).

// changeSet is one Liquibase change set of the stand-in's changelogs.
type changeSet struct {
	ID          string
	Author      string
	File        string
	Description string // Liquibase's summary of the changes, e.g. "sql"
	// SQL is the change set's statements; the checksum covers them.
	SQL string
	// Apply, when set, runs after SQL in the same transaction, for changes
	// that need this installation's values (Liquibase's parameters and
	// custom tasks); it is not part of the checksum, as a custom task's
	// code is not part of Liquibase's.
	Apply func(ctx context.Context, tx pgx.Tx) error
}

// standinAuthor is the author of every change set the stand-in defines.
const standinAuthor = "fineract-standin"

// liquibaseVersion is what Liquibase writes into the LIQUIBASE column.
const liquibaseVersion = "4.29.2"

// checksum is Liquibase's MD5SUM value for the change set, version 9.
func (c changeSet) checksum() string {
	sum := md5.Sum([]byte(c.ID + "\x00" + c.Author + "\x00" + c.File + "\x00" + c.SQL))
	return "9:" + hex.EncodeToString(sum[:])
}

const changeLogTable = `
CREATE TABLE IF NOT EXISTS databasechangelog (
	id varchar(255) NOT NULL,
	author varchar(255) NOT NULL,
	filename varchar(255) NOT NULL,
	dateexecuted timestamp NOT NULL,
	orderexecuted integer NOT NULL,
	exectype varchar(10) NOT NULL,
	md5sum varchar(35),
	description varchar(255),
	comments varchar(255),
	tag varchar(255),
	liquibase varchar(20),
	contexts varchar(255),
	labels varchar(255),
	deployment_id varchar(10)
);
ALTER TABLE databasechangelog
	ADD COLUMN IF NOT EXISTS orderexecuted integer NOT NULL DEFAULT -1,
	ADD COLUMN IF NOT EXISTS exectype varchar(10) NOT NULL DEFAULT 'EXECUTED',
	ADD COLUMN IF NOT EXISTS md5sum varchar(35),
	ADD COLUMN IF NOT EXISTS description varchar(255),
	ADD COLUMN IF NOT EXISTS comments varchar(255),
	ADD COLUMN IF NOT EXISTS tag varchar(255),
	ADD COLUMN IF NOT EXISTS liquibase varchar(20),
	ADD COLUMN IF NOT EXISTS contexts varchar(255),
	ADD COLUMN IF NOT EXISTS labels varchar(255),
	ADD COLUMN IF NOT EXISTS deployment_id varchar(10);`

// errChecksum marks a change set whose recorded checksum no longer
// matches: Fineract does not start then, and neither does the stand-in.
var errChecksum = errors.New("validation failed: change set check sum changed")

// updateDatabase is Liquibase's update of one database: validate the
// recorded change sets of the changelog, then run, in order, those not yet
// recorded, each in its own transaction together with its record. It
// returns the ids of the change sets it ran.
func updateDatabase(ctx context.Context, db *pgxpool.Pool, log []changeSet) ([]string, error) {
	deployment := deploymentID()
	var ran []string
	for _, cs := range log {
		applied := false
		err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, changeLogTable); err != nil {
				return fmt.Errorf("create databasechangelog: %w", err)
			}
			// One migrator at a time per database; the lock ends with the
			// transaction.
			if _, err := tx.Exec(ctx, `LOCK TABLE databasechangelog IN EXCLUSIVE MODE`); err != nil {
				return fmt.Errorf("lock databasechangelog: %w", err)
			}
			stored, recorded, err := recordedChecksum(ctx, tx, cs)
			if err != nil {
				return err
			}
			if recorded {
				return validateChecksum(ctx, tx, cs, stored)
			}
			if cs.SQL != "" {
				if _, err := tx.Exec(ctx, cs.SQL); err != nil {
					return fmt.Errorf("change set %s::%s::%s: %w", cs.File, cs.ID, cs.Author, err)
				}
			}
			if cs.Apply != nil {
				if err := cs.Apply(ctx, tx); err != nil {
					return fmt.Errorf("change set %s::%s::%s: %w", cs.File, cs.ID, cs.Author, err)
				}
			}
			applied = true
			return recordChangeSet(ctx, tx, cs, deployment)
		})
		if err != nil {
			return ran, err
		}
		if applied {
			ran = append(ran, cs.ID)
		}
	}
	return ran, nil
}

// recordedChecksum returns the MD5SUM recorded for the change set (NULL as
// "") and whether it is recorded at all. Liquibase keeps the latest row
// when one was recorded twice (ShouldRunChangeSetFilter).
func recordedChecksum(ctx context.Context, tx pgx.Tx, cs changeSet) (string, bool, error) {
	var stored *string
	err := tx.QueryRow(ctx, `SELECT md5sum FROM databasechangelog WHERE id = $1 AND author = $2 AND filename = $3
		ORDER BY dateexecuted DESC, orderexecuted DESC LIMIT 1`, cs.ID, cs.Author, cs.File).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read databasechangelog: %w", err)
	}
	if stored == nil {
		return "", true, nil
	}
	return *stored, true, nil
}

// validateChecksum is ChangeSet.isCheckSumValid: a NULL checksum (a row of
// an older Liquibase, or of an older stand-in) passes and is filled in, as
// Liquibase's update stores the current checksum; a different one fails.
func validateChecksum(ctx context.Context, tx pgx.Tx, cs changeSet, stored string) error {
	want := cs.checksum()
	switch stored {
	case want:
		return nil
	case "":
		_, err := tx.Exec(ctx, `UPDATE databasechangelog SET md5sum = $4 WHERE id = $1 AND author = $2 AND filename = $3 AND md5sum IS NULL`,
			cs.ID, cs.Author, cs.File, want)
		if err != nil {
			return fmt.Errorf("store the checksum of %s: %w", cs.ID, err)
		}
		return nil
	default:
		return fmt.Errorf("%w: %s::%s::%s was: %s but is now: %s", errChecksum, cs.File, cs.ID, cs.Author, stored, want)
	}
}

// recordChangeSet inserts the change set's row as Liquibase's
// StandardChangeLogHistoryService.setExecType does: the next ORDEREXECUTED,
// EXECTYPE EXECUTED, the checksum and this run's deployment id.
func recordChangeSet(ctx context.Context, tx pgx.Tx, cs changeSet, deployment string) error {
	_, err := tx.Exec(ctx, `INSERT INTO databasechangelog
		(id, author, filename, dateexecuted, orderexecuted, exectype, md5sum, description, comments, liquibase, deployment_id)
		VALUES ($1, $2, $3, now(), (SELECT coalesce(max(orderexecuted), 0) + 1 FROM databasechangelog), 'EXECUTED', $4, $5, '', $6, $7)`,
		cs.ID, cs.Author, cs.File, cs.checksum(), cs.Description, liquibaseVersion, deployment)
	if err != nil {
		return fmt.Errorf("record change set %s: %w", cs.ID, err)
	}
	return nil
}

// deploymentID is Liquibase's DEPLOYMENT_ID: ten digits that group the
// change sets of one update (Liquibase takes them from the clock too).
func deploymentID() string {
	return fmt.Sprintf("%010d", time.Now().UnixMilli()%10_000_000_000)
}
