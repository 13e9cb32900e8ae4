package main

import "fmt"

// release names the stand-in's release. It is fixed when the binary is
// built (go build -ldflags "-X main.release=v2"), never by configuration:
// a real Fineract image is one release, and nothing the installer renders
// could make it another. lab/images/fineract*.sh build one image per
// release:
//
//   - v1: the release the assets pin (openmf/fineract:1.14.0 in the lab);
//   - v2: v1 and one more tenant change set that changes schema and data
//     (lab_rows gets note_length, backfilled for the rows already there,
//     then NOT NULL), and serves it as noteLength in /lab/rows;
//   - v2-broken: v2's migration, then its actuator health never turns UP,
//     so the assets' healthcheck never passes: an upgrade to it must be
//     rolled back, database included.
var release = "v1"

// standinRelease is what a release changes in the stand-in's behaviour.
type standinRelease struct {
	Name string
	// NoteLength: the tenant changelog has the note_length change set and
	// the lab rows API reads and writes the column.
	NoteLength bool
	// NeverHealthy: health stays DOWN after the migration.
	NeverHealthy bool
}

// releases are the releases the stand-in can be built as.
var releases = []standinRelease{
	{Name: "v1"},
	{Name: "v2", NoteLength: true},
	{Name: "v2-broken", NoteLength: true, NeverHealthy: true},
}

// releaseNamed returns the release built in as name.
func releaseNamed(name string) (standinRelease, error) {
	for _, r := range releases {
		if r.Name == name {
			return r, nil
		}
	}
	return standinRelease{}, fmt.Errorf("stand-in built as unknown release %q (build with -ldflags \"-X main.release=v1|v2|v2-broken\")", name)
}

// tenantChangeLog is the release's changelog of a tenant database, in
// order (tenantdb.go).
func (r standinRelease) tenantChangeLog() []changeSet {
	log := []changeSet{tenantInitial, tenantLabRows}
	if r.NoteLength {
		log = append(log, tenantLabRowsNoteLength)
	}
	return log
}
