package textout

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// areaOrder is the order in which the checklist shows its areas; an area
// not listed here follows them, in the order the results name it.
var areaOrder = []validate.Area{
	validate.AreaTLS, validate.AreaHTTP, validate.AreaContainers, validate.AreaNetwork,
	validate.AreaVault, validate.AreaPostgres, validate.AreaFineract, validate.AreaIdentity, validate.AreaMessaging,
	validate.AreaMonitoring, validate.AreaLogging, validate.AreaSecrets, validate.AreaBackups, validate.AreaAudit, validate.AreaHost,
}

// maxEvidence bounds the evidence shown for one check: some checks observe
// long lists, and the JSON output and the evidence report carry it whole.
const maxEvidence = 400

// Checklist draws validation results: a summary line, then the checks
// grouped by area, each with its mark, title and evidence, and the fix
// under a check that did not pass. Lines are wrapped to width cells; a
// width of zero or less (a pipe or a log file) wraps nothing.
func Checklist(st Styles, rs []validate.Result, width int) string {
	var pass, warn, fail int
	byArea := map[validate.Area][]validate.Result{}
	areas := slices.Clone(areaOrder)
	titleW := 0
	for _, r := range rs {
		switch r.Status {
		case validate.Pass:
			pass++
		case validate.Warn:
			warn++
		default:
			fail++
		}
		if !slices.Contains(areas, r.Area) {
			areas = append(areas, r.Area)
		}
		byArea[r.Area] = append(byArea[r.Area], r)
		titleW = max(titleW, ansi.StringWidth(r.Title))
	}
	if width > 0 {
		titleW = min(titleW, width/3)
	}
	var b strings.Builder
	sum := fmt.Sprintf("Validation checklist: %d pass, %d warning, %d failing", pass, warn, fail)
	switch {
	case fail > 0:
		b.WriteString(st.Bad.Render(sum) + "\n")
	case warn > 0:
		b.WriteString(st.Warn.Render(sum) + "\n")
	default:
		b.WriteString(st.OK.Render(sum) + "\n")
	}
	indent := strings.Repeat(" ", titleW+6)
	for _, a := range areas {
		if len(byArea[a]) == 0 {
			continue
		}
		b.WriteString(st.Bold.Render(string(a)) + "\n")
		for _, r := range byArea[a] {
			mark := st.OK.Render("✓")
			switch r.Status {
			case validate.Pass:
			case validate.Warn:
				mark = st.Warn.Render("!")
			default:
				mark = st.Bad.Render("✗")
			}
			title := r.Title
			if width > 0 {
				title = Clip(title, titleW)
			}
			pad := strings.Repeat(" ", max(titleW-ansi.StringWidth(title), 0))
			line := fmt.Sprintf("  %s %s%s  %s", mark, title, pad, Truncate(r.Evidence, maxEvidence))
			b.WriteString(Wrap(line, width, indent) + "\n")
			if r.Fix != "" && r.Status != validate.Pass {
				b.WriteString(Wrap(indent+st.Bold.Render("fix:")+" "+r.Fix, width, indent+"     ") + "\n")
			}
		}
	}
	return b.String()
}

// Truncate cuts s to at most n runes, marking the cut with "…"; it never
// cuts a character in two.
func Truncate(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// Clip cuts s to width cells, marking the cut with "…".
func Clip(s string, width int) string {
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// Wrap wraps text to width cells at spaces, keeping runs of spaces inside
// a line (columns stay aligned) and starting every continuation line with
// indent; a word longer than a line is cut. A width too small to wrap in
// (zero or less included) leaves the text as it is.
func Wrap(s string, width int, indent string) string {
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
