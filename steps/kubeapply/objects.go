package kubeapply

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/fineract-installer/fineract-installer/assets/kube"
)

// Ref names one object, as messages and the plan show it.
type Ref struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// String is "Kind namespace/name", or "Kind name" for a cluster-scoped
// object.
func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// RefOf names o.
func RefOf(o *unstructured.Unstructured) Ref {
	return Ref{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
}

// resource finds the API resource serving o's kind. A kind the cluster
// does not know is reported with the object it belongs to.
func (c *Cluster) resource(o *unstructured.Unstructured) (dynamic.ResourceInterface, *meta.RESTMapping, error) {
	gvk := o.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		// A kind registered since the cache was filled (a CRD) is found
		// after one refresh.
		c.mapper.Reset()
		m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: the cluster does not serve %s: %w", RefOf(o), gvk, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if o.GetNamespace() == "" {
			return nil, nil, fmt.Errorf("%s: a namespaced object without a namespace", RefOf(o))
		}
		return c.dynamic.Resource(m.Resource).Namespace(o.GetNamespace()), m, nil
	}
	return c.dynamic.Resource(m.Resource), m, nil
}

// get returns the live object, or nil when there is none.
func get(ctx context.Context, ri dynamic.ResourceInterface, name string) (*unstructured.Unstructured, error) {
	live, err := ri.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return live, err
}

// apply is one server-side apply of o with the installer's field manager,
// taking over any field another manager set: the manifests are the
// source of truth for every field they name.
func apply(ctx context.Context, ri dynamic.ResourceInterface, o *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	body, err := json.Marshal(o.Object)
	if err != nil {
		return nil, fmt.Errorf("%s: encode: %w", RefOf(o), err)
	}
	force := true
	opts := metav1.PatchOptions{FieldManager: kube.FieldManager, Force: &force}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return ri.Patch(ctx, o.GetName(), types.ApplyPatchType, body, opts)
}
