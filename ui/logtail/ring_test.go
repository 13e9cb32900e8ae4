package logtail

import (
	"fmt"
	"strings"
	"testing"
)

func TestRingKeepsNewestLinesInOrder(t *testing.T) {
	r := NewRing(3)
	for i := 1; i <= 5; i++ {
		r.Push(Line{Text: fmt.Sprint(i)})
	}
	if r.Len() != 3 || r.Total() != 5 || r.Dropped() != 2 {
		t.Fatalf("len %d total %d dropped %d, want 3 5 2", r.Len(), r.Total(), r.Dropped())
	}
	var got []string
	for i := range r.Len() {
		got = append(got, r.At(i).Text)
	}
	if strings.Join(got, ",") != "3,4,5" {
		t.Fatalf("lines %v, want 3,4,5", got)
	}
	last := r.Last(2)
	if len(last) != 2 || last[0].Text != "4" || last[1].Text != "5" {
		t.Fatalf("Last(2) = %v", last)
	}
	if len(r.Last(10)) != 3 {
		t.Fatalf("Last beyond Len must return what is held")
	}
	if (r.At(-1) != Line{}) || (r.At(3) != Line{}) {
		t.Fatalf("out-of-range At must return the zero line")
	}
}

func TestRingCapacityAtLeastOne(t *testing.T) {
	r := NewRing(0)
	r.Push(Line{Text: "a"})
	r.Push(Line{Text: "b"})
	if r.Cap() != 1 || r.Len() != 1 || r.At(0).Text != "b" {
		t.Fatalf("cap %d len %d first %q", r.Cap(), r.Len(), r.At(0).Text)
	}
}

func TestRingMemoryDoesNotGrowAfterCapacity(t *testing.T) {
	r := NewRing(100)
	line := Line{Text: "a steady line of log output"}
	for range 100 {
		r.Push(line)
	}
	allocs := testing.AllocsPerRun(1000, func() { r.Push(line) })
	if allocs != 0 {
		t.Fatalf("Push allocates %.1f times per line once full; the ring must reuse its slots", allocs)
	}
}

func TestCleanRemovesWhatCouldHurtTheTerminal(t *testing.T) {
	cases := map[string]string{
		"plain line":                         "plain line",
		"\x1b[31mred\x1b[0m text":            "red text",
		"\x1b]0;owned title\x07after":        "after",
		"a\tb":                               "a    b",
		"bell\x07 and cr\r":                  "bell and cr",
		"bad \xff utf8":                      "bad \uFFFD utf8",
		"c1 \u009b2J clear":                  "c1 2J clear",
		"naïve café":                         "naïve café",
		strings.Repeat("x", MaxLineBytes+10): strings.Repeat("x", MaxLineBytes-len("…")) + "…",
	}
	for in, want := range cases {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("é", MaxLineBytes)
	if got := Clean(long); len(got) > MaxLineBytes || !strings.HasSuffix(got, "…") {
		t.Errorf("a long multibyte line is %d bytes, want at most %d ending in …", len(got), MaxLineBytes)
	}
}
