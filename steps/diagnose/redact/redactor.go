package redact

import (
	"errors"
	"fmt"
	"sync"
)

// Options configure New.
type Options struct {
	// AllowShort accepts known values shorter than MinKnownLength. Expect
	// false positives: a short value is redacted wherever it occurs.
	AllowShort bool
}

// Redactor removes secrets from text. It is safe for concurrent use.
type Redactor struct {
	needles   [][]byte // every form of every known value
	maxNeedle int      // length of the longest needle
	multiLine int      // length of the longest needle containing a line break

	mu     sync.Mutex
	totals Counts
}

// New returns a Redactor for the given known secret values (every value the
// installer stored in Vault) plus the built-in patterns. It refuses an
// empty value, and a value shorter than MinKnownLength unless
// opts.AllowShort is set. The values are copied.
func New(known [][]byte, opts Options) (*Redactor, error) {
	r := &Redactor{totals: Counts{}}
	seen := map[string]bool{}
	for i, v := range known {
		if len(v) == 0 {
			return nil, fmt.Errorf("known secret value %d is empty; leave it out", i+1)
		}
		if len(v) < MinKnownLength && !opts.AllowShort {
			return nil, fmt.Errorf("known secret value %d has only %d bytes; values shorter than %d would be redacted wherever those characters occur by chance, so they are refused unless short values are allowed explicitly",
				i+1, len(v), MinKnownLength)
		}
		for _, n := range variants(v) {
			if seen[string(n)] {
				continue
			}
			seen[string(n)] = true
			n = append([]byte(nil), n...)
			r.needles = append(r.needles, n)
			r.maxNeedle = max(r.maxNeedle, len(n))
			if containsLineBreak(n) {
				r.multiLine = max(r.multiLine, len(n))
			}
		}
	}
	return r, nil
}

func containsLineBreak(b []byte) bool {
	for _, c := range b {
		if c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}

// Redact returns a copy of b with every secret replaced by
// Replacement(kind), and what it replaced.
func (r *Redactor) Redact(b []byte) ([]byte, Counts) {
	spans, _ := r.find(b, true)
	counts := Counts{}
	out := apply(make([]byte, 0, len(b)), b, spans, len(b), counts)
	r.addTotals(counts)
	return out, counts
}

// RedactString is Redact for strings.
func (r *Redactor) RedactString(s string) (string, Counts) {
	out, counts := r.Redact([]byte(s))
	return string(out), counts
}

// Totals returns the counts of everything this Redactor has redacted,
// through Redact and through every Writer, for the bundle manifest.
func (r *Redactor) Totals() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := Counts{}
	c.Add(r.totals)
	return c
}

func (r *Redactor) addTotals(c Counts) {
	r.mu.Lock()
	r.totals.Add(c)
	r.mu.Unlock()
}

var errClosed = errors.New("the redacting writer is closed")
