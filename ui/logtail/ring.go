// Package logtail keeps the last lines each service printed, in bounded
// memory, and renders a scrollable, followable window onto them. It is the
// log pane of the deploy view: lines arrive far faster than a person reads,
// so storage is a fixed ring per service and a frame only touches the lines
// it shows.
package logtail

// Stream says which output stream a line came from.
type Stream uint8

// The two streams a container writes.
const (
	Stdout Stream = iota
	Stderr
)

// ParseStream maps an event's stream name ("stdout", "stderr") to a Stream;
// anything else counts as stdout.
func ParseStream(s string) Stream {
	if s == "stderr" {
		return Stderr
	}
	return Stdout
}

// Line is one log line, already cleaned for display.
type Line struct {
	Text   string
	Stream Stream
}

// Ring holds the most recent lines up to a fixed capacity; older lines are
// overwritten. Its memory never grows after the first Cap lines.
type Ring struct {
	buf   []Line
	start int    // index of the oldest line in buf
	n     int    // lines held
	total uint64 // lines ever pushed
}

// NewRing returns a ring holding at most capacity lines (at least 1).
func NewRing(capacity int) *Ring {
	return &Ring{buf: make([]Line, max(capacity, 1))}
}

// Cap is the most lines the ring holds.
func (r *Ring) Cap() int { return len(r.buf) }

// Len is the number of lines held.
func (r *Ring) Len() int { return r.n }

// Total is the number of lines ever pushed, including overwritten ones.
func (r *Ring) Total() uint64 { return r.total }

// Dropped is the number of lines overwritten to stay within the capacity.
func (r *Ring) Dropped() uint64 { return r.total - uint64(r.n) }

// Push appends a line, overwriting the oldest when full.
func (r *Ring) Push(l Line) {
	r.total++
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = l
		r.n++
		return
	}
	r.buf[r.start] = l
	r.start = (r.start + 1) % len(r.buf)
}

// At returns the i-th line held, 0 being the oldest.
func (r *Ring) At(i int) Line {
	if i < 0 || i >= r.n {
		return Line{}
	}
	return r.buf[(r.start+i)%len(r.buf)]
}

// Last returns up to n of the newest lines, oldest first, as a new slice.
func (r *Ring) Last(n int) []Line {
	n = min(max(n, 0), r.n)
	out := make([]Line, n)
	for i := range n {
		out[i] = r.At(r.n - n + i)
	}
	return out
}
