package audit

import (
	"fmt"
	"sort"
)

// Problem kinds Verify reports.
const (
	ProblemMalformed   = "malformed"   // a line that is not an entry
	ProblemTruncated   = "truncated"   // an incomplete last line, or entries missing from the end
	ProblemDeleted     = "deleted"     // an entry missing from the chain
	ProblemInserted    = "inserted"    // a line that was not written as the chain's entry
	ProblemReordered   = "reordered"   // an entry out of its place
	ProblemEdited      = "edited"      // an entry changed after it was written
	ProblemUnconfirmed = "unconfirmed" // entries the kept head does not cover yet (not tampering)
)

// Problem is one thing wrong with the log, named by line and entry.
type Problem struct {
	Kind string `json:"kind"`
	// Line is the 1-based line of the log it is about; 0 when the entry
	// is missing from the file.
	Line int `json:"line,omitempty"`
	// Seq is the entry's sequence number, when known.
	Seq    uint64 `json:"seq,omitempty"`
	Detail string `json:"detail"`
}

// Tampering says whether the problem is evidence of a change to the log
// (everything but unconfirmed entries).
func (p Problem) Tampering() bool { return p.Kind != ProblemUnconfirmed }

// Recorded is an entry as the log holds it: its line and the hash of
// the line's bytes.
type Recorded struct {
	Line  int    `json:"line"`
	Hash  string `json:"hash"`
	Entry Entry  `json:"entry"`
}

// Report is the result of Verify.
type Report struct {
	// Entries are the lines that parse as entries, in file order.
	Entries []Recorded `json:"-"`
	// Head is the chain's end as the file has it.
	Head     Head      `json:"head"`
	Problems []Problem `json:"problems"`
}

// OK says the log shows no sign of tampering.
func (r Report) OK() bool {
	for _, p := range r.Problems {
		if p.Tampering() {
			return false
		}
	}
	return true
}

type parsedLine struct {
	line  int
	bytes []byte
	entry Entry
	hash  string
	err   error
}

// Verify checks the log's bytes: every line an entry, sequence numbers
// from 1 without gap, repeat or reordering, every entry's Prev the hash of
// its predecessor's line, and, with kept (the head kept outside the file,
// nil when none is), that the file still reaches that head unchanged.
// Each problem names the line and entry it is about.
func Verify(data []byte, kept *Head) Report {
	var r Report
	var ps []parsedLine
	ls := lines(data)
	for i, l := range ls {
		p := parsedLine{line: i + 1, bytes: l, hash: Hash(l)}
		p.entry, p.err = ParseEntry(l)
		if p.err != nil {
			kind := ProblemMalformed
			if i == len(ls)-1 && len(data) > 0 && data[len(data)-1] != '\n' {
				kind = ProblemTruncated
			}
			r.Problems = append(r.Problems, Problem{Kind: kind, Line: p.line, Detail: fmt.Sprintf("line %d is not a whole entry: %v", p.line, p.err)})
		} else {
			r.Entries = append(r.Entries, Recorded{Line: p.line, Hash: p.hash, Entry: p.entry})
		}
		ps = append(ps, p)
	}

	// Where each sequence number is found.
	bySeq := map[uint64][]parsedLine{}
	var top uint64
	var prevSeq uint64
	prevLine := 0
	for _, p := range ps {
		if p.err != nil {
			continue
		}
		s := p.entry.Seq
		// A repeated number is reported below, once the chain says which
		// line is genuine.
		if _, dup := bySeq[s]; !dup && s < prevSeq {
			r.Problems = append(r.Problems, Problem{Kind: ProblemReordered, Line: p.line, Seq: s,
				Detail: fmt.Sprintf("entry %d at line %d comes after entry %d at line %d", s, p.line, prevSeq, prevLine)})
		}
		bySeq[s] = append(bySeq[s], p)
		if s > prevSeq {
			prevSeq, prevLine = s, p.line
		}
		if s > top {
			top = s
		}
	}

	// Repeated sequence numbers: the genuine one is the line its
	// successor's Prev names.
	for _, s := range sortedSeqs(bySeq) {
		same := bySeq[s]
		if len(same) < 2 {
			continue
		}
		var named string
		if next := bySeq[s+1]; len(next) == 1 {
			named = next[0].entry.Prev
		}
		for _, p := range same {
			if named != "" && p.hash == named {
				continue
			}
			r.Problems = append(r.Problems, Problem{Kind: ProblemInserted, Line: p.line, Seq: s,
				Detail: fmt.Sprintf("line %d is a second entry %d (%d lines carry it) that the chain does not lead through", p.line, s, len(same))})
		}
	}

	// Missing sequence numbers.
	for s := uint64(1); s <= top; s++ {
		if _, ok := bySeq[s]; ok {
			continue
		}
		end := s
		for end+1 <= top && bySeq[end+1] == nil {
			end++
		}
		r.Problems = append(r.Problems, Problem{Kind: ProblemDeleted, Seq: s, Detail: fmt.Sprintf("%s missing from the log", seqRange(s, end))})
		s = end
	}

	// Links: each entry's Prev is the hash of the entry before it.
	for _, s := range sortedSeqs(bySeq) {
		for _, p := range bySeq[s] {
			if s == 1 {
				if p.entry.Prev != "" {
					r.Problems = append(r.Problems, Problem{Kind: ProblemInserted, Line: p.line, Seq: s,
						Detail: fmt.Sprintf("entry 1 at line %d names a predecessor: entries before it were removed or it was made elsewhere", p.line)})
				}
				continue
			}
			before := bySeq[s-1]
			if len(before) != 1 || len(bySeq[s]) != 1 {
				continue // a gap or a repeat, reported above
			}
			// An entry appended after a damaged line chains to that line's
			// bytes; the damage is reported as the malformed line.
			if above := p.line - 2; above >= 0 && ps[above].err != nil && p.entry.Prev == ps[above].hash {
				continue
			}
			if p.entry.Prev != before[0].hash {
				r.Problems = append(r.Problems, Problem{Kind: ProblemEdited, Line: before[0].line, Seq: s - 1,
					Detail: fmt.Sprintf("entry %d at line %d was changed after entry %d (line %d) was written: it records hash %s, the line hashes to %s",
						s-1, before[0].line, s, p.line, short(p.entry.Prev), short(before[0].hash))})
			}
		}
	}

	if last := bySeq[top]; top > 0 && len(last) > 0 {
		r.Head = Head{Seq: top, Hash: last[len(last)-1].hash}
	}
	if kept != nil {
		r.Problems = append(r.Problems, checkHead(*kept, top, bySeq)...)
	}
	sortProblems(r.Problems)
	return r
}

// sortProblems orders problems by the entry they are about.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Seq < ps[j].Seq })
}

// checkHead compares the file with the head kept outside it.
func checkHead(kept Head, top uint64, bySeq map[uint64][]parsedLine) []Problem {
	switch {
	case kept.Seq == 0:
		return nil
	case kept.Seq > top:
		return []Problem{{Kind: ProblemTruncated, Seq: top + 1,
			Detail: fmt.Sprintf("%s missing from the end: the kept head is entry %d, the file ends at %d", seqRange(top+1, kept.Seq), kept.Seq, top)}}
	}
	var out []Problem
	if at := bySeq[kept.Seq]; len(at) == 1 && at[0].hash != kept.Hash {
		out = append(out, Problem{Kind: ProblemEdited, Line: at[0].line, Seq: kept.Seq,
			Detail: fmt.Sprintf("entry %d at line %d differs from the kept head: the head records hash %s, the line hashes to %s", kept.Seq, at[0].line, short(kept.Hash), short(at[0].hash))})
	}
	if top > kept.Seq {
		out = append(out, Problem{Kind: ProblemUnconfirmed, Seq: kept.Seq + 1,
			Detail: fmt.Sprintf("%s after the kept head (entry %d): written while the head could not be updated, not yet confirmed", seqRange(kept.Seq+1, top), kept.Seq)})
	}
	return out
}

func sortedSeqs(m map[uint64][]parsedLine) []uint64 {
	out := make([]uint64, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func seqRange(from, to uint64) string {
	if from == to {
		return fmt.Sprintf("entry %d is", from)
	}
	return fmt.Sprintf("entries %d to %d are", from, to)
}

// short is the start of a hash, enough to tell two apart in a message.
func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}
