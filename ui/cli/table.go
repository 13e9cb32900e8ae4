package cli

import (
	"fmt"
	"io"
	"strings"
)

// cell is a table cell; style colours it after padding, so escape codes do
// not upset the column widths.
type cell struct {
	text  string
	style func(string) string
}

func printTable(w io.Writer, rows [][]cell) {
	widths := map[int]int{}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c.text)))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			text := c.text
			if i < len(r)-1 {
				text += strings.Repeat(" ", widths[i]-len([]rune(c.text))+2)
			}
			if c.style != nil {
				text = c.style(c.text) + text[len(c.text):]
			}
			b.WriteString(text)
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
