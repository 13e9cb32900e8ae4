package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
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

// clip cuts a line to width cells, escape sequences kept intact.
func clip(s string, width int) string {
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// wrapText wraps text to width cells at spaces, keeping runs of spaces
// inside a line (columns stay aligned) and starting every continuation
// line with indent; a word longer than a line is cut.
func wrapText(s string, width int, indent string) string {
	if ansi.StringWidth(s) <= width || width <= ansi.StringWidth(indent)+8 {
		return s
	}
	var out []string
	cut := func(line string) string {
		for ansi.StringWidth(line) > width {
			out = append(out, ansi.Truncate(line, width, ""))
			line = indent + ansi.TruncateLeft(line, width, "")
		}
		return line
	}
	words := strings.Split(s, " ")
	line := cut(words[0])
	for _, word := range words[1:] {
		if ansi.StringWidth(line)+1+ansi.StringWidth(word) <= width {
			line += " " + word
			continue
		}
		if word == "" {
			continue // spaces at a line break vanish
		}
		out = append(out, strings.TrimRight(line, " "))
		line = cut(indent + word)
	}
	return strings.Join(append(out, line), "\n")
}
