package kubecheck

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// podSecurityPrefix starts every Pod Security admission label of a
// namespace (enforce, audit, warn and their -version).
const podSecurityPrefix = "pod-security.kubernetes.io/"

// podSecurity proves every namespace of the stack exists and carries the
// Pod Security labels the manifests give it: the level the API server
// enforces on each pod there, pinned to its version, audited and warned.
// A label someone changed, removed or added is named with both values.
func podSecurity(ctx context.Context, c *kubeapply.Cluster, m kube.Manifests) validate.Finding {
	nss := rendered(m, "Namespace")
	if len(nss) == 0 {
		return fail("the rendered manifests hold no Namespace", "render the manifests again; this is a bug of the installer")
	}
	var wrong, seen []string
	for _, o := range nss {
		want := map[string]string{}
		for k, v := range o.GetLabels() {
			if strings.HasPrefix(k, podSecurityPrefix) {
				want[k] = v
			}
		}
		live, err := c.Clientset().CoreV1().Namespaces().Get(ctx, o.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			wrong = append(wrong, fmt.Sprintf("namespace %s does not exist", o.GetName()))
			continue
		}
		if err != nil {
			return apiFail("read namespace "+o.GetName(), err)
		}
		got := map[string]string{}
		for k, v := range live.Labels {
			if strings.HasPrefix(k, podSecurityPrefix) {
				got[k] = v
			}
		}
		for _, k := range sortedKeys(want, got) {
			w, wok := want[k]
			g, gok := got[k]
			switch {
			case !gok:
				wrong = append(wrong, fmt.Sprintf("namespace %s: label %s is missing, want %q", o.GetName(), k, w))
			case !wok:
				wrong = append(wrong, fmt.Sprintf("namespace %s: label %s=%q is not in the manifests", o.GetName(), k, g))
			case g != w:
				wrong = append(wrong, fmt.Sprintf("namespace %s: label %s is %q, want %q", o.GetName(), k, g, w))
			}
		}
		seen = append(seen, fmt.Sprintf("%s enforces %s (%s), audit %s, warn %s", o.GetName(),
			got[podSecurityPrefix+"enforce"], got[podSecurityPrefix+"enforce-version"], got[podSecurityPrefix+"audit"], got[podSecurityPrefix+"warn"]))
	}
	if len(wrong) > 0 {
		return fail(strings.Join(wrong, "; "), reinstall+"; or set the label back with `kubectl label namespace NAMESPACE LABEL=VALUE --overwrite`")
	}
	return pass("%s", strings.Join(seen, "; "))
}

// sortedKeys is the union of the maps' keys, sorted.
func sortedKeys(a, b map[string]string) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
