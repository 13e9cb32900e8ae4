package cli

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Evidence is cut to a width in cells without splitting a character: a
// cut in the middle of "é" or "界" printed a broken byte before.
func TestTruncateKeepsCharactersWhole(t *testing.T) {
	for _, s := range []string{
		"x" + strings.Repeat("é", 300), // the limit falls inside a two-byte character
		strings.Repeat("証明書の期限", 40),   // three bytes, two cells each
		"short é",
	} {
		got := truncate(s, 400)
		if !utf8.ValidString(got) {
			t.Errorf("truncate(%.20q…) is not valid UTF-8: it ends %q", s, got[max(0, len(got)-6):])
		}
		if w := ansi.StringWidth(got); w > 400 {
			t.Errorf("truncate(%.20q…) is %d cells wide, want at most 400", s, w)
		}
		if ansi.StringWidth(s) <= 400 {
			if got != s {
				t.Errorf("truncate changed %.20q…, which fits, to %.20q…", s, got)
			}
		} else if !strings.HasSuffix(got, "…") || !strings.HasPrefix(s, strings.TrimSuffix(got, "…")) {
			t.Errorf("truncate(%.20q…) = %.20q…, want a prefix of it ending in …", s, got)
		}
	}
}
