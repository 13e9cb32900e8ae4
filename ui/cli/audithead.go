package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/audit"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/vault"
)

// Bounds of the work with Vault after an entry is written, and when the
// log is verified (one request per kept head): a command never hangs on
// it.
const (
	vaultHeadTimeout   = time.Minute
	vaultVerifyTimeout = 5 * time.Minute
)

// errNoHeadToken says the installation has no audit head token (made by
// the install's Vault setup, or by a later key holders' ceremony).
var errNoHeadToken = errors.New("no audit head token")

// headVault connects to the installation's Vault with the audit head
// token; errNoHeadToken when there is none.
func headVault(ctx context.Context, a *app, dir string) (*vault.Conn, string, func(), error) {
	inst, err := installation.Open(dir)
	if err != nil {
		return nil, "", nil, err
	}
	token, err := vault.ReadAuditHeadToken(inst.AuditHeadTokenFile())
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", nil, errNoHeadToken
	}
	if err != nil {
		return nil, "", nil, err
	}
	if inst.Project == "" {
		inst.Project = a.project
	}
	e, err := a.f.Engine(ctx)
	if err != nil {
		return nil, "", nil, err
	}
	conn, err := install.VaultConnOf(inst, e)
	if err != nil {
		e.Close()
		return nil, "", nil, err
	}
	return conn, token, func() { e.Close() }, nil
}

// keepHead writes head to Vault with the audit head token, when the
// installation has one. It never fails the command: the entry is in the
// log, and the next command that reaches Vault writes a head that covers
// it. A failure is a warning saying so.
func (t *auditTrail) keepHead(ctx context.Context, head audit.Head) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), vaultHeadTimeout)
	defer cancel()
	conn, token, done, err := headVault(ctx, t.a, t.dir)
	if errors.Is(err, errNoHeadToken) {
		return
	}
	if err == nil {
		defer done()
		err = conn.KeepAuditHead(ctx, token, head)
	}
	if err != nil {
		t.a.printer().emitter("audit").Warn(fmt.Sprintf(
			"audit entry %d is in the log but its head was not kept in Vault (%v): the next command that reaches an unsealed Vault keeps a head covering it; "+
				"if the token expired or was revoked, the next command run with the key holders' shares (unseal after a reboot, restore) makes a new one", head.Seq, err))
	}
}

// vaultCheck is what audit verify and validate learned from Vault.
type vaultCheck struct {
	// Kept says the installation keeps its head in Vault.
	Kept bool
	// Versions is the number of heads compared; Err why none were.
	Versions int
	Err      error
}

// checkVaultHeads compares rep with every head kept in Vault, when the
// installation keeps them. A Vault that cannot be read leaves the log
// unconfirmed, which rep says.
func checkVaultHeads(ctx context.Context, a *app, rep *audit.Report) vaultCheck {
	ctx, cancel := context.WithTimeout(ctx, vaultVerifyTimeout)
	defer cancel()
	conn, token, done, err := headVault(ctx, a, a.dir)
	if errors.Is(err, errNoHeadToken) {
		return vaultCheck{}
	}
	var h audit.KeptHistory
	if err == nil {
		defer done()
		h, err = conn.AuditHeads(ctx, token)
	}
	if err != nil {
		// What was read is compared all the same: a version that cannot
		// be read hides nothing read before it.
		if len(h.Versions) > 0 {
			rep.CheckKept(h)
		}
		rep.Problems = append(rep.Problems, audit.Problem{Kind: audit.ProblemUnconfirmed,
			Detail: fmt.Sprintf("the heads kept in Vault could not all be read (%v): %d were compared; unseal Vault and verify again", err, len(h.Versions))})
		return vaultCheck{Kept: true, Err: err}
	}
	rep.CheckKept(h)
	return vaultCheck{Kept: true, Versions: len(h.Versions)}
}
