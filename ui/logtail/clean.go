package logtail

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// MaxLineBytes caps one stored line, so a service printing a huge line
// (a stack dump on one line, a binary blob) cannot defeat the ring's bound.
const MaxLineBytes = 1024

// Clean makes a service's line safe and cheap to draw: escape sequences are
// removed (a container must not be able to move the operator's cursor or
// retitle the terminal), tabs become spaces, other control characters are
// dropped, invalid UTF-8 is replaced and the result is capped at
// MaxLineBytes.
func Clean(s string) string {
	if plainASCII(s) {
		return s
	}
	if strings.ContainsRune(s, '\x1b') {
		s = ansi.Strip(s)
	}
	var b strings.Builder
	b.Grow(min(len(s), MaxLineBytes))
	limit := MaxLineBytes - len("…")
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		n := utf8.RuneLen(r)
		switch {
		case r == '\t':
			n = 4
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			continue
		}
		if b.Len()+n > limit {
			b.WriteString("…")
			break
		}
		if r == '\t' {
			b.WriteString("    ")
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plainASCII is the fast path: most log lines need no cleaning at all.
func plainASCII(s string) bool {
	if len(s) > MaxLineBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
