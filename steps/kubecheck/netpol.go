package kubecheck

import (
	"context"
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// networkPolicies proves the segmentation: every namespace of the stack
// has a default deny in and out, every rendered NetworkPolicy exists as
// rendered (server-side dry run), and no other NetworkPolicy exists there.
// Policies add up: one the installer did not render can only allow more,
// so its presence alone breaks the claim that exactly the compose layout's
// flows are allowed.
func networkPolicies(ctx context.Context, c *kubeapply.Cluster, m kube.Manifests) validate.Finding {
	want := rendered(m, "NetworkPolicy")
	byNS := map[string][]string{}
	denies := map[string]bool{}
	for _, o := range want {
		byNS[o.GetNamespace()] = append(byNS[o.GetNamespace()], o.GetName())
		var np networkingv1.NetworkPolicy
		if err := typed(o, &np); err != nil {
			return fail(err.Error(), "")
		}
		if isDefaultDeny(np) {
			denies[o.GetNamespace()] = true
		}
	}
	var wrong, seen []string
	for _, ns := range m.Namespaces {
		if !denies[ns] {
			return fail("the rendered manifests hold no default deny for namespace "+ns, "render the manifests again; this is a bug of the installer")
		}
		live, err := c.Clientset().NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return apiFail("list NetworkPolicies in "+ns, err)
		}
		var liveDeny bool
		for _, np := range live.Items {
			if !slices.Contains(byNS[ns], np.Name) {
				wrong = append(wrong, fmt.Sprintf("NetworkPolicy %s/%s is not one the installer rendered (selects %s; policies add up, so it can only allow more)", ns, np.Name, podSelector(np)))
				continue
			}
			if isDefaultDeny(np) {
				liveDeny = true
			}
		}
		if !liveDeny {
			wrong = append(wrong, fmt.Sprintf("namespace %s has no default deny of ingress and egress for every pod", ns))
		}
		seen = append(seen, fmt.Sprintf("%s: %d policies, default deny in and out", ns, len(live.Items)))
	}
	pl, err := c.Plan(ctx, want)
	if err != nil {
		return apiFail("dry-run apply of the NetworkPolicies", err)
	}
	for _, r := range pl.Create {
		wrong = append(wrong, r.String()+" does not exist")
	}
	for _, r := range pl.Change {
		wrong = append(wrong, r.String()+" differs from the manifests")
	}
	if len(wrong) > 0 {
		return fail(strings.Join(wrong, "; "), "delete NetworkPolicies the installer did not render (`kubectl delete networkpolicy NAME -n NAMESPACE`) after checking who added them, then "+reinstall)
	}
	return pass("%s; every one as rendered", strings.Join(seen, "; "))
}

// isDefaultDeny says np selects every pod of its namespace for both
// directions and allows nothing.
func isDefaultDeny(np networkingv1.NetworkPolicy) bool {
	s := np.Spec
	return len(s.PodSelector.MatchLabels) == 0 && len(s.PodSelector.MatchExpressions) == 0 &&
		slices.Contains(s.PolicyTypes, networkingv1.PolicyTypeIngress) && slices.Contains(s.PolicyTypes, networkingv1.PolicyTypeEgress) &&
		len(s.Ingress) == 0 && len(s.Egress) == 0
}

func podSelector(np networkingv1.NetworkPolicy) string {
	if s := metav1.FormatLabelSelector(&np.Spec.PodSelector); s != "<none>" {
		return "pods " + s
	}
	return "every pod"
}
