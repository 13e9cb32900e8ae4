package kubeapply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

// pollEvery is how often a wait reads the workloads again.
const pollEvery = 2 * time.Second

// Workload is a Deployment, StatefulSet or DaemonSet and how far it is.
type Workload struct {
	Ref
	// Desired is spec.replicas (a DaemonSet's: the nodes it should run
	// on); Ready counts ready pods; Updated counts pods of the current
	// template.
	Desired int32 `json:"desired"`
	Ready   int32 `json:"ready"`
	Updated int32 `json:"updated"`
	// Observed says the controller has seen the current spec.
	Observed bool `json:"observed"`
	// Selector picks the workload's pods.
	Selector *metav1.LabelSelector `json:"-"`
}

// IsReady says every desired replica is ready and of the current spec.
func (w Workload) IsReady() bool {
	return w.Observed && w.Ready == w.Desired && w.Updated == w.Desired
}

func (w Workload) progress() string {
	if !w.Observed {
		return fmt.Sprintf("%d/%d ready; the controller has not seen the current spec yet", w.Ready, w.Desired)
	}
	return fmt.Sprintf("%d/%d ready, %d updated", w.Ready, w.Desired, w.Updated)
}

// Workloads lists the Deployments, StatefulSets and DaemonSets among objs.
func Workloads(objs []*unstructured.Unstructured) []Ref {
	var refs []Ref
	for _, o := range objs {
		if o.GroupVersionKind().Group == "apps" && (o.GetKind() == "Deployment" || o.GetKind() == "StatefulSet" || o.GetKind() == "DaemonSet") {
			refs = append(refs, RefOf(o))
		}
	}
	return refs
}

// workload reads one workload's state.
func (c *Cluster) workload(ctx context.Context, ref Ref) (Workload, error) {
	w := Workload{Ref: ref}
	replicas := func(p *int32) int32 {
		if p == nil {
			return 1
		}
		return *p
	}
	switch ref.Kind {
	case "Deployment":
		d, err := c.clientset.AppsV1().Deployments(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return w, c.explain(fmt.Errorf("read %s: %w", ref, err))
		}
		w.Desired, w.Ready, w.Updated = replicas(d.Spec.Replicas), d.Status.ReadyReplicas, d.Status.UpdatedReplicas
		w.Observed, w.Selector = d.Status.ObservedGeneration >= d.Generation, d.Spec.Selector
	case "StatefulSet":
		s, err := c.clientset.AppsV1().StatefulSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return w, c.explain(fmt.Errorf("read %s: %w", ref, err))
		}
		w.Desired, w.Ready, w.Updated = replicas(s.Spec.Replicas), s.Status.ReadyReplicas, s.Status.UpdatedReplicas
		w.Observed, w.Selector = s.Status.ObservedGeneration >= s.Generation, s.Spec.Selector
		// A StatefulSet that never rolled out reports no updated replicas
		// once current and update revisions agree.
		if s.Status.UpdateRevision != "" && s.Status.CurrentRevision == s.Status.UpdateRevision {
			w.Updated = s.Status.CurrentReplicas
		}
	case "DaemonSet":
		d, err := c.clientset.AppsV1().DaemonSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return w, c.explain(fmt.Errorf("read %s: %w", ref, err))
		}
		w.Desired, w.Ready, w.Updated = d.Status.DesiredNumberScheduled, d.Status.NumberReady, d.Status.UpdatedNumberScheduled
		// A DaemonSet no node was found for yet wants nothing; it is not
		// ready until its controller has counted the nodes.
		w.Observed, w.Selector = d.Status.ObservedGeneration >= d.Generation && d.Status.ObservedGeneration > 0, d.Spec.Selector
	default:
		return w, fmt.Errorf("%s is not a Deployment, StatefulSet or DaemonSet", ref)
	}
	return w, nil
}

// Wait waits, up to timeout, for every workload to be ready, reporting
// each one's progress. At the timeout it fails with what the pods of the
// first workload not ready say: none exist, or they are Pending.
func (c *Cluster) Wait(ctx context.Context, refs []Ref, timeout time.Duration, emit event.Emitter) error {
	r := newReporter(emit)
	// The timeout is a timer, not the reads' context: a read that a
	// deadline would cut short (client-go's rate limiter refuses to wait
	// past it) must not end the wait with its error instead of the
	// explanation of what is not ready.
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	ready := map[Ref]bool{}
	last := map[Ref]string{}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		var waiting []Workload
		for _, ref := range refs {
			if ready[ref] {
				continue
			}
			w, err := c.workload(ctx, ref)
			if err != nil {
				return err
			}
			if w.IsReady() {
				ready[ref] = true
				r.progress(event.ResourceWorkload, ref.String(), event.ActionWait, event.StatusDone, int64(len(ready)), int64(len(refs)), w.progress())
				continue
			}
			waiting = append(waiting, w)
			if p := w.progress(); p != last[ref] {
				last[ref] = p
				r.progress(event.ResourceWorkload, ref.String(), event.ActionWait, event.StatusWorking, int64(len(ready)), int64(len(refs)), p)
			}
		}
		if len(waiting) == 0 && len(ready) == len(refs) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return c.notReady(ctx, waiting, timeout)
		case <-tick.C:
		}
	}
}

// notReady explains why workloads did not become ready, from their pods.
func (c *Cluster) notReady(ctx context.Context, waiting []Workload, timeout time.Duration) error {
	if len(waiting) == 0 {
		return fmt.Errorf("workloads not ready after %s", timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	w := waiting[0]
	var names []string
	for _, x := range waiting {
		names = append(names, x.Ref.String()+" ("+x.progress()+")")
	}
	cause := fmt.Sprintf("not ready after %s: %s", timeout, strings.Join(names, ", "))
	look := fmt.Sprintf("check `kubectl get pods -n %s`, `kubectl describe %s %s -n %s` and `kubectl get events -n %s --sort-by=.lastTimestamp`",
		w.Namespace, strings.ToLower(w.Kind), w.Name, w.Namespace, w.Namespace)
	pods, err := c.pods(ctx, w)
	switch {
	case err != nil:
		return steps.Fail(errors.New(cause), look)
	case len(pods) == 0:
		return steps.Fail(fmt.Errorf("%s; no pod of %s exists", cause, w.Ref),
			"nothing created the workload's pods: the cluster's controller manager may not run, or a quota or admission refused them; "+look)
	}
	var pending []string
	for _, p := range pods {
		if p.Status.Phase == corev1.PodPending {
			pending = append(pending, p.Name+podReason(p))
		}
	}
	if len(pending) > 0 {
		return steps.Fail(fmt.Errorf("%s; pods of %s stay Pending: %s", cause, w.Ref, strings.Join(pending, ", ")),
			"no node runs them: the cluster may have no schedulable node, or none with the memory the pods request, or their images cannot be pulled; "+look)
	}
	return steps.Fail(errors.New(cause), "the pods run but are not ready: their readiness probes fail; "+look+" and `kubectl logs -n "+w.Namespace+" POD`")
}

// pods are the workload's pods.
func (c *Cluster) pods(ctx context.Context, w Workload) ([]corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(w.Selector)
	if err != nil || w.Selector == nil {
		return nil, fmt.Errorf("%s: selector: %v", w.Ref, err)
	}
	l, err := c.clientset.CoreV1().Pods(w.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

// podReason is why a pending pod waits, where its conditions say.
func podReason(p corev1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Reason != "" {
			return " (" + c.Reason + ": " + c.Message + ")"
		}
	}
	if p.Spec.NodeName == "" {
		return " (not scheduled)"
	}
	return ""
}
