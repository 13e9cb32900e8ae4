package backup

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

func base(name string, finishedHours int, startWAL string) BaseBackup {
	return BaseBackup{File: name, Finished: t0.Add(time.Duration(finishedHours) * time.Hour), StartWAL: startWAL}
}

func files(bs []BaseBackup) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.File)
	}
	return out
}

func TestChooseBaseTakesNewestFinishedAtOrBeforeTarget(t *testing.T) {
	bases := []BaseBackup{base("b24", 24, ""), base("b0", 0, ""), base("b48", 48, "")}
	newest := Segment{Name: "x", ArchivedAt: t0.Add(60 * time.Hour)}
	for _, c := range []struct {
		target time.Time
		want   string
	}{
		{t0, "b0"},                                  // exactly at the oldest end
		{t0.Add(23 * time.Hour), "b0"},              // before the second
		{t0.Add(24 * time.Hour), "b24"},             // at the second's end
		{t0.Add(59 * time.Hour), "b48"},             // after the newest base
		{t0.Add(60 * time.Hour), "b48"},             // the newest archived segment
		{time.Time{}, "b48"},                        // latest
		{t0.Add(47*time.Hour + time.Second), "b24"}, // one second before b48's end
	} {
		got, err := ChooseBase(bases, newest, c.target)
		if err != nil || got.File != c.want {
			t.Errorf("ChooseBase(%v) = %q, %v; want %q", c.target, got.File, err, c.want)
		}
	}
}

func TestChooseBaseRefusesTargetOutsideWindowNamingIt(t *testing.T) {
	bases := []BaseBackup{base("b0", 0, ""), base("b24", 24, "")}
	newest := Segment{ArchivedAt: t0.Add(30 * time.Hour)}
	for _, target := range []time.Time{t0.Add(-time.Second), t0.Add(30*time.Hour + time.Second)} {
		_, err := ChooseBase(bases, newest, target)
		var out *ErrOutsideWindow
		if !errors.As(err, &out) {
			t.Fatalf("ChooseBase(%v) = %v; want ErrOutsideWindow", target, err)
		}
		want := "restorable window: 2026-12-01T02:00:00Z to 2026-12-02T08:00:00Z"
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name the window %q", err, want)
		}
	}
	if _, err := ChooseBase(nil, newest, time.Time{}); err == nil {
		t.Error("an empty repository chose a base backup")
	}
}

func TestWindowEndsNoEarlierThanNewestBase(t *testing.T) {
	w, ok := RestorableWindow([]BaseBackup{base("b0", 0, ""), base("b5", 5, "")}, Segment{ArchivedAt: t0.Add(time.Hour)})
	if !ok || !w.From.Equal(t0) || !w.To.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("window = %v, %v", w, ok)
	}
}

func TestRetentionByCountAndAgeKeepsTheBaseThePeriodStartsFrom(t *testing.T) {
	now := t0.Add(10 * 24 * time.Hour)
	var bases []BaseBackup
	for d := 0; d <= 10; d++ { // one a day, days 0..10
		bases = append(bases, base("d"+string(rune('a'+d)), d*24, ""))
	}
	// By count: the newest 3.
	keep, drop := Retention{KeepBase: 3}.Apply(bases, now)
	if got := files(keep); !slices.Equal(got, []string{"dk", "dj", "di"}) || len(drop) != 8 {
		t.Errorf("keep 3: kept %v, dropped %d", got, len(drop))
	}
	// By age: 2.5 days keeps days 8, 9, 10 and day 7, which points at the
	// start of the period are replayed from.
	now2 := now.Add(12 * time.Hour)
	keep, _ = Retention{KeepBase: 1, KeepDays: 3}.Apply(bases, now2)
	if got := files(keep); !slices.Equal(got, []string{"dk", "dj", "di", "dh"}) {
		t.Errorf("keep 3 days: kept %v", got)
	}
	// Never the last one, even with nonsense counts.
	keep, _ = Retention{KeepBase: 0}.Apply(bases[:1], now)
	if len(keep) != 1 {
		t.Errorf("kept %v of one base backup", files(keep))
	}
}

func TestWALNotNeededStopsAtOldestKeptStart(t *testing.T) {
	names := []string{
		"000000010000000000000001",
		"000000010000000000000002.00000028.backup",
		"0000000100000000000000FF",
		"000000010000000100000000",
		"000000020000000100000001",
		"00000002.history",
	}
	kept := []BaseBackup{{StartWAL: "000000010000000100000000"}, {StartWAL: "000000020000000100000005"}}
	got := WALNotNeeded(names, kept)
	want := []string{"000000010000000000000001", "000000010000000000000002.00000028.backup", "0000000100000000000000FF"}
	if !slices.Equal(got, want) {
		t.Errorf("WALNotNeeded = %v; want %v", got, want)
	}
	if got := WALNotNeeded(names, []BaseBackup{{StartWAL: "garbage"}}); got != nil {
		t.Errorf("deleted %v with a kept base backup of unknown start", got)
	}
}
