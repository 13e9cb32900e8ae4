package kubeapply

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/steps"
)

// ErrUnknownService marks a service name that is not one of the stack's:
// bad input.
var ErrUnknownService = errors.New("unknown service")

// LogService is one service of the stack: where its pods run and the
// labels that pick them.
type LogService struct {
	Name      string
	Namespace string
	// Project is the app.kubernetes.io/part-of value of its pods.
	Project string
}

// LogServices lists the services that have a workload among objs (the
// rendered manifests), sorted by name. Fineract's write, read and batch
// workloads are one service: their pods share its name label.
func LogServices(objs []*unstructured.Unstructured) []LogService {
	seen := map[string]bool{}
	var out []LogService
	for _, o := range objs {
		if o.GroupVersionKind().Group != "apps" || (o.GetKind() != "Deployment" && o.GetKind() != "StatefulSet" && o.GetKind() != "DaemonSet") {
			continue
		}
		l := o.GetLabels()
		s := LogService{Name: l[kube.LabelName], Namespace: o.GetNamespace(), Project: l[kube.LabelPartOf]}
		if s.Name == "" || seen[s.Name] {
			continue
		}
		seen[s.Name] = true
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LogOptions select the lines Logs reads.
type LogOptions struct {
	// Services limits the output to these services (all when empty).
	Services []string
	// TailLines is the number of lines per container from the end; 0
	// means all.
	TailLines int64
	// SinceSeconds, when above 0, leaves out lines older than that many
	// seconds; SinceTime, when set, lines older than it. The API takes
	// one of the two.
	SinceSeconds int64
	SinceTime    time.Time
	// Follow keeps streaming new lines until ctx is cancelled.
	Follow bool
	// InitContainers adds the pods' init containers (the Vault agent
	// that writes each service's files) to their main container.
	InitContainers bool
}

// LogTarget is one container whose log Logs reads.
type LogTarget struct {
	Service   string
	Namespace string
	Pod       string
	Container string
}

// LogLine is one line a container printed. The API gives a container's
// stdout and stderr as one stream, so a line does not say which it was.
type LogLine struct {
	LogTarget
	// Time is when the container runtime recorded the line, or when it
	// was read if the kubelet gave no time.
	Time time.Time
	Text string
}

// maxLogLine bounds the memory one line takes; the rest of a longer line
// is dropped and the line says so.
const maxLogLine = 1 << 20

// cutMark ends a line cut at maxLogLine.
const cutMark = " [line cut at 1 MiB]"

// LogTargets finds the containers whose logs o asks for: the main
// container (named after its service, as assets/kube renders it) of each
// pod of each service, and with o.InitContainers the init containers too.
// A name that is not one of stack's services is ErrUnknownService; a
// service named in o.Services without pods on a node is a failure saying
// so, as is a stack with no such pod at all.
func (c *Cluster) LogTargets(ctx context.Context, stack []LogService, o LogOptions) ([]LogTarget, error) {
	known := map[string]LogService{}
	names := make([]string, 0, len(stack))
	for _, s := range stack {
		known[s.Name] = s
		names = append(names, s.Name)
	}
	want := stack
	if len(o.Services) > 0 {
		want = nil
		for _, n := range o.Services {
			s, ok := known[n]
			if !ok {
				return nil, fmt.Errorf("%w: %q is not a service of the stack (services: %s)", ErrUnknownService, n, strings.Join(names, ", "))
			}
			if !slices.Contains(want, s) { // a name given twice is read once
				want = append(want, s)
			}
		}
	}
	var out []LogTarget
	var namespaces []string
	for _, s := range want {
		sel := labels.SelectorFromSet(labels.Set{kube.LabelPartOf: s.Project, kube.LabelName: s.Name}).String()
		l, err := c.clientset.CoreV1().Pods(s.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return nil, c.explain(fmt.Errorf("list the pods of %s in %s: %w", s.Name, s.Namespace, err))
		}
		pods := l.Items
		sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
		var pending, waiting []string
		found := 0
		for _, p := range pods {
			// A pod no node runs has no log: the API answers an empty
			// one (kubernetes v1.37.2 pkg/registry/core/pod/strategy.go,
			// LogLocation without spec.nodeName).
			if p.Spec.NodeName == "" {
				pending = append(pending, p.Name)
				continue
			}
			ts, w := podTargets(s, p, o.InitContainers)
			if len(ts) == 0 {
				waiting = append(waiting, p.Name+" ("+strings.Join(w, ", ")+")")
				continue
			}
			found++
			out = append(out, ts...)
		}
		if !slices.Contains(namespaces, s.Namespace) {
			namespaces = append(namespaces, s.Namespace)
		}
		if found > 0 || len(o.Services) == 0 {
			continue
		}
		if len(waiting) > 0 {
			return nil, steps.Fail(fmt.Errorf("no container of %s has started yet in namespace %s (waiting: %s)", s.Name, s.Namespace, strings.Join(waiting, "; ")),
				"see `status --target kubernetes`, and `kubectl describe pod -n "+s.Namespace+" POD` for why it waits")
		}
		if len(pending) > 0 {
			return nil, steps.Fail(fmt.Errorf("no pod of %s runs on a node yet in namespace %s (not scheduled: %s)", s.Name, s.Namespace, strings.Join(pending, ", ")),
				"see `status --target kubernetes`, and `kubectl describe pod -n "+s.Namespace+" "+pending[0]+"` for why it waits")
		}
		return nil, steps.Fail(fmt.Errorf("no pod of %s exists in namespace %s", s.Name, s.Namespace),
			"see `status --target kubernetes`: the stack may not be installed, or its workload has no replica")
	}
	if len(out) == 0 {
		return nil, steps.Fail(fmt.Errorf("no pod of the stack runs on a node in namespaces %s", strings.Join(namespaces, ", ")),
			"see `status --target kubernetes`: the stack may not be installed yet")
	}
	return out, nil
}

// podTargets are the containers of p to read: when asked, the init
// containers (they run first), then the one named after the service, or
// every regular container if none is. A container the pod's status shows
// waiting to start, with no earlier run, has no log yet (the kubelet refuses
// the request, kubernetes v1.37.2 pkg/kubelet/kubelet_pods.go
// validateContainerLogStatus): it is left out, and named with its reason
// in waiting.
func podTargets(s LogService, p corev1.Pod, init bool) (out []LogTarget, waiting []string) {
	add := func(name string, statuses []corev1.ContainerStatus) {
		for _, st := range statuses {
			if st.Name == name && st.State.Waiting != nil && st.LastTerminationState.Terminated == nil {
				waiting = append(waiting, name+": "+cmp.Or(st.State.Waiting.Reason, "waiting"))
				return
			}
		}
		out = append(out, LogTarget{Service: s.Name, Namespace: p.Namespace, Pod: p.Name, Container: name})
	}
	if init {
		for _, c := range p.Spec.InitContainers {
			add(c.Name, p.Status.InitContainerStatuses)
		}
	}
	main := slices.ContainsFunc(p.Spec.Containers, func(c corev1.Container) bool { return c.Name == s.Name })
	for _, c := range p.Spec.Containers {
		if !main || c.Name == s.Name {
			add(c.Name, p.Status.ContainerStatuses)
		}
	}
	return out, waiting
}

// Logs streams the targets' logs to fn, each line with its time. fn is
// never called concurrently; lines of one container come in order, those
// of different containers as they arrive. With Follow it returns nil once
// ctx is cancelled, or when every container's log has ended.
func (c *Cluster) Logs(ctx context.Context, targets []LogTarget, o LogOptions, fn func(LogLine)) error {
	var mu sync.Mutex
	emit := func(l LogLine) {
		mu.Lock()
		defer mu.Unlock()
		fn(l)
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, t := range targets {
		g.Go(func() error { return c.containerLogs(gctx, t, o, emit) })
	}
	err := g.Wait()
	if err != nil && o.Follow && ctx.Err() != nil {
		return nil // the caller stopped following
	}
	return err
}

func (c *Cluster) containerLogs(ctx context.Context, t LogTarget, o LogOptions, emit func(LogLine)) error {
	// Timestamps: the kubelet puts the runtime's time before each line,
	// which is how lines of several pods are put in order.
	opts := &corev1.PodLogOptions{Container: t.Container, Follow: o.Follow, Timestamps: true}
	if o.TailLines > 0 {
		opts.TailLines = &o.TailLines
	}
	if o.SinceSeconds > 0 {
		opts.SinceSeconds = &o.SinceSeconds
	} else if !o.SinceTime.IsZero() {
		// The API takes whole seconds (RFC 3339); the lines of the second
		// before o.SinceTime are left out below.
		opts.SinceTime = &metav1.Time{Time: o.SinceTime.Truncate(time.Second)}
	}
	rc, err := c.clientset.CoreV1().Pods(t.Namespace).GetLogs(t.Pod, opts).Stream(ctx)
	if err != nil {
		err = fmt.Errorf("logs of %s/%s (container %s): %w", t.Namespace, t.Pod, t.Container, err)
		// The kubelet's refusals: a container that has not started or is
		// gone, a pod it no longer has.
		if apierrors.IsBadRequest(err) || apierrors.IsNotFound(err) {
			return steps.Fail(err, "see `status --target kubernetes`, and `kubectl describe pod -n "+t.Namespace+" "+t.Pod+"` for the container's state")
		}
		return c.explain(err)
	}
	defer rc.Close()
	err = readLogLines(rc, func(s string) {
		l := LogLine{LogTarget: t, Text: s}
		if ts, rest, ok := strings.Cut(s, " "); ok {
			if tm, err := time.Parse(time.RFC3339Nano, ts); err == nil {
				l.Time, l.Text = tm, rest
			}
		}
		if l.Time.IsZero() {
			l.Time = time.Now().UTC()
		}
		if !o.SinceTime.IsZero() && l.Time.Before(o.SinceTime) {
			return
		}
		emit(l)
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("read the logs of %s/%s (container %s): %w", t.Namespace, t.Pod, t.Container, err)
	}
	return ctx.Err()
}

// readLogLines calls fn with each line r holds, without its line end. It
// holds at most maxLogLine bytes of a line: a longer one is cut there.
func readLogLines(r io.Reader, fn func(string)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	cut := false
	for {
		chunk, err := br.ReadSlice('\n')
		end := err == nil // chunk ends with the line end
		if end {
			chunk = chunk[:len(chunk)-1]
		}
		if room := maxLogLine - len(line); len(chunk) > room {
			line, cut = append(line, chunk[:room]...), true
		} else {
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if end || len(line) > 0 {
			s := strings.TrimSuffix(string(line), "\r")
			if cut {
				s += cutMark
			}
			fn(s)
			line, cut = line[:0], false
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
