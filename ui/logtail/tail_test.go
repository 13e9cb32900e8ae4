package logtail

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func feed(t *Tail, subject string, from, to int) {
	for i := from; i <= to; i++ {
		t.Append(subject, Stdout, fmt.Sprintf("%s line %d", subject, i))
	}
}

// shown returns the text of the visible log rows (header dropped).
func shown(t *Tail) []string {
	rows := strings.Split(ansi.Strip(t.View()), "\n")[1:]
	for i, r := range rows {
		rows[i] = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(r, "│"), "!"))
	}
	return rows
}

func TestFollowShowsNewestLines(t *testing.T) {
	tl := New(100, Styles{})
	tl.SetSize(40, 4) // header + 3 rows
	feed(&tl, "postgres", 1, 10)
	got := shown(&tl)
	want := []string{"postgres line 8", "postgres line 9", "postgres line 10"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("rows %q, want %q", got, want)
	}
	feed(&tl, "postgres", 11, 11)
	if got := shown(&tl); got[2] != "postgres line 11" {
		t.Fatalf("following must show the newest line, got %q", got)
	}
}

func TestScrollUpStopsFollowingAndStaysAnchored(t *testing.T) {
	tl := New(100, Styles{})
	tl.SetSize(70, 4)
	feed(&tl, "vault", 1, 10)
	tl.ScrollUp(2)
	if tl.Following() {
		t.Fatal("scrolling up must stop following")
	}
	before := shown(&tl)
	if before[2] != "vault line 8" {
		t.Fatalf("after scrolling up 2 the last row is %q, want vault line 8", before[2])
	}
	feed(&tl, "vault", 11, 15)
	if after := shown(&tl); strings.Join(after, "|") != strings.Join(before, "|") {
		t.Fatalf("new lines moved a paused view: before %q after %q", before, after)
	}
	if tl.Offset() != 7 {
		t.Fatalf("offset %d, want 7 newer lines below", tl.Offset())
	}
	if h := ansi.Strip(strings.Split(tl.View(), "\n")[0]); !strings.Contains(h, "paused, 7 newer below") {
		t.Fatalf("header %q does not say the view is paused", h)
	}
	tl.Bottom()
	if !tl.Following() || shown(&tl)[2] != "vault line 15" {
		t.Fatalf("Bottom must follow again and show the newest line, got %q", shown(&tl))
	}
}

func TestScrollStopsAtOldestAndNewest(t *testing.T) {
	tl := New(100, Styles{})
	tl.SetSize(40, 4)
	feed(&tl, "web", 1, 5)
	tl.ScrollUp(1000)
	if got := shown(&tl); got[0] != "web line 1" {
		t.Fatalf("scrolling far up must stop at the oldest line, got %q", got)
	}
	tl.ScrollDown(1000)
	if tl.Offset() != 0 || tl.Following() {
		t.Fatalf("scrolling down stops at the newest line without following (offset %d, follow %v)", tl.Offset(), tl.Following())
	}
	tl.Top()
	if shown(&tl)[0] != "web line 1" {
		t.Fatalf("Top must show the oldest line")
	}
	tl.PageDown()
	if shown(&tl)[2] != "web line 5" {
		t.Fatalf("PageDown from the top of 5 lines in 3 rows must reach the newest, got %q", shown(&tl))
	}
}

func TestNewServiceTakesTheViewUntilOneIsChosen(t *testing.T) {
	tl := New(100, Styles{})
	tl.SetSize(40, 4)
	feed(&tl, "vault", 1, 3)
	feed(&tl, "postgres", 1, 3)
	if tl.Selected() != "postgres" {
		t.Fatalf("the service started last must be shown, got %q", tl.Selected())
	}
	tl.Prev()
	if tl.Selected() != "vault" {
		t.Fatalf("Prev must show vault, got %q", tl.Selected())
	}
	feed(&tl, "fineract", 1, 3)
	if tl.Selected() != "vault" {
		t.Fatalf("a chosen service must keep the view when another starts, got %q", tl.Selected())
	}
	tl.Next()
	tl.Next()
	if tl.Selected() != "fineract" {
		t.Fatalf("Next twice from vault must reach fineract, got %q", tl.Selected())
	}
	tl.Next()
	if tl.Selected() != "vault" {
		t.Fatalf("Next must wrap, got %q", tl.Selected())
	}
	if !tl.Select("postgres") || tl.Select("nope") {
		t.Fatal("Select must accept known services only")
	}
	if got := tl.Subjects(); strings.Join(got, ",") != "vault,postgres,fineract" {
		t.Fatalf("subjects %v", got)
	}
}

func TestPausedViewIsNotTakenByANewService(t *testing.T) {
	tl := New(100, Styles{})
	tl.SetSize(40, 4)
	feed(&tl, "vault", 1, 10)
	tl.ScrollUp(1)
	feed(&tl, "postgres", 1, 1)
	if tl.Selected() != "vault" {
		t.Fatalf("a paused view must stay on its service, got %q", tl.Selected())
	}
}

func TestStderrIsMarkedWithoutColour(t *testing.T) {
	tl := New(10, Styles{})
	tl.SetSize(40, 3)
	tl.Append("kafka", Stdout, "started")
	tl.Append("kafka", Stderr, "WARN disk slow")
	rows := strings.Split(tl.View(), "\n")
	if !strings.HasPrefix(rows[1], "│ started") || !strings.HasPrefix(rows[2], "! WARN disk slow") {
		t.Fatalf("rows %q: stdout needs the │ gutter and stderr the ! gutter", rows)
	}
}

func TestViewIsExactlyTheSizeGiven(t *testing.T) {
	tl := New(10, Styles{})
	tl.SetSize(20, 5)
	tl.Append("svc", Stdout, strings.Repeat("wide ", 20))
	tl.Append("svc", Stdout, "日本語のログ行がとても長い場合でも切り詰める")
	rows := strings.Split(tl.View(), "\n")
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5", len(rows))
	}
	for _, r := range rows {
		if w := ansi.StringWidth(r); w > 20 {
			t.Fatalf("row %q is %d cells wide, want at most 20", r, w)
		}
	}
	empty := New(10, Styles{})
	empty.SetSize(50, 2)
	if !strings.Contains(empty.View(), "no service has printed yet") {
		t.Fatalf("an empty pane must say so: %q", empty.View())
	}
}

func TestRingPerServiceIsBounded(t *testing.T) {
	tl := New(50, Styles{})
	tl.SetSize(80, 10)
	feed(&tl, "fineract", 1, 10_000)
	if tl.Len("fineract") != 50 {
		t.Fatalf("kept %d lines, want the capacity 50", tl.Len("fineract"))
	}
	if last := tl.Last("fineract", 1); last[0].Text != "fineract line 10000" {
		t.Fatalf("newest line %q", last[0].Text)
	}
	if !strings.Contains(ansi.Strip(tl.View()), "9950 older dropped") {
		t.Fatalf("header must say how many lines were dropped: %q", strings.Split(tl.View(), "\n")[0])
	}
	for i := range MaxSubjects + 5 {
		tl.Append(fmt.Sprintf("svc%d", i), Stdout, "x")
	}
	if n := len(tl.Subjects()); n != MaxSubjects {
		t.Fatalf("%d rings, want at most %d", n, MaxSubjects)
	}
	if tl.Len(OtherSubject) == 0 {
		t.Fatalf("lines beyond %d services must land in %s", MaxSubjects, OtherSubject)
	}
}
