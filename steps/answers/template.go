package answers

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"
)

//go:embed answers.yaml.tmpl
var answersTemplate string

var tmpl = template.Must(template.New("answers").Option("missingkey=error").Funcs(template.FuncMap{
	"list": func(xs []string) string {
		if len(xs) == 0 {
			return "[]"
		}
		return "[" + strings.Join(xs, ", ") + "]"
	},
	// scalar writes a string as YAML reads it back, quoted when it must
	// be (an empty value among them).
	"scalar": func(s string) (string, error) {
		b, err := yaml.Marshal(s)
		return strings.TrimSpace(string(b)), err
	},
}).Parse(answersTemplate))

// Template renders a commented answers file holding a profile's defaults,
// for a person to edit.
func Template(p Profile) ([]byte, error) {
	if p != Production && p != Demo {
		return nil, fmt.Errorf("unknown profile %q (use production or demo)", p)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, Defaults(p)); err != nil {
		return nil, fmt.Errorf("render answers template: %w", err)
	}
	return b.Bytes(), nil
}
