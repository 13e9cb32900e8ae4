package validate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/fineract-installer/fineract-installer/steps/audit"
	"github.com/fineract-installer/fineract-installer/steps/vault"
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
// them: every head kept in Vault must be in the chain (vault
// AuditHeads), or one kept elsewhere (audit verify --expect-head).
func checkAuditLog(ctx context.Context, t *Target) Finding {
	data, err := audit.Read(t.Dir)
	if err != nil {
		return fail("cannot read the audit log: "+err.Error(), "keep the file as it is for review, then run `fineract-installer audit verify`")
	}
	rep := audit.Verify(data, nil)
	kept, keptErr := t.vaultHeads(ctx)
	if kept != nil && (keptErr == nil || len(kept.Versions) > 0) {
		rep.CheckKept(*kept) // what was read hides nothing read before it
	}
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
	head := fmt.Sprintf("%d entries, chain intact; head %d:%s", len(rep.Entries), rep.Head.Seq, rep.Head.Hash)
	var unconfirmed string
	for _, p := range rep.Problems {
		if p.Kind == audit.ProblemUnconfirmed {
			unconfirmed = "; " + p.Detail
		}
	}
	switch {
	case keptErr != nil:
		return Finding{Status: Warn, Evidence: head + "; the heads kept in Vault could not be read: " + keptErr.Error(), Fix: "unseal Vault, then run `fineract-installer audit verify`"}
	case kept != nil && unconfirmed != "":
		return Finding{Status: Warn, Evidence: head + unconfirmed, Fix: "the next changing command that reaches an unsealed Vault keeps the head there; `fineract-installer audit verify` compares again"}
	case kept != nil:
		return pass(fmt.Sprintf("%s; every one of the %d heads kept in Vault is in the chain", head, len(kept.Versions)))
	}
	return pass(head + " (no head is kept in Vault yet: compare with a copy kept elsewhere, audit verify --expect-head)")
}

// vaultHeads reads every head kept in Vault with the installation's audit
// head token; nil when it has none. On an error, the heads read before
// it are returned with it.
func (t *Target) vaultHeads(ctx context.Context) (*audit.KeptHistory, error) {
	token, err := vault.ReadAuditHeadToken(t.installation().AuditHeadTokenFile())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if t.Vault == nil {
		return nil, errors.New("no way to reach Vault was given")
	}
	conn, err := t.Vault()
	if err != nil {
		return nil, err
	}
	h, err := conn.AuditHeads(ctx, token)
	return &h, err
}
