package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReleasesDifferOnlyByTheirOwnChangeSet checks the releases' tenant
// changelogs: v2 and v2-broken run v1's change sets in v1's order and one
// more, the same one; checksums are Liquibase's version-9 form, fit the
// MD5SUM column and tell the change sets apart.
func TestReleasesDifferOnlyByTheirOwnChangeSet(t *testing.T) {
	logs := map[string][]changeSet{}
	for _, name := range []string{"v1", "v2", "v2-broken"} {
		r, err := releaseNamed(name)
		if err != nil {
			t.Fatal(err)
		}
		logs[name] = r.tenantChangeLog()
	}
	ids := func(log []changeSet) []string {
		var out []string
		for _, cs := range log {
			out = append(out, cs.ID)
		}
		return out
	}
	v1, v2, broken := ids(logs["v1"]), ids(logs["v2"]), ids(logs["v2-broken"])
	if len(v2) != len(v1)+1 || !slices.Equal(v2[:len(v1)], v1) || !slices.Equal(broken, v2) {
		t.Fatalf("changelogs: v1 %v, v2 %v, v2-broken %v", v1, v2, broken)
	}
	form := regexp.MustCompile(`^9:[0-9a-f]{32}$`)
	seen := map[string]string{}
	for _, cs := range logs["v2"] {
		sum := cs.checksum()
		if !form.MatchString(sum) || len(sum) > 35 {
			t.Errorf("%s: checksum %q is not Liquibase's 9:<md5>", cs.ID, sum)
		}
		if other, ok := seen[sum]; ok {
			t.Errorf("%s and %s have the same checksum", cs.ID, other)
		}
		seen[sum] = cs.ID
		if cs.Author != standinAuthor || cs.File != tenantChangeLogFile {
			t.Errorf("%s: author %q file %q", cs.ID, cs.Author, cs.File)
		}
	}
}

// TestUnknownReleaseIsRefused: a binary built with a release name the
// stand-in does not have does not start as some other release.
func TestUnknownReleaseIsRefused(t *testing.T) {
	if _, err := releaseNamed("v3"); err == nil || !strings.Contains(err.Error(), "-X main.release=") {
		t.Fatalf("release v3: %v, want an error that says how to build", err)
	}
	// Built without -X, it is the release the assets pin.
	if r, err := releaseNamed(release); err != nil || r.Name != "v1" || r.NoteLength || r.NeverHealthy {
		t.Fatalf("default release %q: %+v, %v", release, r, err)
	}
}
