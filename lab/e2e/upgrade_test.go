package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/lab/labimages"
)

// releaseBinary builds the installer as a newer release would be: the
// same source with other pins, set at link time (assets.releasePins).
func releaseBinary(t *testing.T, name, pins string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "fineract-installer-"+name)
	args := []string{"build", "-o", out}
	if pins != "" {
		args = append(args, "-ldflags", "-X 'github.com/fineract-installer/fineract-installer/assets.releasePins="+pins+"'")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the %s installer: %v\n%s", name, err, b)
	}
	return out
}

// upgradeWith runs `upgrade` with the installer bin.
func (s *stack) upgradeWith(ctx context.Context, bin string, args ...string) result {
	s.t.Helper()
	args = append([]string{"upgrade", "--yes"}, append(args, "--project", s.project, "--dir", s.dir)...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "FINERACT_UNSEAL_PASSPHRASE="+passphrase, "FINERACT_BACKUP_PASSPHRASE="+backupPassphrase, "NO_COLOR=1")
	return s.runCommand(cmd, args)
}

// labRow is a row of the stand-in's lab table, as /lab/rows serves it.
type labRow struct {
	ID         int64  `json:"id"`
	Note       string `json:"note"`
	NoteLength *int   `json:"noteLength,omitempty"`
}

func (s *stack) labRows(t *testing.T) []labRow {
	t.Helper()
	code, body := s.api(t, http.MethodGet, "/fineract-provider/api/v1/lab/rows", "")
	if code != http.StatusOK {
		t.Fatalf("read the lab rows: %d %s", code, body)
	}
	var rows []labRow
	if err := json.Unmarshal([]byte(body), &rows); err != nil {
		t.Fatalf("lab rows %s: %v", body, err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	return rows
}

// fineractImage is the image ID the running Fineract container was made
// from.
func (s *stack) fineractImage(ctx context.Context, t *testing.T) string {
	t.Helper()
	c, err := s.engine.API().ContainerInspect(ctx, s.project+"-fineract-1")
	if err != nil {
		t.Fatal(err)
	}
	if !c.State.Running {
		t.Fatalf("fineract is not running: %s", c.State.Status)
	}
	return c.Image
}

func (s *stack) imageRecord(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, "images.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (s *stack) backups(t *testing.T) []string {
	t.Helper()
	found, err := filepath.Glob(filepath.Join(s.dir, "backups", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// An installation made by one release is upgraded by the next: a broken
// new Fineract (it migrates the schema, then never becomes healthy) is
// rolled back to the old image with the old rows and schema, a working one
// is upgraded with the rows kept and migrated, and going back with the
// older installer is refused with nothing changed.
func TestUpgrade(t *testing.T) {
	s := newStack(t, 41)
	// This test's own build of this release, which no other test run
	// replaces meanwhile.
	s.bin = releaseBinary(t, "v1", "")
	labimages.RequireRefs(t, s.engine, labimages.FineractV2, labimages.FineractV2Broken)
	ctx := ctxFor(t, 50*time.Minute)
	if r := s.install(ctx); r.code != 0 {
		t.Fatalf("install: exit %d %s\n%s", r.code, r.stderr, tail(r.stdout, 20))
	}
	for _, n := range []string{"loan 1001 disbursed", "client 42 onboarded", "savings 7 interest posted"} {
		if code, body := s.api(t, http.MethodPost, "/fineract-provider/api/v1/lab/rows", fmt.Sprintf(`{"note":%q}`, n)); code/100 != 2 {
			t.Fatalf("write a row: %d %s", code, body)
		}
	}
	v1Rows, v1Image, v1Record := s.labRows(t), s.fineractImage(ctx, t), s.imageRecord(t)
	if len(v1Rows) != 3 || v1Rows[0].NoteLength != nil {
		t.Fatalf("v1 rows: %+v", v1Rows)
	}
	broken := releaseBinary(t, "v2-broken", "stack=lab-2-broken;fineract="+labimages.FineractV2Broken+";release.fineract=1.15.0")
	v2 := releaseBinary(t, "v2", "stack=lab-2;fineract="+labimages.FineractV2+";release.fineract=1.15.0")

	// The broken release: migrated, never healthy, rolled back.
	start := time.Now()
	// Fineract's own budget is 15 minutes, for long migrations; the
	// operator's --health-timeout is the one that ends this wait.
	r := s.upgradeWith(ctx, broken, "--health-timeout", "2m")
	t.Logf("upgrade to the broken release and its rollback: %s", time.Since(start).Round(time.Second))
	if r.code != 1 {
		t.Fatalf("upgrade to the broken release: exit %d, want 1\n%s\n%s", r.code, tail(r.stdout, 40), r.stderr)
	}
	for _, want := range []string{"The upgrade failed and was rolled back", "did not become healthy within 2m0s", "last log lines of fineract", "back on the images it ran before"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the rollback report lacks %q:\n%s", want, tail(r.stdout, 40))
		}
	}
	if got := s.fineractImage(ctx, t); got != v1Image {
		t.Errorf("after the rollback fineract runs %s, want the v1 image %s", got, v1Image)
	}
	if got := s.imageRecord(t); !bytes.Equal(got, v1Record) {
		t.Errorf("the rollback changed the image record:\n%s\nwas\n%s", got, v1Record)
	}
	if got := s.labRows(t); fmt.Sprint(got) != fmt.Sprint(v1Rows) {
		t.Errorf("rows after the rollback %+v, want v1's %+v (no note_length column)", got, v1Rows)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "upgrade.json")); !os.IsNotExist(err) {
		t.Errorf("the upgrade journal is left after the rollback: %v", err)
	}
	if r := s.run(ctx, "validate"); r.code != 0 {
		t.Errorf("validate after the rollback: exit %d\n%s", r.code, tail(r.stdout, 30))
	}

	// The working release: upgraded, rows kept and migrated.
	start = time.Now()
	r = s.upgradeWith(ctx, v2)
	t.Logf("upgrade to v2: %s", time.Since(start).Round(time.Second))
	if r.code != 0 {
		t.Fatalf("upgrade to v2: exit %d\n%s\n%s", r.code, tail(r.stdout, 40), r.stderr)
	}
	if !strings.Contains(r.stdout, "Upgraded 2026.12 -> lab-2") || !strings.Contains(r.stdout, labimages.FineractV2) {
		t.Errorf("the final screen does not say what changed:\n%s", tail(r.stdout, 30))
	}
	// Before it started, the upgrade named the one container it replaces
	// and why, as `plan` does, and no other.
	_, planned, _ := strings.Cut(r.stdout, "Containers replaced or started:\n")
	planned, _, _ = strings.Cut(planned, "Steps:\n")
	if !strings.Contains(planned, "fineract: recreate (image ") || !strings.Contains(planned, labimages.FineractV2) ||
		strings.Count(planned, ": recreate") != 1 || strings.Contains(planned, ": create") || strings.Contains(planned, ": remove") {
		t.Errorf("the upgrade's plan should name fineract's new image alone:\n%s", planned)
	}
	v2Image, err := s.engine.API().ImageInspect(ctx, labimages.FineractV2)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.fineractImage(ctx, t); got != v2Image.ID {
		t.Errorf("after the upgrade fineract runs %s, want v2's %s", got, v2Image.ID)
	}
	var rec struct {
		Stack    string `json:"stack"`
		Services map[string]struct {
			Image, ID, Release string
		} `json:"services"`
	}
	v2Record := s.imageRecord(t)
	if err := json.Unmarshal(v2Record, &rec); err != nil {
		t.Fatal(err)
	}
	if f := rec.Services["fineract"]; rec.Stack != "lab-2" || f.Image != labimages.FineractV2 || f.ID != v2Image.ID || f.Release != "1.15.0" {
		t.Errorf("image record after the upgrade: %s", v2Record)
	}
	rows := s.labRows(t)
	if len(rows) != len(v1Rows) {
		t.Fatalf("rows after the upgrade %+v, want v1's %+v", rows, v1Rows)
	}
	for i, row := range rows {
		if row.ID != v1Rows[i].ID || row.Note != v1Rows[i].Note || row.NoteLength == nil || *row.NoteLength != len(row.Note) {
			t.Errorf("row %d after the upgrade %+v, want %+v migrated (noteLength %d)", i, row, v1Rows[i], len(v1Rows[i].Note))
		}
	}

	// Back to v1 with the installer that installed it: refused.
	backups := s.backups(t)
	r = s.upgradeWith(ctx, s.bin)
	if r.code != 2 || !strings.Contains(r.stderr, "older than the installed 1.15.0") || !strings.Contains(r.stderr, "restore") {
		t.Errorf("downgrade: exit %d, want 2 with the reason and the way back\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if got := s.fineractImage(ctx, t); got != v2Image.ID {
		t.Errorf("the refused downgrade changed fineract's image to %s", got)
	}
	if got := s.imageRecord(t); !bytes.Equal(got, v2Record) {
		t.Errorf("the refused downgrade changed the image record:\n%s", got)
	}
	if got := s.backups(t); fmt.Sprint(got) != fmt.Sprint(backups) {
		t.Errorf("the refused downgrade wrote a backup: %v, was %v", got, backups)
	}
	checkUpgradeAudited(ctx, t, s)
}

// checkUpgradeAudited: the audit log holds the failed upgrade, its
// rollback and the upgrade that worked, each naming fineract's container,
// and its chain verifies. The refused downgrade changed nothing and is not
// in it.
func checkUpgradeAudited(ctx context.Context, t *testing.T, s *stack) {
	t.Helper()
	r := s.run(ctx, "audit", "show", "-o", "json")
	if r.code != 0 {
		t.Fatalf("audit show: exit %d %s", r.code, r.stderr)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e struct {
			Entry struct {
				Command, Result string
				Steps           []string
				Changes         []struct{ Resource, Action, Subject string }
			}
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit show -o json: %v: %s", err, line)
		}
		if e.Entry.Command != "upgrade" {
			continue
		}
		fineract := false
		for _, c := range e.Entry.Changes {
			fineract = fineract || (c.Resource == "container" && c.Subject == "fineract")
		}
		got = append(got, fmt.Sprintf("%s:fineract=%t", e.Entry.Result, fineract))
	}
	want := []string{"failed:fineract=true", "ok:fineract=true", "ok:fineract=true"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("upgrade entries in the audit log %v, want %v (the failed upgrade, its rollback, the upgrade to v2)", got, want)
	}
	if r := s.run(ctx, "audit", "verify"); r.code != 0 {
		t.Errorf("audit verify after the upgrades: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
