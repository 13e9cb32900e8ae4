package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/validate"
	"github.com/fineract-installer/fineract-installer/steps/vault"
	"github.com/fineract-installer/fineract-installer/ui/tui"
)

// script is a pipeline that does no work: it emits the events a real
// install emits, in order, with pauses, and runs the Vault custody action
// it is given with made-up shares.
type script struct {
	pace      time.Duration
	failOnce  bool
	attempts  int
	done      map[string]bool
	custody   vault.Custody
	shares    int
	threshold int
}

func (s *script) steps() []tui.StepInfo {
	return []tui.StepInfo{
		{ID: "preflight", Title: "Check the host"},
		{ID: "install-dir", Title: "Prepare the install directory"},
		{ID: "images", Title: "Make the container images available"},
		{ID: "certificates", Title: "Issue certificates"},
		{ID: "vault", Title: "Initialise Vault and deliver secrets"},
		{ID: "services", Title: "Start the services"},
	}
}

func (s *script) run(ctx context.Context, emit func(steps.Event)) error {
	s.attempts++
	if s.done == nil {
		s.done = map[string]bool{}
	}
	for _, st := range s.steps() {
		if s.done[st.ID] {
			emit(steps.Event{Kind: steps.KindSkipped, Step: st.ID, Title: st.Title, Message: "already done"})
			continue
		}
		begin := time.Now()
		emit(steps.Event{Kind: steps.KindStarted, Step: st.ID, Title: st.Title})
		if err := s.body(ctx, st.ID, emit); err != nil {
			ev := steps.Event{Kind: steps.KindFailed, Step: st.ID, Title: st.Title, Elapsed: time.Since(begin), Cause: err.Error()}
			var f *steps.Failure
			if errors.As(err, &f) {
				ev.Cause, ev.Hint, ev.Logs, ev.Subject = f.Cause, f.Hint, f.Logs, "fineract"
			}
			emit(ev)
			return &steps.StepError{Step: st.ID, Err: err}
		}
		s.done[st.ID] = true
		emit(steps.Event{Kind: steps.KindDone, Step: st.ID, Title: st.Title, Elapsed: time.Since(begin)})
	}
	return nil
}

func (s *script) wait(ctx context.Context) error {
	select {
	case <-time.After(s.pace):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *script) body(ctx context.Context, id string, emit func(steps.Event)) error {
	switch id {
	case "images":
		const total = 742 << 20
		for i := int64(1); i <= 4; i++ {
			emit(steps.Event{Kind: steps.KindProgress, Step: id, Subject: "apache/fineract:1.10.1", Current: total * i / 4, Total: total, Unit: "bytes", Message: "pull"})
			if err := s.wait(ctx); err != nil {
				return err
			}
		}
	case "vault":
		for i := 1; i <= 5; i++ {
			emit(steps.Event{Kind: steps.KindLog, Step: id, Subject: "vault", Stream: "stdout", Message: fmt.Sprintf("[INFO]  core: post-unseal setup step %d complete", i)})
		}
		if s.custody != nil {
			r := &vault.InitResult{Keys: shareValues(s.shares), Shares: s.shares, Threshold: s.threshold}
			if err := s.custody(ctx, r); err != nil {
				return err
			}
		}
	case "services":
		for i := 1; i <= 40; i++ {
			stream := "stdout"
			if i%9 == 0 {
				stream = "stderr"
			}
			emit(steps.Event{Kind: steps.KindLog, Step: id, Subject: "fineract", Stream: stream,
				Message: fmt.Sprintf("liquibase: applying changeset %d of 40", i)})
		}
		if s.failOnce && s.attempts == 1 {
			return &steps.Failure{Cause: "service fineract did not become healthy within 15m0s",
				Hint: "see `fineract-installer logs fineract`; after fixing the cause, run the same command again",
				Logs: []string{"ERROR o.a.f.i.c.TenantDatabaseUpgradeService: connection to postgres:5432 refused"}}
		}
		emit(steps.Event{Kind: steps.KindProgress, Step: id, Subject: "fineract", Current: 5, Total: 5, Unit: "services", Message: "fineract is ready"})
	}
	return s.wait(ctx)
}

func summary(context.Context) tui.Summary {
	now := time.Now()
	return tui.Summary{
		GatewayURL: "https://bank-core-01/fineract-provider/api/v1",
		WebAppURL:  "https://bank-core-01/",
		Unseal:     "fineract-installer unseal",
		Backups:    "/opt/fineract-stack/backups",
		Checks: []validate.Result{
			{ID: "tls-gateway", Area: validate.AreaTLS, Title: "Gateway accepts TLS 1.3 only", Status: validate.Pass, Evidence: "TLS 1.3 handshake; TLS 1.2 refused", Observed: now},
			{ID: "vault-sealed", Area: validate.AreaVault, Title: "Vault unsealed, audit on", Status: validate.Pass, Evidence: "sealed=false, 1 audit device", Observed: now},
			{ID: "backup-recent", Area: validate.AreaBackups, Title: "A backup exists", Status: validate.Warn, Evidence: "no backup yet", Fix: "run fineract-installer backup", Observed: now},
		},
	}
}
