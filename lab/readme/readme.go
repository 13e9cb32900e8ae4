// Package readme reads the promises README.md makes, section by section:
// its tables, its lists and its paragraphs. The tests that keep README and
// the program in step, and each promise tied to a test, read it through
// this package.
package readme

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Doc is a Markdown document.
type Doc struct{ text string }

// Load reads a Markdown file.
func Load(path string) (Doc, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Doc{}, fmt.Errorf("read %s: %w", path, err)
	}
	return Doc{text: string(b)}, nil
}

// Parse wraps Markdown text.
func Parse(text string) Doc { return Doc{text: text} }

var headingLine = regexp.MustCompile(`(?m)^(#{1,6}) `)

// Section is the text under heading (a whole heading line such as
// "### Exit codes"), up to the next heading of the same or a higher
// level; "" when there is no such heading.
func (d Doc) Section(heading string) string {
	_, rest, ok := strings.Cut("\n"+d.text, "\n"+heading+"\n")
	if !ok {
		return ""
	}
	level := strings.IndexByte(heading, ' ')
	for _, m := range headingLine.FindAllStringSubmatchIndex(rest, -1) {
		if m[3]-m[2] <= level {
			return rest[:m[0]]
		}
	}
	return rest
}

// Body is a section's own text, before its first subsection.
func Body(section string) string {
	if m := headingLine.FindStringIndex(section); m != nil {
		return section[:m[0]]
	}
	return section
}

// Table returns the rows of the first table in text, without its header
// and separator rows; each row is its cells, trimmed. An escaped bar
// (`\|`) stays in its cell, unescaped.
func Table(text string) [][]string {
	var rows [][]string
	started := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if started {
				break
			}
			continue
		}
		cells := splitRow(line)
		switch {
		case !started:
			started = true // the header
		case isSeparator(cells):
		default:
			rows = append(rows, cells)
		}
	}
	return rows
}

func splitRow(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

func isSeparator(cells []string) bool {
	for _, c := range cells {
		if strings.Trim(c, "-: ") != "" {
			return false
		}
	}
	return true
}

// Blocks splits text into its paragraphs and top-level list items, each
// as one line of text; tables, code blocks and headings are left out.
func Blocks(text string) []string {
	var blocks []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			blocks = append(blocks, strings.Join(cur, " "))
			cur = nil
		}
	}
	fence := false
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			flush()
			fence = !fence
		case fence:
		case trimmed == "", strings.HasPrefix(trimmed, "|"), strings.HasPrefix(trimmed, "#"):
			flush()
		case strings.HasPrefix(line, "- "):
			flush()
			cur = append(cur, strings.TrimPrefix(line, "- "))
		default:
			cur = append(cur, trimmed)
		}
	}
	flush()
	return blocks
}

// Items are the top-level list items of text.
func Items(text string) []string { return Blocks(listOnly(text)) }

// listOnly keeps the list items of text and what continues them.
func listOnly(text string) string {
	var out []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "- "):
			in = true
			out = append(out, line)
		case in && strings.HasPrefix(line, "  ") && strings.TrimSpace(line) != "":
			out = append(out, line)
		default:
			in = false
			out = append(out, "")
		}
	}
	return strings.Join(out, "\n")
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// Code lists the code spans of text, without their back quotes.
func Code(text string) []string {
	var out []string
	for _, m := range codeSpan.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

var (
	boldLead = regexp.MustCompile(`^\*\*([^*]+?)\.?\*\*`)
	markup   = strings.NewReplacer("`", "", "**", "", "*", "")
)

// Key names a paragraph or list item in a few stable words: its bold
// lead ("**Production** splits ..." is "Production"), else what comes
// before its first colon when that is short (a list item "PostgreSQL:
// ..." or "`logs`: ..."), else its first six words.
func Key(block string) string {
	if m := boldLead.FindStringSubmatch(block); m != nil {
		return m[1]
	}
	plain := markup.Replace(block)
	if lead, _, ok := strings.Cut(plain, ": "); ok && len(lead) <= 80 {
		return lead
	}
	words := strings.Fields(plain)
	return strings.Join(words[:min(6, len(words))], " ")
}

var commandWord = regexp.MustCompile(`^[a-z][a-z-]*$`)

// CommandPath is the command a usage line names: its leading words,
// up to the first argument or flag ("backup verify FILE" is "backup
// verify"; "fineract-installer [--accessible]" is "").
func CommandPath(usage string) string {
	var path []string
	for _, w := range strings.Fields(usage) {
		if w == "fineract-installer" {
			continue
		}
		if !commandWord.MatchString(w) {
			break
		}
		path = append(path, w)
	}
	return strings.Join(path, " ")
}

var alternatives = regexp.MustCompile(`^[a-z][a-z-]*(\|[a-z][a-z-]*)+$`)

// CommandPaths is CommandPath for usage lines that name alternatives in
// their last word ("completion bash|zsh" names "completion bash" and
// "completion zsh").
func CommandPaths(usage string) []string {
	path := CommandPath(usage)
	rest := strings.Fields(strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(usage, "fineract-installer"), " ")))
	if n := len(strings.Fields(path)); n < len(rest) && alternatives.MatchString(rest[n]) {
		var out []string
		for _, alt := range strings.Split(rest[n], "|") {
			out = append(out, strings.TrimSpace(path+" "+alt))
		}
		return out
	}
	return []string{path}
}

// Shape is the form of a JSON value as README writes it:
// {"name", "kind":"event", "images":{SERVICE:{"image"}}, "list":[{"id"}]},
// where a quoted name is a field, a quoted value after a colon is the
// value it always has, an upper-case word stands for any key of a map,
// and ... says that the fields are not listed.
type Shape struct {
	// Fields are an object's fields, each with the shape of its value
	// (nil when README does not say).
	Fields map[string]*Shape
	// Map is the shape of the values of a map with placeholder keys.
	Map *Shape
	// Elem is the shape of an array's elements.
	Elem *Shape
	// Open says the fields are not listed ("...").
	Open bool
}

// ParseShape reads a shape written as README writes JSON forms.
func ParseShape(text string) (*Shape, error) {
	p := &shapeParser{toks: shapeTokens.FindAllString(text, -1)}
	s, err := p.value()
	if err != nil {
		return nil, fmt.Errorf("%q: %w", text, err)
	}
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("%q: unexpected %q", text, p.toks[p.i])
	}
	return s, nil
}

var shapeTokens = regexp.MustCompile(`"[^"]*"|\.\.\.|[A-Z][A-Z_]*|[{}\[\]:,]`)

type shapeParser struct {
	toks []string
	i    int
}

func (p *shapeParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *shapeParser) next() string {
	t := p.peek()
	p.i++
	return t
}

// value reads an object, an array or a literal (which has no shape).
func (p *shapeParser) value() (*Shape, error) {
	switch t := p.next(); {
	case t == "{":
		return p.object()
	case t == "[":
		s := &Shape{}
		if p.peek() == "..." {
			p.next()
			s.Elem = &Shape{Open: true}
		} else if p.peek() != "]" {
			elem, err := p.value()
			if err != nil {
				return nil, err
			}
			s.Elem = elem
		}
		if p.next() != "]" {
			return nil, fmt.Errorf("an array ends with ]")
		}
		return s, nil
	case strings.HasPrefix(t, `"`):
		return nil, nil
	default:
		return nil, fmt.Errorf("unexpected %q", t)
	}
}

func (p *shapeParser) object() (*Shape, error) {
	s := &Shape{Fields: map[string]*Shape{}}
	for {
		t := p.next()
		switch {
		case t == "}":
			return s, nil
		case t == "...":
			s.Open = true
		case strings.HasPrefix(t, `"`):
			name := strings.Trim(t, `"`)
			var v *Shape
			if p.peek() == ":" {
				p.next()
				var err error
				if v, err = p.value(); err != nil {
					return nil, err
				}
			}
			s.Fields[name] = v
		case t != "" && t[0] >= 'A' && t[0] <= 'Z':
			if p.next() != ":" {
				return nil, fmt.Errorf("placeholder %s needs a value", t)
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			s.Map = v
		default:
			return nil, fmt.Errorf("unexpected %q in an object", t)
		}
		switch p.peek() {
		case ",":
			p.next()
		case "}":
		default:
			return nil, fmt.Errorf("unexpected %q after a field", p.peek())
		}
	}
}
