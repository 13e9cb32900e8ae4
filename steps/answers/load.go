package answers

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a problem in an answers file, with where it is and how to fix it.
type Error struct {
	File string
	Line int // 0 when the problem is not tied to one line
	Msg  string
	// Path is the dotted key the problem is about (network.app.name), for
	// a problem found by code that has the answers but not the file:
	// Locate turns it into a line.
	Path string
}

func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "":
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return e.Msg
}

// Errors is every problem found in one answers file.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// FieldError is a problem with one answer found after the file was loaded
// (rendering the stack checks a few things only it can): path is the
// dotted key, as in the file.
func FieldError(path, format string, args ...any) error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Locate points a problem with one answer at its place in the answers file
// at path, as Load's own errors are: when err holds an *Error with a Path
// and no file, the result is that problem with path and the line of its
// key (the line of the closest key above it when the key is left out).
// Any other error, or a file that can no longer be read, returns err.
func Locate(path string, err error) error {
	var e *Error
	if path == "" || !errors.As(err, &e) || e.File != "" || e.Path == "" {
		return err
	}
	data, rerr := os.ReadFile(path)
	if rerr != nil {
		return err
	}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return err
	}
	located := *e
	located.File, located.Line = path, lineOf(root.Content[0], e.Path)
	return &located
}

// Load reads, checks and validates an answers file. Fields the file leaves
// out take the defaults of the profile it names.
func Load(path string) (Answers, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Answers{}, fmt.Errorf("read answers file: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load for bytes already read; name is used in messages.
func Parse(name string, data []byte) (Answers, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line, msg := yamlErrorLine(err)
		return Answers{}, &Error{File: name, Line: line, Msg: "not valid YAML: " + msg}
	}
	if len(root.Content) == 0 {
		return Answers{}, &Error{File: name, Msg: "the file is empty; start from `fineract-installer answers init`"}
	}
	doc := root.Content[0]
	if errs := unknownKeys(name, doc, reflect.TypeOf(Answers{}), ""); len(errs) > 0 {
		return Answers{}, errs
	}
	profile := Production
	if v := mappingValue(doc, "profile"); v != nil {
		profile = Profile(v.Value)
		if profile != Production && profile != Demo {
			return Answers{}, &Error{File: name, Line: v.Line, Msg: fmt.Sprintf("profile %q is not known; use production or demo", v.Value)}
		}
	}
	a := Defaults(profile)
	a.Groups = nil // a file that lists groups replaces the defaults, not adds to them
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&a); err != nil {
		return Answers{}, typeError(name, err)
	}
	if mappingValue(doc, "groups") == nil {
		a.Groups = Defaults(profile).Groups
	}
	// `ips: []` and an omitted list mean the same.
	if len(a.Host.IPs) == 0 {
		a.Host.IPs = nil
	}
	if len(a.Vault.PGPKeys) == 0 {
		a.Vault.PGPKeys = nil
	}
	if errs := a.validate(); len(errs) > 0 {
		for _, e := range errs {
			e.File = name
			if e.Line == 0 {
				e.Line = lineOf(doc, e.path)
			}
		}
		return Answers{}, errs.errors()
	}
	return a, nil
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// lineOf finds the line of a dotted path such as "vault.key_threshold".
func lineOf(doc *yaml.Node, path string) int {
	if path == "" {
		return 0
	}
	n, line := doc, 0
	for _, part := range strings.Split(path, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

// unknownKeys walks the document against the Go type and reports every key
// the type does not have, with the closest valid key.
func unknownKeys(file string, n *yaml.Node, t reflect.Type, prefix string) Errors {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode {
		return nil
	}
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = f.Type
		}
	}
	var errs Errors
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ft, ok := fields[k.Value]
		if !ok {
			valid := make([]string, 0, len(fields))
			for name := range fields {
				valid = append(valid, name)
			}
			sort.Strings(valid)
			msg := fmt.Sprintf("unknown key %q", prefix+k.Value)
			if s := closest(k.Value, valid); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", prefix+s)
			} else {
				msg += fmt.Sprintf("; valid keys here: %s", strings.Join(valid, ", "))
			}
			errs = append(errs, &Error{File: file, Line: k.Line, Msg: msg})
			continue
		}
		errs = append(errs, unknownKeys(file, v, ft, prefix+k.Value+".")...)
	}
	return errs
}

// closest returns the candidate within a small edit distance, if any.
func closest(s string, candidates []string) string {
	best, bestDist := "", len(s)/2+2
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func typeError(file string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		var errs Errors
		for _, m := range te.Errors {
			line := 0
			if _, err := fmt.Sscanf(m, "line %d:", &line); err == nil {
				_, m, _ = strings.Cut(m, ": ")
			}
			errs = append(errs, &Error{File: file, Line: line, Msg: "wrong type: " + m})
		}
		return errs
	}
	return &Error{File: file, Msg: err.Error()}
}

func yamlErrorLine(err error) (int, string) {
	line := 0
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if _, err := fmt.Sscanf(msg, "line %d:", &line); err == nil {
		_, msg, _ = strings.Cut(msg, ": ")
	}
	return line, msg
}
