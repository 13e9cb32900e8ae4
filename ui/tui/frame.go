package tui

import (
	"fmt"
	"strings"

	"github.com/fineract-installer/fineract-installer/ui/textout"
)

// Smallest terminal the screens are laid out for.
const (
	minWidth  = 80
	minHeight = 24
)

// frame lays a screen out as exactly height lines of at most width cells:
// the header on top, the footer (help bar) at the bottom and the body
// clipped or padded in between, so every frame fully replaces the last one
// whatever the terminal size.
func frame(width, height int, header, body, footer string) string {
	head := lines(header)
	foot := lines(footer)
	room := max(height-len(head)-len(foot), 0)
	mid := lines(body)
	if len(mid) > room {
		mid = mid[:room]
	}
	out := make([]string, 0, height)
	out = append(out, head...)
	out = append(out, mid...)
	for len(out) < height-len(foot) {
		out = append(out, "")
	}
	out = append(out, foot...)
	if len(out) > height {
		out = out[:height]
	}
	for i, l := range out {
		out[i] = clip(l, width)
	}
	return strings.Join(out, "\n")
}

// tooSmall is what every screen shows below the supported size.
func tooSmall(width, height int) string {
	msg := fmt.Sprintf("This terminal is %d×%d; make it at least %d×%d.", width, height, minWidth, minHeight)
	return clip(msg, width)
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// clip and wrapText are textout's, under the short names the screens use:
// the screens and the line output cut and wrap text the same way.
func clip(s string, width int) string { return textout.Clip(s, width) }

func wrapText(s string, width int, indent string) string { return textout.Wrap(s, width, indent) }
