package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"golang.org/x/sync/errgroup"
)

// Stream names a container output stream.
type Stream string

// The two streams of a container without a TTY.
const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
)

// ErrNoSuchService means a service name given by a person is not in the project.
var ErrNoSuchService = errors.New("unknown service")

// LogLine is one line a service printed.
type LogLine struct {
	Service string    `json:"service"`
	Stream  Stream    `json:"stream"`
	Time    time.Time `json:"time"`
	Text    string    `json:"text"`
}

// LogOptions select which log lines to read.
type LogOptions struct {
	// Services limits the output to these services (all when empty).
	Services []string
	// Tail is the number of lines per service from the end; 0 or less means all.
	Tail int
	// Since shows lines newer than this (RFC 3339 time, Unix timestamp, or a
	// Go duration like "10m" relative to now).
	Since string
	// Follow keeps streaming new lines until ctx is cancelled.
	Follow bool
}

// Logs streams the logs of a project's services to fn, demultiplexing
// stdout and stderr. fn is never called concurrently. With Follow it returns
// when ctx is cancelled (returning nil) or every container stopped.
func (e *Engine) Logs(ctx context.Context, project string, o LogOptions, fn func(LogLine)) error {
	cs, err := e.projectContainers(ctx, project, true)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, s := range o.Services {
		want[s] = true
	}
	known := map[string]bool{}
	var targets []struct{ service, id string }
	for _, c := range cs {
		svc := c.Labels[LabelService]
		known[svc] = true
		if len(want) == 0 || want[svc] {
			targets = append(targets, struct{ service, id string }{svc, c.ID})
		}
	}
	for s := range want {
		if !known[s] {
			names := make([]string, 0, len(known))
			for k := range known {
				names = append(names, k)
			}
			sort.Strings(names)
			return fmt.Errorf("%w: no service %q in project %s (services: %s)", ErrNoSuchService, s, project, strings.Join(names, ", "))
		}
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].service < targets[j].service })
	var mu sync.Mutex
	emit := func(l LogLine) {
		mu.Lock()
		defer mu.Unlock()
		fn(l)
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, t := range targets {
		g.Go(func() error { return e.containerLogs(gctx, t.service, t.id, o, emit) })
	}
	err = g.Wait()
	if err != nil && ctx.Err() != nil && o.Follow {
		return nil // the caller stopped following
	}
	return err
}

func (e *Engine) containerLogs(ctx context.Context, service, id string, o LogOptions, emit func(LogLine)) error {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Follow: o.Follow, Since: o.Since}
	if o.Tail > 0 {
		opts.Tail = strconv.Itoa(o.Tail)
	}
	rc, err := e.api.ContainerLogs(ctx, id, opts)
	if err != nil {
		return fmt.Errorf("logs of %s: %w", service, err)
	}
	defer rc.Close()
	stdout := newLineWriter(service, Stdout, emit)
	stderr := newLineWriter(service, Stderr, emit)
	_, err = stdcopy.StdCopy(stdout, stderr, rc)
	stdout.flush()
	stderr.flush()
	if err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
		return fmt.Errorf("read logs of %s: %w", service, err)
	}
	return nil
}

// tailLines returns the last n lines a container printed, oldest first,
// both streams interleaved by time.
func (e *Engine) tailLines(ctx context.Context, id string, n int) ([]string, error) {
	var lines []LogLine
	var mu sync.Mutex
	err := e.containerLogs(ctx, "", id, LogOptions{Tail: n}, func(l LogLine) {
		mu.Lock()
		lines = append(lines, l)
		mu.Unlock()
	})
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, l.Text)
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out, err
}

// lineWriter splits a demultiplexed stream into timestamped lines.
type lineWriter struct {
	service string
	stream  Stream
	emit    func(LogLine)
	buf     []byte
}

func newLineWriter(service string, s Stream, emit func(LogLine)) *lineWriter {
	return &lineWriter{service: service, stream: s, emit: emit}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}

// line parses the RFC 3339 timestamp the engine puts before each line.
func (w *lineWriter) line(s string) {
	s = strings.TrimSuffix(s, "\r")
	l := LogLine{Service: w.service, Stream: w.stream, Text: s}
	if ts, rest, ok := strings.Cut(s, " "); ok {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			l.Time, l.Text = t, rest
		}
	}
	w.emit(l)
}

var _ io.Writer = (*lineWriter)(nil)
