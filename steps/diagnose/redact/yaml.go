package redact

import "regexp"

// A YAML block scalar under a secret key spreads its value over the lines
// that follow the key:
//
//	password: |
//	  first line
//	  second line
//	user: app
//
// The value is redacted from its first character to the line break before
// the first non-blank line indented no deeper than the key, or to the end
// of the input (without its last line break): indentation and blank lines
// before the value stay, so the key and the shape remain readable. A key
// line of maxHold bytes or more, or a block whose first character comes
// maxHold bytes or more after its key, is not treated as one: the Writer
// could not hold it.
var yamlHeader = regexp.MustCompile(`(?i)^([ \t]*(?:-[ \t]+)*)["']?(?:` + secretKey + `|` + shortKey + `)["']?[ \t]*:[ \t]*[|>][1-9+\-]{0,2}[ \t]*(?:#[^\r\n]*)?\r?$`)

// yamlTriggers: every yamlHeader match contains one of these, and "|" or ">".
var yamlTriggers = secretKeyTriggers

// yamlSpans appends the block scalars of secret keys in b. Unless final,
// the first block that may go on past the end of b is returned, and
// nothing after its key line is examined.
func yamlSpans(b []byte, lines *lineIndex, final bool, out []span) ([]span, openBlock) {
	for _, line := range lines.with(yamlTriggers, []string{"|", ">"}) {
		m := yamlHeader.FindSubmatchIndex(b[line.start:line.end])
		if m == nil {
			continue
		}
		if line.end-line.start >= maxHold {
			continue
		}
		col, body := m[3]-m[2], line.end+1
		if line.end == len(b) { // the key line's break has not arrived
			if !final {
				// Checked again as a whole when more input arrives.
				return out, openBlock{at: line.start, yaml: true, col: col, first: -1, resume: -1}
			}
			continue
		}
		sc := scanYAMLBlock(b, body, col, line.start+maxHold)
		if !sc.closed && !final && !sc.givenUp {
			return out, openBlock{at: line.start, yaml: true, col: col, first: sc.first, resume: sc.resume}
		}
		if sc.first < 0 || sc.givenUp {
			continue
		}
		end := len(b)
		if sc.closed {
			end = sc.end
		}
		out = append(out, span{start: sc.first, end: end - trailingBreak(b[:end]), kind: KindAssignment})
	}
	return out, noBlock
}

// yamlScan is what scanYAMLBlock found.
type yamlScan struct {
	closed  bool // a line indented no deeper than the key ends the block
	end     int  // closed: where that line starts
	first   int  // the block's first character, or -1
	givenUp bool // the block has no character before the give-up offset
	resume  int  // not closed: the line start where the scan stopped
}

// scanYAMLBlock walks the lines from from (a line start) while they are
// blank or indented deeper than col.
func scanYAMLBlock(b []byte, from, col, giveUp int) yamlScan {
	sc := yamlScan{first: -1}
	i := from
	for i < len(b) {
		indent, first, next := yamlLine(b, i)
		if first >= 0 && indent <= col {
			sc.closed, sc.end = true, i
			return sc
		}
		if first >= 0 && sc.first < 0 {
			if first >= giveUp {
				sc.givenUp = true
				return sc
			}
			sc.first = first
		}
		if next < 0 {
			break
		}
		i = next
	}
	if sc.first < 0 && len(b) >= giveUp {
		sc.givenUp = true
	}
	sc.resume = i
	return sc
}

// yamlLine looks at the line starting at i: its indentation (leading
// spaces), the offset of its first character that is not a space, tab or
// CR (-1 if none has arrived), and where the next line starts (-1 while
// this line's break has not arrived).
func yamlLine(b []byte, i int) (indent, first, next int) {
	j := i
	for j < len(b) && b[j] == ' ' {
		j++
	}
	indent, first = j-i, -1
	for ; j < len(b) && b[j] != '\n'; j++ {
		if c := b[j]; first < 0 && c != ' ' && c != '\t' && c != '\r' {
			first = j
		}
	}
	if j == len(b) {
		return indent, first, -1
	}
	return indent, first, j + 1
}

// trailingBreak is the length of the line break b ends with (LF or CR LF).
func trailingBreak(b []byte) int {
	n := len(b)
	switch {
	case n >= 2 && b[n-2] == '\r' && b[n-1] == '\n':
		return 2
	case n >= 1 && b[n-1] == '\n':
		return 1
	}
	return 0
}
