package kubeapply

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readLogLines gives each line without its line end, a last line without
// one too, and cuts a line longer than maxLogLine there, saying so,
// without losing the lines after it.
func TestReadLogLines(t *testing.T) {
	long := strings.Repeat("x", maxLogLine+100)
	exact := strings.Repeat("y", maxLogLine)
	cases := []struct {
		in   string
		want []string
	}{
		{"a\nb\n", []string{"a", "b"}},
		{"a\r\n\nlast", []string{"a", "", "last"}},
		{"", nil},
		{long + "\nafter\n", []string{long[:maxLogLine] + cutMark, "after"}},
		{exact + "\n" + exact, []string{exact, exact}},
	}
	for _, c := range cases {
		for _, r := range []io.Reader{strings.NewReader(c.in), iotest.OneByteReader(strings.NewReader(c.in))} {
			var got []string
			if err := readLogLines(r, func(s string) { got = append(got, s) }); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
				t.Errorf("%.40q: %d lines %.80q, want %d %.80q", c.in, len(got), got, len(c.want), c.want)
			}
		}
	}
	// A read error after a partial line: the line, then the error.
	var got []string
	err := readLogLines(io.MultiReader(strings.NewReader("part"), iotest.ErrReader(io.ErrUnexpectedEOF)), func(s string) { got = append(got, s) })
	if err != io.ErrUnexpectedEOF || len(got) != 1 || got[0] != "part" {
		t.Errorf("read error: %v %q", err, got)
	}
}
