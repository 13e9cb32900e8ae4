package logtail

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// DefaultCapacity is the lines kept per service when New is given 0.
const DefaultCapacity = 2000

// MaxSubjects bounds the rings kept, OtherSubject included; lines from
// services beyond it share the ring named OtherSubject.
const MaxSubjects = 64

// OtherSubject collects lines beyond MaxSubjects services.
const OtherSubject = "(other)"

// Styles draws the pane. The zero value draws plain text, which is also
// what a terminal without colour shows: stderr lines stay distinguishable
// by their "!" gutter, not only by colour.
type Styles struct {
	Header       lipgloss.Style
	Muted        lipgloss.Style
	StdoutGutter lipgloss.Style
	StderrGutter lipgloss.Style
	StderrText   lipgloss.Style
}

// Tail is the log pane: one Ring per service, the service shown, and the
// scroll position. Scrolling up stops following; new lines then keep the
// view anchored on what the person is reading.
type Tail struct {
	capacity int
	rings    map[string]*Ring
	subjects []string // first-seen order
	selected int      // index into subjects, -1 when there are none
	pinned   bool     // the person chose a service; new services do not take the view
	follow   bool
	offset   int // lines between the newest line and the bottom of the view
	width    int
	height   int // including the header line
	styles   Styles
}

// New returns an empty pane keeping capacity lines per service, following.
func New(capacity int, styles Styles) Tail {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return Tail{capacity: capacity, rings: map[string]*Ring{}, selected: -1, follow: true, styles: styles}
}

// SetStyles changes how the pane is drawn, as when the terminal's
// background becomes known.
func (t *Tail) SetStyles(s Styles) { t.styles = s }

// SetSize sets the pane's size in cells, header line included.
func (t *Tail) SetSize(width, height int) {
	t.width, t.height = max(width, 0), max(height, 0)
	t.clamp()
}

// Append adds a line a service printed. A service seen for the first time
// takes the view unless the person has chosen one: the pane shows the
// service being started.
func (t *Tail) Append(subject string, stream Stream, text string) {
	if subject == "" {
		subject = OtherSubject
	}
	r, ok := t.rings[subject]
	if !ok {
		if len(t.subjects) >= MaxSubjects-1 && subject != OtherSubject {
			t.Append(OtherSubject, stream, subject+": "+text)
			return
		}
		r = NewRing(t.capacity)
		t.rings[subject] = r
		t.subjects = append(t.subjects, subject)
		if t.selected < 0 || (!t.pinned && t.follow) {
			t.selected = len(t.subjects) - 1
			t.offset = 0
		}
	}
	r.Push(Line{Text: Clean(text), Stream: stream})
	if !t.follow && t.Selected() == subject {
		t.offset++ // keep the lines being read in place
		t.clamp()
	}
}

// Subjects lists the services with lines, in the order they first printed.
func (t *Tail) Subjects() []string { return append([]string(nil), t.subjects...) }

// Selected is the service shown, "" before any line arrived.
func (t *Tail) Selected() string {
	if t.selected < 0 {
		return ""
	}
	return t.subjects[t.selected]
}

// Select shows a service's lines; it reports false for an unknown service.
func (t *Tail) Select(subject string) bool {
	for i, s := range t.subjects {
		if s == subject {
			t.selected, t.pinned, t.offset = i, true, 0
			t.follow = true
			return true
		}
	}
	return false
}

// Next shows the next service (wrapping); Prev the previous one.
func (t *Tail) Next() { t.step(1) }

// Prev shows the previous service (wrapping).
func (t *Tail) Prev() { t.step(-1) }

func (t *Tail) step(d int) {
	if len(t.subjects) == 0 {
		return
	}
	t.selected = (t.selected + d + len(t.subjects)) % len(t.subjects)
	t.pinned, t.offset, t.follow = true, 0, true
}

// Following reports whether the view sticks to the newest line.
func (t *Tail) Following() bool { return t.follow }

// SetFollow turns following on (jumping to the newest line) or off.
func (t *Tail) SetFollow(on bool) {
	t.follow = on
	if on {
		t.offset = 0
	}
}

// Offset is how many lines below the view are newer than its last line.
func (t *Tail) Offset() int { return t.offset }

// ScrollUp moves the view n lines back in time and stops following.
func (t *Tail) ScrollUp(n int) {
	t.follow = false
	t.offset += n
	t.clamp()
}

// ScrollDown moves the view n lines towards the newest line. It does not
// turn following back on; Bottom does.
func (t *Tail) ScrollDown(n int) {
	t.offset = max(t.offset-n, 0)
}

// PageUp and PageDown scroll by one screen of lines.
func (t *Tail) PageUp() { t.ScrollUp(max(t.visible()-1, 1)) }

// PageDown scrolls one screen of lines towards the newest.
func (t *Tail) PageDown() { t.ScrollDown(max(t.visible()-1, 1)) }

// Top shows the oldest line kept.
func (t *Tail) Top() { t.ScrollUp(t.capacity) }

// Bottom shows the newest line and follows again.
func (t *Tail) Bottom() { t.SetFollow(true) }

// Last returns up to n of a service's newest lines.
func (t *Tail) Last(subject string, n int) []Line {
	if r, ok := t.rings[subject]; ok {
		return r.Last(n)
	}
	return nil
}

// Len is the number of lines kept for a service.
func (t *Tail) Len(subject string) int {
	if r, ok := t.rings[subject]; ok {
		return r.Len()
	}
	return 0
}

func (t *Tail) visible() int { return max(t.height-1, 0) }

// clamp keeps the offset within the lines held, so scrolling up past the
// oldest line stops there.
func (t *Tail) clamp() {
	r := t.rings[t.Selected()]
	if r == nil {
		t.offset = 0
		return
	}
	t.offset = min(max(t.offset, 0), max(r.Len()-t.visible(), 0))
}

// View draws the header and the visible lines: exactly height lines, none
// wider than width. Only the visible lines are touched, so the cost of a
// frame does not depend on how many lines are kept.
func (t *Tail) View() string {
	if t.height <= 0 || t.width <= 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(t.header())
	r := t.rings[t.Selected()]
	rows := t.visible()
	end, start := 0, 0
	if r != nil {
		end = r.Len() - t.offset
		start = max(end-rows, 0)
	}
	textWidth := max(t.width-2, 1)
	for i := range rows {
		b.WriteByte('\n')
		idx := start + i
		if r == nil || idx >= end {
			continue
		}
		l := r.At(idx)
		text := l.Text
		if len(text) > textWidth { // byte length bounds cell width from above
			text = ansi.Truncate(text, textWidth, "…")
		}
		if l.Stream == Stderr {
			b.WriteString(t.styles.StderrGutter.Render("!"))
			b.WriteByte(' ')
			b.WriteString(t.styles.StderrText.Render(text))
		} else {
			b.WriteString(t.styles.StdoutGutter.Render("│"))
			b.WriteByte(' ')
			b.WriteString(text)
		}
	}
	return b.String()
}

func (t *Tail) header() string {
	if len(t.subjects) == 0 {
		return ansi.Truncate(t.styles.Header.Render("Logs")+t.styles.Muted.Render("  no service has printed yet"), t.width, "…")
	}
	name := t.Selected()
	r := t.rings[name]
	state := "following"
	if !t.follow {
		state = "paused"
		if t.offset > 0 {
			state = fmt.Sprintf("paused, %d newer below", t.offset)
		}
	}
	info := fmt.Sprintf("  %d/%d  %s  %d lines", t.selected+1, len(t.subjects), state, r.Len())
	if d := r.Dropped(); d > 0 {
		info += fmt.Sprintf(" (%d older dropped)", d)
	}
	info += "  ! = stderr"
	h := t.styles.Header.Render("Logs ‹ "+name+" ›") + t.styles.Muted.Render(info)
	return ansi.Truncate(h, t.width, "…")
}
