package netpoleval

import (
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// The cluster most cases run in: two namespaces, a database, its client,
// a pod in another namespace, and one address outside the cluster.
var (
	nsProd  = Namespace{Name: "prod", Labels: map[string]string{"env": "prod"}}
	nsOther = Namespace{Name: "other", Labels: map[string]string{"env": "test"}}

	db = &Pod{Namespace: "prod", Name: "db", Labels: map[string]string{"app": "db", "tier": "data"},
		Ports: []corev1.ContainerPort{
			{Name: "sql", ContainerPort: 5432},
			{Name: "metrics", ContainerPort: 9187},
			{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
		},
		IP: netip.MustParseAddr("10.0.0.10")}
	api = &Pod{Namespace: "prod", Name: "api", Labels: map[string]string{"app": "api"},
		Ports: []corev1.ContainerPort{{Name: "sql", ContainerPort: 6543}, {Name: "http", ContainerPort: 8080}},
		IP:    netip.MustParseAddr("10.0.0.20")}
	stray = &Pod{Namespace: "other", Name: "stray", Labels: map[string]string{"app": "api"},
		IP: netip.MustParseAddr("10.0.1.30")}

	outside = External(netip.MustParseAddr("203.0.113.7"))
)

// policies parses NetworkPolicies from YAML documents, as they would be
// written in a manifest.
func policies(t *testing.T, docs ...string) []networkingv1.NetworkPolicy {
	t.Helper()
	var out []networkingv1.NetworkPolicy
	for _, d := range docs {
		var np networkingv1.NetworkPolicy
		if err := yaml.UnmarshalStrict([]byte(d), &np); err != nil {
			t.Fatalf("parse policy: %v\n%s", err, d)
		}
		out = append(out, np)
	}
	return out
}

func newEval(t *testing.T, docs ...string) *Evaluator {
	t.Helper()
	e, err := New([]Namespace{nsProd, nsOther}, policies(t, docs...))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// flow is one connection and whether it must be allowed.
type flow struct {
	from, to Endpoint
	port     int32
	proto    corev1.Protocol
	allowed  bool
}

func pod(p *Pod) Endpoint { return PodEndpoint(p) }

func checkFlows(t *testing.T, e *Evaluator, flows []flow) {
	t.Helper()
	for _, f := range flows {
		v, err := e.Check(Conn{From: f.from, To: f.to, Port: f.port, Protocol: f.proto})
		if err != nil {
			t.Errorf("Check: %v", err)
			continue
		}
		if v.Allowed() != f.allowed {
			t.Errorf("want allowed=%v, got %s", f.allowed, v)
		}
	}
}

func TestNoPolicyAllowsEverything(t *testing.T) {
	checkFlows(t, newEval(t), []flow{
		{from: pod(api), to: pod(db), port: 5432, allowed: true},
		{from: pod(stray), to: pod(db), port: 1, proto: corev1.ProtocolSCTP, allowed: true},
		{from: outside, to: pod(db), port: 5432, allowed: true},
		{from: pod(db), to: outside, port: 443, allowed: true},
	})
}

const denyIngress = `
metadata: {name: deny-ingress, namespace: prod}
spec:
  podSelector: {}
`

func TestDefaultDenyIngressLeavesEgressOpen(t *testing.T) {
	// No policyTypes and no egress section: the policy affects ingress only.
	checkFlows(t, newEval(t, denyIngress), []flow{
		{from: pod(api), to: pod(db), port: 5432, allowed: false},
		{from: outside, to: pod(api), port: 8080, allowed: false},
		{from: pod(db), to: outside, port: 443, allowed: true},
		{from: pod(db), to: pod(stray), port: 80, allowed: true},
		{from: pod(api), to: pod(stray), port: 80, allowed: true},
	})
}

func TestDefaultDenyBothWays(t *testing.T) {
	e := newEval(t, `
metadata: {name: deny-all, namespace: prod}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
`)
	checkFlows(t, e, []flow{
		{from: pod(api), to: pod(db), port: 5432, allowed: false},
		{from: pod(db), to: outside, port: 443, allowed: false},
		{from: pod(db), to: pod(stray), port: 80, allowed: false},
		{from: pod(stray), to: pod(db), port: 5432, allowed: false},
		{from: pod(stray), to: outside, port: 443, allowed: true}, // other namespace
	})
}

func TestEgressOnlyPolicyLeavesIngressOpen(t *testing.T) {
	e := newEval(t, `
metadata: {name: deny-egress, namespace: prod}
spec:
  podSelector: {}
  policyTypes: [Egress]
`)
	checkFlows(t, e, []flow{
		{from: pod(stray), to: pod(db), port: 5432, allowed: true},
		{from: outside, to: pod(db), port: 5432, allowed: true},
		{from: pod(db), to: pod(stray), port: 80, allowed: false},
		{from: pod(api), to: pod(db), port: 5432, allowed: false}, // api's egress
	})
}

func TestPolicyTypesDefaultToEgressWhenEgressRulesExist(t *testing.T) {
	// No policyTypes, but an egress section: the policy affects both
	// directions, so ingress to api is isolated with no ingress rule.
	e := newEval(t, `
metadata: {name: api-out, namespace: prod}
spec:
  podSelector: {matchLabels: {app: api}}
  egress:
  - to: [{podSelector: {matchLabels: {app: db}}}]
`)
	checkFlows(t, e, []flow{
		{from: pod(api), to: pod(db), port: 5432, allowed: true},
		{from: pod(api), to: outside, port: 443, allowed: false},
		{from: pod(db), to: pod(api), port: 8080, allowed: false},
		{from: pod(db), to: outside, port: 443, allowed: true}, // db is not selected
	})
}

func TestExplicitIngressTypeIgnoresEgressRules(t *testing.T) {
	e := newEval(t, `
metadata: {name: api-in, namespace: prod}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  egress:
  - to: [{podSelector: {matchLabels: {app: db}}}]
`)
	checkFlows(t, e, []flow{
		{from: pod(api), to: outside, port: 443, allowed: true},
		{from: pod(db), to: pod(api), port: 8080, allowed: false},
	})
}

func TestAllowAllRule(t *testing.T) {
	// An empty rule matches every source and every port, outside
	// addresses included.
	e := newEval(t, denyIngress, `
metadata: {name: allow-db, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{}]
`)
	checkFlows(t, e, []flow{
		{from: pod(api), to: pod(db), port: 5432, allowed: true},
		{from: pod(stray), to: pod(db), port: 9, proto: corev1.ProtocolUDP, allowed: true},
		{from: outside, to: pod(db), port: 1, allowed: true},
		{from: pod(db), to: pod(api), port: 8080, allowed: false},
	})
}

func TestEmptyAndMissingFromAndPortsMatchEverything(t *testing.T) {
	for _, ruleYAML := range []string{
		"- {from: [], ports: [{port: 5432}]}",
		"- {ports: [{port: 5432}]}",
	} {
		e := newEval(t, `
metadata: {name: db-port, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  `+ruleYAML)
		checkFlows(t, e, []flow{
			{from: pod(stray), to: pod(db), port: 5432, allowed: true},
			{from: outside, to: pod(db), port: 5432, allowed: true},
			{from: pod(api), to: pod(db), port: 5433, allowed: false},
		})
	}
	for _, ruleYAML := range []string{
		"- {from: [{podSelector: {matchLabels: {app: api}}}], ports: []}",
		"- {from: [{podSelector: {matchLabels: {app: api}}}]}",
	} {
		e := newEval(t, `
metadata: {name: db-from-api, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  `+ruleYAML)
		checkFlows(t, e, []flow{
			{from: pod(api), to: pod(db), port: 5432, allowed: true},
			{from: pod(api), to: pod(db), port: 53, proto: corev1.ProtocolUDP, allowed: true},
			{from: pod(stray), to: pod(db), port: 5432, allowed: false},
			{from: outside, to: pod(db), port: 5432, allowed: false},
		})
	}
}

func TestPodSelectorAloneMeansPolicyNamespace(t *testing.T) {
	// stray carries app=api too, but lives in another namespace.
	e := newEval(t, `
metadata: {name: db-from-api, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: api}}}]
`)
	checkFlows(t, e, []flow{
		{from: pod(api), to: pod(db), port: 5432, allowed: true},
		{from: pod(stray), to: pod(db), port: 5432, allowed: false},
	})
}

func TestNamespaceAndPodSelectorInOnePeerVersusTwo(t *testing.T) {
	// One peer with both selectors: app=api pods in env=test namespaces.
	and := newEval(t, `
metadata: {name: and, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {env: test}}
      podSelector: {matchLabels: {app: api}}
`)
	checkFlows(t, and, []flow{
		{from: pod(stray), to: pod(db), port: 5432, allowed: true},
		{from: pod(api), to: pod(db), port: 5432, allowed: false},
	})
	// Two peers: any pod in env=test namespaces, or app=api pods in prod.
	or := newEval(t, `
metadata: {name: or, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {env: test}}
    - podSelector: {matchLabels: {app: api}}
`)
	other := &Pod{Namespace: "other", Name: "other-db", Labels: map[string]string{"app": "db"}}
	checkFlows(t, or, []flow{
		{from: pod(stray), to: pod(db), port: 5432, allowed: true},
		{from: pod(other), to: pod(db), port: 5432, allowed: true},
		{from: pod(api), to: pod(db), port: 5432, allowed: true},
		{from: pod(db), to: pod(db), port: 5432, allowed: false}, // prod, but not app=api
	})
}

func TestEmptyNamespaceSelectorMeansEveryNamespaceButNoOutsideAddress(t *testing.T) {
	e := newEval(t, `
metadata: {name: db-from-cluster, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{namespaceSelector: {}}]
`)
	checkFlows(t, e, []flow{
		{from: pod(stray), to: pod(db), port: 5432, allowed: true},
		{from: pod(api), to: pod(db), port: 5432, allowed: true},
		{from: outside, to: pod(db), port: 5432, allowed: false},
	})
}

func TestNamespaceNameLabelIsImplied(t *testing.T) {
	e := newEval(t, `
metadata: {name: db-from-other, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}}]
`)
	checkFlows(t, e, []flow{
		{from: pod(stray), to: pod(db), port: 5432, allowed: true},
		{from: pod(api), to: pod(db), port: 5432, allowed: false},
	})
}

func TestMatchExpressions(t *testing.T) {
	e := newEval(t, `
metadata: {name: db-from-not-db, namespace: prod}
spec:
  podSelector:
    matchExpressions: [{key: tier, operator: Exists}]
  ingress:
  - from:
    - podSelector:
        matchExpressions: [{key: app, operator: NotIn, values: [db]}]
`)
	checkFlows(t, e, []flow{
		{from: pod(api), to: pod(db), port: 5432, allowed: true},
		{from: pod(db), to: pod(db), port: 5432, allowed: false},
		{from: pod(db), to: pod(api), port: 8080, allowed: true}, // api has no tier label
	})
}

func TestNamedPortResolvesAgainstTheDestination(t *testing.T) {
	e := newEval(t, `
metadata: {name: sql-in, namespace: prod}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: sql}]
`)
	// db names 5432 "sql", api names 6543 "sql".
	checkFlows(t, e, []flow{
		{from: pod(api), to: pod(db), port: 5432, allowed: true},
		{from: pod(api), to: pod(db), port: 6543, allowed: false},
		{from: pod(db), to: pod(api), port: 6543, allowed: true},
		{from: pod(db), to: pod(api), port: 5432, allowed: false},
	})
	out := newEval(t, `
metadata: {name: sql-out, namespace: prod}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Egress]
  egress:
  - ports: [{port: sql}]
`)
	checkFlows(t, out, []flow{
		{from: pod(api), to: pod(db), port: 5432, allowed: true},
		{from: pod(api), to: pod(db), port: 6543, allowed: false},
		{from: pod(api), to: outside, port: 5432, allowed: false}, // no named ports outside
	})
}

func TestNamedPortNeedsTheSameProtocol(t *testing.T) {
	e := newEval(t, `
metadata: {name: dns-in, namespace: prod}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: dns, protocol: UDP}, {port: metrics, protocol: UDP}]
`)
	checkFlows(t, e, []flow{
		{from: pod(api), to: pod(db), port: 53, proto: corev1.ProtocolUDP, allowed: true},
		{from: pod(api), to: pod(db), port: 53, allowed: false},
		{from: pod(api), to: pod(db), port: 9187, proto: corev1.ProtocolUDP, allowed: false}, // metrics is TCP
		{from: pod(api), to: pod(db), port: 9187, allowed: false},
	})
}

func TestProtocolDefaultsToTCP(t *testing.T) {
	e := newEval(t, `
metadata: {name: dns-tcp, namespace: prod}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 53}]
  - ports: [{protocol: SCTP}]
`)
	checkFlows(t, e, []flow{
		{from: pod(api), to: pod(db), port: 53, allowed: true},
		{from: pod(api), to: pod(db), port: 53, proto: corev1.ProtocolUDP, allowed: false},
		{from: pod(api), to: pod(db), port: 7, proto: corev1.ProtocolSCTP, allowed: true}, // no port: all of SCTP
		{from: pod(api), to: pod(db), port: 7, allowed: false},
	})
}

func TestEndPortRangeIsInclusive(t *testing.T) {
	e := newEval(t, `
metadata: {name: range, namespace: prod}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 32000, endPort: 32768}]
`)
	checkFlows(t, e, []flow{
		{from: pod(api), to: pod(db), port: 31999, allowed: false},
		{from: pod(api), to: pod(db), port: 32000, allowed: true},
		{from: pod(api), to: pod(db), port: 32500, allowed: true},
		{from: pod(api), to: pod(db), port: 32768, allowed: true},
		{from: pod(api), to: pod(db), port: 32769, allowed: false},
		{from: pod(api), to: pod(db), port: 32500, proto: corev1.ProtocolUDP, allowed: false},
	})
}

const ipBlockEgress = `
metadata: {name: out, namespace: prod}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8, 203.0.113.0/28]}
    ports: [{port: 443}]
`

func TestIPBlockWithExcept(t *testing.T) {
	e := newEval(t, ipBlockEgress)
	at := func(s string) Endpoint { return External(netip.MustParseAddr(s)) }
	checkFlows(t, e, []flow{
		{from: pod(api), to: at("198.51.100.1"), port: 443, allowed: true},
		{from: pod(api), to: at("198.51.100.1"), port: 80, allowed: false},
		{from: pod(api), to: at("203.0.113.15"), port: 443, allowed: false}, // excepted
		{from: pod(api), to: at("203.0.113.16"), port: 443, allowed: true},
		{from: pod(api), to: at("10.9.9.9"), port: 443, allowed: false},
		{from: pod(api), to: at("2001:db8::1"), port: 443, allowed: false}, // other family
	})
}

func TestIPBlockMatchesPodsOnlyWhenAsked(t *testing.T) {
	// 0.0.0.0/0 except 10.0.0.0/8 covers no pod; 0.0.0.0/0 alone covers
	// stray, which a plugin may or may not treat as inside the block.
	e := newEval(t, ipBlockEgress, `
metadata: {name: wide, namespace: prod}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ports: [{port: 80}]
`)
	checkFlows(t, e, []flow{
		{from: pod(api), to: pod(stray), port: 80, allowed: false},
		{from: pod(api), to: pod(stray), port: 443, allowed: false},
	})
	e.IPBlockMatchesPods = true
	checkFlows(t, e, []flow{
		{from: pod(api), to: pod(stray), port: 80, allowed: true},
		{from: pod(api), to: pod(stray), port: 443, allowed: false}, // 10.0.0.0/8 excepted
	})
}

func TestIngressIPBlockAdmitsOutsideAddresses(t *testing.T) {
	e := newEval(t, `
metadata: {name: from-net, namespace: prod}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from: [{ipBlock: {cidr: 203.0.113.0/24}}]
`)
	checkFlows(t, e, []flow{
		{from: outside, to: pod(api), port: 8080, allowed: true},
		{from: External(netip.MustParseAddr("198.51.100.1")), to: pod(api), port: 8080, allowed: false},
		{from: pod(db), to: pod(api), port: 8080, allowed: false},
	})
}

func TestRulesAddUpAcrossPolicies(t *testing.T) {
	e := newEval(t, denyIngress, `
metadata: {name: db-sql, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{ports: [{port: 5432}]}]
`, `
metadata: {name: db-metrics, namespace: prod}
spec:
  podSelector: {matchLabels: {tier: data}}
  ingress: [{ports: [{port: 9187}]}]
`)
	checkFlows(t, e, []flow{
		{from: pod(api), to: pod(db), port: 5432, allowed: true},
		{from: pod(api), to: pod(db), port: 9187, allowed: true},
		{from: pod(api), to: pod(db), port: 8080, allowed: false},
	})
}

func TestPolicyOnlyAppliesInItsNamespace(t *testing.T) {
	e := newEval(t, `
metadata: {name: deny-all, namespace: other}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
`)
	checkFlows(t, e, []flow{
		{from: pod(api), to: pod(db), port: 5432, allowed: true},
		{from: pod(api), to: pod(stray), port: 80, allowed: false},
		{from: pod(stray), to: pod(api), port: 8080, allowed: false},
	})
}

func TestConnectionNeedsBothEnds(t *testing.T) {
	in := `
metadata: {name: db-in, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]
`
	out := `
metadata: {name: api-out, namespace: prod}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {app: db}}}]}]
`
	denyOut := `
metadata: {name: deny-out, namespace: prod}
spec:
  podSelector: {}
  policyTypes: [Egress]
`
	// Ingress allowed at db, egress isolated at api with no matching rule.
	checkFlows(t, newEval(t, in, denyOut), []flow{{from: pod(api), to: pod(db), port: 5432, allowed: false}})
	// Egress allowed at api, ingress isolated at db with no matching rule.
	checkFlows(t, newEval(t, out, denyIngress), []flow{{from: pod(api), to: pod(db), port: 5432, allowed: false}})
	checkFlows(t, newEval(t, in, out, denyOut, denyIngress), []flow{
		{from: pod(api), to: pod(db), port: 5432, allowed: true},
		{from: pod(db), to: pod(api), port: 8080, allowed: false},
	})
}

func TestVerdictNamesPoliciesAndRules(t *testing.T) {
	e := newEval(t, denyIngress, `
metadata: {name: db-sql, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{ports: [{port: 9999}]}, {ports: [{port: 5432}]}]
`)
	v, err := e.Check(Conn{From: PodEndpoint(api), To: PodEndpoint(db), Port: 5432})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"prod/api -> prod/db port 5432/TCP allowed", "egress: allowed, no policy isolates", "prod/db-sql ingress[1]"} {
		if !strings.Contains(v.String(), want) {
			t.Errorf("verdict %q does not say %q", v, want)
		}
	}
	v, err = e.Check(Conn{From: PodEndpoint(db), To: PodEndpoint(api), Port: 8080})
	if err != nil {
		t.Fatal(err)
	}
	if want := "ingress: denied, isolated by prod/deny-ingress and no rule matches"; !strings.Contains(v.String(), want) {
		t.Errorf("verdict %q does not say %q", v, want)
	}
	v, err = e.Check(Conn{From: outside, To: PodEndpoint(db), Port: 5432})
	if err != nil {
		t.Fatal(err)
	}
	if want := "egress: outside the cluster"; !v.Allowed() || !strings.Contains(v.String(), want) {
		t.Errorf("verdict %q: want allowed and %q", v, want)
	}
}

func TestRefusesWhatTheAPIRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"endPort on a named port": `{metadata: {name: p, namespace: prod}, spec: {ingress: [{ports: [{port: sql, endPort: 9}]}]}}`,
		"endPort below port":      `{metadata: {name: p, namespace: prod}, spec: {ingress: [{ports: [{port: 90, endPort: 80}]}]}}`,
		"endPort without port":    `{metadata: {name: p, namespace: prod}, spec: {ingress: [{ports: [{endPort: 80}]}]}}`,
		"port out of range":       `{metadata: {name: p, namespace: prod}, spec: {ingress: [{ports: [{port: 70000}]}]}}`,
		"unknown protocol":        `{metadata: {name: p, namespace: prod}, spec: {ingress: [{ports: [{protocol: ICMP}]}]}}`,
		"empty peer":              `{metadata: {name: p, namespace: prod}, spec: {ingress: [{from: [{}]}]}}`,
		"ipBlock with selector":   `{metadata: {name: p, namespace: prod}, spec: {egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]}}`,
		"bad cidr":                `{metadata: {name: p, namespace: prod}, spec: {egress: [{to: [{ipBlock: {cidr: 10.0.0.0}}]}]}}`,
		"except outside cidr":     `{metadata: {name: p, namespace: prod}, spec: {egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}}]}]}}`,
		"except equal to cidr":    `{metadata: {name: p, namespace: prod}, spec: {egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}}]}]}}`,
		"bad selector":            `{metadata: {name: p, namespace: prod}, spec: {podSelector: {matchExpressions: [{key: a, operator: In}]}}}`,
		"unknown policy type":     `{metadata: {name: p, namespace: prod}, spec: {policyTypes: [Sideways]}}`,
		"unlisted namespace":      `{metadata: {name: p, namespace: nowhere}, spec: {}}`,
		"no namespace":            `{metadata: {name: p}, spec: {}}`,
	} {
		if _, err := New([]Namespace{nsProd, nsOther}, policies(t, doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	e := newEval(t)
	for name, c := range map[string]Conn{
		"two outside ends":   {From: outside, To: outside, Port: 1},
		"no address":         {From: PodEndpoint(api), To: Endpoint{}, Port: 1},
		"unlisted namespace": {From: PodEndpoint(api), To: PodEndpoint(&Pod{Namespace: "nowhere", Name: "x"}), Port: 1},
		"port zero":          {From: PodEndpoint(api), To: PodEndpoint(db)},
		"unknown protocol":   {From: PodEndpoint(api), To: PodEndpoint(db), Port: 1, Protocol: "ICMP"},
	} {
		if _, err := e.Check(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
