package install

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/elastic"
)

// LogRetentionStep makes Elasticsearch keep container logs as long as the
// answers' log_retention_days say: an ILM policy and an index template
// for the log data stream (assets.LogStore says why Logstash cannot do
// it). Without the logging group there is nothing to do.
type LogRetentionStep struct{ Env *Env }

// ID implements steps.Step.
func (s LogRetentionStep) ID() string { return "log-retention" }

// Title implements steps.Step.
func (s LogRetentionStep) Title() string { return "Set how long Elasticsearch keeps logs" }

// Check implements steps.Step: done when Elasticsearch already holds the
// policy, the template and the policy on every backing index.
func (s LogRetentionStep) Check(ctx context.Context) (bool, error) {
	logs := s.Env.Bundle.Logs
	if logs == nil {
		return true, nil
	}
	c, err := s.Env.elasticClient(ctx)
	if err != nil {
		return false, nil
	}
	r, err := elastic.ReadRetention(ctx, c, *logs)
	if err != nil {
		return false, nil
	}
	return len(r.Problems(*logs)) == 0, nil
}

// Run implements steps.Step.
func (s LogRetentionStep) Run(ctx context.Context, emit steps.Emitter) error {
	logs := s.Env.Bundle.Logs
	if logs == nil {
		return nil
	}
	c, err := s.Env.elasticClient(ctx)
	if err != nil {
		return steps.Fail(err, "run `fineract-installer unseal` if the host restarted (it delivers the secrets again), then `fineract-installer install` again")
	}
	if err := elastic.ApplyRetention(ctx, c, *logs); err != nil {
		return steps.Fail(err, "see `fineract-installer logs elasticsearch`; the step is safe to rerun with `fineract-installer install`")
	}
	emit.Info(elastic.Service, fmt.Sprintf("logs in %s are deleted %d days after rollover (ILM policy %s)", logs.DataStream, logs.RetentionDays, logs.Policy))
	return nil
}

func (env *Env) elasticClient(ctx context.Context) (*elastic.Client, error) {
	svc, ok := env.Bundle.Service(elastic.Service)
	if !ok {
		return nil, fmt.Errorf("the stack has no %s service", elastic.Service)
	}
	ca, err := os.ReadFile(filepath.Join(env.PKIDir(), "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("read the stack's CA: %w", err)
	}
	return elastic.Connect(ctx, env.Engine, env.Project, svc, ca, env.SecretsDir)
}
