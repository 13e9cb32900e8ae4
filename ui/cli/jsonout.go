package cli

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// schemaVersion is the version of the JSON output contract, written as
// "schema" in every object. ui/cli/schema/output.schema.json documents
// every type; raise the version when a field changes meaning or goes away
// (adding an optional field keeps it).
const schemaVersion = 1

// The "type" of every object the JSON output writes.
const (
	typeEvent            = "event"             // a pipeline event (steps.Event)
	typeLog              = "log"               // a service log line (logs)
	typeError            = "error"             // a command's error, on stderr
	typeChecklist        = "checklist"         // validation results (validate, install, restore)
	typeVersion          = "version"           // version
	typeStatus           = "status"            // status
	typeRender           = "render"            // render
	typeDiagnose         = "diagnose"          // diagnose
	typeBackup           = "backup"            // backup: the file written
	typeBackupVerify     = "backup_verify"     // backup verify
	typeBackupSchedule   = "backup_schedule"   // backup schedule
	typeBackupOffsite    = "backup_offsite"    // backup offsite copy
	typeBackupList       = "backup_list"       // backup list: the repository
	typeRepositoryVerify = "repository_verify" // backup verify without FILE
	typeKubeRender       = "kube_render"       // render --target kubernetes
	typeKubePlan         = "kube_plan"         // plan --target kubernetes
	typeKubeStatus       = "kube_status"       // status --target kubernetes
	typeCertificates     = "certificates"      // certs show
	typeImagesBundle     = "images_bundle"     // images bundle
	typeTenant           = "tenant"            // tenants list, one per tenant
	typeVaultShares      = "vault_shares"      // install: the encrypted unseal key shares
	typeCredentials      = "credentials"       // install, credentials: the handout written
	typePlan             = "plan"              // plan: what install would change
	typeAuditEntry       = "audit_entry"       // audit show, one per entry
	typeAuditVerify      = "audit_verify"      // audit verify
)

// jsonRecord marshals v, which must be a JSON object, as one line with
// "schema" and "type" first.
func jsonRecord(kind string, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s as JSON: %w", kind, err)
	}
	if len(body) < 2 || body[0] != '{' {
		return nil, fmt.Errorf("encode %s as JSON: %T is not an object", kind, v)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"schema":%d,"type":%q`, schemaVersion, kind)
	if len(body) > 2 {
		b.WriteByte(',')
	}
	b.Write(body[1:])
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// errorRecord is a command's error in JSON: the same cause, hint and last
// log lines the text shows, and the exit code.
type errorRecord struct {
	Cause    string   `json:"cause"`
	Hint     string   `json:"hint,omitempty"`
	Subject  string   `json:"subject,omitempty"`
	Logs     []string `json:"logs,omitempty"`
	ExitCode int      `json:"exit_code"`
}

// checklistRecord is the validation checklist in JSON.
type checklistRecord struct {
	Pass    int               `json:"pass"`
	Warn    int               `json:"warn"`
	Fail    int               `json:"fail"`
	Results []validate.Result `json:"results"`
}

func newChecklistRecord(rs []validate.Result) checklistRecord {
	pass, warn, fail := validate.Summary(rs)
	if rs == nil {
		rs = []validate.Result{}
	}
	return checklistRecord{Pass: pass, Warn: warn, Fail: fail, Results: rs}
}
