package cli

import (
	"github.com/fineract-installer/fineract-installer/steps/backup"

	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/readme"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/pki"
	"github.com/fineract-installer/fineract-installer/ui/cli/schema"
)

// checkJSON holds both streams of a command run with -o json to the
// contract, and returns the error object on stderr, if any.
func checkJSON(t *testing.T, r result) *errorRecord {
	t.Helper()
	if err := schema.Check([]byte(r.out)); err != nil {
		t.Errorf("stdout breaks the JSON contract: %v", err)
	}
	if err := schema.Check([]byte(r.err)); err != nil {
		t.Errorf("stderr breaks the JSON contract: %v", err)
	}
	if r.err == "" {
		return nil
	}
	var x struct {
		Type string `json:"type"`
		errorRecord
	}
	if err := json.Unmarshal([]byte(r.err), &x); err != nil || x.Type != typeError {
		t.Errorf("stderr is not one error object: %v\n%s", err, r.err)
		return nil
	}
	return &x.errorRecord
}

// Every command that needs no engine writes, with -o json, only objects
// the schema documents, on stdout and stderr alike; a failing one writes
// its error as an error object with its exit code.
func TestJSONOutputOfCommandsWithoutAnEngine(t *testing.T) {
	dir := t.TempDir()
	answersFile := filepath.Join(dir, "answers.yaml")
	if r := run(t, "", "answers", "init", "--profile", "demo"); r.code != 0 {
		t.Fatalf("answers init: exit %d %s", r.code, r.err)
	} else if err := os.WriteFile(answersFile, []byte(r.out), 0o600); err != nil {
		t.Fatal(err)
	}
	pkiDir := filepath.Join(dir, "stack")
	cases := []struct {
		name string
		args []string
		code int
		// want is the type of the last object on stdout, when it succeeds.
		want string
	}{
		{"version", []string{"version"}, 0, typeVersion},
		{"render", []string{"render", "--demo", "--out", filepath.Join(dir, "rendered")}, 0, typeRender},
		{"certs generate", []string{"certs", "generate", "--answers", answersFile, "--dir", pkiDir}, 0, typeEvent},
		{"certs show", []string{"certs", "show", "--dir", pkiDir}, 0, typeCertificates},
		{"answers init", []string{"answers", "init"}, ExitUsage, ""},
		{"render without answers", []string{"render", "--out", filepath.Join(dir, "none")}, ExitUsage, ""},
		{"a bad project name", []string{"status", "--project", "Not A Name"}, ExitUsage, ""},
		{"an extra argument", []string{"version", "extra"}, ExitUsage, ""},
		{"an answers file that is not there", []string{"install", "--answers", filepath.Join(dir, "missing.yaml"), "--yes"}, ExitUsage, ""},
		{"certs of no installation", []string{"certs", "show", "--dir", filepath.Join(dir, "nothing")}, ExitUsage, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, "", append(c.args, "-o", "json")...)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, c.code, r.out, r.err)
			}
			x := checkJSON(t, r)
			if c.code != 0 {
				if x == nil || x.ExitCode != c.code || x.Cause == "" {
					t.Errorf("want an error object with exit code %d on stderr: %+v\n%s", c.code, x, r.err)
				}
				return
			}
			lines := strings.Split(strings.TrimSpace(r.out), "\n")
			var last struct{ Type string }
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Type != c.want {
				t.Errorf("last object is %q, want %q: %v\n%s", last.Type, c.want, err, r.out)
			}
		})
	}
}

// Events of every kind, a service's log line and a failure, as the
// printer writes them in JSON, are what the schema documents.
func TestJSONEventsAndErrorsFollowTheContract(t *testing.T) {
	var b strings.Builder
	p := newPrinter(&b, formatJSON, false)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, e := range []steps.Event{
		{Time: at, Kind: steps.KindStarted, Step: "images", Title: "Make the container images available"},
		{Time: at, Kind: steps.KindProgress, Step: "images", Subject: "hashicorp/vault:1.21.4", Current: 10, Total: 20, Unit: "bytes", Message: "pulling"},
		{Time: at, Kind: steps.KindLog, Step: "services", Subject: "vault", Stream: "stderr", Message: "sealed"},
		{Time: at, Kind: steps.KindWarning, Step: "services", Message: "slow disk"},
		{Time: at, Kind: steps.KindSkipped, Step: "install-dir", Title: "Prepare the install directory", Message: "already done"},
		{Time: at, Kind: steps.KindDone, Step: "images", Title: "Make the container images available", Elapsed: time.Second},
		{Time: at, Kind: steps.KindFailed, Step: "services", Title: "Start the services", Cause: "vault is unhealthy", Hint: "run logs vault",
			Subject: "vault", Logs: []string{"a", "b"}, Elapsed: time.Second},
		{Kind: steps.KindProgress, Step: "backup", Subject: "volume"}, // the printer stamps the time
	} {
		p.stepEvent(e)
	}
	p.logLine(compose.LogLine{Service: "vault", Stream: compose.Stderr, Time: at, Text: "sealed"}, 0, false)
	p.explanation(steps.Explain(steps.Fail(errors.New("vault is sealed"), "run unseal")), ExitFailed)
	if err := p.checklist(nil); err != nil {
		t.Fatal(err)
	}
	if err := schema.Check([]byte(b.String())); err != nil {
		t.Errorf("%v\n%s", err, b.String())
	}
	if n := strings.Count(b.String(), `{"schema":1,"type":`); n != 11 {
		t.Errorf("%d of 11 objects start with the schema and type:\n%s", n, b.String())
	}
}

// The schema documents exactly the fields of every object the program
// writes, nested ones included, as each type's JSON encoding has them:
// a field added to one of these types without the schema, or left in the
// schema when the type drops it, fails here even where no test can run
// the command (status, diagnose, backup verify need an installation).
func TestSchemaDocumentsEveryFieldTheProgramWrites(t *testing.T) {
	types := map[string]any{
		typeEvent: steps.Event{}, typeLog: compose.LogLine{}, typeError: errorRecord{}, typeChecklist: checklistRecord{},
		typeVersion: BuildInfo{}, typeStatus: statusDoc{}, typeRender: renderDoc{}, typeDiagnose: diagnoseDoc{},
		typeBackup: backup.Written{}, typeBackupVerify: verifyDoc{}, typeBackupSchedule: scheduleDoc{}, typeBackupOffsite: offsiteCopyDoc{},
		typeCertificates: pki.Inventory{}, typeImagesBundle: imagesBundleDoc{}, typeTenant: tenantRecord{},
		typeVaultShares: sharesRecord{}, typeCredentials: credentialsRecord{}, typePlan: install.Changes{},
		typeAuditEntry: auditEntryRecord{}, typeAuditVerify: auditVerifyDoc{},
		typeBackupList: backupListDoc{}, typeRepositoryVerify: repositoryVerifyDoc{},
		typeKubeRender: kubeRenderDoc{}, typeKubePlan: kubePlanDoc{}, typeKubeStatus: kubeStatusDoc{},
	}
	var doc struct {
		Properties struct {
			Type struct{ Enum []string }
		}
		Defs map[string]schemaNode `json:"$defs"`
	}
	if err := json.Unmarshal(schema.File, &doc); err != nil {
		t.Fatal(err)
	}
	for _, name := range doc.Properties.Type.Enum {
		if _, ok := types[name]; !ok {
			t.Errorf("the schema documents type %q, which the program does not write", name)
		}
	}
	for name, v := range types {
		def, ok := doc.Defs[name]
		if !ok || !strings.Contains(strings.Join(doc.Properties.Type.Enum, " "), name) {
			t.Errorf("the schema does not document type %q", name)
			continue
		}
		shape := def.shape()
		if shape.Fields["schema"] == nil || shape.Fields["type"] == nil {
			t.Errorf("%s: the schema's object has no schema or type field", name)
		}
		delete(shape.Fields, "schema")
		delete(shape.Fields, "type")
		compareShapes(t, "schema "+name, shape, jsonShape(reflect.TypeOf(v)))
	}
}

// schemaNode is the part of a JSON Schema that says an object's fields.
type schemaNode struct {
	Type                 any                   `json:"type"`
	Ref                  string                `json:"$ref"`
	Properties           map[string]schemaNode `json:"properties"`
	Items                *schemaNode           `json:"items"`
	AdditionalProperties json.RawMessage       `json:"additionalProperties"`
}

// shape is the node in readme.Shape form, for compareShapes.
func (n schemaNode) shape() *readme.Shape {
	switch {
	case n.Properties != nil:
		s := &readme.Shape{Fields: map[string]*readme.Shape{}}
		for name, p := range n.Properties {
			s.Fields[name] = p.shape()
			if s.Fields[name] == nil {
				s.Fields[name] = &readme.Shape{Open: true}
			}
		}
		return s
	case n.Items != nil:
		return &readme.Shape{Elem: n.Items.shape()}
	case len(n.AdditionalProperties) > 0 && n.AdditionalProperties[0] == '{':
		var m schemaNode
		if json.Unmarshal(n.AdditionalProperties, &m) == nil {
			return &readme.Shape{Map: m.shape()}
		}
	}
	return nil
}
