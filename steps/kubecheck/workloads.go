package kubecheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// workloadsReady proves every Deployment, StatefulSet and DaemonSet of the
// manifests exists and has all its desired pods ready and of the current
// spec, as its controller reports in the workload's status.
func workloadsReady(ctx context.Context, c *kubeapply.Cluster, m kube.Manifests) validate.Finding {
	ws, err := c.Status(ctx, m.Namespaces)
	if err != nil {
		return apiFail("read the workloads", err)
	}
	live := map[kubeapply.Ref]kubeapply.Workload{}
	for _, w := range ws {
		live[w.Ref] = w
	}
	want := kubeapply.Workloads(m.Objects)
	var bad []string
	var first *kubeapply.Ref
	for _, ref := range want {
		w, ok := live[ref]
		switch {
		case !ok:
			bad = append(bad, ref.String()+" does not exist")
		case !w.IsReady():
			what := fmt.Sprintf("%s %d/%d ready, %d updated", ref, w.Ready, w.Desired, w.Updated)
			if !w.Observed {
				what += ", its controller has not seen the current spec"
			}
			bad = append(bad, what)
		default:
			continue
		}
		if first == nil {
			first = &ref
		}
	}
	if len(bad) > 0 {
		r := *first
		kind := strings.ToLower(r.Kind)
		return fail(strings.Join(bad, "; "), fmt.Sprintf("check `kubectl get pods -n %s`, `kubectl describe %s %s -n %s` and `kubectl get events -n %s --sort-by=.lastTimestamp`; a missing workload comes back with `fineract-installer install --target kubernetes`",
			r.Namespace, kind, r.Name, r.Namespace, r.Namespace))
	}
	return pass("%d workloads ready (%s)", len(want), readySummary(want, live))
}

func readySummary(refs []kubeapply.Ref, live map[kubeapply.Ref]kubeapply.Workload) string {
	var s []string
	for _, r := range refs {
		w := live[r]
		s = append(s, fmt.Sprintf("%s %d/%d", r.Name, w.Ready, w.Desired))
	}
	return strings.Join(s, ", ")
}
