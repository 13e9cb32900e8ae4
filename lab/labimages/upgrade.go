package labimages

// The Fineract stand-in's other releases, for the upgrade and rollback
// tests. They are lab-only references: the .invalid top-level domain never
// resolves (RFC 2606), so no pull can fetch them and no one can take them
// for an upstream tag. The release the assets pin (Ref("fineract")) is the
// stand-in's v1. lab/images/lib/fineract.sh reads these constants, so the
// scripts and the tests cannot disagree on a reference.
const (
	// FineractV2 is the stand-in built as release v2: v1's schema plus one
	// tenant change set (lab_rows.note_length, backfilled for the existing
	// rows, then NOT NULL, served as noteLength by /lab/rows), recorded in
	// databasechangelog; healthy like v1.
	FineractV2 = "lab.fineract-installer.invalid/fineract-standin:v2"
	// FineractV2Broken is the stand-in built as release v2-broken: v2's
	// migration, then an actuator health that never turns UP.
	FineractV2Broken = "lab.fineract-installer.invalid/fineract-standin:v2-broken"
)

// ReleaseLabel is the label that names the stand-in release an image of
// the Fineract stand-in runs (v1, v2 or v2-broken).
const ReleaseLabel = "org.fineract-installer.lab.standin-release"

// Extras lists the images the lab builds besides those of the assets' pins,
// each under its own reference.
var Extras = []Image{
	{Service: "fineract", Reference: FineractV2, Script: "lab/images/fineract-v2.sh", StandIn: true},
	{Service: "fineract", Reference: FineractV2Broken, Script: "lab/images/fineract-v2-broken.sh", StandIn: true},
}
