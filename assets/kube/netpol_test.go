package kube

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/assets/kube/internal/netpoleval"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// The segmentation test renders every group combination under several
// Kubernetes layouts and checks every connection between the rendered pods,
// and between them and outside addresses, against what the compose file of
// the same answers allows on Docker: members of a shared network reach each
// other on any port, only a non-internal network reaches outside, only
// published ports are reached from outside. The only other flows allowed
// are the ones ExtraFlows documents.

// netpolLayout is one Kubernetes layout the policies are checked under.
type netpolLayout struct {
	name string
	// vault is kubernetes.vault.address.
	vault string
	// postgres is the external database's host; empty runs PostgreSQL in
	// the cluster.
	postgres     string
	postgresPort int
	fineract     answers.KubernetesFineract
}

var netpolLayouts = []netpolLayout{
	{name: "vault-by-ip", vault: "https://10.20.0.5:8200"},
	{name: "vault-by-name+external-db-by-ip+fineract-split", vault: "https://vault.example.net:8200",
		postgres: "192.0.2.40", postgresPort: 5433, fineract: answers.KubernetesFineract{ReadReplicas: 2, BatchInstance: true}},
	{name: "vault-by-ip-443+external-db-by-name", vault: "https://198.51.100.9",
		postgres: "db.example.net", fineract: answers.KubernetesFineract{ReadReplicas: 1}},
}

// Addresses outside the cluster the test connects to or from. Pods get
// addresses in podCIDR, which none of them is in.
var (
	outsideAddr  = netip.MustParseAddr("203.0.113.77")
	outsideAddr6 = netip.MustParseAddr("2001:db8::77")
	podCIDR      = netip.MustParsePrefix("10.244.0.0/16")
)

// Namespaces the test adds around the stack: the cluster's DNS, and a
// namespace of someone else's pods.
const (
	kubeSystem = "kube-system"
	elsewhere  = "someone-else"
)

// probePort is a port nothing listens on: on a shared Docker network it is
// reachable all the same, so the policies must allow it there too.
const probePort = 1

// composeLayout is what the Docker target allows, read from the rendered
// compose file with compose-go.
type composeLayout struct {
	networks  map[string][]string // service -> network keys
	internal  map[string]bool     // network key -> internal
	published map[string][]int32  // service -> published ports' targets
	dbClients map[string]bool     // services that depend on postgres
}

func loadComposeLayout(t *testing.T, b assets.Bundle) composeLayout {
	t.Helper()
	f, ok := b.File(b.ComposeFile)
	if !ok {
		t.Fatal("the bundle has no compose file")
	}
	dir := t.TempDir()
	p, err := compose.LoadContent(context.Background(), filepath.Join(dir, b.ComposeFile), f.Data,
		compose.LoadOptions{ProjectName: testOptions.Project, WorkingDir: dir})
	if err != nil {
		t.Fatalf("load the compose file: %v", err)
	}
	l := composeLayout{networks: map[string][]string{}, internal: map[string]bool{},
		published: map[string][]int32{}, dbClients: map[string]bool{}}
	for key, n := range p.Networks {
		l.internal[key] = n.Internal
	}
	for name, s := range p.Services {
		for key := range s.Networks {
			l.networks[name] = append(l.networks[name], key)
		}
		sort.Strings(l.networks[name])
		for _, port := range s.Ports {
			if port.Published != "" && (port.Protocol == "" || port.Protocol == "tcp") {
				l.published[name] = append(l.published[name], int32(port.Target))
			}
		}
		if _, ok := s.DependsOn["postgres"]; ok {
			l.dbClients[name] = true
		}
	}
	return l
}

// shared is the networks two compose services have in common.
func (l composeLayout) shared(a, b string) []string {
	var out []string
	for _, n := range l.networks[a] {
		if slices.Contains(l.networks[b], n) {
			out = append(out, n)
		}
	}
	return out
}

// outbound is a service's networks that are not internal: Docker routes
// them outside.
func (l composeLayout) outbound(s string) []string {
	var out []string
	for _, n := range l.networks[s] {
		if !l.internal[n] {
			out = append(out, n)
		}
	}
	return out
}

// stackPod is one rendered workload's pod, and the ports it listens on
// (its container ports and the target ports of Services selecting it).
type stackPod struct {
	service string
	pod     *netpoleval.Pod
	listens []int32
}

func (p stackPod) String() string {
	return fmt.Sprintf("%s (%s/%s)", p.service, p.pod.Namespace, p.pod.Name)
}

// renderedCluster is what the manifests put in a cluster, for the
// evaluator.
type renderedCluster struct {
	namespaces []netpoleval.Namespace
	policies   []networkingv1.NetworkPolicy
	pods       []stackPod
}

func fromUnstructured(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true); err != nil {
		t.Fatalf("%s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
}

func readManifests(t *testing.T, m Manifests) renderedCluster {
	t.Helper()
	var c renderedCluster
	type workload struct {
		ns, name string
		tmpl     corev1.PodTemplateSpec
	}
	var workloads []workload
	var services []corev1.Service
	for _, u := range m.Objects {
		switch u.GetKind() {
		case "Namespace":
			c.namespaces = append(c.namespaces, netpoleval.Namespace{Name: u.GetName(), Labels: u.GetLabels()})
		case "NetworkPolicy":
			var np networkingv1.NetworkPolicy
			fromUnstructured(t, u, &np)
			c.policies = append(c.policies, np)
		case "Service":
			var s corev1.Service
			fromUnstructured(t, u, &s)
			services = append(services, s)
		case "Deployment":
			var d appsv1.Deployment
			fromUnstructured(t, u, &d)
			workloads = append(workloads, workload{d.Namespace, d.Name, d.Spec.Template})
		case "StatefulSet":
			var s appsv1.StatefulSet
			fromUnstructured(t, u, &s)
			workloads = append(workloads, workload{s.Namespace, s.Name, s.Spec.Template})
		case "DaemonSet":
			var d appsv1.DaemonSet
			fromUnstructured(t, u, &d)
			workloads = append(workloads, workload{d.Namespace, d.Name, d.Spec.Template})
		case "ReplicaSet", "Pod", "Job", "CronJob", "ReplicationController":
			t.Fatalf("%s %s: the segmentation test reads no pods from a %s; teach it to", u.GetName(), u.GetKind(), u.GetKind())
		}
	}
	for i, w := range workloads {
		service := w.tmpl.Labels[LabelName]
		if service == "" {
			t.Fatalf("workload %s/%s: its pods carry no %s label", w.ns, w.name, LabelName)
		}
		pod := &netpoleval.Pod{Namespace: w.ns, Name: w.name, Labels: w.tmpl.Labels, IP: nthAddr(podCIDR.Addr(), 10+i)}
		var listens []int32
		for _, ct := range w.tmpl.Spec.Containers {
			pod.Ports = append(pod.Ports, ct.Ports...)
			for _, p := range ct.Ports {
				listens = append(listens, p.ContainerPort)
			}
		}
		for _, s := range services {
			if s.Namespace != w.ns || len(s.Spec.Selector) == 0 || !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(w.tmpl.Labels)) {
				continue
			}
			for _, sp := range s.Spec.Ports {
				listens = append(listens, targetPort(t, s, sp, pod))
			}
		}
		slices.Sort(listens)
		c.pods = append(c.pods, stackPod{service: service, pod: pod, listens: slices.Compact(listens)})
	}
	return c
}

// targetPort resolves a Service port's target on a pod it selects.
func targetPort(t *testing.T, s corev1.Service, sp corev1.ServicePort, pod *netpoleval.Pod) int32 {
	t.Helper()
	switch {
	case sp.TargetPort.Type == intstr.String:
		for _, cp := range pod.Ports {
			if cp.Name == sp.TargetPort.StrVal {
				return cp.ContainerPort
			}
		}
		t.Fatalf("Service %s/%s: target port %q is no container port of %s", s.Namespace, s.Name, sp.TargetPort.StrVal, pod.Name)
	case sp.TargetPort.IntVal != 0:
		return sp.TargetPort.IntVal
	}
	return sp.Port
}

// nthAddr is the address n after base.
func nthAddr(base netip.Addr, n int) netip.Addr {
	for range n {
		base = base.Next()
	}
	return base
}

// expectation is whether a connection must be allowed, and why.
type expectation struct {
	allowed bool
	why     string
}

// segmentationCase is one rendering, with everything the checks need.
type segmentationCase struct {
	t        *testing.T
	layout   composeLayout
	cluster  renderedCluster
	eval     *netpoleval.Evaluator
	vault    netip.AddrPort // invalid address when Vault is named by DNS
	vaultPrt int32
	pg       netip.Addr // external database's address, when given as one
	pgHost   string
	pgPort   int32
	ports    []int32
	failures int
}

// maxFailures bounds what one case reports in detail: a broken renderer
// fails thousands of connections, and the first ones say enough.
const maxFailures = 30

func (sc *segmentationCase) check(from, to netpoleval.Endpoint, port int32, proto corev1.Protocol, fromName, toName string, want expectation) {
	sc.t.Helper()
	v, err := sc.eval.Check(netpoleval.Conn{From: from, To: to, Port: port, Protocol: proto})
	if err != nil {
		sc.t.Fatalf("evaluate %s -> %s: %v", fromName, toName, err)
	}
	if v.Allowed() == want.allowed {
		return
	}
	sc.failures++
	if sc.failures > maxFailures {
		return
	}
	word := map[bool]string{true: "allowed", false: "denied"}
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	sc.t.Errorf("%s -> %s port %d/%s: want %s (%s); the policies: %s (ipBlock matches pod IPs: %v)",
		fromName, toName, port, proto, word[want.allowed], want.why, v, sc.eval.IPBlockMatchesPods)
}

func TestNetworkPoliciesAllowExactlyTheComposeFlows(t *testing.T) {
	for _, c := range allCombos() {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			// The compose file is the same under every Kubernetes layout.
			layout := loadComposeLayout(t, bundleFor(t, testAnswers(t, c)))
			for _, nl := range netpolLayouts {
				t.Run(nl.name, func(t *testing.T) {
					a := testAnswers(t, c)
					a.Kubernetes.Vault.Address = nl.vault
					a.Kubernetes.Fineract = nl.fineract
					if nl.postgres != "" {
						a.Kubernetes.Postgres.External = &answers.ExternalPostgres{Host: nl.postgres, Port: nl.postgresPort,
							CACert: writeCA(t, t.TempDir(), "database-ca")}
					}
					sc := newSegmentationCase(t, a, layout)
					for _, ipBlockMatchesPods := range []bool{false, true} {
						sc.eval.IPBlockMatchesPods = ipBlockMatchesPods
						sc.checkStackPairs()
						sc.checkOutside()
						sc.checkDNS()
						sc.checkStrangers()
					}
					if sc.failures > maxFailures {
						t.Errorf("%d connections decided wrongly in all; the first %d are above", sc.failures, maxFailures)
					}
				})
			}
		})
	}
}

func newSegmentationCase(t *testing.T, a answers.Answers, layout composeLayout) *segmentationCase {
	t.Helper()
	sc := &segmentationCase{t: t, layout: layout, cluster: readManifests(t, render(t, a))}
	u, err := url.Parse(a.Kubernetes.Vault.Address)
	if err != nil {
		t.Fatal(err)
	}
	sc.vaultPrt = 443
	if u.Port() != "" {
		p, _ := strconv.Atoi(u.Port())
		sc.vaultPrt = int32(p)
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		sc.vault = netip.AddrPortFrom(ip, uint16(sc.vaultPrt))
	}
	if e := a.Kubernetes.Postgres.External; e != nil {
		sc.pgHost, sc.pgPort = e.Host, int32(e.Port)
		if sc.pgPort == 0 {
			sc.pgPort = answers.DefaultPostgresPort
		}
		sc.pg, _ = netip.ParseAddr(e.Host)
	}
	sc.checkEveryServiceIsAPod(a)
	namespaces := append(slices.Clone(sc.cluster.namespaces), netpoleval.Namespace{Name: kubeSystem}, netpoleval.Namespace{Name: elsewhere})
	sc.eval, err = netpoleval.New(namespaces, sc.cluster.policies)
	if err != nil {
		t.Fatalf("the rendered NetworkPolicies: %v", err)
	}
	return sc
}

// checkEveryServiceIsAPod makes sure no compose service escapes the table:
// each is a pod, except Vault (the pods use the Vault that
// kubernetes.vault.address names) and an external database.
func (sc *segmentationCase) checkEveryServiceIsAPod(a answers.Answers) {
	t := sc.t
	t.Helper()
	have := map[string]bool{}
	for _, p := range sc.cluster.pods {
		if _, ok := sc.layout.networks[p.service]; !ok {
			t.Errorf("pod %s runs %q, which is no compose service", p, p.service)
		}
		have[p.service] = true
	}
	for s := range sc.layout.networks {
		outside := s == "vault" || (s == "postgres" && a.Kubernetes.Postgres.External != nil)
		if have[s] == outside {
			t.Errorf("compose service %s: rendered as a pod: %v, want %v", s, have[s], !outside)
		}
	}
	if len(sc.cluster.pods) == 0 {
		t.Fatal("the manifests hold no workload")
	}
}

// portsToTry are the ports a connection to dst is tried on: the ports any
// pod of the stack listens on (a port one service opens must not open on
// another) and probePort.
func (sc *segmentationCase) portsToTry() []int32 {
	if sc.ports == nil {
		sc.ports = []int32{probePort}
		for _, p := range sc.cluster.pods {
			sc.ports = append(sc.ports, p.listens...)
		}
		slices.Sort(sc.ports)
		sc.ports = slices.Compact(sc.ports)
	}
	return sc.ports
}

// checkStackPairs tries every ordered pair of stack pods (a pod and itself
// stands for two replicas of one workload) on every port a pod of the stack
// listens on and on one nothing listens on: allowed iff the two services
// share a compose network.
func (sc *segmentationCase) checkStackPairs() {
	for _, src := range sc.cluster.pods {
		for _, dst := range sc.cluster.pods {
			want := expectation{why: fmt.Sprintf("compose: no network in common (%s: %s; %s: %s)",
				src.service, strings.Join(sc.layout.networks[src.service], ","), dst.service, strings.Join(sc.layout.networks[dst.service], ","))}
			if n := sc.layout.shared(src.service, dst.service); len(n) > 0 {
				want = expectation{allowed: true, why: "compose: both on network " + strings.Join(n, ",")}
			}
			for _, port := range sc.portsToTry() {
				sc.check(netpoleval.PodEndpoint(src.pod), netpoleval.PodEndpoint(dst.pod), port, "", src.String(), dst.String(), want)
			}
			// Docker networks carry UDP as well; the policies must not
			// narrow a shared network to TCP.
			sc.check(netpoleval.PodEndpoint(src.pod), netpoleval.PodEndpoint(dst.pod), probePort, corev1.ProtocolUDP, src.String(), dst.String(), want)
		}
	}
}

// outboundWant is whether a stack pod may open a connection to an address
// outside the cluster: a service on a non-internal compose network reaches
// anything; besides, every pod reaches Vault on its port (the Vault agent)
// and the database clients the external database on its port, each by its
// address, or on any address when the answers name it by DNS name
// (NetworkPolicy has no names).
func (sc *segmentationCase) outboundWant(src stackPod, ip netip.Addr, port int32, proto corev1.Protocol) expectation {
	if n := sc.layout.outbound(src.service); len(n) > 0 {
		return expectation{true, "compose: on non-internal network " + strings.Join(n, ",")}
	}
	tcp := proto == "" || proto == corev1.ProtocolTCP
	if tcp && port == sc.vaultPrt && (!sc.vault.IsValid() || sc.vault.Addr() == ip) {
		return expectation{true, "ExtraFlows: the Vault agent reaches Vault"}
	}
	if tcp && sc.pgHost != "" && sc.layout.dbClients[src.service] && port == sc.pgPort && (!sc.pg.IsValid() || sc.pg == ip) {
		return expectation{true, "ExtraFlows: a database client reaches the external database"}
	}
	return expectation{false, "compose: " + src.service + " is on internal networks only (" + strings.Join(sc.layout.networks[src.service], ",") + ")"}
}

// checkOutside tries connections between every stack pod and addresses
// outside the cluster, both ways.
func (sc *segmentationCase) checkOutside() {
	targets := []netip.Addr{outsideAddr, outsideAddr6}
	if sc.vault.IsValid() {
		targets = append(targets, sc.vault.Addr())
	}
	if sc.pg.IsValid() {
		targets = append(targets, sc.pg)
	}
	ports := []int32{probePort, 53, 80, 443, 5432, 8200, sc.vaultPrt}
	if sc.pgPort != 0 {
		ports = append(ports, sc.pgPort)
	}
	outside := netpoleval.External(outsideAddr)
	for _, src := range sc.cluster.pods {
		for _, ip := range targets {
			for _, port := range ports {
				for _, proto := range []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP} {
					sc.check(netpoleval.PodEndpoint(src.pod), netpoleval.External(ip), port, proto, src.String(), "outside "+ip.String(),
						sc.outboundWant(src, ip, port, proto))
				}
			}
		}
		// Inbound: only the published ports' targets, as Docker publishes them.
		for _, port := range sc.portsToTry() {
			want := expectation{false, "compose: " + src.service + " publishes no port " + strconv.Itoa(int(port))}
			if slices.Contains(sc.layout.published[src.service], port) {
				want = expectation{true, "compose: " + src.service + " publishes a port onto " + strconv.Itoa(int(port))}
			}
			sc.check(outside, netpoleval.PodEndpoint(src.pod), port, "", "outside "+outsideAddr.String(), src.String(), want)
		}
	}
}

// checkDNS: every pod of the stack's namespaces asks kube-dns on 53 (UDP
// and TCP), and reaches nothing else in kube-system.
func (sc *segmentationCase) checkDNS() {
	dns := &netpoleval.Pod{Namespace: kubeSystem, Name: "coredns", Labels: map[string]string{"k8s-app": "kube-dns"},
		IP: netip.MustParseAddr("10.244.200.10"), Ports: []corev1.ContainerPort{
			{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
			{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
			{Name: "metrics", ContainerPort: 9153, Protocol: corev1.ProtocolTCP},
		}}
	other := &netpoleval.Pod{Namespace: kubeSystem, Name: "metrics-server", Labels: map[string]string{"k8s-app": "metrics-server"},
		IP: netip.MustParseAddr("10.244.200.11"), Ports: []corev1.ContainerPort{{Name: "https", ContainerPort: 10250}}}
	srcs := slices.Clone(sc.cluster.pods)
	srcs = append(srcs, sc.unlabelled()...)
	for _, src := range srcs {
		// What the pod may reach anyway: a non-internal network reaches
		// everything outside, and, where the plugin applies ipBlocks to
		// pod addresses, every pod no ingress policy guards.
		open := sc.eval.IPBlockMatchesPods && len(sc.layout.outbound(src.service)) > 0
		anyway := expectation{open, "no DNS port, and " + src.service + " reaches other pods only through an ipBlock matching pod addresses"}
		for _, proto := range []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolTCP} {
			sc.check(netpoleval.PodEndpoint(src.pod), netpoleval.PodEndpoint(dns), 53, proto, src.String(), "kube-dns",
				expectation{true, "ExtraFlows: DNS"})
			sc.check(netpoleval.PodEndpoint(src.pod), netpoleval.PodEndpoint(other), 53, proto, src.String(), "kube-system/metrics-server",
				expectation{open, "DNS goes to kube-dns only"})
		}
		sc.check(netpoleval.PodEndpoint(src.pod), netpoleval.PodEndpoint(dns), 9153, "", src.String(), "kube-dns", anyway)
		sc.check(netpoleval.PodEndpoint(src.pod), netpoleval.PodEndpoint(other), 10250, "", src.String(), "kube-system/metrics-server", anyway)
	}
}

// unlabelled is, in each of the stack's namespaces, a pod that carries no
// label of a stack service (someone's debugging pod).
func (sc *segmentationCase) unlabelled() []stackPod {
	var out []stackPod
	for i, ns := range sc.cluster.namespaces {
		out = append(out, stackPod{service: "an unlabelled pod", pod: &netpoleval.Pod{Namespace: ns.Name, Name: "debug",
			IP: nthAddr(netip.MustParseAddr("10.244.100.0"), 1+i), Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}})
	}
	return out
}

// checkStrangers: a pod in a stack namespace without a service's labels
// reaches no stack pod and is reached by none, and outside only through the
// flows every pod of those namespaces has (DNS, Vault); a pod in another
// namespace carrying a stack service's very labels reaches no stack pod
// except the gateway's published ports, and those only where the plugin
// applies the gateway's ipBlock to pod addresses.
func (sc *segmentationCase) checkStrangers() {
	for _, stranger := range sc.unlabelled() {
		for _, dst := range sc.cluster.pods {
			for _, port := range sc.portsToTry() {
				sc.check(netpoleval.PodEndpoint(stranger.pod), netpoleval.PodEndpoint(dst.pod), port, "", stranger.String(), dst.String(),
					expectation{false, "not a stack service: on no network"})
			}
			// default-deny isolates the stranger for ingress, and no rule names it.
			sc.check(netpoleval.PodEndpoint(dst.pod), netpoleval.PodEndpoint(stranger.pod), 8080, "", dst.String(), stranger.String(),
				expectation{false, "not a stack service: on no network"})
		}
		for _, port := range []int32{probePort, 443, 5432, sc.vaultPrt} {
			want := expectation{false, "not a stack service"}
			if port == sc.vaultPrt && !sc.vault.IsValid() {
				want = expectation{true, "ExtraFlows: every pod of the namespace reaches Vault"}
			}
			sc.check(netpoleval.PodEndpoint(stranger.pod), netpoleval.External(outsideAddr), port, "", stranger.String(), "outside "+outsideAddr.String(), want)
			if sc.vault.IsValid() {
				sc.check(netpoleval.PodEndpoint(stranger.pod), netpoleval.External(sc.vault.Addr()), port, "", stranger.String(), "Vault "+sc.vault.String(),
					expectation{port == sc.vaultPrt, "ExtraFlows: every pod of the namespace reaches Vault, on its port only"})
			}
		}
	}
	for i, dst := range sc.cluster.pods {
		impostor := &netpoleval.Pod{Namespace: elsewhere, Name: "impostor-" + dst.pod.Name, Labels: dst.pod.Labels,
			IP: nthAddr(netip.MustParseAddr("10.244.150.0"), 1+i)}
		for _, port := range sc.portsToTry() {
			want := expectation{false, "another namespace's pod, even with " + dst.service + "'s labels, is on no stack network"}
			if sc.eval.IPBlockMatchesPods && slices.Contains(sc.layout.published[dst.service], port) {
				want = expectation{true, "a published port, open to every address, pod addresses included under this plugin"}
			}
			sc.check(netpoleval.PodEndpoint(impostor), netpoleval.PodEndpoint(dst.pod), port, "", elsewhere+"/"+impostor.Name, dst.String(), want)
		}
	}
}

// Every namespace of the stack denies everything in and out by default,
// and every pod carries the network labels of exactly the networks its
// service joins in the compose file.
func TestNetworkPolicyDefaultDenyAndMembership(t *testing.T) {
	for _, c := range allCombos() {
		t.Run(c.String(), func(t *testing.T) {
			_, b, m := renderedCombo(t, c)
			layout := loadComposeLayout(t, b)
			cluster := readManifests(t, m)
			for _, ns := range m.Namespaces {
				if !slices.ContainsFunc(cluster.policies, func(np networkingv1.NetworkPolicy) bool {
					return np.Namespace == ns && np.Name == PolicyDefaultDeny && len(np.Spec.PodSelector.MatchLabels) == 0 &&
						len(np.Spec.PodSelector.MatchExpressions) == 0 && len(np.Spec.Ingress) == 0 && len(np.Spec.Egress) == 0 &&
						slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) &&
						slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
				}) {
					t.Errorf("namespace %s has no default deny in and out", ns)
				}
			}
			for _, p := range cluster.pods {
				var nets []string
				for k, v := range p.pod.Labels {
					if r, ok := strings.CutPrefix(k, NetworkLabelPrefix); ok && v == memberValue {
						nets = append(nets, r)
					}
				}
				sort.Strings(nets)
				if want := layout.networks[p.service]; !slices.Equal(nets, want) {
					t.Errorf("%s is labelled for networks %v, the compose file joins %v", p, nets, want)
				}
			}
		})
	}
}

// The extra flows' policies name what ExtraFlows says: DNS to kube-dns,
// Vault's address and port, the gateway's published ports' targets.
func TestNetworkPolicyExtraFlows(t *testing.T) {
	m := render(t, testAnswers(t, combo{profile: answers.Production}))
	get := func(name string) networkingv1.NetworkPolicy {
		var np networkingv1.NetworkPolicy
		u := object(m, "NetworkPolicy", "fineract", name)
		if u == nil {
			t.Fatalf("no NetworkPolicy %s", name)
		}
		fromUnstructured(t, u, &np)
		return np
	}
	vault := get(PolicyVault)
	if len(vault.Spec.PodSelector.MatchLabels) != 0 || vault.Spec.Egress[0].To[0].IPBlock.CIDR != "10.20.0.5/32" || vault.Spec.Egress[0].Ports[0].Port.IntVal != 8200 {
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
