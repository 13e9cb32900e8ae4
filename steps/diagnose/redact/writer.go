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
	// maxHold: a private key block longer than this (real ones are a few
	// KiB) is replaced as soon as it is seen and the rest of it dropped
	// while it streams in.
	maxHold = 64 << 10
)

// Writer redacts everything written to it before passing it on. A secret
// split across several Write calls is still found: the Writer holds back
// the current line (and, when a known value spans lines, as many bytes as
// the longest one) until it is complete. Close flushes what is held.
// For input with lines up to 1 MiB the output is exactly Redact's.
type Writer struct {
	r       *Redactor
	w       io.Writer
	pending []byte
	hasNL   bool // pending contains a line break
	discard bool // inside an over-long private key block
	open    int  // pending starts with an open private key block checked up to here
	maxLine int
	counts  Counts
	err     error
}

// NewWriter returns a Writer that redacts into w. Close does not close w.
func (r *Redactor) NewWriter(w io.Writer) *Writer {
	return &Writer{r: r, w: w, counts: Counts{}, maxLine: max(maxLine, 2*r.maxNeedle)}
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
		if w.discard {
			if !w.skipPrivateKey(final) {
				return nil
			}
			continue
		}
		if len(w.pending) == 0 {
			return nil
		}
		if w.open > 0 && !final && !w.blockMayHaveEnded() {
			return nil
		}
		cut := w.cutPoint(final)
		if cut == 0 {
			return nil
		}
		spans, hold := w.r.find(w.pending, final)
		if hold >= 0 && hold < cut {
			cut = hold
		}
		crossing := -1
		for i, s := range spans {
			if s.start < cut && cut < s.end {
				cut, crossing = s.start, i
				break
			}
		}
		if cut == 0 {
			switch {
			case hold == 0 && len(w.pending) >= maxHold:
				return w.startDiscard()
			case crossing >= 0 && len(w.pending) >= w.maxLine:
				cut = spans[crossing].end // an endless match: redact what is there
			default:
				if hold == 0 {
					w.open = len(w.pending)
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
// line break that no multi-line known value can straddle, or everything
// when final.
func (w *Writer) cutPoint(final bool) int {
	n := len(w.pending)
	if final {
		return n
	}
	if limit := n - max(w.r.multiLine-1, 0); w.hasNL && limit > 0 {
		if i := bytes.LastIndexByte(w.pending[:limit], '\n'); i >= 0 {
			return i + 1
		}
	}
	if n >= w.maxLine {
		c := n - max(w.r.maxNeedle-1, 0)
		if i := bytes.LastIndexAny(w.pending[c/2:c], " \t"); i >= 0 {
			c = c/2 + i + 1 // prefer a word boundary
		}
		return c
	}
	return 0
}

// blockMayHaveEnded looks only at the input that arrived since pending was
// found to start with an open private key block, so holding a block costs
// linear time however it is split into writes.
func (w *Writer) blockMayHaveEnded() bool {
	from := max(w.open-(pemEndMax-1), 0)
	end := bodyEnd(w.pending, from)
	if end < len(w.pending) || pemEndRe.Match(w.pending[from:end]) || len(w.pending) >= maxHold {
		return true
	}
	w.open = len(w.pending)
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
	counts := Counts{}
	out := apply(nil, w.pending, inside, cut, counts)
	w.drop(cut)
	w.counts.Add(counts)
	w.r.addTotals(counts)
	return w.write(out)
}

// startDiscard replaces an over-long private key block now and drops it
// from here on, keeping only enough to see an END line split across writes.
func (w *Writer) startDiscard() error {
	counts := Counts{KindPrivateKey: 1}
	w.counts.Add(counts)
	w.r.addTotals(counts)
	w.drop(len(w.pending) - (pemEndMax - 1))
	w.discard = true
	return w.write([]byte(Replacement(KindPrivateKey)))
}

// skipPrivateKey drops the rest of an over-long block. It returns false
// when it needs more input.
func (w *Writer) skipPrivateKey(final bool) bool {
	end := bodyEnd(w.pending, 0)
	if loc := pemEndRe.FindIndex(w.pending[:end]); loc != nil {
		end = loc[1]
	} else if end == len(w.pending) && !final {
		w.drop(len(w.pending) - min(len(w.pending), pemEndMax-1))
		return false
	}
	w.drop(end)
	w.discard = false
	return true
}

func (w *Writer) drop(n int) {
	w.pending = w.pending[:copy(w.pending, w.pending[n:])]
	w.open = 0
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
