package main

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// A tenant's database: the few tables of Fineract's tenant changelog the
// stand-in uses, with Fineract's names and column names
// (fineract-provider/src/main/resources/db/changelog/tenant/parts/
// 0001_initial_schema.xml; apache/fineract read at develop 4198b0b
// (2024-10)), and the rows 0002_initial_data.xml puts in them: the head
// office; the users mifos (1), system (2) and interopUser (3), all enabled
// with the "{SHA-256}{id}5787..." password (passwords.go); the roles
// "Super user" (1, holds ALL_FUNCTIONS) and "Self Service User" (2,
// disabled); mifos and interopUser have role 1, system has none; the
// permissions the stand-in checks (ALL_FUNCTIONS 1, ALL_FUNCTIONS_READ 2,
// READ_USER 16, UPDATE_USER 17); the password policies "simple" (1,
// ^.{1,50}$, active) and "secure" (2, inactive).
//
// lab_rows is the stand-in's own table, for end-to-end tests. Each part is
// a change set recorded in databasechangelog (changelog.go); the stand-in's
// change sets are not Fineract's (author fineract-standin).

const tenantChangeLogFile = "db/changelog/tenant/changelog-tenant.xml"

const tenantSchema = `
CREATE TABLE m_office (
	id bigserial PRIMARY KEY,
	parent_id bigint REFERENCES m_office (id),
	hierarchy varchar(100),
	external_id varchar(100) UNIQUE,
	name varchar(50) NOT NULL UNIQUE,
	opening_date date NOT NULL
);
CREATE TABLE m_appuser (
	id bigserial PRIMARY KEY,
	is_deleted boolean NOT NULL DEFAULT false,
	office_id bigint REFERENCES m_office (id),
	staff_id bigint,
	username varchar(100) NOT NULL CONSTRAINT username_org UNIQUE,
	firstname varchar(100) NOT NULL,
	lastname varchar(100) NOT NULL,
	password varchar(255) NOT NULL,
	email varchar(100) NOT NULL,
	firsttime_login_remaining boolean NOT NULL,
	nonexpired boolean NOT NULL,
	nonlocked boolean NOT NULL,
	nonexpired_credentials boolean NOT NULL,
	enabled boolean NOT NULL,
	last_time_password_updated date,
	password_never_expires boolean NOT NULL DEFAULT false,
	is_self_service_user boolean NOT NULL DEFAULT false,
	cannot_change_password boolean
);
CREATE TABLE m_role (
	id bigserial PRIMARY KEY,
	name varchar(100) NOT NULL UNIQUE,
	description varchar(500) NOT NULL,
	is_disabled boolean NOT NULL DEFAULT false,
	is_self_service_role boolean NOT NULL DEFAULT false
);
CREATE TABLE m_appuser_role (
	appuser_id bigint NOT NULL REFERENCES m_appuser (id),
	role_id bigint NOT NULL REFERENCES m_role (id),
	PRIMARY KEY (appuser_id, role_id)
);
CREATE TABLE m_permission (
	id bigserial PRIMARY KEY,
	grouping varchar(45),
	code varchar(100) NOT NULL UNIQUE,
	entity_name varchar(100),
	action_name varchar(100),
	can_maker_checker boolean NOT NULL DEFAULT false
);
CREATE TABLE m_role_permission (
	role_id bigint NOT NULL REFERENCES m_role (id),
	permission_id bigint NOT NULL REFERENCES m_permission (id),
	PRIMARY KEY (role_id, permission_id)
);
CREATE TABLE m_password_validation_policy (
	id bigserial PRIMARY KEY,
	regex text NOT NULL,
	description text NOT NULL,
	active boolean NOT NULL DEFAULT false,
	key varchar(255) NOT NULL UNIQUE
);
CREATE TABLE m_appuser_previous_password (
	id bigserial PRIMARY KEY,
	user_id bigint NOT NULL REFERENCES m_appuser (id),
	password varchar(255) NOT NULL,
	removal_date date NOT NULL
);
CREATE INDEX user_id ON m_appuser_previous_password (user_id);`

// seedPassword is the seeded users' hash behind the salt "{<id>}".
const seedPassword = "5787039480429368bf94732aacc771cd0a3ea02bcf504ffe1185ab94213bc63a"

const tenantData = `
INSERT INTO m_office (id, parent_id, hierarchy, external_id, name, opening_date) VALUES (1, NULL, '.', '1', 'Head Office', '2009-01-01');
INSERT INTO m_appuser (id, is_deleted, office_id, staff_id, username, firstname, lastname, password, email,
	firsttime_login_remaining, nonexpired, nonlocked, nonexpired_credentials, enabled, last_time_password_updated,
	password_never_expires, is_self_service_user, cannot_change_password) VALUES
	(1, false, 1, NULL, 'mifos', 'App', 'Administrator', '{SHA-256}{1}` + seedPassword + `', 'demomfi@mifos.org', false, true, true, true, true, current_date, false, false, NULL),
	(2, false, 1, NULL, 'system', 'system', 'system', '{SHA-256}{2}` + seedPassword + `', 'demomfi@mifos.org', false, true, true, true, true, current_date, false, false, NULL),
	(3, false, 1, NULL, 'interopUser', 'Interop', 'User', '{SHA-256}{3}` + seedPassword + `', 'email@email.com', false, true, true, true, true, current_date, false, false, NULL);
INSERT INTO m_role (id, name, description, is_disabled) VALUES
	(1, 'Super user', 'This role provides all application permissions.', false),
	(2, 'Self Service User', 'self service user role', true);
INSERT INTO m_appuser_role (appuser_id, role_id) VALUES (1, 1), (3, 1);
INSERT INTO m_permission (id, grouping, code, entity_name, action_name, can_maker_checker) VALUES
	(1, 'special', 'ALL_FUNCTIONS', NULL, NULL, false),
	(2, 'special', 'ALL_FUNCTIONS_READ', NULL, NULL, false),
	(16, 'authorisation', 'READ_USER', 'USER', 'READ', false),
	(17, 'authorisation', 'UPDATE_USER', 'USER', 'UPDATE', false);
INSERT INTO m_role_permission (role_id, permission_id) VALUES (1, 1);
INSERT INTO m_password_validation_policy (id, regex, description, active, key) VALUES
	(1, '^.{1,50}$', 'Password most be at least 1 character and not more that 50 characters long', true, 'simple'),
	(2, '^(?=.*\d)(?=.*[a-z])(?=.*[A-Z])(?!.*\s).{6,50}$', 'Password must be at least 6 characters, no more than 50 characters long, must include at least one upper case letter, one lower case letter, one numeric digit and no space', false, 'secure');
SELECT setval('m_office_id_seq', 2, false);
SELECT setval('m_appuser_id_seq', 4, false);
SELECT setval('m_role_id_seq', 3, false);
SELECT setval('m_permission_id_seq', 18, false);
SELECT setval('m_password_validation_policy_id_seq', 3, false);`

// tenantInitial stands for the change sets of 0001_initial_schema.xml and
// 0002_initial_data.xml.
var tenantInitial = changeSet{
	ID: "tenant-0001-0002", Author: standinAuthor, File: tenantChangeLogFile, Description: "sql",
	SQL: tenantSchema + tenantData,
}

// tenantLabRows makes the stand-in's own table (IF NOT EXISTS: databases
// of older stand-ins have it without a record).
var tenantLabRows = changeSet{
	ID: "lab-0001-lab-rows", Author: standinAuthor, File: tenantChangeLogFile, Description: "createTable tableName=lab_rows",
	SQL: `
CREATE TABLE IF NOT EXISTS lab_rows (
	id bigserial PRIMARY KEY,
	note text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);`,
}

// tenantLabRowsNoteLength is the change set only release v2 has: a schema
// change and a data migration on a table that holds rows, as Fineract's
// releases make them (add a column, fill it for the existing rows, then
// constrain it). A release without it that starts on a database it ran on
// (a downgrade) writes rows without the column and fails: NOT NULL.
var tenantLabRowsNoteLength = changeSet{
	ID: "lab-0002-lab-rows-note-length", Author: standinAuthor, File: tenantChangeLogFile,
	Description: "addColumn tableName=lab_rows; update tableName=lab_rows; addNotNullConstraint columnName=note_length",
	SQL: `
ALTER TABLE lab_rows ADD COLUMN note_length integer;
UPDATE lab_rows SET note_length = char_length(note);
ALTER TABLE lab_rows ALTER COLUMN note_length SET NOT NULL;`,
}

// migrateTenant is upgradeIndividualTenant: Liquibase's update of the
// tenant's database with the release's changelog.
func migrateTenant(ctx context.Context, db *pgxpool.Pool, rel standinRelease) ([]string, error) {
	return updateDatabase(ctx, db, rel.tenantChangeLog())
}
