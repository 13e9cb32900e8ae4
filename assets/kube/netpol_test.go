package kube

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// pod is one rendered pod template where it runs.
type pod struct {
	service, namespace string
	labels             map[string]string
	ports              []int32
}

func selects(t *testing.T, sel *metav1.LabelSelector, l map[string]string) bool {
	t.Helper()
	if sel == nil {
		return true
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatal(err)
	}
	return s.Matches(labels.Set(l))
}

// peerMatches says whether a policy peer in namespace ns covers pod p.
// An ipBlock is taken to cover every pod when it is all addresses and no
// pod otherwise: the widest reading of what NetworkPolicy leaves to the
// network plugin for pod addresses.
func peerMatches(t *testing.T, peer networkingv1.NetworkPolicyPeer, ns string, p pod) bool {
	if peer.IPBlock != nil {
		return peer.IPBlock.CIDR == "0.0.0.0/0" || peer.IPBlock.CIDR == "::/0"
	}
	if peer.NamespaceSelector == nil {
		if p.namespace != ns {
			return false
		}
	} else if !selects(t, peer.NamespaceSelector, map[string]string{"kubernetes.io/metadata.name": p.namespace}) {
		return false
	}
	return selects(t, peer.PodSelector, p.labels)
}

func portMatches(ports []networkingv1.NetworkPolicyPort, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if (p.Protocol == nil || *p.Protocol == corev1.ProtocolTCP) && (p.Port == nil || p.Port.IntVal == port) {
			return true
		}
	}
	return false
}

// allowed evaluates the policies for a TCP connection from src to dst's port.
func allowed(t *testing.T, pols []networkingv1.NetworkPolicy, src, dst pod, port int32) bool {
	out, in := false, false
	outSelected, inSelected := false, false
	for _, np := range pols {
		if np.Namespace == src.namespace && selects(t, &np.Spec.PodSelector, src.labels) && slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
			outSelected = true
			for _, r := range np.Spec.Egress {
				if portMatches(r.Ports, port) && (len(r.To) == 0 || slices.ContainsFunc(r.To, func(p networkingv1.NetworkPolicyPeer) bool { return peerMatches(t, p, np.Namespace, dst) })) {
					out = true
				}
			}
		}
		if np.Namespace == dst.namespace && selects(t, &np.Spec.PodSelector, dst.labels) && slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
			inSelected = true
			for _, r := range np.Spec.Ingress {
				if portMatches(r.Ports, port) && (len(r.From) == 0 || slices.ContainsFunc(r.From, func(p networkingv1.NetworkPolicyPeer) bool { return peerMatches(t, p, np.Namespace, src) })) {
					in = true
				}
			}
		}
	}
	return (out || !outSelected) && (in || !inSelected)
}

// The NetworkPolicies let exactly the services that share a network in
// the compose layout (assets.Service.Networks) reach each other, on any
// port as on a Docker network, and nothing else between the stack's pods;
// every pod is labelled with exactly its service's networks.
func TestNetworkPoliciesFollowComposeNetworks(t *testing.T) {
	for _, c := range allCombos() {
		t.Run(c.String(), func(t *testing.T) {
			_, b, m := renderedCombo(t, c)
			var pols []networkingv1.NetworkPolicy
			for _, u := range m.Objects {
				if u.GetKind() == "NetworkPolicy" {
					var np networkingv1.NetworkPolicy
					if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &np); err != nil {
						t.Fatal(err)
					}
					pols = append(pols, np)
				}
			}
			for _, ns := range m.Namespaces {
				if !slices.ContainsFunc(pols, func(np networkingv1.NetworkPolicy) bool {
					return np.Namespace == ns && np.Name == PolicyDefaultDeny && len(np.Spec.PodSelector.MatchLabels) == 0 &&
						len(np.Spec.Ingress) == 0 && len(np.Spec.Egress) == 0 && len(np.Spec.PolicyTypes) == 2
				}) {
					t.Errorf("namespace %s has no default deny in and out", ns)
				}
			}
			var pods []pod
			for _, w := range workloads(t, m) {
				svc, _ := b.Service(w.service())
				var nets []string
				for k, v := range w.template.Labels {
					if r, ok := strings.CutPrefix(k, NetworkLabelPrefix); ok && v == memberValue {
						nets = append(nets, r)
					}
				}
				sort.Strings(nets)
				want := slices.Sorted(slices.Values(svc.Networks))
				if !slices.Equal(nets, want) {
					t.Errorf("%s is labelled for networks %v, the compose file joins %v", w.name, nets, want)
				}
				p := pod{service: svc.Name, namespace: w.namespace, labels: w.template.Labels}
				for _, cp := range w.template.Spec.Containers[0].Ports {
					p.ports = append(p.ports, cp.ContainerPort)
				}
				pods = append(pods, p)
			}
			networks := map[string][]string{}
			for _, s := range b.Services {
				networks[s.Name] = s.Networks
			}
			for _, src := range pods {
				for _, dst := range pods {
					if src.service == dst.service {
						continue
					}
					share := slices.ContainsFunc(networks[src.service], func(n string) bool { return slices.Contains(networks[dst.service], n) })
					for _, port := range append(slices.Clone(dst.ports), 9999) {
						if got := allowed(t, pols, src, dst, port); got != share {
							t.Errorf("%s -> %s:%d allowed %v, compose networks say %v", src.service, dst.service, port, got, share)
						}
					}
				}
			}
		})
	}
}

// The evaluator itself tells allowed from refused: without the network
// policies, two pods in different networks are refused only by default deny.
func TestNetworkEvaluatorRefuses(t *testing.T) {
	a, b := pod{service: "a", namespace: "n", labels: map[string]string{"x": "1"}}, pod{service: "b", namespace: "n", labels: map[string]string{"x": "2"}}
	deny := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "n"}, Spec: networkingv1.NetworkPolicySpec{PolicyTypes: both}}
	if allowed(t, []networkingv1.NetworkPolicy{deny}, a, b, 80) {
		t.Fatal("default deny allowed a flow")
	}
	if !allowed(t, nil, a, b, 80) {
		t.Fatal("no policy refused a flow")
	}
}

// Every pod may reach DNS and Vault; only the gateway takes connections
// from outside, on its published ports' targets.
func TestNetworkPolicyExtraFlows(t *testing.T) {
	m := render(t, testAnswers(t, combo{profile: answers.Production}))
	get := func(name string) networkingv1.NetworkPolicy {
		var np networkingv1.NetworkPolicy
		u := object(m, "NetworkPolicy", "fineract", name)
		if u == nil {
			t.Fatalf("no NetworkPolicy %s", name)
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &np); err != nil {
			t.Fatal(err)
		}
		return np
	}
	vault := get(PolicyVault)
	if len(vault.Spec.PodSelector.MatchLabels) != 0 || fmt.Sprint(vault.Spec.Egress[0].To[0].IPBlock.CIDR) != "10.20.0.5/32" || vault.Spec.Egress[0].Ports[0].Port.IntVal != 8200 {
		t.Errorf("vault egress %+v", vault.Spec)
	}
	dns := get(PolicyDNS)
	if len(dns.Spec.Egress[0].Ports) != 2 || dns.Spec.Egress[0].To[0].PodSelector.MatchLabels["k8s-app"] != "kube-dns" {
		t.Errorf("dns egress %+v", dns.Spec)
	}
	dmz := get(NetworkPolicyPrefix + "dmz")
	if len(dmz.Spec.Ingress) != 1 || len(dmz.Spec.Ingress[0].Ports) != 2 || dmz.Spec.Ingress[0].From[0].IPBlock.CIDR != "0.0.0.0/0" {
		t.Errorf("dmz ingress %+v", dmz.Spec.Ingress)
	}
}
