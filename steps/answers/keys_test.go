package answers

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fineract-installer/fineract-installer/lab/readme"
)

// answersKeys lists every key an answers file accepts, as dotted paths
// ("vault.pgp_keys"), from the yaml tags of the Answers type.
func answersKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, answersKeys(f.Type, prefix+name+".")...)
			continue
		}
		keys = append(keys, prefix+name)
	}
	return keys
}

// commentedKeys maps each key path of a YAML document to the comments
// that explain it: its own and those of the sections it is in.
func commentedKeys(n *yaml.Node, prefix, comments string, out map[string]string) {
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			commentedKeys(c, prefix, comments+n.HeadComment, out)
		}
		return
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		c := comments + "\n" + k.HeadComment + "\n" + k.LineComment + "\n" + v.LineComment
		out[prefix+k.Value] = c
		commentedKeys(v, prefix+k.Value+".", c, out)
	}
}

// Every key an answers file accepts is in the `answers init` template of
// both profiles, with a comment that names it, and in README's answers
// section: a key nobody can find is a key nobody can use (gateway.bind_ip
// and vault.pgp_keys were accepted and documented nowhere).
func TestEveryAnswersKeyIsInTheTemplateAndREADME(t *testing.T) {
	keys := answersKeys(reflect.TypeOf(Answers{}), "")
	for _, p := range []Profile{Production, Demo} {
		data, err := Template(p)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		found := map[string]string{}
		commentedKeys(&doc, "", "", found)
		for _, k := range keys {
			comment, ok := found[k]
			leaf := k[strings.LastIndex(k, ".")+1:]
			switch {
			case !ok:
				t.Errorf("%s template lacks the key %s", p, k)
			case !regexp.MustCompile(`\b` + regexp.QuoteMeta(leaf) + `\b`).MatchString(comment):
				t.Errorf("%s template: no comment names %s (%q)", p, k, leaf)
			}
		}
	}

	doc, err := readme.Load("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, row := range readme.Table(doc.Section("## Answers files")) {
		documented[strings.Trim(row[0], "`")] = true
	}
	known := map[string]bool{}
	for _, k := range keys {
		known[k] = true
		if !documented[k] {
			t.Errorf("README's answers table lacks a row for %s", k)
		}
	}
	for k := range documented {
		if !known[k] {
			t.Errorf("README's answers table documents %s, which answers files do not accept", k)
		}
	}
}
