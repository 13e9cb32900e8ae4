package backup

import (
	"fmt"
	"github.com/fineract-installer/fineract-installer/steps/backup/wal"
	"slices"
	"strconv"
	"time"
)

// BaseBackup is what the repository knows of one base backup: the facts
// its archive's authenticated header carries.
type BaseBackup struct {
	// File is the archive's path.
	File string `json:"file"`
	// Size is the archive's size in bytes.
	Size int64 `json:"bytes"`
	// Started and Finished bracket the backup: PostgreSQL's copy is
	// consistent from its stop point, reached before Finished.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// StartWAL is the first WAL segment a restore replays, StopWAL the
	// one holding the backup's end: WAL up to it must be replayed before
	// the copy is consistent.
	StartWAL string `json:"start_wal"`
	StopWAL  string `json:"stop_wal"`
	StartLSN string `json:"start_lsn"`
	StopLSN  string `json:"stop_lsn"`
	Timeline uint32 `json:"timeline"`
}

// Segment is one archived WAL segment: its name (PostgreSQL's %f) and
// when it was archived.
type Segment struct {
	Name       string    `json:"name"`
	ArchivedAt time.Time `json:"archived_at"`
}

// Window is the span of time a repository can restore to: from the
// oldest base backup's end to the newest archived segment.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// String names the window as errors and listings show it.
func (w Window) String() string {
	return fmt.Sprintf("restorable window: %s to %s", w.From.UTC().Format(time.RFC3339), w.To.UTC().Format(time.RFC3339))
}

// RestorableWindow is the window of bases (any order) and the newest
// archived segment; ok is false when there is no base backup. A base
// backup is a point of its own even before a later segment is archived:
// the window never ends before the newest base backup's end.
func RestorableWindow(bases []BaseBackup, newest Segment) (Window, bool) {
	if len(bases) == 0 {
		return Window{}, false
	}
	w := Window{From: bases[0].Finished, To: bases[0].Finished}
	for _, b := range bases[1:] {
		if b.Finished.Before(w.From) {
			w.From = b.Finished
		}
		if b.Finished.After(w.To) {
			w.To = b.Finished
		}
	}
	if newest.ArchivedAt.After(w.To) {
		w.To = newest.ArchivedAt
	}
	return w, true
}

// ErrOutsideWindow is returned by ChooseBase for a target the repository
// cannot restore to.
type ErrOutsideWindow struct {
	Target time.Time
	Window Window
}

func (e *ErrOutsideWindow) Error() string {
	return fmt.Sprintf("%s is outside the %s", e.Target.UTC().Format(time.RFC3339), e.Window)
}

// ChooseBase picks the base backup a restore to target starts from: the
// newest one finished at or before target (the latest when target is
// zero, meaning "replay everything archived"). A target outside the
// window is refused with the window named.
func ChooseBase(bases []BaseBackup, newest Segment, target time.Time) (BaseBackup, error) {
	w, ok := RestorableWindow(bases, newest)
	if !ok {
		return BaseBackup{}, fmt.Errorf("the repository holds no base backup: run `fineract-installer backup` with WAL archiving on first")
	}
	if !target.IsZero() && (target.Before(w.From) || target.After(w.To)) {
		return BaseBackup{}, &ErrOutsideWindow{Target: target, Window: w}
	}
	var chosen BaseBackup
	for _, b := range bases {
		if (target.IsZero() || !b.Finished.After(target)) && b.Finished.After(chosen.Finished) {
			chosen = b
		}
	}
	return chosen, nil
}

// Retention says which base backups to keep.
type Retention struct {
	// KeepBase keeps the newest this many base backups (at least one).
	KeepBase int
	// KeepDays keeps every point of the last this many days restorable:
	// every base backup finished since, and the newest one finished
	// before, which those points are replayed from. 0 keeps by count only.
	KeepDays int
}

// Apply splits bases into those kept and those that may be deleted,
// each newest first. The newest base backup is always kept, and no base
// backup a restorable point of the kept period needs is deleted.
func (r Retention) Apply(bases []BaseBackup, now time.Time) (keep, drop []BaseBackup) {
	sorted := slices.Clone(bases)
	slices.SortFunc(sorted, func(a, b BaseBackup) int { return b.Finished.Compare(a.Finished) })
	cutoff := now.AddDate(0, 0, -r.KeepDays)
	anchored := r.KeepDays <= 0
	for i, b := range sorted {
		kept := i < max(r.KeepBase, 1)
		if r.KeepDays > 0 && !b.Finished.Before(cutoff) {
			kept = true
		}
		if !anchored && b.Finished.Before(cutoff) {
			// The newest base backup older than the period: points early
			// in the period are replayed from it.
			kept, anchored = true, true
		}
		if kept {
			keep = append(keep, b)
		} else {
			drop = append(drop, b)
		}
	}
	return keep, drop
}

// walPosition is a WAL file's position in the WAL stream, whatever its
// timeline: the segment number of a segment, a backup history file
// ("<segment>.<offset>.backup"), or a partial segment. ok is false for
// names without one (timeline history files).
func walPosition(name string) (uint64, bool) {
	if len(name) < 24 {
		return 0, false
	}
	for _, c := range name[:24] {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return 0, false
		}
	}
	log, err1 := strconv.ParseUint(name[8:16], 16, 32)
	seg, err2 := strconv.ParseUint(name[16:24], 16, 32)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	// Segments are 16 MB: 256 segments per 4 GB "log" file.
	return log<<8 | seg, true
}

// WALNotNeeded lists the archived WAL files no kept base backup needs:
// those before the oldest kept base backup's start segment, on any
// timeline. Timeline history files are always kept: they are small and a
// restore follows timelines through them.
func WALNotNeeded(names []string, kept []BaseBackup) []string {
	oldest, ok := uint64(0), false
	for _, b := range kept {
		p, valid := walPosition(b.StartWAL)
		if !valid {
			// A kept base backup with no start segment we understand:
			// delete nothing rather than guess.
			return nil
		}
		if !ok || p < oldest {
			oldest, ok = p, true
		}
	}
	if !ok {
		return nil
	}
	var out []string
	for _, n := range names {
		if p, valid := walPosition(n); valid && p < oldest {
			out = append(out, n)
		}
	}
	return out
}

// ChainGaps are the segments missing from a WAL chain.
type ChainGaps struct {
	// Missing names them (at most as many as wal.Verify names);
	// MissingCount counts all.
	Missing      []string
	MissingCount uint64
}

// ChainFrom finds the gaps in the chain that starts at segment start and
// runs, on start's timeline, to the last authentic segment there, from
// what wal.Verify reported: the gaps it found at or after start, and the
// segments from start to the first one archived when start itself is not.
func ChainFrom(rep wal.Report, start string) ChainGaps {
	tl, first, ok := wal.ParseSegmentName(start)
	if !ok {
		return ChainGaps{Missing: []string{start}, MissingCount: 1}
	}
	var g ChainGaps
	covered := false
	lowest := uint64(0)
	for _, r := range rep.Runs {
		rtl, rfirst, _ := wal.ParseSegmentName(r.First)
		_, rlast, _ := wal.ParseSegmentName(r.Last)
		if rtl != tl || rlast < first {
			continue
		}
		if rfirst <= first {
			covered = true
		} else if lowest == 0 || rfirst < lowest {
			lowest = rfirst
		}
	}
	if !covered {
		end := lowest
		if end == 0 {
			end = first + 1 // nothing archived from start on
		}
		for s := first; s < end; s++ {
			if len(g.Missing) < maxNamedGaps {
				g.Missing = append(g.Missing, wal.SegmentName(tl, s*segmentBytes))
			}
			g.MissingCount++
		}
	}
	for _, m := range rep.Missing {
		if mtl, s, ok := wal.ParseSegmentName(m); ok && mtl == tl && s >= first {
			if len(g.Missing) < maxNamedGaps {
				g.Missing = append(g.Missing, m)
			}
			g.MissingCount++
		}
	}
	// Gaps wal.Verify counted without naming them.
	if extra := rep.MissingCount - uint64(len(rep.Missing)); extra > 0 {
		g.MissingCount += extra
	}
	return g
}

// maxNamedGaps bounds the names ChainFrom lists.
const maxNamedGaps = 1000
