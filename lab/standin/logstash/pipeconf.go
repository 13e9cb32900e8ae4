package main

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// plugin is one plugin block of a pipeline: name { key => value ... }.
type plugin struct {
	Name     string
	Settings map[string]any // string, float64 or []any
}

// pipelineConfig is a pipeline's sections.
type pipelineConfig struct {
	Inputs, Filters, Outputs []plugin
}

// parsePipeline reads Logstash's pipeline configuration language as far as
// plain plugin blocks go: sections, plugins, settings with strings,
// numbers, barewords and arrays, and # comments. Conditionals and hashes
// are refused, so a pipeline that uses them fails here, not silently.
func parsePipeline(src string) (pipelineConfig, error) {
	toks, err := tokenize(src)
	if err != nil {
		return pipelineConfig{}, err
	}
	p := &parser{toks: toks}
	var pc pipelineConfig
	for !p.done() {
		section := p.next()
		if err := p.expect("{"); err != nil {
			return pc, err
		}
		var list *[]plugin
		switch section {
		case "input":
			list = &pc.Inputs
		case "filter":
			list = &pc.Filters
		case "output":
			list = &pc.Outputs
		default:
			return pc, fmt.Errorf("unknown section %q (input, filter, output)", section)
		}
		for !p.done() && p.peek() != "}" {
			name := p.next()
			if name == "if" || name == "else" {
				return pc, fmt.Errorf("the stand-in does not run conditionals")
			}
			if err := p.expect("{"); err != nil {
				return pc, err
			}
			pl := plugin{Name: name, Settings: map[string]any{}}
			for !p.done() && p.peek() != "}" {
				key := p.next()
				if err := p.expect("=>"); err != nil {
					return pc, err
				}
				v, err := p.value()
				if err != nil {
					return pc, fmt.Errorf("%s %s: %w", name, key, err)
				}
				if _, dup := pl.Settings[key]; dup {
					return pc, fmt.Errorf("%s: setting %s given twice", name, key)
				}
				pl.Settings[key] = v
			}
			if err := p.expect("}"); err != nil {
				return pc, err
			}
			*list = append(*list, pl)
		}
		if err := p.expect("}"); err != nil {
			return pc, err
		}
	}
	return pc, nil
}

type token struct {
	text   string
	quoted bool
}

func tokenize(src string) ([]token, error) {
	var out []token
	r := []rune(src)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '#':
			for i < len(r) && r[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for j < len(r) && r[j] != c {
				if r[j] == '\\' && j+1 < len(r) {
					j++
				}
				b.WriteRune(r[j])
				j++
			}
			if j >= len(r) {
				return nil, fmt.Errorf("unterminated string")
			}
			out = append(out, token{text: b.String(), quoted: true})
			i = j + 1
		case c == '=' && i+1 < len(r) && r[i+1] == '>':
			out = append(out, token{text: "=>"})
			i += 2
		case strings.ContainsRune("{}[],", c):
			out = append(out, token{text: string(c)})
			i++
		default:
			j := i
			for j < len(r) && !unicode.IsSpace(r[j]) && !strings.ContainsRune("{}[],#\"'=", r[j]) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected %q", c)
			}
			out = append(out, token{text: string(r[i:j])})
			i = j
		}
	}
	return out, nil
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) done() bool { return p.pos >= len(p.toks) }

func (p *parser) peek() string {
	if p.done() {
		return ""
	}
	t := p.toks[p.pos]
	if t.quoted {
		return "\x00" + t.text
	}
	return t.text
}

func (p *parser) next() string {
	if p.done() {
		return ""
	}
	p.pos++
	return p.toks[p.pos-1].text
}

func (p *parser) expect(s string) error {
	if p.done() || p.toks[p.pos].quoted || p.toks[p.pos].text != s {
		got := "end of file"
		if !p.done() {
			got = strconv.Quote(p.toks[p.pos].text)
		}
		return fmt.Errorf("expected %q, got %s", s, got)
	}
	p.pos++
	return nil
}

func (p *parser) value() (any, error) {
	if p.done() {
		return nil, fmt.Errorf("missing value")
	}
	t := p.toks[p.pos]
	if !t.quoted && t.text == "[" {
		p.pos++
		var list []any
		for !p.done() && p.peek() != "]" {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			if p.peek() == "," {
				p.pos++
			}
		}
		return list, p.expect("]")
	}
	if !t.quoted && t.text == "{" {
		return nil, fmt.Errorf("hash values are not supported by the stand-in")
	}
	p.pos++
	if !t.quoted {
		if f, err := strconv.ParseFloat(t.text, 64); err == nil {
			return f, nil
		}
	}
	return t.text, nil
}

// str returns a setting as a string ("" when unset).
func (pl plugin) str(key string) string {
	v, ok := pl.Settings[key]
	if !ok {
		return ""
	}
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// list returns a setting as a list of strings (one value is a list of one).
func (pl plugin) list(key string) []string {
	v, ok := pl.Settings[key]
	if !ok {
		return nil
	}
	if l, ok := v.([]any); ok {
		var out []string
		for _, x := range l {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return []string{pl.str(key)}
}

// known refuses settings the plugin does not have, as Logstash does
// ("Unknown setting '...' for beats").
func (pl plugin) known(keys ...string) error {
	for k := range pl.Settings {
		ok := false
		for _, want := range keys {
			if k == want {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("unknown setting '%s' for %s", k, pl.Name)
		}
	}
	return nil
}
