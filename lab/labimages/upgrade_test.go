package labimages

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/install"
)

// applyFineract applies the rendered stack with the fineract service's
// image replaced by ref, the way an upgrade replaces it: only fineract is
// recreated. With wait it waits for the rendered healthcheck, else only
// for the start.
func (s *Stack) applyFineract(t *testing.T, ref string, wait bool) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	p := s.Load(t)
	svc := p.Services["fineract"]
	svc.Image = ref
	p.Services["fineract"] = svc
	o := compose.UpOptions{Services: []string{"fineract"}, WaitTimeout: 6 * time.Minute,
		Policy: install.HardeningPolicy(s.Bundle, s.Dir, s.SecretsDir)}
	if !wait {
		o.StartOnly = []string{"fineract"}
	}
	return s.Engine.Up(ctx, p, o, nil)
}

// labRow is a row of GET /lab/rows.
type labRow struct {
	ID         int64
	Note       string
	NoteLength *int
	CreatedAt  time.Time
}

func getLabRows(t *testing.T, c *http.Client, url string) []labRow {
	t.Helper()
	code, body := (apiCall{method: "GET", url: url, auth: true, tenant: true}).do(t, c)
	var rows []labRow
	if err := json.Unmarshal(body, &rows); code != http.StatusOK || err != nil {
		t.Fatalf("GET %s: %d %s (%v)", url, code, body, err)
	}
	return rows
}

// tenantChangeLog returns the ids of the default tenant's databasechangelog,
// in the order they ran, as PostgreSQL has them.
func tenantChangeLog(ctx context.Context, t *testing.T, s *Stack) []string {
	t.Helper()
	conn, err := pgConnect(ctx, s, "fineract", s.Secret(t, "fineract", "FINERACT_HIKARI_PASSWORD"), "fineract_default", "verify-full")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id FROM databasechangelog WHERE exectype = 'EXECUTED' ORDER BY orderexecuted`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

const noteLengthChangeSet = "lab-0002-lab-rows-note-length"

// TestFineractStandInUpgradeKeepsRows runs the stand-in release the assets
// pin (v1) with the installer's rendered stack, writes rows, then replaces
// the image with release v2 (FineractV2) as an upgrade does: v2 migrates
// the tenant database once (a column added and filled for the rows already
// there, recorded in databasechangelog), becomes healthy through the
// rendered healthcheck, and serves every row v1 wrote, with the new field.
func TestFineractStandInUpgradeKeepsRows(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	Require(t, e, "postgres", "fineract")
	RequireRefs(t, e, FineractV2)
	s := NewStack(t, e)
	s.Up(t, "fineract")
	ctx := context.Background()
	c := httpsClient(s, "fineract", "")
	rows := "https://fineract:8443/fineract-provider/api/v1/lab/rows"
	for _, note := range []string{"loan 1", "Überweisung 2"} {
		if code, body := (apiCall{method: "POST", url: rows, body: `{"note":"` + note + `"}`, auth: true, tenant: true}).do(t, c); code != http.StatusOK {
			t.Fatalf("v1 POST rows: %d %s", code, body)
		}
	}
	before := getLabRows(t, c, rows)
	if len(before) != 2 || before[0].NoteLength != nil {
		t.Fatalf("v1 rows: %+v", before)
	}
	if slices.Contains(tenantChangeLog(ctx, t, s), noteLengthChangeSet) {
		t.Fatal("v1 ran v2's change set")
	}
	v1ID, pgID := s.ContainerID(t, "fineract"), s.ContainerID(t, "postgres")

	if err := s.applyFineract(t, FineractV2, true); err != nil {
		s.DumpLogs(t, 40)
		t.Fatalf("upgrade to %s: %v", FineractV2, err)
	}
	if s.ContainerID(t, "fineract") == v1ID {
		t.Fatal("the fineract container was not replaced")
	}
	if s.ContainerID(t, "postgres") != pgID {
		t.Error("the upgrade of fineract replaced postgres")
	}
	insp, err := e.API().ContainerInspect(ctx, s.ContainerID(t, "fineract"))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := e.API().ImageInspect(ctx, FineractV2)
	if err != nil {
		t.Fatal(err)
	}
	if insp.Image != v2.ID || insp.Config.Labels[ReleaseLabel] != "v2" {
		t.Fatalf("fineract runs image %s (release %q), want %s (%s)", insp.Image, insp.Config.Labels[ReleaseLabel], FineractV2, v2.ID)
	}

	after := getLabRows(t, c, rows)
	if len(after) != len(before) {
		t.Fatalf("after the upgrade %d rows, before %d: %+v", len(after), len(before), after)
	}
	for i, r := range after {
		b := before[i]
		if r.ID != b.ID || r.Note != b.Note || !r.CreatedAt.Equal(b.CreatedAt) {
			t.Errorf("row changed by the upgrade: %+v, was %+v", r, b)
		}
		if r.NoteLength == nil || *r.NoteLength != len([]rune(b.Note)) {
			t.Errorf("row %d (%q): noteLength %v, want %d", r.ID, r.Note, r.NoteLength, len([]rune(b.Note)))
		}
	}
	log := tenantChangeLog(ctx, t, s)
	if n := len(log); n == 0 || log[n-1] != noteLengthChangeSet || slices.Index(log, noteLengthChangeSet) != n-1 {
		t.Errorf("tenant changelog after the upgrade: %v, want %s recorded once, last", log, noteLengthChangeSet)
	}
	if logs := s.Logs(t, "fineract"); !strings.Contains(logs, "release v2") || !strings.Contains(logs, noteLengthChangeSet+"::fineract-standin ran successfully") {
		t.Errorf("v2's log does not show its release and migration:\n%s", logs)
	}
}

// TestFineractStandInBrokenReleaseMigratesAndStaysUnhealthy replaces v1
// with release v2-broken (FineractV2Broken): it runs v2's migration on the
// tenant database to the end, then its health stays DOWN, so the
// healthcheck the assets render fails; an upgrade must roll back the
// database as well as the image.
func TestFineractStandInBrokenReleaseMigratesAndStaysUnhealthy(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	Require(t, e, "postgres", "fineract")
	RequireRefs(t, e, FineractV2Broken)
	s := NewStack(t, e)
	s.Up(t, "fineract")
	ctx := context.Background()
	c := httpsClient(s, "fineract", "")
	rows := "https://fineract:8443/fineract-provider/api/v1/lab/rows"
	if code, body := (apiCall{method: "POST", url: rows, body: `{"note":"kept"}`, auth: true, tenant: true}).do(t, c); code != http.StatusOK {
		t.Fatalf("v1 POST rows: %d %s", code, body)
	}

	if err := s.applyFineract(t, FineractV2Broken, false); err != nil {
		s.DumpLogs(t, 40)
		t.Fatalf("start %s: %v", FineractV2Broken, err)
	}
	// Its migration ends: the change set is recorded.
	deadline := time.Now().Add(3 * time.Minute)
	for !slices.Contains(tenantChangeLog(ctx, t, s), noteLengthChangeSet) {
		if time.Now().After(deadline) {
			s.DumpLogs(t, 40)
			t.Fatalf("v2-broken did not record %s", noteLengthChangeSet)
		}
		time.Sleep(time.Second)
	}
	// After it, health is DOWN and the rendered healthcheck fails.
	waitHealth(t, c, "https://fineract:8443/fineract-provider/actuator/health", "DOWN", time.Minute)
	insp, err := e.API().ContainerInspect(ctx, s.ContainerID(t, "fineract"))
	if err != nil {
		t.Fatal(err)
	}
	if insp.Config.Labels[ReleaseLabel] != "v2-broken" {
		t.Fatalf("fineract runs release %q, want v2-broken", insp.Config.Labels[ReleaseLabel])
	}
	probe := insp.Config.Healthcheck.Test
	if len(probe) != 2 || probe[0] != "CMD-SHELL" {
		t.Fatalf("rendered healthcheck %q: want CMD-SHELL and a command", probe)
	}
	res, err := e.Exec(ctx, s.Project, "fineract", "", []string{"/bin/sh", "-c", probe[1]}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode == 0 {
		t.Fatalf("the rendered healthcheck %q passes on v2-broken after its migration", probe[1])
	}
	if logs := s.Logs(t, "fineract"); !strings.Contains(logs, "schema ready") || !strings.Contains(logs, "v2-broken") {
		t.Errorf("v2-broken's log does not show a finished migration and its release:\n%s", logs)
	}
	// The migration changed the data: the row is there, with the column.
	conn, err := pgConnect(ctx, s, "fineract", s.Secret(t, "fineract", "FINERACT_HIKARI_PASSWORD"), "fineract_default", "verify-full")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var length int
	if err := conn.QueryRow(ctx, `SELECT note_length FROM lab_rows WHERE note = 'kept'`).Scan(&length); err != nil || length != 4 {
		t.Fatalf("the row after v2-broken's migration: note_length %d, err %v", length, err)
	}
}

// TestExtrasAreLabOnlyStandIns checks that every extra image is a
// stand-in under a reference in the .invalid domain, built by a script
// that reads that reference from this package's constants.
func TestExtrasAreLabOnlyStandIns(t *testing.T) {
	for _, im := range Extras {
		domain, _, _ := strings.Cut(im.Reference, "/")
		if !strings.HasSuffix(domain, ".invalid") || !im.StandIn {
			t.Errorf("%s: not a lab-only stand-in reference", im.Reference)
		}
		script, err := os.ReadFile(filepath.Join("..", "..", im.Script))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(script), "STAND-IN") {
			t.Errorf("%s does not say it builds a stand-in", im.Script)
		}
		name := map[string]string{FineractV2: "FineractV2", FineractV2Broken: "FineractV2Broken"}[im.Reference]
		if name == "" || !strings.Contains(string(script), "lab_labimages_ref "+name+")") {
			t.Errorf("%s does not build %s from the constant %q", im.Script, im.Reference, name)
		}
	}
}
