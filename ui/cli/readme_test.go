package cli

import (
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/readme"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/backup"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/pki"
)

func loadREADME(t *testing.T) readme.Doc {
	t.Helper()
	doc, err := readme.Load("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// documentedCommands lists every command a user can run, with the
// command tree as the program builds it (cobra's completion command
// included). Groups that only print their help are left out.
func documentedCommands() map[string]*cobra.Command {
	root := newRootCmd(&app{f: testFactory(), io: &Streams{}})
	root.InitDefaultCompletionCmd()
	out := map[string]*cobra.Command{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		path := strings.TrimSpace(strings.TrimPrefix(c.CommandPath(), root.Name()))
		if !c.HasAvailableSubCommands() || c.LocalNonPersistentFlags().HasAvailableFlags() {
			out[path] = c
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return out
}

// mentions reports whether a usage line names a flag, by its long name or
// its shorthand.
func mentions(usage string, f *pflag.Flag) bool {
	if regexp.MustCompile(`(^|[\s\[|])--` + regexp.QuoteMeta(f.Name) + `([\s\]|=]|$)`).MatchString(usage) {
		return true
	}
	return f.Shorthand != "" && regexp.MustCompile(`(^|[\s\[|])-`+regexp.QuoteMeta(f.Shorthand)+`([\s\]|]|$)`).MatchString(usage)
}

// README's command table names every command, and each command's usage
// in it names every flag the command takes; it names no command or flag
// the program does not have. The flags every command takes are listed
// under the table.
func TestREADMECommandTableMatchesTheProgram(t *testing.T) {
	doc := loadREADME(t)
	section := doc.Section("## Commands")
	usages := map[string]string{}
	for _, row := range readme.Table(section) {
		for _, usage := range readme.Code(row[0]) {
			for _, path := range readme.CommandPaths(usage) {
				usages[path] = usage
			}
		}
	}
	commands := documentedCommands()
	global := map[string]bool{"help": true}
	newRootCmd(&app{f: testFactory(), io: &Streams{}}).PersistentFlags().VisitAll(func(f *pflag.Flag) {
		global[f.Name] = true
		if !mentions(strings.Join(readme.Code(section), " "), f) {
			t.Errorf("README does not list the global flag --%s", f.Name)
		}
	})
	for path, c := range commands {
		usage, ok := usages[path]
		if !ok {
			t.Errorf("README's command table has no row for %q", strings.TrimSpace("fineract-installer "+path))
			continue
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !global[f.Name] && !mentions(usage, f) {
				t.Errorf("README's usage %q does not name %s's flag --%s", usage, c.CommandPath(), f.Name)
			}
		})
		for _, m := range regexp.MustCompile(`(?:^|[\s\[|])--([a-z][a-z-]*)`).FindAllStringSubmatch(usage, -1) {
			if c.Flags().Lookup(m[1]) == nil && !global[m[1]] {
				t.Errorf("README's usage %q names --%s, which %s does not take", usage, m[1], c.CommandPath())
			}
		}
	}
	for path := range usages {
		if _, ok := commands[path]; !ok {
			t.Errorf("README's command table names %q, which the program does not have", path)
		}
	}
}

// jsonShape is the shape of the JSON encoding of t, from its json tags.
func jsonShape(t reflect.Type) *readme.Shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeOf(time.Time{}):
		return nil
	case t.Kind() == reflect.Struct:
		s := &readme.Shape{Fields: map[string]*readme.Shape{}}
		addFields(t, s)
		return s
	case t.Kind() == reflect.Map:
		return &readme.Shape{Map: jsonShape(t.Elem())}
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		return &readme.Shape{Elem: jsonShape(t.Elem())}
	}
	return nil
}

func addFields(t reflect.Type, s *readme.Shape) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			addFields(f.Type, s)
			continue
		}
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s.Fields[name] = jsonShape(f.Type)
	}
}

// compareShapes reports where a documented shape (README's, the JSON
// schema's) and the program's differ.
// Where the documentation does not detail a value (no shape, or ...), it is not
// compared.
func compareShapes(t *testing.T, where string, doc, code *readme.Shape) {
	t.Helper()
	switch {
	case doc == nil || doc.Open:
		return
	case code == nil:
		t.Errorf("%s: the documentation details a value the program writes as a plain value", where)
	case doc.Fields != nil || doc.Map == nil && doc.Elem == nil:
		var missing, extra []string
		for name := range code.Fields {
			if _, ok := doc.Fields[name]; !ok {
				missing = append(missing, name)
			}
		}
		for name := range doc.Fields {
			if _, ok := code.Fields[name]; !ok && name != "type" && name != "schema" {
				extra = append(extra, name)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 {
			t.Errorf("%s: the documentation does not name %q", where, missing)
		}
		if len(extra) > 0 {
			t.Errorf("%s: the documentation names %q, which the program does not write", where, extra)
		}
		for name, d := range doc.Fields {
			if c, ok := code.Fields[name]; ok {
				compareShapes(t, where+"."+name, d, c)
			}
		}
	case doc.Map != nil:
		compareShapes(t, where+"{}", doc.Map, code.Map)
	case doc.Elem != nil:
		compareShapes(t, where+"[]", doc.Elem, code.Elem)
	}
}

// README's JSON section documents exactly the fields each command writes:
// every field of the program's types, in their JSON names, and none it
// does not write (`backup verify` wrote Go's field names, `Version` and
// `FileID`, which README never named).
func TestREADMEJSONSectionMatchesTheProgram(t *testing.T) {
	types := map[string]any{
		typeEvent: steps.Event{}, typeError: errorRecord{}, typeBackup: backup.Written{},
		typeVaultShares: sharesRecord{}, typeCredentials: credentialsRecord{}, typeTenant: tenantRecord{},
		typeLog: compose.LogLine{}, typeStatus: statusDoc{}, typeChecklist: checklistRecord{},
		typeCertificates: pki.Inventory{}, typeRender: renderDoc{}, typeImagesBundle: imagesBundleDoc{},
		typeBackupVerify: verifyDoc{}, typeBackupSchedule: scheduleDoc{}, typeDiagnose: diagnoseDoc{}, typeVersion: BuildInfo{},
		typePlan: install.Changes{}, typeAuditEntry: auditEntryRecord{}, typeAuditVerify: auditVerifyDoc{},
		typeBackupList: backupListDoc{}, typeRepositoryVerify: repositoryVerifyDoc{}, typeBackupOffsite: offsiteCopyDoc{},
		typeKubeRender: kubeRenderDoc{}, typeKubePlan: kubePlanDoc{}, typeKubeStatus: kubeStatusDoc{},
	}
	recordType := regexp.MustCompile(`^\{(?:"schema",)?"type":"([a-z_]+)"`)
	found := map[string]bool{}
	for _, item := range readme.Items(loadREADME(t).Section("### JSON output")) {
		var form string
		for _, c := range readme.Code(item) {
			if strings.HasPrefix(c, "{") || strings.HasPrefix(c, "[") {
				form = c
				break
			}
		}
		if form == "" {
			continue
		}
		name := readme.Key(item)
		if m := recordType.FindStringSubmatch(strings.ReplaceAll(form, " ", "")); m != nil {
			name = m[1]
		}
		v, ok := types[name]
		if !ok {
			t.Errorf("README's JSON section documents %q, which no command writes", name)
			continue
		}
		found[name] = true
		shape, err := readme.ParseShape(form)
		if err != nil {
			t.Errorf("README's JSON form for %s: %v", name, err)
			continue
		}
		compareShapes(t, name, shape, jsonShape(reflect.TypeOf(v)))
	}
	for name := range types {
		if !found[name] {
			t.Errorf("README's JSON section does not document %s", name)
		}
	}
}
