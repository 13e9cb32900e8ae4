// Package promises ties each promise README.md makes to the tests that
// keep it: promises.yaml names, for every row of README's command,
// exit-code, answers and hardening tables, every item of its JSON section
// and threat model and every paragraph of its backup, Kubernetes and terminal UI
// sections, the tests that check it, or why it cannot be tested here. The test in this file
// keeps the two in step both ways.
package promises

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fineract-installer/fineract-installer/lab/readme"
)

// entry is one promise with the tests that keep it.
type entry struct {
	Promise string   `yaml:"promise"`
	Tests   []string `yaml:"tests"`
	// Untested says why (part of) the promise cannot be tested here.
	Untested string `yaml:"untested"`
	// NotKept says what of the promise the program does not keep yet, and
	// why; no test claims that part.
	NotKept string `yaml:"not_kept"`
}

// promise is one promise as README makes it: its name and its text.
type promise struct{ name, text string }

// promises lists README's promises by section, in README's order.
func promises(doc readme.Doc) map[string][]promise {
	out := map[string][]promise{}
	add := func(section, name, text string) { out[section] = append(out[section], promise{name, text}) }
	for _, row := range readme.Table(doc.Section("## Commands")) {
		var paths []string
		for _, usage := range readme.Code(row[0]) {
			for _, p := range readme.CommandPaths(usage) {
				paths = append(paths, strings.TrimSpace("fineract-installer "+p))
			}
		}
		add("commands", strings.Join(paths, ", "), strings.Join(row, " | "))
	}
	for _, row := range readme.Table(doc.Section("### Exit codes")) {
		add("exit codes", row[0], strings.Join(row, " | "))
	}
	for _, item := range readme.Items(doc.Section("### JSON output")) {
		add("json", readme.Key(item), item)
	}
	for _, row := range readme.Table(doc.Section("## Answers files")) {
		add("answers", strings.Trim(row[0], "`"), strings.Join(row, " | "))
	}
	for _, b := range readme.Blocks(doc.Section("## Backups")) {
		add("backups", readme.Key(b), b)
	}
	for _, b := range readme.Blocks(doc.Section("## Point-in-time recovery")) {
		add("recovery", readme.Key(b), b)
	}
	for _, b := range readme.Blocks(doc.Section("## Kubernetes")) {
		add("kubernetes", readme.Key(b), b)
	}
	for _, row := range readme.Table(doc.Section("### Hardening rules and their exceptions")) {
		add("hardening", row[0]+" / "+row[1], strings.Join(row, " | "))
	}
	for _, item := range readme.Items(doc.Section("## Threat model")) {
		add("threat model", readme.Key(item), item)
	}
	for _, b := range readme.Blocks(doc.Section("## Terminal UI")) {
		add("terminal ui", readme.Key(b), b)
	}
	return out
}

var testInText = regexp.MustCompile(`\bTest[A-Z]\w*`)

// testNames finds every test function of the repository.
func testNames(t *testing.T, root string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			names[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// Every promise in README's tables and lists has an entry in
// promises.yaml naming tests that exist (or saying why it cannot be tested
// here), and every entry is a promise README still makes: a promise
// without a test, or a test map entry without its promise, fails here.
func TestEveryPromiseHasATest(t *testing.T) {
	doc, err := readme.Load("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("promises.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var sections map[string][]entry
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&sections); err != nil {
		t.Fatalf("promises.yaml: %v", err)
	}
	tests := testNames(t, "../..")
	want := promises(doc)
	var names []string
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, section := range names {
		if len(want[section]) == 0 {
			t.Errorf("README's %s section holds no promise: has it moved?", section)
		}
		mapped := map[string]entry{}
		for _, e := range sections[section] {
			if _, dup := mapped[e.Promise]; dup {
				t.Errorf("%s: %q is mapped twice", section, e.Promise)
			}
			mapped[e.Promise] = e
		}
		made := map[string]bool{}
		for _, pr := range want[section] {
			p := pr.name
			made[p] = true
			e, ok := mapped[p]
			switch {
			case !ok:
				t.Errorf("%s: README promises %q, and promises.yaml names no test for it", section, p)
			case len(e.Tests) == 0 && e.Untested == "":
				t.Errorf("%s: %q names no test and does not say why", section, p)
			}
			for _, name := range e.Tests {
				if !tests[name] {
					t.Errorf("%s: %q names %s, which is not a test of this repository", section, p, name)
				}
			}
			// A test README itself names for the promise is one of its tests.
			for _, name := range testInText.FindAllString(pr.text, -1) {
				if !tests[name] {
					t.Errorf("%s: README names %s for %q, which is not a test of this repository", section, name, p)
				} else if ok && !slices.Contains(e.Tests, name) {
					t.Errorf("%s: README names %s for %q, and promises.yaml does not list it", section, name, p)
				}
			}
		}
		for p := range mapped {
			if !made[p] {
				t.Errorf("%s: promises.yaml maps %q, which README no longer promises", section, p)
			}
		}
	}
	for section := range sections {
		if _, ok := want[section]; !ok {
			t.Errorf("promises.yaml has a section %q that is not read from README", section)
		}
	}
}
