package kubeapply

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Plan is what an apply of the manifests would do to each object, found
// by the API server itself (a server-side dry-run apply), so defaults,
// admission and field ownership are what a real apply meets.
type Plan struct {
	Create    []Ref `json:"create"`
	Change    []Ref `json:"change"`
	Unchanged []Ref `json:"unchanged"`
}

// Pending says whether an apply would create or change anything.
func (p Plan) Pending() bool { return len(p.Create) > 0 || len(p.Change) > 0 }

// Plan dry-runs the apply of every object and compares the result with
// the live object. Objects in a namespace that does not exist yet are
// planned as created without a dry run: the API server cannot dry-run an
// object into a namespace it has not got.
func (c *Cluster) Plan(ctx context.Context, objs []*unstructured.Unstructured) (Plan, error) {
	var p Plan
	newNamespaces := map[string]bool{}
	for _, o := range objs {
		ref := RefOf(o)
		if ns := o.GetNamespace(); ns != "" && newNamespaces[ns] {
			p.Create = append(p.Create, ref)
			continue
		}
		ri, _, err := c.resource(o)
		if err != nil {
			return p, err
		}
		live, err := get(ctx, ri, o.GetName())
		if err != nil {
			return p, c.explain(fmt.Errorf("read %s: %w", ref, err))
		}
		if live == nil {
			if o.GetKind() == "Namespace" && o.GetAPIVersion() == "v1" {
				newNamespaces[o.GetName()] = true
			}
			p.Create = append(p.Create, ref)
			continue
		}
		would, err := apply(ctx, ri, o, true)
		if err != nil {
			return p, c.explain(fmt.Errorf("dry-run apply %s: %w", ref, err))
		}
		if Same(live, would) {
			p.Unchanged = append(p.Unchanged, ref)
		} else {
			p.Change = append(p.Change, ref)
		}
	}
	return p, nil
}

// Same says whether two states of one object agree on everything an apply
// sets: bookkeeping the server keeps (field ownership, versions,
// timestamps) and status are left out.
func Same(a, b *unstructured.Unstructured) bool {
	return equality.Semantic.DeepEqual(comparable(a), comparable(b))
}

func comparable(o *unstructured.Unstructured) map[string]any {
	c := o.DeepCopy().Object
	delete(c, "status")
	if md, ok := c["metadata"].(map[string]any); ok {
		for _, f := range []string{"managedFields", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"} {
			delete(md, f)
		}
	}
	return c
}
