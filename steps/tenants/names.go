package tenants

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/fineract-installer/fineract-installer/assets"
)

// Default is the tenant every installation has; Fineract's start-up
// registers it from its FINERACT_DEFAULT_TENANTDB_* settings.
const Default = assets.DefaultTenant

// MaxNameLength bounds a tenant name. PostgreSQL truncates identifiers to
// 63 bytes (NAMEDATALEN-1); the longest name built from a tenant name is
// the database and role "fineract_t_" + name (11 bytes of prefix), so 52
// would fit. 32 leaves room for that prefix and any sibling name, stays
// far inside Fineract's identifier column (VARCHAR(100), tenant-store
// 0001_initial_schema.xml), and is still short enough to type at sign-in.
const MaxNameLength = 32

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

// Names of the PostgreSQL objects of a tenant. The default tenant's
// database and role are the ones the install made.
const (
	defaultDatabase = "fineract_default"
	defaultRole     = "fineract"
	databasePrefix  = "fineract_t_"
	snapshotPrefix  = "fineract_s_"
	stagingPrefix   = "fineract_n_"
)

// ValidateName says whether name can be a new tenant's name: a lower-case
// letter, then lower-case letters and digits, at most MaxNameLength. The
// same rule makes every identifier built from it safe in SQL and in a
// pg_hba.conf pattern.
func ValidateName(name string) error {
	switch {
	case name == Default:
		return fmt.Errorf("tenant name %q is taken by the default tenant every installation has; choose another", name)
	case len(name) > MaxNameLength:
		return fmt.Errorf("tenant name %q is %d characters long; at most %d are allowed", name, len(name), MaxNameLength)
	case !nameRE.MatchString(name):
		return fmt.Errorf("tenant name %q must start with a lower-case letter and hold only lower-case letters and digits (a-z, 0-9)", name)
	}
	return nil
}

// validKnown accepts any existing tenant's name, the default included.
func validKnown(name string) error {
	if name == Default {
		return nil
	}
	return ValidateName(name)
}

// ValidateNew checks a list of new tenant names: each valid, none twice.
// Every problem is reported, joined.
func ValidateNew(names []string) error {
	if len(names) == 0 {
		return errors.New("name at least one tenant, or give --count")
	}
	var errs []error
	seen := map[string]bool{}
	for _, n := range names {
		if err := ValidateName(n); err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[n] {
			errs = append(errs, fmt.Errorf("tenant name %q is given twice", n))
		}
		seen[n] = true
	}
	return errors.Join(errs...)
}

// MaxCount bounds --count: two classes of twelve. Every tenant has its own
// connection pool that keeps poolMinIdle connections open, and
// PostgreSQL's max_connections is 100 (postgresql.conf.tmpl).
const MaxCount = 24

// Numbered returns prefix1..prefixN, validated.
func Numbered(prefix string, count int) ([]string, error) {
	if count < 1 || count > MaxCount {
		return nil, fmt.Errorf("--count %d is outside 1..%d", count, MaxCount)
	}
	names := make([]string, count)
	for i := range names {
		names[i] = prefix + strconv.Itoa(i+1)
	}
	return names, ValidateNew(names)
}

// Database is the tenant's database.
func Database(name string) string {
	if name == Default {
		return defaultDatabase
	}
	return databasePrefix + name
}

// Role is the PostgreSQL role the tenant's Fineract pool logs in as.
func Role(name string) string {
	if name == Default {
		return defaultRole
	}
	return databasePrefix + name
}

// Snapshot is the template database a reset copies the tenant from.
func Snapshot(name string) string { return snapshotPrefix + name }

// staging holds a new snapshot until it replaces the old one.
func staging(name string) string { return stagingPrefix + name }

// VaultPath is where the tenant role's password is kept (key
// VaultPasswordKey).
func VaultPath(name string) string { return assets.TenantVaultPath(name) }

// VaultPasswordKey is the key of the role's password at VaultPath.
const VaultPasswordKey = "db_password"
