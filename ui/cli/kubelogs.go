package cli

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
)

// kubeLogsOptions are `logs --target kubernetes`'s choices.
type kubeLogsOptions struct {
	compose.LogOptions
	timestamps     bool
	initContainers bool
}

// runLogsKube reads the stack's pod logs through the API server (which
// has each node's kubelet send them). Lines come out as the Docker
// target's do, with SERVICE/POD in the service column (and /CONTAINER
// for a container other than the service's own) and every line marked
// stdout: the API gives a container's stdout and stderr as one stream.
func runLogsKube(cmd *cobra.Command, a *app, src answersSource, t targetFlags, o kubeLogsOptions) error {
	ctx := cmd.Context()
	opts := kubeapply.LogOptions{Services: o.Services, Follow: o.Follow, InitContainers: o.initContainers}
	if o.Tail > 0 {
		opts.TailLines = int64(o.Tail)
	}
	if o.Since != "" {
		var err error
		if opts.SinceSeconds, opts.SinceTime, err = kubeSince(o.Since); err != nil {
			return err
		}
	}
	_, m, c, err := kubeStack(cmd, a, src, t)
	if err != nil {
		return err
	}
	targets, err := c.LogTargets(ctx, kubeapply.LogServices(m.Objects), opts)
	if errors.Is(err, kubeapply.ErrUnknownService) {
		return withCode(ExitUsage, err)
	}
	if err != nil {
		return err
	}
	p := a.printer()
	width := 0
	for _, t := range targets {
		width = max(width, len(kubeLogName(t)))
	}
	line := func(l kubeapply.LogLine) compose.LogLine {
		return compose.LogLine{Service: kubeLogName(l.LogTarget), Stream: compose.Stdout, Time: l.Time, Text: l.Text}
	}
	if o.Follow {
		return c.Logs(ctx, targets, opts, func(l kubeapply.LogLine) { p.logLine(line(l), width, o.timestamps) })
	}
	// Without follow, interleave the pods' lines by time, as the Docker
	// target does its containers'.
	var lines []compose.LogLine
	if err := c.Logs(ctx, targets, opts, func(l kubeapply.LogLine) { lines = append(lines, line(l)) }); err != nil {
		return err
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
	for _, l := range lines {
		p.logLine(l, width, o.timestamps)
	}
	return nil
}

// kubeLogName is a log line's service column: SERVICE/POD, and
// SERVICE/POD/CONTAINER for a container not named after the service (the
// Vault agent's init container).
func kubeLogName(t kubeapply.LogTarget) string {
	if t.Container == t.Service {
		return t.Service + "/" + t.Pod
	}
	return t.Service + "/" + t.Pod + "/" + t.Container
}

// kubeSince reads --since for the API's PodLogOptions: a duration becomes
// sinceSeconds (rounded up to whole seconds, so no line asked for is
// left out); a time (RFC 3339, or Unix seconds as the Docker target
// takes) becomes sinceTime.
func kubeSince(s string) (seconds int64, at time.Time, err error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return 0, time.Time{}, usageError("--since %q: give a duration above zero, like 10m", s)
		}
		return int64(math.Ceil(d.Seconds())), time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return 0, t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && !math.IsInf(f, 0) {
		sec, frac := math.Modf(f)
		return 0, time.Unix(int64(sec), int64(frac*1e9)), nil
	}
	return 0, time.Time{}, usageError("--since %q is neither a duration (10m) nor a time (2026-01-02T15:04:05Z or Unix seconds)", s)
}
