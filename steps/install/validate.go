package install

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/validate"
	"github.com/fineract-installer/fineract-installer/steps/vault"
)

// ValidationTarget describes the installation for the checklist.
func (env *Env) ValidationTarget() (*validate.Target, error) {
	ca, err := os.ReadFile(filepath.Join(env.PKIDir(), "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("read the stack's CA: %w", err)
	}
	// A missing chain fails the gateway's check, not the whole checklist.
	gateway, _ := os.ReadFile(filepath.Join(env.PKIDir(), env.publicCert()+".crt"))
	nets := map[string]string{}
	for _, svc := range env.Bundle.Services {
		for _, role := range svc.Networks {
			nets[role] = env.Answers.Network.Segments()[role].Name
		}
	}
	return &validate.Target{
		Engine: env.Engine, Project: env.Project, Expect: env.Bundle, Networks: nets,
		Answers: env.Answers, CA: ca, GatewayChain: gateway, Dir: env.Dir, SecretsDir: env.SecretsDir,
		Vault:       env.VaultConn,
		VaultRecord: func(ctx context.Context) (vault.Record, error) { return env.RecordStore().Load(ctx) },
	}, nil
}

// ValidateStep runs the checklist at the end of an install: the install
// is done only when the running system proves what it claims.
type ValidateStep struct {
	Env *Env
	// Results receives the checklist, for the final screen or report.
	Results func([]validate.Result)
}

// ID implements steps.Step.
func (s ValidateStep) ID() string { return "validate" }

// ChangesInEvents says the checklist only observes: that it ran is no
// change for the audit log (audit.ChangesInEvents).
func (ValidateStep) ChangesInEvents() bool { return true }

// Title implements steps.Step.
func (s ValidateStep) Title() string { return "Prove the security claims on the running system" }

// Check always runs the checklist again.
func (s ValidateStep) Check(context.Context) (bool, error) { return false, nil }

// ObservesOnly says that the step runs every time and changes nothing, so
// a plan does not count it as a change.
func (s ValidateStep) ObservesOnly() bool { return true }

// Run implements steps.Step.
func (s ValidateStep) Run(ctx context.Context, emit steps.Emitter) error {
	t, err := s.Env.ValidationTarget()
	if err != nil {
		return err
	}
	rs := validate.Run(ctx, t, validate.All())
	if s.Results != nil {
		s.Results(rs)
	}
	for i, r := range rs {
		switch r.Status {
		case validate.Pass:
			emit.Progress(r.Title, int64(i+1), int64(len(rs)), "checks", "pass")
		case validate.Warn:
			emit.Warn(fmt.Sprintf("%s: %s; %s", r.Title, r.Evidence, r.Fix))
		case validate.Fail:
			emit.Warn(fmt.Sprintf("FAIL %s: %s", r.Title, r.Evidence))
		}
	}
	if _, _, failed := validate.Summary(rs); failed > 0 {
		return &steps.Failure{Cause: fmt.Sprintf("%d of %d checks failed", failed, len(rs)), Hint: "`fineract-installer validate` shows each with its evidence and fix"}
	}
	return nil
}
