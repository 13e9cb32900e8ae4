package vault

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

// funcStep runs a function as a pipeline step.
type funcStep struct {
	id  string
	run func(ctx context.Context, emit steps.Emitter) error
}

func (s funcStep) ID() string                                        { return s.id }
func (s funcStep) Title() string                                     { return "Step " + s.id }
func (s funcStep) Check(context.Context) (bool, error)               { return false, nil }
func (s funcStep) Run(ctx context.Context, emit steps.Emitter) error { return s.run(ctx, emit) }

// The compose engine and the Vault client report through the emitter a
// runner gives a step, with no translation between them: what they say
// about the network created and the shares entered reaches the runner's
// sink whole (resource, action, status, counts and unit), stamped with
// the step's ID.
func TestEngineAndVaultEventsReachTheRunnerWhole(t *testing.T) {
	v := startLabVault(t)
	c := v.conn()
	e := labtest.Engine(t)
	project := labtest.Project(t, e)
	_, load := labtest.WriteProject(t, project, `
services:
  app:
    image: unused
    networks: [back]
networks:
  back:
    internal: true
`, nil)
	var got []steps.Event
	step := funcStep{id: "converge", run: func(ctx context.Context, emit steps.Emitter) error {
		if err := e.EnsureNetworks(ctx, load(), emit); err != nil {
			return err
		}
		res, err := c.Initialize(ctx, ProductionInit(), FileRecordStore{Path: filepath.Join(t.TempDir(), "record.json")}, func(context.Context, *InitResult) error { return nil }, emit)
		if err != nil {
			return err
		}
		_, err = c.UnsealWithShares(ctx, res.Keys[:ProductionInit().Threshold], emit)
		return err
	}}
	r := &steps.Runner{Plan: (&steps.Plan{}).Then(step), Events: func(ev steps.Event) { got = append(got, ev) }}
	if err := r.Run(testCtx(t)); err != nil {
		t.Fatal(err)
	}

	var network, unsealed *event.Event // the last of each
	for i, ev := range got {
		if ev.Time.IsZero() {
			t.Errorf("event without a time: %+v", ev)
		}
		if ev.Kind == event.KindProgress && ev.Step != "converge" {
			t.Errorf("event not stamped with its step: %+v", ev)
		}
		switch {
		case ev.Resource == event.ResourceNetwork && ev.Status == event.StatusDone:
			network = &got[i]
		case ev.Subject == eventSubject && ev.Unit == unitShares:
			unsealed = &got[i]
		}
	}
	wantNet := project + "_back"
	if network == nil || network.Kind != event.KindProgress || network.Step != "converge" || network.Action != event.ActionCreate || network.Subject != wantNet {
		t.Errorf("want the creation of network %s as a progress event of step converge, got %+v in %+v", wantNet, network, got)
	}
	threshold := int64(ProductionInit().Threshold)
	if unsealed == nil || unsealed.Kind != event.KindProgress || unsealed.Step != "converge" || unsealed.Current != threshold || unsealed.Total != threshold {
		t.Errorf("want the unseal as %d of %d shares in step converge, got %+v in %+v", threshold, threshold, unsealed, got)
	}
}
