package validate

import (
	"context"
	"fmt"
	"strings"

	"github.com/fineract-installer/fineract-installer/steps/audit"
)

// AuditChecks verify the installation's audit log (package audit).
func AuditChecks() []Check {
	return []Check{
		{ID: "audit-log", Area: AreaAudit, Title: "The audit log's hash chain is intact", Controls: []Control{ControlLogging}, Run: checkAuditLog},
	}
}

// maxProblemsShown bounds the problems named in the evidence; audit
// verify lists them all.
const maxProblemsShown = 3

// checkAuditLog reads the audit log and checks its chain: no entry
// edited, deleted, inserted or reordered, no line cut short. Entries cut
// off the end leave a consistent chain; only a head kept elsewhere shows
// them (audit verify --expect-head), which the evidence says.
func checkAuditLog(_ context.Context, t *Target) Finding {
	data, err := audit.Read(t.Dir)
	if err != nil {
		return fail("cannot read the audit log: "+err.Error(), "keep the file as it is for review, then run `fineract-installer audit verify`")
	}
	rep := audit.Verify(data, nil)
	if !rep.OK() {
		var named []string
		for _, p := range rep.Problems {
			if p.Tampering() && len(named) < maxProblemsShown {
				named = append(named, p.Kind+": "+p.Detail)
			}
		}
		return fail(fmt.Sprintf("the log was changed after it was written: %s", strings.Join(named, "; ")),
			"keep the file as it is for review; `fineract-installer audit verify` lists every problem")
	}
	if len(rep.Entries) == 0 {
		return pass("no entries yet: the first is written when the first changing command (the install) ends")
	}
	return pass(fmt.Sprintf("%d entries, chain intact; head %d:%s (compare with a copy kept elsewhere: audit verify --expect-head)", len(rep.Entries), rep.Head.Seq, rep.Head.Hash))
}
