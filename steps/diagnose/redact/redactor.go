package redact

import (
	"bytes"
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
	known *knownSet // every form of every known value

	mu     sync.Mutex
	totals Counts
}

// New returns a Redactor for the given known secret values (every value the
// installer stored in Vault) plus the built-in patterns. It refuses an
// empty value, and a value shorter than MinKnownLength unless
// opts.AllowShort is set. The values are copied.
func New(known [][]byte, opts Options) (*Redactor, error) {
	var needles [][]byte
	for i, v := range known {
		if len(v) == 0 {
			return nil, fmt.Errorf("known secret value %d is empty; leave it out", i+1)
		}
		if len(v) < MinKnownLength && !opts.AllowShort {
			return nil, fmt.Errorf("known secret value %d has only %d bytes; values shorter than %d would be redacted wherever those characters occur by chance, so they are refused unless short values are allowed explicitly",
				i+1, len(v), MinKnownLength)
		}
		needles = append(needles, variants(v)...)
	}
	return &Redactor{known: newKnownSet(needles, MinKnownLength), totals: Counts{}}, nil
}

// HasKnownValue reports whether b holds a known value in any form Redact
// would replace. It counts nothing.
func (r *Redactor) HasKnownValue(b []byte) bool {
	return len(r.known.find(b, nil)) > 0
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

// RedactLines redacts lines as the one text they make when joined by line
// breaks, so a value split over lines is found, and gives them back as
// lines: a caller can then put back what it keeps beside each line (a
// log's timestamps). A redaction spanning lines stands where it starts;
// what it covers of the lines after is taken out of them, and the line
// breaks stay.
func (r *Redactor) RedactLines(lines [][]byte) ([][]byte, Counts) {
	joined := bytes.Join(lines, []byte("\n"))
	spans, _ := r.find(joined, true)
	out := make([][]byte, len(lines))
	counts := Counts{}
	at, next := 0, 0 // where the line starts in joined; the first span not done
	for i, line := range lines {
		end := at + len(line) // its line break, if any, is at end
		var b []byte
		pos := at
		for next < len(spans) && spans[next].start <= end {
			s := spans[next]
			if s.start >= at { // it starts on this line (or on its line break)
				b = append(b, joined[pos:min(s.start, end)]...)
				b = append(b, Replacement(s.kind)...)
				counts[s.kind]++
			}
			pos = max(pos, min(s.end, end))
			if s.end > end+1 {
				break // it goes on into the next line
			}
			next++
		}
		out[i] = append(b, joined[pos:end]...)
		at = end + 1
	}
	r.addTotals(counts)
	return out, counts
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
