package assets

import (
	"fmt"
	"strconv"
	"strings"
)

// FineractVersion is a Fineract release number, read from an image tag
// ("1.14.0", or "1.14.0-something" for a build of that release).
type FineractVersion struct {
	Major, Minor, Patch int
}

func (v FineractVersion) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Compare returns -1, 0 or 1 as v is older than, the same as or newer than w.
func (v FineractVersion) Compare(w FineractVersion) int {
	for _, d := range [][2]int{{v.Major, w.Major}, {v.Minor, w.Minor}, {v.Patch, w.Patch}} {
		switch {
		case d[0] < d[1]:
			return -1
		case d[0] > d[1]:
			return 1
		}
	}
	return 0
}

// ParseFineractVersion reads the release from a Fineract image reference's
// tag: MAJOR.MINOR.PATCH, optionally followed by "-" and a build label.
func ParseFineractVersion(ref string) (FineractVersion, error) {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return FineractVersion{}, fmt.Errorf("fineract image %s has no tag to read its version from", ref)
	}
	tag, _, _ := strings.Cut(ref[i+1:], "-")
	v, err := parseRelease(tag)
	if err != nil {
		return FineractVersion{}, fmt.Errorf("fineract image %s: tag %w", ref, err)
	}
	return v, nil
}

// ParseFineractRelease reads a release number MAJOR.MINOR.PATCH.
func ParseFineractRelease(s string) (FineractVersion, error) { return parseRelease(s) }

func parseRelease(s string) (FineractVersion, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return FineractVersion{}, fmt.Errorf("%q is not a release number MAJOR.MINOR.PATCH", s)
	}
	var n [3]int
	for j, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || p != strconv.Itoa(v) {
			return FineractVersion{}, fmt.Errorf("%q is not a release number MAJOR.MINOR.PATCH", s)
		}
		n[j] = v
	}
	return FineractVersion{n[0], n[1], n[2]}, nil
}

// Waypoint is a Fineract release an upgrade must stop at: a database older
// than it cannot be migrated past it in one go.
type Waypoint struct {
	Version FineractVersion
	Why     string
	Source  string
}

// fineractWaypoints is Fineract's upgrade path. Upstream documents no
// general rule about skipping releases: each release's Liquibase changelog
// runs forward from whatever the database has applied, so a jump of several
// releases runs every changeset in between, and none is rolled back (the
// way back is a restore). The one stop upstream enforces is the switch from
// Flyway to Liquibase.
var fineractWaypoints = []Waypoint{{
	Version: FineractVersion{1, 6, 0},
	Why: "Fineract 1.6 moved its schema migrations from Flyway to Liquibase; a database without the Flyway " +
		"migrations of 1.6 is refused by newer releases (SchemaUpgradeNeededException: \"Make sure to upgrade " +
		"to Fineract 1.6 first and then to a newer version\")",
	Source: "apache/fineract TenantDatabaseUpgradeService.applyInitialLiquibase, " +
		"package org.apache.fineract.infrastructure.core.service.migration",
}}

// FineractWaypoints lists the releases an upgrade must stop at, oldest first.
func FineractWaypoints() []Waypoint { return append([]Waypoint(nil), fineractWaypoints...) }

// DowngradeError refuses moving Fineract to an older release.
type DowngradeError struct{ From, To FineractVersion }

func (e *DowngradeError) Error() string {
	return fmt.Sprintf("this installer carries Fineract %s, older than the installed %s: Fineract's database migrations run forward only", e.To, e.From)
}

// SkipError refuses an upgrade that jumps over a waypoint.
type SkipError struct {
	From, To FineractVersion
	Stop     Waypoint
}

func (e *SkipError) Error() string {
	return fmt.Sprintf("Fineract %s cannot be upgraded to %s directly: it must stop at %s first. %s (source: %s)", e.From, e.To, e.Stop.Version, e.Stop.Why, e.Stop.Source)
}

// CheckFineractPath refuses a downgrade and a jump over a waypoint.
func CheckFineractPath(from, to FineractVersion) error {
	if to.Compare(from) < 0 {
		return &DowngradeError{From: from, To: to}
	}
	for _, w := range fineractWaypoints {
		if from.Compare(w.Version) < 0 && to.Compare(w.Version) > 0 {
			return &SkipError{From: from, To: to, Stop: w}
		}
	}
	return nil
}
