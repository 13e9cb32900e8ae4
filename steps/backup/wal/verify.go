package wal

import (
	"cmp"
	"errors"
	"io"
	"os"
	"slices"
	"time"
)

// maxMissing bounds the gap names Verify lists: object names come from a
// directory PostgreSQL's uid can write, and one odd name must not make
// Verify enumerate billions of segments.
const maxMissing = 1000

// Problem is an object that cannot be used, and why.
type Problem struct {
	Name   string
	Reason string
}

// Run is a stretch of consecutive, authentic segments on one timeline.
type Run struct {
	Timeline uint32
	// First and Last are segment names; Segments counts them.
	First, Last string
	Segments    uint64
}

// Newest is the segment furthest along the WAL and when it was archived.
type Newest struct {
	Name       string
	ArchivedAt time.Time
}

// Report is what Verify found.
type Report struct {
	// Objects counts the objects read and Bytes their size on disk.
	Objects int
	Bytes   int64
	// Runs are the continuous ranges, per timeline in order.
	Runs []Run
	// Missing names the segments absent between the first and the last
	// authentic segment of each timeline (at most 1000; MissingCount
	// counts all).
	Missing      []string
	MissingCount uint64
	// Corrupt names each object that is damaged, incomplete, holds another
	// WAL file than its name, or is no WAL object, with the reason.
	Corrupt []Problem
	// Newest is nil when no segment authenticates.
	Newest *Newest
}

// OK reports whether every object authenticates and no segment is missing.
func (r Report) OK() bool { return r.MissingCount == 0 && len(r.Corrupt) == 0 }

// Verify decrypts every object in the repository and checks the chain of
// segments on each timeline. Problems with objects go into the Report; the
// error is for failures to read the repository itself.
func Verify(repo *os.Root, key []byte) (Report, error) {
	objs, odd, err := scan(repo)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Corrupt: odd}
	type seg struct {
		tl    uint32
		segno uint64
		name  string
		at    time.Time
	}
	var good []seg
	for _, o := range objs {
		rep.Objects++
		rep.Bytes += o.Size
		at, err := Fetch(repo, key, o.Name, io.Discard)
		if err != nil {
			var we *Error
			if !errors.As(err, &we) {
				return Report{}, err
			}
			rep.Corrupt = append(rep.Corrupt, Problem{Name: o.Name, Reason: we.Problem})
			continue
		}
		if tl, segno, ok := ParseSegmentName(o.Name); ok {
			good = append(good, seg{tl, segno, o.Name, at})
		}
	}
	corrupt := corruptNames(rep.Corrupt)
	slices.SortFunc(good, func(a, b seg) int {
		return cmp.Or(cmp.Compare(a.tl, b.tl), cmp.Compare(a.segno, b.segno))
	})
	for i, s := range good {
		if i > 0 && good[i-1].tl == s.tl && good[i-1].segno+1 == s.segno {
			r := &rep.Runs[len(rep.Runs)-1]
			r.Last, r.Segments = s.name, r.Segments+1
			continue
		}
		if i > 0 && good[i-1].tl == s.tl {
			rep.gap(s.tl, good[i-1].segno+1, s.segno, corrupt)
		}
		rep.Runs = append(rep.Runs, Run{Timeline: s.tl, First: s.name, Last: s.name, Segments: 1})
	}
	if n := len(good); n > 0 {
		newest := good[n-1]
		rep.Newest = &Newest{Name: newest.name, ArchivedAt: newest.at}
	}
	return rep, nil
}

// gap records the segments from..to-1 on timeline tl that have no object;
// those present but corrupt are already in Corrupt. Past maxMissing names it
// only counts, in time independent of the gap's size.
func (r *Report) gap(tl uint32, from, to uint64, corrupt map[string]bool) {
	for segno := from; segno < to; segno++ {
		if len(r.Missing) == maxMissing {
			rest := to - segno
			for name := range corrupt {
				if t, n, ok := ParseSegmentName(name); ok && t == tl && n >= segno && n < to {
					rest--
				}
			}
			r.MissingCount += rest
			return
		}
		name := segmentName(tl, segno)
		if !corrupt[name] {
			r.MissingCount++
			r.Missing = append(r.Missing, name)
		}
	}
}

func corruptNames(ps []Problem) map[string]bool {
	m := make(map[string]bool, len(ps))
	for _, p := range ps {
		m[p.Name] = true
	}
	return m
}
