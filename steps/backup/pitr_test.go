package backup

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/backup/wal"
)

// walRepo archives segments 1..n of timeline 1 with real WAL objects,
// segment i archived at t0 + i minutes.
func walRepo(t *testing.T, n int) (*os.Root, string, []byte) {
	t.Helper()
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	key := bytes.Repeat([]byte{7}, wal.KeySize)
	for i := 1; i <= n; i++ {
		name := wal.SegmentName(1, uint64(i)*segmentBytes)
		if err := wal.Push(context.Background(), root, key, strings.NewReader("segment "+name), name, minute(i)); err != nil {
			t.Fatal(err)
		}
	}
	return root, dir, key
}

func minute(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

func seg(i int) string { return wal.SegmentName(1, uint64(i)*segmentBytes) }

func TestCheckChainReachesTheFirstSegmentArchivedAfterTheTarget(t *testing.T) {
	root, _, key := walRepo(t, 6)
	b := BaseBackup{StartWAL: seg(2), StopWAL: seg(3), Timeline: 1}
	for _, c := range []struct {
		target time.Time
		last   string
	}{
		{minute(2), seg(3)},                   // never short of the stop segment
		{minute(4).Add(-time.Second), seg(4)}, // the segment archived after the target
		{minute(5), seg(5)},                   // archived exactly at the target
		{time.Time{}, seg(6)},                 // latest: everything archived
	} {
		got, err := CheckChain(root, key, b, c.target)
		if err != nil || got.Last != c.last {
			t.Errorf("target %v: chain %+v, %v; want last %s", c.target, got, err, c.last)
		}
	}
}

func TestCheckChainNamesAMissingOrDamagedSegmentPastWhichNothingRestores(t *testing.T) {
	root, dir, key := walRepo(t, 6)
	b := BaseBackup{StartWAL: seg(1), StopWAL: seg(1), Timeline: 1}
	if err := os.Remove(filepath.Join(dir, seg(4)+wal.Suffix)); err != nil {
		t.Fatal(err)
	}
	_, err := CheckChain(root, key, b, minute(5))
	var ce *ChainError
	if !errors.As(err, &ce) || ce.Segment != seg(4) || !strings.Contains(err.Error(), "missing") || !ce.ReachesTo.Equal(minute(3)) {
		t.Fatalf("past the gap: %v; want segment %s named missing, reaching %v", err, seg(4), minute(3))
	}
	if _, err := CheckChain(root, key, b, minute(3)); err != nil {
		t.Errorf("a point before the gap: %v", err)
	}
	if _, err := CheckChain(root, key, b, time.Time{}); !errors.As(err, &ce) || ce.Segment != seg(4) {
		t.Errorf("latest across the gap: %v", err)
	}
	// A flipped byte is named too.
	p := filepath.Join(dir, seg(2)+wal.Suffix)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-5] ^= 1
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckChain(root, key, b, minute(3)); !errors.As(err, &ce) || ce.Segment != seg(2) || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged segment: %v", err)
	}
}

func TestCheckChainRefusesATargetNotYetArchived(t *testing.T) {
	root, _, key := walRepo(t, 3)
	b := BaseBackup{StartWAL: seg(1), StopWAL: seg(1), Timeline: 1}
	var ce *ChainError
	if _, err := CheckChain(root, key, b, minute(10)); !errors.As(err, &ce) || ce.Segment != seg(4) {
		t.Errorf("target past the archive: %v", err)
	}
	// A base backup whose stop segment is not archived cannot even reach
	// the latest point.
	b.StopWAL = seg(5)
	if _, err := CheckChain(root, key, b, time.Time{}); !errors.As(err, &ce) || ce.Segment != seg(4) {
		t.Errorf("stop segment not archived: %v", err)
	}
}

func TestNewestSegmentSkipsDamagedObjects(t *testing.T) {
	root, dir, key := walRepo(t, 3)
	if err := os.WriteFile(filepath.Join(dir, seg(3)+wal.Suffix), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := NewestSegment(root, key)
	if err != nil || got.Name != seg(2) || !got.ArchivedAt.Equal(minute(2)) {
		t.Errorf("NewestSegment = %+v, %v; want %s", got, err, seg(2))
	}
}

func TestCheckChainFollowsTheTimelineALaterRestoreBranched(t *testing.T) {
	root, dir, key := walRepo(t, 4)
	tl2 := func(i int) string { return wal.SegmentName(2, uint64(i)*segmentBytes) }
	for i := 3; i <= 5; i++ {
		if err := wal.Push(context.Background(), root, key, strings.NewReader("tl2 "+tl2(i)), tl2(i), minute(10+i)); err != nil {
			t.Fatal(err)
		}
	}
	b := BaseBackup{StartWAL: seg(1), StopWAL: seg(1), Timeline: 1}
	if c, err := CheckChain(root, key, b, time.Time{}); err != nil || c.Last != tl2(5) {
		t.Fatalf("latest across the branch: %+v, %v; want last %s", c, err, tl2(5))
	}
	if err := os.Remove(filepath.Join(dir, tl2(4)+wal.Suffix)); err != nil {
		t.Fatal(err)
	}
	var ce *ChainError
	if _, err := CheckChain(root, key, b, minute(15)); !errors.As(err, &ce) || ce.Segment != tl2(4) {
		t.Errorf("a gap on the later timeline: %v; want %s named", err, tl2(4))
	}
}

func TestCheckChainEndsWhereTheNewTimelineEndsNotWhereTheOldOneDid(t *testing.T) {
	// A restore branched timeline 2 at segment 2; timeline 1 went on to
	// segment 4 before, timeline 2 has only reached segment 3.
	root, _, key := walRepo(t, 4)
	tl2 := func(i int) string { return wal.SegmentName(2, uint64(i)*segmentBytes) }
	for i := 2; i <= 3; i++ {
		if err := wal.Push(context.Background(), root, key, strings.NewReader("tl2 "+tl2(i)), tl2(i), minute(10+i)); err != nil {
			t.Fatal(err)
		}
	}
	b := BaseBackup{StartWAL: seg(1), StopWAL: seg(1), Timeline: 1}
	if c, err := CheckChain(root, key, b, time.Time{}); err != nil || c.Last != tl2(3) {
		t.Errorf("latest on the new timeline: %+v, %v; want last %s", c, err, tl2(3))
	}
}
