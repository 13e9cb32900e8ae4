package kube

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Names of the NetworkPolicies in every namespace of the stack.
const (
	PolicyDefaultDeny = "default-deny"
	PolicyDNS         = "allow-dns"
	PolicyVault       = "allow-vault"
	PolicyPostgres    = "allow-external-postgres"
	// NetworkPolicyPrefix + role is the policy of one network role.
	NetworkPolicyPrefix = "network-"
)

// ExtraFlows are the flows the NetworkPolicies allow beyond the compose
// layout's networks (members of one network reach each other on any port;
// only dmz reaches outside), each for a reason the cluster brings:
var ExtraFlows = []string{
	// Docker's embedded DNS is inside each container's namespace; a pod asks kube-dns.
	"every pod -> kube-system pods labelled k8s-app=kube-dns, UDP and TCP 53 (DNS)",
	// The agent logs in to Vault before the service starts; on Docker the installer delivers the files.
	"every pod -> the Vault address of kubernetes.vault.address on its port (the init container's Vault agent); " +
		"an ipBlock /32 (/128) when the address is an IP, else any destination on that port, since NetworkPolicy has no DNS names",
	// A managed database is outside the data network.
	"fineract, keycloak and postgres-exporter -> kubernetes.postgres.external on its port (an ipBlock when the host is an IP, else any destination on that port), only with an external database",
	// The published ports: Docker publishes them on the host.
	"anywhere -> the gateway's pods on 8443 and 8080, the targets of the published https and http ports",
}

func (r *renderer) policy(ns, name string, spec networkingv1.NetworkPolicySpec) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{TypeMeta: typeMeta("networking.k8s.io/v1", "NetworkPolicy"), ObjectMeta: r.meta(name, ns, nil), Spec: spec}
}

var (
	both   = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	egress = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
)

func tcp(p int) networkingv1.NetworkPolicyPort {
	return networkingv1.NetworkPolicyPort{Protocol: ptr(corev1.ProtocolTCP), Port: ptr(intstr.FromInt32(int32(p)))}
}

// anywhere is every IPv4 and IPv6 address.
func anywhere() []networkingv1.NetworkPolicyPeer {
	return []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}, {IPBlock: &networkingv1.IPBlock{CIDR: "::/0"}}}
}

// hostPeers is the peer for a host named in the answers: the address
// itself when it is an IP, else nil (any destination: see ExtraFlows).
func hostPeers(host string) []networkingv1.NetworkPolicyPeer {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	return []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: netip.PrefixFrom(ip, ip.BitLen()).String()}}}
}

// networkPolicies derives segmentation from assets.Service.Networks, the
// membership the compose file's networks come from: default deny in every
// namespace, then per network role members reach members (any port, as on
// a Docker network), plus ExtraFlows.
func (r *renderer) networkPolicies() error {
	vaultHost, vaultPort, err := r.k.Vault.VaultHostPort()
	if err != nil {
		return err
	}
	stack := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn, Values: r.m.Namespaces,
	}}}
	for _, ns := range r.m.Namespaces {
		r.add(r.policy(ns, PolicyDefaultDeny, networkingv1.NetworkPolicySpec{PolicyTypes: both}))
		r.add(r.policy(ns, PolicyDNS, networkingv1.NetworkPolicySpec{PolicyTypes: egress, Egress: []networkingv1.NetworkPolicyEgressRule{{
			To: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
				PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
			}},
			Ports: []networkingv1.NetworkPolicyPort{
				{Protocol: ptr(corev1.ProtocolUDP), Port: ptr(intstr.FromInt32(53))},
				{Protocol: ptr(corev1.ProtocolTCP), Port: ptr(intstr.FromInt32(53))},
			},
		}}}))
		r.add(r.policy(ns, PolicyVault, networkingv1.NetworkPolicySpec{PolicyTypes: egress, Egress: []networkingv1.NetworkPolicyEgressRule{{
			To: hostPeers(vaultHost), Ports: []networkingv1.NetworkPolicyPort{tcp(vaultPort)},
		}}}))
		if e := r.k.Postgres.External; e != nil {
			r.add(r.policy(ns, PolicyPostgres, networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
					Key: LabelName, Operator: metav1.LabelSelectorOpIn, Values: []string{"fineract", "keycloak", "postgres-exporter"},
				}}},
				PolicyTypes: egress,
				Egress:      []networkingv1.NetworkPolicyEgressRule{{To: hostPeers(e.Host), Ports: []networkingv1.NetworkPolicyPort{tcp(e.Port)}}},
			}))
		}
		for _, role := range sortedRoles(r.members[ns]) {
			label := map[string]string{NetworkLabelPrefix + role: memberValue}
			peers := []networkingv1.NetworkPolicyPeer{{NamespaceSelector: stack, PodSelector: &metav1.LabelSelector{MatchLabels: label}}}
			spec := networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: label},
				PolicyTypes: both,
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: peers}},
				Egress:      []networkingv1.NetworkPolicyEgressRule{{To: peers}},
			}
			if role == "dmz" {
				// The one network that is not internal: published ports in,
				// anything out (Docker routes the dmz to the host's network).
				spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: anywhere(), Ports: []networkingv1.NetworkPolicyPort{tcp(8443), tcp(8080)}}}
				spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: anywhere()}}
			}
			r.add(r.policy(ns, NetworkPolicyPrefix+role, spec))
		}
	}
	return nil
}

// roles lists network roles in a fixed order for stable output.
func sortedRoles(rs []string) []string {
	order := []string{"dmz", "app", "data", "monitoring"}
	out := slices.Clone(rs)
	slices.SortFunc(out, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	return out
}
