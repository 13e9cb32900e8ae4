package netpoleval

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Namespace is a namespace and its labels.
type Namespace struct {
	Name   string
	Labels map[string]string
}

// Pod is what policy evaluation needs to know about a pod.
type Pod struct {
	Namespace string
	Name      string
	Labels    map[string]string
	// Ports are the pod's container ports: named ports in a policy are
	// looked up here.
	Ports []corev1.ContainerPort
	// IP is the pod's address; it matters only when the evaluator's
	// IPBlockMatchesPods is set. The zero value means none.
	IP netip.Addr
}

// Endpoint is one end of a connection: a pod, or an address outside the
// cluster when Pod is nil.
type Endpoint struct {
	Pod *Pod
	IP  netip.Addr
}

// PodEndpoint is the endpoint of a pod.
func PodEndpoint(p *Pod) Endpoint { return Endpoint{Pod: p, IP: p.IP} }

// External is the endpoint of an address outside the cluster.
func External(ip netip.Addr) Endpoint { return Endpoint{IP: ip} }

func (e Endpoint) String() string {
	if e.Pod != nil {
		return e.Pod.Namespace + "/" + e.Pod.Name
	}
	return "external " + e.IP.String()
}

// Conn is a connection attempt: From opens it to To's Port.
type Conn struct {
	From, To Endpoint
	Port     int32
	// Protocol is TCP when empty.
	Protocol corev1.Protocol
}

func (c Conn) protocol() corev1.Protocol {
	if c.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return c.Protocol
}

func (c Conn) String() string {
	return fmt.Sprintf("%s -> %s port %d/%s", c.From, c.To, c.Port, c.protocol())
}

// Evaluator holds parsed policies and the namespaces they are evaluated in.
type Evaluator struct {
	// IPBlockMatchesPods makes ipBlock peers match pods by their IP too.
	// The API leaves it to the network plugin whether an ipBlock applies to
	// pod-to-pod traffic ("cluster ingress and egress mechanisms often
	// require rewriting the source or destination IP"); by default only
	// addresses outside the cluster match an ipBlock. A test that must hold
	// under any plugin evaluates both ways.
	IPBlockMatchesPods bool

	namespaces map[string]labels.Set
	policies   []policy
}

// New parses the policies. Every namespace a policy or an evaluated pod
// lives in must be listed: namespaceSelector peers match their labels. Each
// namespace also carries kubernetes.io/metadata.name set to its name, as the
// API server labels every namespace.
func New(namespaces []Namespace, policies []networkingv1.NetworkPolicy) (*Evaluator, error) {
	e := &Evaluator{namespaces: map[string]labels.Set{}}
	for _, ns := range namespaces {
		if ns.Name == "" {
			return nil, fmt.Errorf("namespace without a name")
		}
		if _, dup := e.namespaces[ns.Name]; dup {
			return nil, fmt.Errorf("namespace %q listed twice", ns.Name)
		}
		set := labels.Set{}
		for k, v := range ns.Labels {
			set[k] = v
		}
		set[corev1.LabelMetadataName] = ns.Name
		e.namespaces[ns.Name] = set
	}
	for i := range policies {
		p, err := parsePolicy(&policies[i])
		if err != nil {
			return nil, fmt.Errorf("network policy %s/%s: %w", policies[i].Namespace, policies[i].Name, err)
		}
		if _, ok := e.namespaces[p.namespace]; !ok {
			return nil, fmt.Errorf("network policy %s: namespace %q is not listed", p.ref(), p.namespace)
		}
		e.policies = append(e.policies, p)
	}
	return e, nil
}

// Side is the verdict at one end of a connection: egress at the source,
// ingress at the destination.
type Side struct {
	// Checked is false when this end is outside the cluster, where no
	// policy applies.
	Checked bool
	// Isolating lists the policies ("namespace/name") that select the pod
	// for this direction; none means the pod is not isolated.
	Isolating []string
	// AllowedBy lists the rules ("namespace/name ingress[i]") that match.
	AllowedBy []string
}

// Allowed reports whether this end lets the connection through.
func (s Side) Allowed() bool {
	return !s.Checked || len(s.Isolating) == 0 || len(s.AllowedBy) > 0
}

func (s Side) describe(dir string) string {
	switch {
	case !s.Checked:
		return dir + ": outside the cluster, no policy applies"
	case len(s.Isolating) == 0:
		return dir + ": allowed, no policy isolates the pod"
	case len(s.AllowedBy) > 0:
		return dir + ": allowed by " + strings.Join(s.AllowedBy, ", ")
	}
	return dir + ": denied, isolated by " + strings.Join(s.Isolating, ", ") + " and no rule matches"
}

// Verdict is the decision on one connection, with the reasons on each side.
type Verdict struct {
	Conn    Conn
	Egress  Side
	Ingress Side
}

// Allowed reports whether the connection is allowed at both ends.
func (v Verdict) Allowed() bool { return v.Egress.Allowed() && v.Ingress.Allowed() }

// String says what was decided and why, on both sides.
func (v Verdict) String() string {
	word := "denied"
	if v.Allowed() {
		word = "allowed"
	}
	return fmt.Sprintf("%s %s (%s; %s)", v.Conn, word, v.Egress.describe("egress"), v.Ingress.describe("ingress"))
}

// Check decides a connection.
func (e *Evaluator) Check(c Conn) (Verdict, error) {
	if c.From.Pod == nil && c.To.Pod == nil {
		return Verdict{}, fmt.Errorf("%s: neither end is a pod", c)
	}
	for _, end := range []Endpoint{c.From, c.To} {
		if end.Pod == nil {
			if !end.IP.IsValid() {
				return Verdict{}, fmt.Errorf("%s: an external end needs an address", c)
			}
			continue
		}
		if _, ok := e.namespaces[end.Pod.Namespace]; !ok {
			return Verdict{}, fmt.Errorf("%s: namespace %q of pod %s is not listed", c, end.Pod.Namespace, end.Pod.Name)
		}
	}
	switch c.protocol() {
	case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
	default:
		return Verdict{}, fmt.Errorf("%s: unknown protocol", c)
	}
	if c.Port < 1 || c.Port > 65535 {
		return Verdict{}, fmt.Errorf("%s: port out of range", c)
	}
	v := Verdict{Conn: c}
	if c.From.Pod != nil {
		v.Egress = e.side(c.From.Pod, egress, c)
	}
	if c.To.Pod != nil {
		v.Ingress = e.side(c.To.Pod, ingress, c)
	}
	return v, nil
}

// side evaluates the policies selecting pod for one direction.
func (e *Evaluator) side(pod *Pod, dir direction, c Conn) Side {
	s := Side{Checked: true}
	podLabels := labels.Set(pod.Labels)
	for _, p := range e.policies {
		if p.namespace != pod.Namespace || !p.affects[dir] || !p.podSelector.Matches(podLabels) {
			continue
		}
		s.Isolating = append(s.Isolating, p.ref())
		for i, r := range p.rules[dir] {
			if e.ruleMatches(p, r, dir, c) {
				s.AllowedBy = append(s.AllowedBy, fmt.Sprintf("%s %s[%d]", p.ref(), dir, i))
			}
		}
	}
	return s
}

// ruleMatches reports whether a rule admits c: for ingress the peer is the
// source, for egress the destination; ports always name the destination's.
func (e *Evaluator) ruleMatches(p policy, r rule, dir direction, c Conn) bool {
	peer := c.From
	if dir == egress {
		peer = c.To
	}
	if !r.allPeers && !e.anyPeerMatches(p, r.peers, peer) {
		return false
	}
	return r.allPorts || portsMatch(r.ports, c)
}

func (e *Evaluator) anyPeerMatches(p policy, peers []peer, end Endpoint) bool {
	for _, pr := range peers {
		if e.peerMatches(p, pr, end) {
			return true
		}
	}
	return false
}

func (e *Evaluator) peerMatches(p policy, pr peer, end Endpoint) bool {
	if pr.block != nil {
		if end.Pod != nil && !e.IPBlockMatchesPods {
			return false
		}
		return end.IP.IsValid() && pr.block.contains(end.IP)
	}
	if end.Pod == nil {
		return false // selectors select pods only
	}
	if pr.namespaceSelector == nil {
		if end.Pod.Namespace != p.namespace {
			return false
		}
	} else if !pr.namespaceSelector.Matches(e.namespaces[end.Pod.Namespace]) {
		return false
	}
	return pr.podSelector == nil || pr.podSelector.Matches(labels.Set(end.Pod.Labels))
}

func portsMatch(ports []networkingv1.NetworkPolicyPort, c Conn) bool {
	for _, pp := range ports {
		if portMatches(pp, c) {
			return true
		}
	}
	return false
}

func portMatches(pp networkingv1.NetworkPolicyPort, c Conn) bool {
	proto := corev1.ProtocolTCP
	if pp.Protocol != nil {
		proto = *pp.Protocol
	}
	if proto != c.protocol() {
		return false
	}
	switch {
	case pp.Port == nil:
		return true
	case pp.Port.Type == intstr.String:
		// A named port is resolved against the destination pod; an address
		// outside the cluster has no named ports.
		if c.To.Pod == nil {
			return false
		}
		for _, cp := range c.To.Pod.Ports {
			cpProto := cp.Protocol
			if cpProto == "" {
				cpProto = corev1.ProtocolTCP
			}
			if cp.Name == pp.Port.StrVal && cpProto == proto && cp.ContainerPort == c.Port {
				return true
			}
		}
		return false
	case pp.EndPort != nil:
		return c.Port >= pp.Port.IntVal && c.Port <= *pp.EndPort
	}
	return c.Port == pp.Port.IntVal
}

// direction is ingress or egress.
type direction int

const (
	ingress direction = iota
	egress
)

func (d direction) String() string {
	if d == egress {
		return "egress"
	}
	return "ingress"
}

// policy is a parsed NetworkPolicy.
type policy struct {
	namespace, name string
	podSelector     labels.Selector
	affects         [2]bool
	rules           [2][]rule
}

func (p policy) ref() string { return p.namespace + "/" + p.name }

// rule is one ingress or egress rule.
type rule struct {
	allPeers bool // from/to empty or missing
	peers    []peer
	allPorts bool // ports empty or missing
	ports    []networkingv1.NetworkPolicyPort
}

// peer is one from/to entry: either selectors (nil when absent) or a block.
type peer struct {
	podSelector       labels.Selector
	namespaceSelector labels.Selector
	block             *ipBlock
}

type ipBlock struct {
	cidr   netip.Prefix
	except []netip.Prefix
}

func (b *ipBlock) contains(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !b.cidr.Contains(ip) {
		return false
	}
	for _, x := range b.except {
		if x.Contains(ip) {
			return false
		}
	}
	return true
}

func parsePolicy(np *networkingv1.NetworkPolicy) (policy, error) {
	if np.Name == "" || np.Namespace == "" {
		return policy{}, fmt.Errorf("needs a name and a namespace")
	}
	p := policy{namespace: np.Namespace, name: np.Name}
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil {
		return policy{}, fmt.Errorf("podSelector: %w", err)
	}
	p.podSelector = sel
	types := np.Spec.PolicyTypes
	if len(types) == 0 {
		// The API's default: every policy affects ingress, and egress too
		// when it has egress rules.
		types = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(np.Spec.Egress) > 0 {
			types = append(types, networkingv1.PolicyTypeEgress)
		}
	}
	for _, t := range types {
		switch t {
		case networkingv1.PolicyTypeIngress:
			p.affects[ingress] = true
		case networkingv1.PolicyTypeEgress:
			p.affects[egress] = true
		default:
			return policy{}, fmt.Errorf("unknown policy type %q", t)
		}
	}
	for i, r := range np.Spec.Ingress {
		pr, err := parseRule(r.From, r.Ports)
		if err != nil {
			return policy{}, fmt.Errorf("ingress[%d]: %w", i, err)
		}
		p.rules[ingress] = append(p.rules[ingress], pr)
	}
	for i, r := range np.Spec.Egress {
		pr, err := parseRule(r.To, r.Ports)
		if err != nil {
			return policy{}, fmt.Errorf("egress[%d]: %w", i, err)
		}
		p.rules[egress] = append(p.rules[egress], pr)
	}
	return p, nil
}

func parseRule(peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) (rule, error) {
	r := rule{allPeers: len(peers) == 0, allPorts: len(ports) == 0}
	for i, pp := range ports {
		if err := checkPort(pp); err != nil {
			return rule{}, fmt.Errorf("ports[%d]: %w", i, err)
		}
		r.ports = append(r.ports, pp)
	}
	for i, pe := range peers {
		p, err := parsePeer(pe)
		if err != nil {
			return rule{}, fmt.Errorf("peer %d: %w", i, err)
		}
		r.peers = append(r.peers, p)
	}
	return r, nil
}

func parsePeer(pe networkingv1.NetworkPolicyPeer) (peer, error) {
	if pe.IPBlock != nil {
		if pe.PodSelector != nil || pe.NamespaceSelector != nil {
			return peer{}, fmt.Errorf("ipBlock cannot be combined with a selector")
		}
		b, err := parseIPBlock(*pe.IPBlock)
		if err != nil {
			return peer{}, err
		}
		return peer{block: b}, nil
	}
	if pe.PodSelector == nil && pe.NamespaceSelector == nil {
		return peer{}, fmt.Errorf("names no podSelector, namespaceSelector or ipBlock")
	}
	var p peer
	if pe.PodSelector != nil {
		s, err := metav1.LabelSelectorAsSelector(pe.PodSelector)
		if err != nil {
			return peer{}, fmt.Errorf("podSelector: %w", err)
		}
		p.podSelector = s
	}
	if pe.NamespaceSelector != nil {
		s, err := metav1.LabelSelectorAsSelector(pe.NamespaceSelector)
		if err != nil {
			return peer{}, fmt.Errorf("namespaceSelector: %w", err)
		}
		p.namespaceSelector = s
	}
	return p, nil
}

func parseIPBlock(b networkingv1.IPBlock) (*ipBlock, error) {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return nil, fmt.Errorf("ipBlock cidr: %w", err)
	}
	out := &ipBlock{cidr: cidr.Masked()}
	for _, s := range b.Except {
		x, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("ipBlock except: %w", err)
		}
		x = x.Masked()
		// The API refuses an except that is not strictly inside cidr.
		if x.Addr().Is4() != out.cidr.Addr().Is4() || x.Bits() <= out.cidr.Bits() || !out.cidr.Contains(x.Addr()) {
			return nil, fmt.Errorf("ipBlock except %s is not strictly inside %s", s, b.CIDR)
		}
		out.except = append(out.except, x)
	}
	return out, nil
}

// checkPort refuses what the API's validation refuses and the evaluator
// would otherwise have to guess about.
func checkPort(pp networkingv1.NetworkPolicyPort) error {
	if pp.Protocol != nil {
		switch *pp.Protocol {
		case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		default:
			return fmt.Errorf("unknown protocol %q", *pp.Protocol)
		}
	}
	if pp.Port == nil {
		if pp.EndPort != nil {
			return fmt.Errorf("endPort needs a port")
		}
		return nil
	}
	if pp.Port.Type == intstr.String {
		if pp.Port.StrVal == "" {
			return fmt.Errorf("empty port name")
		}
		if pp.EndPort != nil {
			return fmt.Errorf("endPort cannot follow the named port %q", pp.Port.StrVal)
		}
		return nil
	}
	if pp.Port.IntVal < 1 || pp.Port.IntVal > 65535 {
		return fmt.Errorf("port %d out of range", pp.Port.IntVal)
	}
	if pp.EndPort != nil && (*pp.EndPort < pp.Port.IntVal || *pp.EndPort > 65535) {
		return fmt.Errorf("endPort %d must be from port %d to 65535", *pp.EndPort, pp.Port.IntVal)
	}
	return nil
}
