package kubeapply_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
)

// Fineract's write, read and batch workloads are one service; every
// service is in the namespace its workload is rendered into.
func TestLogServicesOnePerService(t *testing.T) {
	a := testAnswers(t, answers.Demo, nil, "logs-services")
	a.Kubernetes.Fineract.ReadReplicas = 2
	a.Kubernetes.Fineract.BatchInstance = true
	var got []string
	for _, s := range kubeapply.LogServices(render(t, a).Objects) {
		if s.Namespace != "logs-services" || s.Project != "fineract" {
			t.Errorf("service %+v: want namespace logs-services, project fineract", s)
		}
		got = append(got, s.Name)
	}
	if strings.Join(got, ",") != "fineract,gateway,postgres,web-app" {
		t.Errorf("services %v", got)
	}
}

// Against the lab API server and a stand-in kubelet (no container runs):
// the targets are each scheduled pod's main container (and its init
// container when asked); a service whose pods no node runs says so; a
// follow gets the appended line and stops, without error, when its
// context is cancelled.
func TestLogsFollowStopsOnCancel(t *testing.T) {
	l := newLab(t)
	k := l.cp.StartKubelet(t)
	ns := "logs-follow"
	a := testAnswers(t, answers.Demo, nil, ns)
	m := render(t, a)
	mustApply(t, l, m)
	for _, o := range m.Objects {
		switch o.GetName() {
		case "postgres":
			if o.GetKind() != "StatefulSet" {
				continue
			}
			pod := podOf(t, o, "postgres-0")
			pod.Spec.NodeName = k.Node
			if _, err := l.cs.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			// A second pod no node runs yet, and a third whose container
			// waits to start: neither has a log to read.
			if _, err := l.cs.CoreV1().Pods(ns).Create(t.Context(), podOf(t, o, "postgres-1"), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			scheduledWaiting(t, l, k, podOf(t, o, "postgres-2"), "postgres")
		case "gateway":
			if o.GetKind() != "Deployment" && o.GetKind() != "StatefulSet" {
				continue
			}
			scheduledWaiting(t, l, k, podOf(t, o, "gateway-0"), "gateway")
		case "web-app":
			if o.GetKind() != "Deployment" {
				continue
			}
			if _, err := l.cs.CoreV1().Pods(ns).Create(t.Context(), podOf(t, o, "web-app-0"), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	stack := kubeapply.LogServices(m.Objects)

	_, err := l.cluster.LogTargets(t.Context(), stack, kubeapply.LogOptions{Services: []string{"web-app"}})
	var f *steps.Failure
	if !errors.As(err, &f) || f.Cause != "no pod of web-app runs on a node yet in namespace logs-follow (not scheduled: web-app-0)" || !strings.Contains(f.Hint, "kubectl describe pod -n logs-follow web-app-0") {
		t.Errorf("service whose pods wait: %v", err)
	}
	_, err = l.cluster.LogTargets(t.Context(), stack, kubeapply.LogOptions{Services: []string{"gateway"}})
	if !errors.As(err, &f) || f.Cause != "no container of gateway has started yet in namespace logs-follow (waiting: gateway-0 (gateway: ContainerCreating))" {
		t.Errorf("service whose containers wait: %v", err)
	}
	_, err = l.cluster.LogTargets(t.Context(), stack, kubeapply.LogOptions{Services: []string{"vault"}})
	if !errors.Is(err, kubeapply.ErrUnknownService) {
		t.Errorf("vault is not a workload of this stack: %v", err)
	}

	targets, err := l.cluster.LogTargets(t.Context(), stack, kubeapply.LogOptions{Services: []string{"postgres"}, InitContainers: true})
	if err != nil {
		t.Fatal(err)
	}
	// postgres-2's init container has run (its status says nothing of
	// it); its main container waits.
	want := []kubeapply.LogTarget{{Service: "postgres", Namespace: ns, Pod: "postgres-0", Container: "vault-agent"}, {Service: "postgres", Namespace: ns, Pod: "postgres-0", Container: "postgres"},
		{Service: "postgres", Namespace: ns, Pod: "postgres-2", Container: "vault-agent"}}
	if len(targets) != 3 || targets[0] != want[0] || targets[1] != want[1] || targets[2] != want[2] {
		t.Fatalf("targets with init containers: %+v, want %+v", targets, want)
	}
	o := kubeapply.LogOptions{Services: []string{"postgres"}, Follow: true}
	targets, err = l.cluster.LogTargets(t.Context(), stack, o)
	if err != nil || len(targets) != 1 || targets[0] != want[1] {
		t.Fatalf("targets: %+v %v, want %+v", targets, err, want[1:])
	}

	// The kubelet has no log of postgres-0's init container: its refusal
	// comes back through the API server with where to look.
	err = l.cluster.Logs(t.Context(), want[:1], kubeapply.LogOptions{}, func(kubeapply.LogLine) {})
	if !errors.As(err, &f) || !strings.Contains(f.Cause, "logs of logs-follow/postgres-0 (container vault-agent)") || !strings.Contains(f.Hint, "kubectl describe pod -n logs-follow postgres-0") {
		t.Errorf("a log the kubelet does not have: %v", err)
	}

	t0 := time.Now().Add(-time.Minute).UTC()
	k.AppendLog(ns, "postgres-0", "postgres", labtest.KubeletLine{Time: t0, Text: "ready to accept connections"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	lines := make(chan kubeapply.LogLine, 10)
	done := make(chan error, 1)
	go func() { done <- l.cluster.Logs(ctx, targets, o, func(l kubeapply.LogLine) { lines <- l }) }()
	next := func() kubeapply.LogLine {
		t.Helper()
		select {
		case line := <-lines:
			return line
		case err := <-done:
			t.Fatalf("follow ended early: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("no line within 30 s")
		}
		return kubeapply.LogLine{}
	}
	if got := next(); got.Text != "ready to accept connections" || !got.Time.Equal(t0) || got.LogTarget != want[1] {
		t.Errorf("first line %+v", got)
	}
	t1 := time.Now().UTC()
	k.AppendLog(ns, "postgres-0", "postgres", labtest.KubeletLine{Time: t1, Text: "checkpoint starting"})
	if got := next(); got.Text != "checkpoint starting" || !got.Time.Equal(t1) {
		t.Errorf("appended line %+v", got)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("follow after cancel: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("follow did not stop when its context was cancelled")
	}
}

// scheduledWaiting creates pod on the stand-in kubelet's node with the
// status a kubelet reports while the container is being created.
func scheduledWaiting(t *testing.T, l lab, k *labtest.Kubelet, pod *corev1.Pod, container string) {
	t.Helper()
	pod.Spec.NodeName = k.Node
	created, err := l.cs.CoreV1().Pods(pod.Namespace).Create(t.Context(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range created.Spec.Containers {
		if c.Name == container {
			created.Status.ContainerStatuses = append(created.Status.ContainerStatuses, corev1.ContainerStatus{Name: c.Name, Image: c.Image,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}})
		}
	}
	if _, err := l.cs.CoreV1().Pods(pod.Namespace).UpdateStatus(t.Context(), created, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("set %s's status: %v", pod.Name, err)
	}
}
