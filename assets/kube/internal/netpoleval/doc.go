// Package netpoleval decides, from the documented semantics of
// networking.k8s.io/v1 NetworkPolicy, whether a connection between two pods
// (or between a pod and an address outside the cluster) is allowed.
//
// The tests use it because no network plugin runs where they do: the API
// server only validates NetworkPolicies, so what they allow has to be worked
// out from the policies themselves. The rules followed are the ones the API
// reference states on NetworkPolicySpec, NetworkPolicyPeer,
// NetworkPolicyPort and IPBlock:
//
//   - a pod is isolated for ingress (egress) only if some policy in its
//     namespace selects it and has that type in its policyTypes; an unset
//     policyTypes means Ingress, plus Egress when the policy has egress rules;
//   - traffic to (from) an isolated pod is allowed only if some rule of a
//     selecting policy of that type matches it; rules add up across policies;
//   - a rule with no peers matches every peer and a rule with no ports every
//     port; a peer with both selectors selects the pods matching podSelector
//     in the namespaces matching namespaceSelector, a peer with podSelector
//     only selects pods in the policy's own namespace;
//   - a port without protocol means TCP, a named port is looked up among the
//     destination pod's container ports, endPort makes an inclusive range;
//   - a connection between two pods needs egress allowed at the source and
//     ingress allowed at the destination.
//
// What it cannot tell is whether a network plugin enforces these rules, or
// how it treats what the API leaves to the implementation (see
// Evaluator.IPBlockMatchesPods, and traffic from a pod's own node, which is
// always allowed and not modelled here).
package netpoleval
