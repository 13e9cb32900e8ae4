package kubecheck

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// gatewayExposed proves the gateway's public Service is of the rendered
// type and can be reached: a LoadBalancer with the address its cloud gave
// it, or a NodePort with its port on every node. It reports where the
// users connect. A LoadBalancer still without an address is a warning: the
// cluster's load-balancer controller may still be at work, or there is
// none.
func gatewayExposed(ctx context.Context, c *kubeapply.Cluster, m kube.Manifests) validate.Finding {
	var want *corev1.Service
	for _, o := range rendered(m, "Service") {
		if o.GetName() == kube.PublicService {
			want = &corev1.Service{}
			if err := typed(o, want); err != nil {
				return fail(err.Error(), "")
			}
		}
	}
	if want == nil {
		return fail("the rendered manifests hold no Service "+kube.PublicService, "render the manifests again; this is a bug of the installer")
	}
	ref := kubeapply.Ref{Kind: "Service", Namespace: want.Namespace, Name: want.Name}
	live, err := c.Clientset().CoreV1().Services(want.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fail(ref.String()+" does not exist: the gateway is not published", reinstall)
	}
	if err != nil {
		return apiFail("read "+ref.String(), err)
	}
	if live.Spec.Type != want.Spec.Type {
		return fail(fmt.Sprintf("%s is of type %s, want %s", ref, live.Spec.Type, want.Spec.Type), reinstall)
	}
	f := validate.Finding{Subject: ref.String()}
	var nodePorts []string
	for _, p := range live.Spec.Ports {
		if p.NodePort == 0 && live.Spec.Type == corev1.ServiceTypeNodePort {
			f.Status, f.Evidence, f.Fix = validate.Fail, fmt.Sprintf("%s: port %s (%d) has no node port assigned", ref, p.Name, p.Port), reinstall
			return f
		}
		if p.NodePort != 0 {
			nodePorts = append(nodePorts, fmt.Sprintf("%s %d", p.Name, p.NodePort))
		}
	}
	switch live.Spec.Type {
	case corev1.ServiceTypeNodePort:
		f.Status, f.Evidence = validate.Pass, fmt.Sprintf("%s: users reach the gateway on every node's address at node ports %s", ref, strings.Join(nodePorts, ", "))
	case corev1.ServiceTypeLoadBalancer:
		var addrs []string
		for _, in := range live.Status.LoadBalancer.Ingress {
			a := in.IP
			if in.Hostname != "" {
				a = in.Hostname
			}
			for _, p := range live.Spec.Ports {
				addrs = append(addrs, fmt.Sprintf("%s:%d (%s)", a, p.Port, p.Name))
			}
		}
		if len(addrs) == 0 {
			f.Status = validate.Warn
			f.Evidence = fmt.Sprintf("%s has no load-balancer address yet", ref)
			if len(nodePorts) > 0 {
				f.Evidence += fmt.Sprintf(" (node ports %s are assigned)", strings.Join(nodePorts, ", "))
			}
			f.Fix = fmt.Sprintf("the cluster's load-balancer controller gives the address: check `kubectl describe service %s -n %s` for its events; a cluster without one (bare metal without MetalLB or similar) needs kubernetes.gateway_service: NodePort in the answers", ref.Name, ref.Namespace)
			return f
		}
		f.Status, f.Evidence = validate.Pass, fmt.Sprintf("%s: users reach the gateway at %s", ref, strings.Join(addrs, ", "))
	default:
		f.Status, f.Evidence, f.Fix = validate.Fail, fmt.Sprintf("%s is of type %s, which no user outside the cluster reaches", ref, live.Spec.Type), reinstall
	}
	return f
}
