package validate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/elastic"
)

// LoggingChecks prove the logging group end to end: a line a service
// writes reaches Elasticsearch, and Elasticsearch keeps logs as long as
// the answers say.
func LoggingChecks() []Check {
	logging := []Control{ControlLogging}
	return []Check{
		{ID: "logging-delivery", Area: AreaLogging, Group: answers.GroupLogging, Controls: logging,
			Title: "A line Fineract writes reaches Elasticsearch within a minute", Run: checkLogDelivery},
		{ID: "logging-retention", Area: AreaLogging, Group: answers.GroupLogging, Controls: logging,
			Title: "Elasticsearch keeps logs as long as log_retention_days says", Run: checkLogRetention},
	}
}

// logDeliveryWait is how long a line may take from a container's stdout
// through Filebeat and Logstash into Elasticsearch.
const logDeliveryWait = 60 * time.Second

// logProbeService is the service whose log the delivery check writes to:
// the one whose logs matter most.
const logProbeService = "fineract"

func (t *Target) elastic(ctx context.Context) (*elastic.Client, error) {
	svc, ok := t.Expect.Service(elastic.Service)
	if !ok {
		return nil, errors.New("the stack has no Elasticsearch")
	}
	if t.CA == nil {
		return nil, errors.New("the stack's CA certificate is not available")
	}
	return elastic.Connect(ctx, t.Engine, t.Project, svc, t.CA, t.SecretsDir)
}

// checkLogDelivery writes a uniquely marked line to the standard output of
// Fineract's main process, as if Fineract had logged it, and polls
// Elasticsearch until a document holds it.
func checkLogDelivery(ctx context.Context, t *Target) Finding {
	logs := t.Expect.Logs
	if logs == nil {
		return fail("the rendered stack has no log store", "render the stack again with the logging group")
	}
	svc, ok := t.Expect.Service(logProbeService)
	if !ok {
		return fail("the stack has no "+logProbeService+" service", "")
	}
	c, err := t.elastic(ctx)
	if err != nil {
		return fail("cannot reach Elasticsearch: "+err.Error(), "run `fineract-installer unseal` if the host restarted")
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	mark := "fineract-installer-log-probe-" + hex.EncodeToString(b[:])
	// /proc/1/fd/1 is the container's log pipe: the line goes exactly
	// where Fineract's own output goes.
	res, err := t.Engine.Exec(ctx, t.Project, logProbeService, svc.User(),
		[]string{"/bin/sh", "-c", `printf '%s\n' "$1" > /proc/1/fd/1`, "sh", mark}, nil, nil)
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("exited %d: %s", res.ExitCode, strings.TrimSpace(res.Stderr))
	}
	if err != nil {
		return fail("write the probe line to "+logProbeService+"'s log: "+err.Error(), "check that "+logProbeService+" runs: `fineract-installer status`")
	}
	written := time.Now()
	wait, cancel := context.WithTimeout(ctx, logDeliveryWait)
	defer cancel()
	var lastErr error
	for {
		n, err := elastic.Count(wait, c, logs.DataStream, mark)
		if err == nil && n > 0 {
			return pass(fmt.Sprintf("%q written to %s's log reached %s after %s", mark, logProbeService, logs.DataStream,
				time.Since(written).Round(time.Second)))
		}
		if err != nil && !elastic.IsNotFound(err) {
			lastErr = err
		}
		select {
		case <-wait.Done():
			evidence := fmt.Sprintf("%q written to %s's log was not in %s after %s", mark, logProbeService, logs.DataStream, logDeliveryWait)
			if lastErr != nil && !errors.Is(lastErr, context.DeadlineExceeded) {
				evidence += "; last search: " + lastErr.Error()
			}
			return fail(evidence, "check that filebeat and logstash run and are healthy (`fineract-installer status`) and read `fineract-installer logs filebeat logstash`")
		case <-time.After(2 * time.Second):
		}
	}
}

// checkLogRetention compares Elasticsearch's ILM policy, index template and
// the log data stream's indices with the answers' log_retention_days.
func checkLogRetention(ctx context.Context, t *Target) Finding {
	logs := t.Expect.Logs
	if logs == nil {
		return fail("the rendered stack has no log store", "render the stack again with the logging group")
	}
	c, err := t.elastic(ctx)
	if err != nil {
		return fail("cannot reach Elasticsearch: "+err.Error(), "run `fineract-installer unseal` if the host restarted")
	}
	r, err := elastic.ReadRetention(ctx, c, *logs)
	if err != nil {
		return fail(err.Error(), "see `fineract-installer logs elasticsearch`")
	}
	if problems := r.Problems(*logs); len(problems) > 0 {
		return fail(strings.Join(problems, "; "), "run `fineract-installer install` again: its log-retention step sets them from log_retention_days")
	}
	return pass(fmt.Sprintf("ILM policy %s deletes after %s (log_retention_days %d); template %s and %d index(es) of %s use it",
		logs.Policy, r.DeleteAfter, logs.RetentionDays, logs.Template, len(r.Indices), logs.DataStream))
}
