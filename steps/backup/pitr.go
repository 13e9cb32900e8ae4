package backup

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/backup/archive"
	"github.com/fineract-installer/fineract-installer/steps/backup/wal"
)

// segmentBytes is PostgreSQL's default WAL segment size, which the stack
// uses (initdb without --wal-segsize).
const segmentBytes = 16 << 20

// Recovery is a restore from the repository to a point in time, checked
// as far as it can be before anything is changed: the base backup it
// starts from is authenticated and unpacked (without its data directory,
// which is streamed into PostgreSQL's volume later), and every WAL segment
// from the base backup's start to the target authenticates.
type Recovery struct {
	Repository string
	Passphrase []byte
	// Target is the time replayed to; zero replays everything archived.
	Target time.Time
	// Base is the base backup the restore starts from.
	Base BaseBackup
	// Window is the repository's restorable window.
	Window Window
	// Chain is the last WAL segment checked and how far it reaches.
	Chain Chain
	// Backup is the base backup's install dir and Vault storage, unpacked.
	Backup Unpacked
}

// PrepareRecovery picks the base backup and checks the WAL for a restore
// to target (zero: the latest), unpacking the base backup next to parent.
// Nothing of the installation is touched. A target outside the
// repository's window is an *ErrOutsideWindow; a missing or damaged
// segment on the way to the target a *ChainError naming it.
func PrepareRecovery(repo string, passphrase []byte, target time.Time, parent string) (*Recovery, error) {
	bases, bad, err := ListBases(repo, passphrase)
	if err != nil {
		return nil, err
	}
	if len(bases) == 0 {
		if len(bad) > 0 {
			return nil, fmt.Errorf("no base backup in %s opens with this passphrase (%s: %s)", BaseDir(repo), bad[0].Name, bad[0].Reason)
		}
		return nil, fmt.Errorf("%s holds no base backup: a restore to a point in time starts from one (`fineract-installer backup` writes one when WAL archiving is on)", BaseDir(repo))
	}
	key, err := ReadWALKey(bases[len(bases)-1].File, passphrase)
	if err != nil {
		return nil, err
	}
	walRoot, err := os.OpenRoot(WALDir(repo))
	if err != nil {
		return nil, fmt.Errorf("open the archived WAL: %w", err)
	}
	defer walRoot.Close()
	newest, err := NewestSegment(walRoot, key)
	if err != nil {
		return nil, err
	}
	w, _ := RestorableWindow(bases, newest)
	b, err := ChooseBase(bases, newest, target)
	if err != nil {
		return nil, err
	}
	chain, err := CheckChain(walRoot, key, b, target)
	if err != nil {
		return nil, err
	}
	if chainKey, err := ReadWALKey(b.File, passphrase); err != nil {
		return nil, err
	} else if string(chainKey) != string(key) {
		return nil, fmt.Errorf("%s carries another WAL key than the newest base backup: it was made by another installation", b.File)
	}
	u, err := unpackBase(b.File, passphrase, parent)
	if err != nil {
		return nil, err
	}
	return &Recovery{Repository: repo, Passphrase: passphrase, Target: target, Base: b, Window: w, Chain: chain, Backup: u}, nil
}

// unpackBase authenticates a base backup whole, then extracts all but its
// data directory, which is streamed into PostgreSQL's volume by the
// restore (see restoreBaseData).
func unpackBase(file string, passphrase []byte, parent string) (Unpacked, error) {
	skip := func(name string) bool { return name == baseTarEntry }
	return unpack(file, "base backup", passphrase, parent, archive.ExtractOptions{Skip: skip})
}

// ReadWALKey reads the WAL key a base backup carries. It is the archive's
// first entry: read from authenticated chunks without reading the rest.
func ReadWALKey(file string, passphrase []byte) ([]byte, error) {
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("open base backup: %w", err)
	}
	defer f.Close()
	r, err := archive.NewReader(f, passphrase)
	if err != nil {
		return nil, fmt.Errorf("open base backup %s: %w", file, err)
	}
	er, err := archive.NewEntryReader(r)
	if err != nil {
		return nil, fmt.Errorf("read base backup %s: %w", file, err)
	}
	ent, err := er.Next()
	if err != nil {
		return nil, fmt.Errorf("read base backup %s: %w", file, err)
	}
	if ent.Name != walKeyEntry {
		return nil, fmt.Errorf("base backup %s does not begin with its WAL key (%s)", file, ent.Name)
	}
	text, err := io.ReadAll(io.LimitReader(er, 256))
	if err != nil {
		return nil, fmt.Errorf("read base backup %s: %w", file, err)
	}
	return wal.ParseKey(text)
}

// NewestSegment is the segment furthest along the WAL that authenticates,
// with the time it was archived; the zero Segment when none does.
func NewestSegment(repo *os.Root, key []byte) (Segment, error) {
	objs, err := wal.List(repo)
	if err != nil {
		return Segment{}, fmt.Errorf("list the archived WAL: %w", err)
	}
	type seg struct {
		name  string
		tl    uint32
		segno uint64
	}
	var segs []seg
	for _, o := range objs {
		if tl, n, ok := wal.ParseSegmentName(o.Name); ok {
			segs = append(segs, seg{o.Name, tl, n})
		}
	}
	slices.SortFunc(segs, func(a, b seg) int { return cmp.Or(cmp.Compare(a.segno, b.segno), cmp.Compare(a.tl, b.tl)) })
	for i := len(segs) - 1; i >= 0; i-- {
		at, err := wal.Fetch(repo, key, segs[i].name, io.Discard)
		if err == nil {
			return Segment{Name: segs[i].name, ArchivedAt: at}, nil
		}
		var we *wal.Error
		if !errors.As(err, &we) {
			return Segment{}, err
		}
	}
	return Segment{}, nil
}

// Chain is how far the checked WAL reaches.
type Chain struct {
	// Last is the last segment a restore needs; Segments counts those
	// checked from the base backup's start.
	Last     string `json:"last"`
	Segments int    `json:"segments"`
	// ArchivedAt is when Last was archived.
	ArchivedAt time.Time `json:"archived_at"`
}

// ChainError is a segment missing or damaged on the way to a target.
type ChainError struct {
	Segment string
	Reason  string
	// ReachesTo is when the last good segment before it was archived:
	// the latest point still restorable from this base backup.
	ReachesTo time.Time
}

func (e *ChainError) Error() string {
	s := fmt.Sprintf("WAL segment %s %s", e.Segment, e.Reason)
	if !e.ReachesTo.IsZero() {
		s += fmt.Sprintf(": a restore from this base backup reaches at most %s", e.ReachesTo.UTC().Format(time.RFC3339))
	}
	return s
}

// CheckChain authenticates the WAL a restore from base to target replays,
// segment by segment from base's start segment: through its stop segment
// (the copy is consistent only there), then on until the first segment
// archived at or after target (its records reach past the target), or to
// the end of what is archived for the latest point. Every one must be
// present and authentic; the first that is not is a *ChainError.
//
// That is necessary, not always enough: PostgreSQL reaches a time target
// at the first transaction that committed after it, and which segment
// holds that is known only by reading the WAL. When the chain breaks
// after the segment checked here but before that commit, PostgreSQL ends
// recovery short of the target, which the restore reports with
// PostgreSQL's reason (recoveryStep); the repository is unchanged and an
// earlier target restores.
//
// After an earlier point-in-time restore the archive holds later
// timelines, which PostgreSQL follows (recovery_target_timeline defaults
// to latest). At each segment the check takes the highest timeline
// archived there, no lower than the one it is on: the segment PostgreSQL
// reads when each restore branched from the newest timeline. (A restore
// that branched from an older point makes PostgreSQL read a lower
// timeline in between; the check is then stricter than needed, never
// looser: PostgreSQL authenticates every segment it fetches.)
func CheckChain(repo *os.Root, key []byte, base BaseBackup, target time.Time) (Chain, error) {
	tl, first, ok := wal.ParseSegmentName(base.StartWAL)
	_, stop, ok2 := wal.ParseSegmentName(base.StopWAL)
	if !ok || !ok2 || tl != base.Timeline {
		return Chain{}, fmt.Errorf("base backup %s names no WAL segments on its timeline", base.File)
	}
	objs, err := wal.List(repo)
	if err != nil {
		return Chain{}, fmt.Errorf("list the archived WAL: %w", err)
	}
	archived := map[uint64][]uint32{} // segment number -> timelines archived there
	furthest := map[uint32]uint64{}   // timeline -> its furthest segment
	for _, o := range objs {
		if t, n, ok := wal.ParseSegmentName(o.Name); ok && t >= tl {
			archived[n] = append(archived[n], t)
			furthest[t] = max(furthest[t], n)
		}
	}
	// beyond is the furthest segment archived on timeline tl or later:
	// past it the archive ends rather than has a gap.
	beyond := func(tl uint32) uint64 {
		var b uint64
		for t, n := range furthest {
			if t >= tl {
				b = max(b, n)
			}
		}
		return b
	}
	var c Chain
	for segno := first; ; segno++ {
		for _, t := range archived[segno] {
			tl = max(tl, t)
		}
		name := wal.SegmentName(tl, segno*segmentBytes)
		at, err := wal.Fetch(repo, key, name, io.Discard)
		if err != nil {
			var we *wal.Error
			if !errors.As(err, &we) {
				return c, fmt.Errorf("read WAL segment %s: %w", name, err)
			}
			end := errors.Is(err, wal.ErrNotFound) && segno > beyond(tl)
			switch {
			case end && segno > stop && target.IsZero():
				return c, nil // the latest point: everything archived is replayed
			case end:
				return c, &ChainError{Segment: name, Reason: "is not archived yet", ReachesTo: c.ArchivedAt}
			case errors.Is(err, wal.ErrNotFound):
				return c, &ChainError{Segment: name, Reason: "is missing from the repository", ReachesTo: c.ArchivedAt}
			default:
				return c, &ChainError{Segment: name, Reason: "is damaged: " + we.Problem, ReachesTo: c.ArchivedAt}
			}
		}
		c.Last, c.ArchivedAt, c.Segments = name, at, c.Segments+1
		if segno >= stop && !target.IsZero() && !at.Before(target) {
			return c, nil
		}
	}
}
