package kubeapply

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fineract-installer/fineract-installer/steps"
)

// ApplyStep applies the manifests. Its Check never says done: an apply of
// unchanged manifests changes nothing, so running it again is the check.
type ApplyStep struct {
	Cluster *Cluster
	Objects []*unstructured.Unstructured
	// Result is what the last run did.
	Result Applied
}

func (s *ApplyStep) ID() string                              { return "kube-apply" }
func (s *ApplyStep) Title() string                           { return "Apply the manifests (server-side apply)" }
func (s *ApplyStep) Check(ctx context.Context) (bool, error) { return false, nil }

func (s *ApplyStep) Run(ctx context.Context, emit steps.Emitter) error {
	res, err := s.Cluster.Apply(ctx, s.Objects, emit)
	s.Result = res
	return err
}

// WaitStep waits for the workloads to become ready.
type WaitStep struct {
	Cluster   *Cluster
	Workloads []Ref
	Timeout   time.Duration
}

func (s *WaitStep) ID() string                              { return "kube-wait" }
func (s *WaitStep) Title() string                           { return "Wait for the workloads to become ready" }
func (s *WaitStep) Check(ctx context.Context) (bool, error) { return false, nil }

func (s *WaitStep) Run(ctx context.Context, emit steps.Emitter) error {
	return s.Cluster.Wait(ctx, s.Workloads, s.Timeout, emit)
}

// UninstallStep deletes the installation's objects.
type UninstallStep struct {
	Cluster *Cluster
	Scope   Scope
}

func (s *UninstallStep) ID() string    { return "kube-uninstall" }
func (s *UninstallStep) Title() string { return "Delete the installation's Kubernetes objects" }

// Check is done when nothing of the scope is left.
func (s *UninstallStep) Check(ctx context.Context) (bool, error) {
	objs, err := s.Cluster.Managed(ctx, s.Scope)
	return len(objs) == 0, err
}

func (s *UninstallStep) Run(ctx context.Context, emit steps.Emitter) error {
	_, err := s.Cluster.Uninstall(ctx, s.Scope, emit)
	return err
}
