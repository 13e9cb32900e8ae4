package kubecheck

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// noSecrets proves no Kubernetes Secret exists in the stack's namespaces:
// the manifests render none, and every secret file comes from Vault
// through each pod's agent. A Secret found there (a service account token
// Secret included) is named by type and name; its data is never read out.
func noSecrets(ctx context.Context, c *kubeapply.Cluster, m kube.Manifests) validate.Finding {
	var allowed int
	for _, o := range m.Objects {
		if o.GetKind() == "Secret" {
			allowed++
		}
	}
	if allowed > 0 {
		return fail(fmt.Sprintf("the rendered manifests hold %d Secrets", allowed), "render the manifests again; the Kubernetes target renders no Secret and this is a bug of the installer")
	}
	var found []string
	for _, ns := range m.Namespaces {
		l, err := c.Clientset().CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return apiFail("list Secrets in "+ns, err)
		}
		for _, s := range l.Items {
			found = append(found, fmt.Sprintf("Secret %s/%s (type %s)", ns, s.Name, s.Type))
		}
	}
	if len(found) > 0 {
		return fail(strings.Join(found, "; "),
			"the stack's secrets come from Vault only: find who wrote each Secret without printing its data (`kubectl get secret NAME -n NAMESPACE --show-managed-fields -o jsonpath='{.metadata.managedFields[*].manager}'`), move what it holds into Vault, and delete it (`kubectl delete secret NAME -n NAMESPACE`)")
	}
	return pass("no Secret in namespaces %s", strings.Join(m.Namespaces, ", "))
}
