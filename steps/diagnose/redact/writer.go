package redact

import (
	"bytes"
	"fmt"
	"io"
)

// Limits on what the Writer holds back.
const (
	// maxLine: a line longer than this is processed in pieces; a pattern
	// match (not a known value) straddling a piece boundary can be missed.
	maxLine = 1 << 20
	// maxHold: a private key block or YAML block scalar longer than this
	// (real ones are a few KiB) is replaced as soon as it is seen and the
	// rest of it dropped while it streams in.
	maxHold = 64 << 10
)

// Writer redacts everything written to it before passing it on. A secret
// split across several Write calls is still found: the Writer holds back
// the current line, as many bytes as a known value split over lines can
// cover, and an open private key block or YAML block scalar, until they
// are complete. Close flushes what is held. For input with lines up to
// 1 MiB and blocks up to 64 KiB the output is exactly Redact's.
type Writer struct {
	r       *Redactor
	w       io.Writer
	pending []byte
	hasNL   bool      // pending contains a line break
	held    openBlock // when held.at == 0, pending starts with this open block
	skip    skipping  // inside an over-long block
	maxLine int
	counts  Counts
	err     error
}

// skipping is an over-long block whose replacement has been written and
// whose rest is dropped as it arrives.
type skipping struct {
	pem, yaml bool
	col       int    // YAML: the key's column
	owed      []byte // YAML: the line break before the next line, written when the block ends
	mid       bool   // YAML: pending starts inside a line of the block
}

// NewWriter returns a Writer that redacts into w. Close does not close w.
func (r *Redactor) NewWriter(w io.Writer) *Writer {
	return &Writer{r: r, w: w, held: noBlock, counts: Counts{}, maxLine: max(maxLine, 2*r.known.span)}
}

// Write takes all of p; redacted output reaches the underlying writer as
// soon as it cannot be part of a secret still arriving.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.pending = append(w.pending, p...)
	if bytes.IndexByte(p, '\n') >= 0 {
		w.hasNL = true
	}
	if err := w.process(false); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close redacts and writes everything held back. Later writes fail.
func (w *Writer) Close() error {
	if w.err != nil {
		if w.err == errClosed {
			return nil
		}
		return w.err
	}
	if err := w.process(true); err != nil {
		return err
	}
	w.err = errClosed
	return nil
}

// Counts returns what this Writer has redacted so far.
func (w *Writer) Counts() Counts {
	c := Counts{}
	c.Add(w.counts)
	return c
}

func (w *Writer) process(final bool) error {
	for {
		switch {
		case w.skip.pem:
			if !w.skipPrivateKey(final) {
				return nil
			}
			continue
		case w.skip.yaml:
			done, err := w.skipYAML(final)
			if err != nil || !done {
				return err
			}
			continue
		}
		if len(w.pending) == 0 {
			return nil
		}
		if w.held.at == 0 && !final && !w.heldMayHaveEnded() {
			return nil
		}
		cut := w.cutPoint(final)
		if cut == 0 {
			return nil
		}
		spans, held := w.r.find(w.pending, final)
		if held.at >= 0 && held.at < cut {
			cut = held.at
		}
		cut, crossing := backOff(w.pending, spans, cut)
		if cut == 0 {
			switch {
			case held.at == 0 && len(w.pending) >= maxHold:
				if err := w.startSkip(spans, held); err != nil {
					return err
				}
				continue
			case crossing >= 0 && len(w.pending) >= w.maxLine:
				cut = spans[crossing].end // an endless match: redact what is there
			default:
				if held.at == 0 {
					w.held = held
				}
				return nil // wait for more input
			}
		}
		if err := w.emit(spans, cut); err != nil {
			return err
		}
	}
}

// cutPoint is how much of pending can be processed now: up to the last
// line break that no known value split over lines can straddle, or
// everything when final.
func (w *Writer) cutPoint(final bool) int {
	n := len(w.pending)
	if final {
		return n
	}
	hold := max(w.r.known.span-1, 0)
	if limit := n - hold; w.hasNL && limit > 0 {
		if i := bytes.LastIndexByte(w.pending[:limit], '\n'); i >= 0 {
			return i + 1
		}
	}
	if n >= w.maxLine {
		c := n - hold
		if i := bytes.LastIndexAny(w.pending[c/2:c], " \t"); i >= 0 {
			c = c/2 + i + 1 // prefer a word boundary
		}
		return c
	}
	return 0
}

// backOff moves cut back to the start of the line of any span it would
// split, so that the rest starts where a line does and the patterns see
// the keys before their values again. It also returns the index of the
// first span that was split, or -1.
func backOff(b []byte, spans []span, cut int) (int, int) {
	crossing := -1
	for i := len(spans) - 1; i >= 0; i-- { // merged: sorted and disjoint
		if s := spans[i]; s.start < cut && cut < s.end {
			cut = bytes.LastIndexByte(b[:s.start], '\n') + 1
			crossing = i
		}
	}
	return cut, crossing
}

// heldMayHaveEnded looks only at the input that arrived since pending was
// found to start with an open block, so holding a block costs linear time
// however it is split into writes.
func (w *Writer) heldMayHaveEnded() bool {
	if len(w.pending) >= maxHold || w.held.resume < 0 {
		return true
	}
	if w.held.yaml {
		sc := scanYAMLBlock(w.pending, w.held.resume, w.held.col, maxHold)
		if sc.closed || sc.givenUp {
			return true
		}
		w.held.resume = sc.resume
		return false
	}
	from := max(w.held.resume-(pemEndMax-1), 0)
	end := bodyEnd(w.pending, from)
	if end < len(w.pending) || pemEndRe.Match(w.pending[from:end]) {
		return true
	}
	w.held.resume = len(w.pending)
	return false
}

// emit writes pending[:cut] redacted and drops it.
func (w *Writer) emit(spans []span, cut int) error {
	var inside []span
	for _, s := range spans {
		if s.end <= cut {
			inside = append(inside, s)
		}
	}
	return w.emitReplacing(inside, cut, "")
}

// emitReplacing writes pending[:cut] with spans replaced, then the
// replacement for kind (unless empty), and drops pending[:cut].
func (w *Writer) emitReplacing(spans []span, cut int, kind Kind) error {
	counts := Counts{}
	out := apply(nil, w.pending, spans, cut, counts)
	if kind != "" {
		out = append(out, Replacement(kind)...)
		counts[kind]++
	}
	w.drop(cut)
	w.counts.Add(counts)
	w.r.addTotals(counts)
	return w.write(out)
}

// startSkip replaces an over-long block now and drops the rest of it as
// it arrives.
func (w *Writer) startSkip(spans []span, held openBlock) error {
	if !held.yaml {
		counts := Counts{KindPrivateKey: 1}
		w.counts.Add(counts)
		w.r.addTotals(counts)
		// Keep only enough to see an END line split across writes.
		w.drop(len(w.pending) - (pemEndMax - 1))
		w.skip = skipping{pem: true}
		return w.write([]byte(Replacement(KindPrivateKey)))
	}
	// An open YAML block this long has its first character (yamlSpans
	// gives up on one that has none within maxHold). What comes before
	// the value goes out redacted; a span reaching into the value is
	// merged with it, as Redact merges them.
	start, kind := held.first, KindAssignment
	for _, s := range spans {
		if s.end > held.first {
			start = min(start, s.start)
			if priority[s.kind] > priority[kind] {
				kind = s.kind
			}
		}
	}
	var before []span
	for _, s := range spans {
		if s.end <= start {
			before = append(before, s)
		}
	}
	w.skip = skipping{yaml: true, col: held.col, mid: true}
	if err := w.emitReplacing(before, start, kind); err != nil {
		return err
	}
	w.drop(held.first - start)
	return nil
}

// skipPrivateKey drops the rest of an over-long private key block. It
// returns false when it needs more input.
func (w *Writer) skipPrivateKey(final bool) bool {
	end := bodyEnd(w.pending, 0)
	if loc := pemEndRe.FindIndex(w.pending[:end]); loc != nil {
		end = loc[1]
	} else if end == len(w.pending) && !final {
		w.drop(len(w.pending) - min(len(w.pending), pemEndMax-1))
		return false
	}
	w.drop(end)
	w.skip = skipping{}
	return true
}

// skipYAML drops the lines of an over-long YAML block scalar, as Redact's
// span covers them: up to the line break before the first line indented
// no deeper than the key, or to the end of the input without its final
// line break. It returns true when the block has ended.
func (w *Writer) skipYAML(final bool) (bool, error) {
	s := &w.skip
	for {
		if s.mid {
			i := bytes.IndexByte(w.pending, '\n')
			if i < 0 {
				keep := 0
				if n := len(w.pending); !final && n > 0 && w.pending[n-1] == '\r' {
					keep = 1 // may be the start of a CR LF
				}
				w.drop(len(w.pending) - keep)
				if final {
					w.skip = skipping{}
				}
				return final, nil
			}
			s.owed = bytes.Clone(w.pending[i+1-trailingBreak(w.pending[:i+1]) : i+1])
			s.mid = false
			w.drop(i + 1)
			continue
		}
		if len(w.pending) == 0 {
			if !final {
				return false, nil
			}
			owed := s.owed // the input ends with the block's last line break
			w.skip = skipping{}
			return true, w.write(owed)
		}
		indent, first, next := yamlLine(w.pending, 0)
		switch {
		case first >= 0 && indent <= s.col: // the block has ended
			owed := s.owed
			w.skip = skipping{}
			return true, w.write(owed)
		case next >= 0:
			s.owed = bytes.Clone(w.pending[next-trailingBreak(w.pending[:next]) : next])
			w.drop(next)
		case final: // the input ends inside the block
			w.drop(len(w.pending))
			w.skip = skipping{}
			return true, nil
		case first >= 0 || indent > s.col: // the line belongs to the block
			s.mid = true
		default:
			return false, nil // blank so far: it may still end the block
		}
	}
}

func (w *Writer) drop(n int) {
	w.pending = w.pending[:copy(w.pending, w.pending[n:])]
	w.held = noBlock
	w.hasNL = bytes.IndexByte(w.pending, '\n') >= 0
}

func (w *Writer) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("writing redacted output: %w", err)
		return w.err
	}
	return nil
}
