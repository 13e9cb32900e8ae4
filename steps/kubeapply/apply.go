package kubeapply

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// Applied is what an apply did to each object, in apply order.
type Applied struct {
	Created   []Ref `json:"created"`
	Changed   []Ref `json:"changed"`
	Unchanged []Ref `json:"unchanged"`
}

// Apply server-side applies every object in order (namespaces first, as
// the manifests are ordered), reporting each through emit. An object
// whose resourceVersion did not move was left as it was.
func (c *Cluster) Apply(ctx context.Context, objs []*unstructured.Unstructured, emit event.Emitter) (Applied, error) {
	r := newReporter(emit)
	var out Applied
	for i, o := range objs {
		ref := RefOf(o)
		r.progress(event.ResourceKubeObject, ref.String(), event.ActionApply, event.StatusWorking, int64(i), int64(len(objs)), "")
		ri, _, err := c.resource(o)
		if err != nil {
			r.failed(event.ResourceKubeObject, ref.String(), event.ActionApply, err)
			return out, err
		}
		live, err := get(ctx, ri, o.GetName())
		if err != nil {
			err = c.explain(fmt.Errorf("read %s: %w", ref, err))
			r.failed(event.ResourceKubeObject, ref.String(), event.ActionApply, err)
			return out, err
		}
		after, err := apply(ctx, ri, o, false)
		if err != nil {
			err = c.explain(fmt.Errorf("apply %s: %w", ref, err))
			r.failed(event.ResourceKubeObject, ref.String(), event.ActionApply, err)
			return out, err
		}
		// The done event's action says what the apply did, so the audit
		// log records exactly the objects created and changed.
		what, done := "unchanged", event.ActionApply
		switch {
		case live == nil:
			what, done = "created", event.ActionCreate
			out.Created = append(out.Created, ref)
		case live.GetResourceVersion() != after.GetResourceVersion():
			what, done = "changed", event.ActionUpdate
			out.Changed = append(out.Changed, ref)
		default:
			out.Unchanged = append(out.Unchanged, ref)
		}
		r.progress(event.ResourceKubeObject, ref.String(), done, event.StatusDone, int64(i+1), int64(len(objs)), what)
	}
	return out, nil
}
