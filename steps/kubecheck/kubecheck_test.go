package kubecheck_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
	"github.com/fineract-installer/fineract-installer/steps/kubecheck"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

func TestMain(m *testing.M) { labtest.KubeMain(m) }

// stack is one installation applied to the lab's API server.
type stack struct {
	t       *testing.T
	a       answers.Answers
	m       kube.Manifests
	cluster *kubeapply.Cluster
	cs      kubernetes.Interface // the admin's client, to break and restore
}

func newStack(t *testing.T, ns string) *stack {
	t.Helper()
	cp := labtest.SharedControlPlane(t)
	a := labtest.KubernetesAnswers(t, answers.Production, t.TempDir(), ns)
	// Every group: the logging group's Filebeat gives a second namespace
	// at a weaker Pod Security level.
	a.Groups = slices.Clone(answers.Groups)
	c, err := kubeapply.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{t: t, a: a, cluster: c, cs: cs}
	s.m = s.render(a)
	if len(s.m.Namespaces) < 2 {
		t.Fatalf("the manifests use namespaces %v; the test needs a weaker second one", s.m.Namespaces)
	}
	s.apply(s.m)
	// The API server's admission learns of a new policy binding from its
	// own cache, moments after the apply.
	s.eventually("kube-admission-refuses", validate.Pass)
	return s
}

func (s *stack) render(a answers.Answers) kube.Manifests {
	s.t.Helper()
	m, err := kube.Render(a, assets.Options{Project: "fineract", SecretsDir: "/run/fineract-stack/fineract/secrets"})
	if err != nil {
		s.t.Fatalf("render: %v", err)
	}
	return m
}

func (s *stack) apply(m kube.Manifests) {
	s.t.Helper()
	if _, err := s.cluster.Apply(context.Background(), m.Objects, nil); err != nil {
		s.t.Fatalf("apply: %v", err)
	}
}

// check runs one check against the stack's manifests.
func (s *stack) check(id string) validate.Result {
	s.t.Helper()
	r, ok := kubecheck.ByID(context.Background(), s.cluster, s.m, id)
	if !ok {
		s.t.Fatalf("no check %s", id)
	}
	if r.ID != id || r.Title == "" || len(r.Controls) == 0 || r.Observed.IsZero() {
		s.t.Errorf("result of %s is incomplete: %+v", id, r)
	}
	return r
}

// expect asserts a check's status and that its evidence names every one
// of names; for a result not passing, that it carries a fix.
func (s *stack) expect(id string, want validate.Status, names ...string) validate.Result {
	s.t.Helper()
	r := s.check(id)
	s.assert(r, want, names...)
	return r
}

func (s *stack) assert(r validate.Result, want validate.Status, names ...string) {
	s.t.Helper()
	if r.Status != want {
		s.t.Errorf("%s: %s, want %s: %s (fix: %s)", r.ID, r.Status, want, r.Evidence, r.Fix)
		return
	}
	for _, n := range names {
		if !strings.Contains(r.Evidence, n) {
			s.t.Errorf("%s (%s): evidence does not name %q: %s", r.ID, r.Status, n, r.Evidence)
		}
	}
	if want != validate.Pass && r.Fix == "" {
		s.t.Errorf("%s (%s) has no fix", r.ID, r.Status)
	}
}

// eventually retries a check until it has the status and names every one
// of names: the API server's admission reads policies and bindings from a
// cache that follows a change within moments.
func (s *stack) eventually(id string, want validate.Status, names ...string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.check(id)
		if r.Status == want && namesAll(r.Evidence, names) || time.Now().After(deadline) {
			s.assert(r, want, names...)
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// namesAll reports whether evidence names every one of names. While the
// cache follows a change, one weakened pod may be admitted and the next
// still refused: the status is reached before the evidence settles.
func namesAll(evidence string, names []string) bool {
	for _, n := range names {
		if !strings.Contains(evidence, n) {
			return false
		}
	}
	return true
}

func (s *stack) object(kind string, pick func(namespace, name string) bool) kubeapply.Ref {
	s.t.Helper()
	for _, o := range s.m.Objects {
		if o.GetKind() == kind && pick(o.GetNamespace(), o.GetName()) {
			return kubeapply.RefOf(o)
		}
	}
	s.t.Fatalf("the manifests hold no such %s", kind)
	return kubeapply.Ref{}
}

// gatewayAddress writes the address a cloud's load-balancer controller
// would give the gateway's Service (the lab runs none).
func (s *stack) gatewayAddress(ip string) {
	s.t.Helper()
	ctx := context.Background()
	svc, err := s.cs.CoreV1().Services(s.m.Namespaces[0]).Get(ctx, kube.PublicService, metav1.GetOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip, IPMode: ptr(corev1.LoadBalancerIPModeVIP)}}
	if _, err := s.cs.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

var allIDs = []string{"kube-pod-security", "kube-admission-policy", "kube-admission-refuses", "kube-workloads-ready",
	"kube-network-policies", "kube-gateway-exposed", "kube-no-secrets", "kube-drift"}

// The checklist against a real API server: as applied, every check an
// API server alone can satisfy passes, while no workload is ready and the
// LoadBalancer has no address (nothing here runs pods or load balancers).
// Then each claim is broken in turn, the way an operator or an attacker
// with kubectl would, and exactly the check that proves it fails, naming
// the object; restored, it passes again.
func TestChecklistProvesEachClaim(t *testing.T) {
	s := newStack(t, "kcheck")
	ctx := context.Background()
	main, weak := s.m.Namespaces[0], s.m.Namespaces[1]
	cs := s.cs

	rs := kubecheck.Run(ctx, s.cluster, s.m)
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
		switch r.ID {
		case "kube-workloads-ready":
			s.assert(r, validate.Fail, "0/1 ready")
			if !strings.Contains(r.Fix, "kubectl describe") {
				t.Errorf("workloads not ready: fix %q names no kubectl command", r.Fix)
			}
		case "kube-gateway-exposed":
			s.assert(r, validate.Warn, "Service "+main+"/"+kube.PublicService, "no load-balancer address")
		default:
			s.assert(r, validate.Pass)
		}
	}
	if !slices.Equal(ids, allIDs) {
		t.Errorf("checklist %v, want %v", ids, allIDs)
	}
	if _, _, failed := validate.Summary(rs); failed != 1 {
		t.Errorf("%d checks fail as applied, want only the workloads' readiness", failed)
	}
	s.expect("kube-pod-security", validate.Pass, main+" enforces restricted ("+kube.PodSecurityVersion+"), audit restricted, warn restricted", weak+" enforces privileged")
	s.expect("kube-admission-refuses", validate.Pass, main+": a pod of", "refused with writable root filesystem (by admission policy "+kube.HardeningPolicy(main)+")",
		"no memory requests and limits", "allowPrivilegeEscalation: true (by Pod Security restricted)", weak+": a pod of")
	s.expect("kube-admission-policy", validate.Pass, "binding "+kube.HardeningPolicy(main)+": [Deny] in namespaces "+strings.Join(s.m.Namespaces, ", "))
	s.expect("kube-drift", validate.Pass, "objects as rendered")

	t.Run("workloads ready", func(t *testing.T) {
		s.t = t
		s.markReady(true)
		s.expect("kube-workloads-ready", validate.Pass, "workloads ready")
		s.expect("kube-drift", validate.Pass) // status is no drift
		dep := s.object("Deployment", func(ns, _ string) bool { return ns == main })
		d, err := cs.AppsV1().Deployments(main).Get(ctx, dep.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d.Status.ReadyReplicas, d.Status.AvailableReplicas = 0, 0
		if _, err := cs.AppsV1().Deployments(main).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		r := s.expect("kube-workloads-ready", validate.Fail, dep.String()+" 0/1 ready")
		if !strings.Contains(r.Fix, "kubectl describe deployment "+dep.Name+" -n "+main) {
			t.Errorf("fix %q does not name the workload", r.Fix)
		}
		s.markReady(true)
		s.expect("kube-workloads-ready", validate.Pass)
	})

	t.Run("gateway address", func(t *testing.T) {
		s.t = t
		s.gatewayAddress("203.0.113.10")
		s.expect("kube-gateway-exposed", validate.Pass, "203.0.113.10:", "(https)")

		// NodePort, as the answers may choose: the node ports are named.
		a := s.a
		k := *a.Kubernetes
		k.GatewayService = answers.GatewayNodePort
		a.Kubernetes = &k
		np := s.render(a)
		s.apply(np)
		r, _ := kubecheck.ByID(ctx, s.cluster, np, "kube-gateway-exposed")
		s.assert(r, validate.Pass, "node ports https ")
		// Live NodePort, rendered LoadBalancer: the type is wrong.
		s.expect("kube-gateway-exposed", validate.Fail, "is of type NodePort, want LoadBalancer")
		s.apply(s.m)
		s.gatewayAddress("203.0.113.10")
		s.expect("kube-gateway-exposed", validate.Pass)
	})

	t.Run("namespace relabelled privileged", func(t *testing.T) {
		s.t = t
		patch := []byte(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"privileged"}}}`)
		if _, err := cs.CoreV1().Namespaces().Patch(ctx, main, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		s.expect("kube-pod-security", validate.Fail, "namespace "+main+": label pod-security.kubernetes.io/enforce is \"privileged\", want \"restricted\"")
		s.eventually("kube-admission-refuses", validate.Fail, main+": a pod of", "with allowPrivilegeEscalation: true", "was admitted")
		s.expect("kube-drift", validate.Fail, "Namespace "+main)
		s.apply(s.m)
		s.expect("kube-pod-security", validate.Pass)
		s.eventually("kube-admission-refuses", validate.Pass)
	})

	t.Run("binding deleted", func(t *testing.T) {
		s.t = t
		name := kube.HardeningPolicy(main)
		if err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		s.expect("kube-admission-policy", validate.Fail, "ValidatingAdmissionPolicyBinding "+name+" does not exist")
		s.eventually("kube-admission-refuses", validate.Fail, "with writable root filesystem", "was admitted")
		s.expect("kube-drift", validate.Fail, "ValidatingAdmissionPolicyBinding "+name)
		s.apply(s.m)
		s.expect("kube-admission-policy", validate.Pass)
		s.eventually("kube-admission-refuses", validate.Pass)
	})

	t.Run("binding only warns", func(t *testing.T) {
		s.t = t
		name := kube.HardeningPolicy(main)
		b, err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b.Spec.ValidationActions = []admissionv1.ValidationAction{admissionv1.Warn}
		if _, err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Update(ctx, b, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		s.expect("kube-admission-policy", validate.Fail, "ValidatingAdmissionPolicyBinding "+name+": validationActions are [Warn], want [Deny]")
		s.eventually("kube-admission-refuses", validate.Fail, "was admitted")
		// validationActions is a set: a forced apply would merge Deny into
		// the Warn another manager set, which the API server refuses. The
		// dry run says so, and how to repair it.
		r := s.expect("kube-drift", validate.Fail, "ValidatingAdmissionPolicyBinding "+name, "must not contain both Deny and Warn")
		if !strings.Contains(r.Fix, "delete the object") {
			t.Errorf("drift with a binding that cannot be re-applied: fix %q", r.Fix)
		}
		if err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		s.apply(s.m)
		s.expect("kube-admission-policy", validate.Pass)
		s.eventually("kube-admission-refuses", validate.Pass)
	})

	t.Run("foreign allow-all NetworkPolicy", func(t *testing.T) {
		s.t = t
		np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "allow-all", Namespace: weak},
			Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{}}, Egress: []networkingv1.NetworkPolicyEgressRule{{}}}}
		if _, err := cs.NetworkingV1().NetworkPolicies(weak).Create(ctx, np, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		s.expect("kube-network-policies", validate.Fail, "NetworkPolicy "+weak+"/allow-all is not one the installer rendered (selects every pod")
		if err := cs.NetworkingV1().NetworkPolicies(weak).Delete(ctx, "allow-all", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		s.expect("kube-network-policies", validate.Pass)
	})

	t.Run("NetworkPolicy deleted or widened", func(t *testing.T) {
		s.t = t
		if err := cs.NetworkingV1().NetworkPolicies(weak).Delete(ctx, kube.PolicyDefaultDeny, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		s.expect("kube-network-policies", validate.Fail, "namespace "+weak+" has no default deny", "NetworkPolicy "+weak+"/"+kube.PolicyDefaultDeny+" does not exist")
		s.expect("kube-drift", validate.Fail, "1 missing: NetworkPolicy "+weak+"/"+kube.PolicyDefaultDeny)
		s.apply(s.m)
		s.expect("kube-network-policies", validate.Pass)

		// A rendered policy widened in place (another field manager).
		data := kube.NetworkPolicyPrefix + "data"
		patch := []byte(`{"spec":{"ingress":[{}]}}`)
		if _, err := cs.NetworkingV1().NetworkPolicies(main).Patch(ctx, data, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "someone"}); err != nil {
			t.Fatal(err)
		}
		s.expect("kube-network-policies", validate.Fail, "NetworkPolicy "+main+"/"+data+" differs from the manifests")
		s.apply(s.m)
		s.expect("kube-network-policies", validate.Pass)
	})

	t.Run("Secrets", func(t *testing.T) {
		s.t = t
		const value = "hunter2-not-for-the-report"
		leaked := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "leaked", Namespace: main}, Type: corev1.SecretTypeOpaque,
			StringData: map[string]string{"password": value}}
		token := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "reviewer-token", Namespace: main,
			Annotations: map[string]string{corev1.ServiceAccountNameKey: kube.TokenReviewer}}, Type: corev1.SecretTypeServiceAccountToken}
		for _, sec := range []*corev1.Secret{leaked, token} {
			if _, err := cs.CoreV1().Secrets(main).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		r := s.expect("kube-no-secrets", validate.Fail, "Secret "+main+"/leaked (type Opaque)", "Secret "+main+"/reviewer-token (type kubernetes.io/service-account-token)")
		if strings.Contains(r.Evidence+r.Fix, value) {
			t.Errorf("the result shows the Secret's data: %+v", r)
		}
		for _, sec := range []*corev1.Secret{leaked, token} {
			if err := cs.CoreV1().Secrets(main).Delete(ctx, sec.Name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		s.expect("kube-no-secrets", validate.Pass, "no Secret in namespaces "+strings.Join(s.m.Namespaces, ", "))
	})

	t.Run("hardening edited by hand", func(t *testing.T) {
		s.t = t
		// kubectl edit: an Update of the whole object. Pod Security only
		// warns on a Deployment, and the admission policy does not check
		// privilege escalation, so the API server takes it.
		dep := s.object("Deployment", func(ns, _ string) bool { return ns == main })
		d, err := cs.AppsV1().Deployments(main).Get(ctx, dep.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d.Spec.Template.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = ptr(true)
		if _, err := cs.AppsV1().Deployments(main).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		s.expect("kube-drift", validate.Fail, "1 changed since applied: "+dep.String())
		s.apply(s.m)
		s.expect("kube-drift", validate.Pass)

		// Another field manager mounts a ServiceAccount's token.
		sa := s.object("ServiceAccount", func(ns, name string) bool { return ns == main && name != kube.TokenReviewer })
		patch := []byte(`{"automountServiceAccountToken":true}`)
		if _, err := cs.CoreV1().ServiceAccounts(main).Patch(ctx, sa.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "someone"}); err != nil {
			t.Fatal(err)
		}
		s.expect("kube-drift", validate.Fail, "1 changed since applied: "+sa.String())
		s.apply(s.m)
		s.expect("kube-drift", validate.Pass)
	})

	// Everything restored, and the stand-ins for readiness and the load
	// balancer in place: the whole checklist passes.
	s.t = t
	s.markReady(true)
	rs = kubecheck.Run(ctx, s.cluster, s.m)
	for _, r := range rs {
		s.assert(r, validate.Pass)
	}
}

// markReady writes each workload's status subresource as its controller
// would once the kubelet reports every pod ready (ready) or none (not
// ready). It stands in for the controllers and the kubelet, which the
// lab's control plane does not run: what is exercised is the check's
// reading of the API server's view of readiness, not pods.
func (s *stack) markReady(ready bool) {
	s.t.Helper()
	ctx := context.Background()
	apps := s.cs.AppsV1()
	count := func(want int32) int32 {
		if ready {
			return want
		}
		return 0
	}
	for _, ref := range kubeapply.Workloads(s.m.Objects) {
		var err error
		switch ref.Kind {
		case "Deployment":
			d, gerr := apps.Deployments(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if gerr != nil {
				s.t.Fatal(gerr)
			}
			r := *d.Spec.Replicas
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: r, UpdatedReplicas: r,
				ReadyReplicas: count(r), AvailableReplicas: count(r), UnavailableReplicas: r - count(r)}
			_, err = apps.Deployments(ref.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
		case "StatefulSet":
			ss, gerr := apps.StatefulSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if gerr != nil {
				s.t.Fatal(gerr)
			}
			r := *ss.Spec.Replicas
			ss.Status = appsv1.StatefulSetStatus{ObservedGeneration: ss.Generation, Replicas: r, ReadyReplicas: count(r),
				AvailableReplicas: count(r), CurrentReplicas: r, UpdatedReplicas: r, CurrentRevision: ref.Name + "-1", UpdateRevision: ref.Name + "-1"}
			_, err = apps.StatefulSets(ref.Namespace).UpdateStatus(ctx, ss, metav1.UpdateOptions{})
		case "DaemonSet":
			ds, gerr := apps.DaemonSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if gerr != nil {
				s.t.Fatal(gerr)
			}
			// One node.
			ds.Status = appsv1.DaemonSetStatus{ObservedGeneration: ds.Generation, DesiredNumberScheduled: 1, CurrentNumberScheduled: 1,
				UpdatedNumberScheduled: 1, NumberReady: count(1), NumberAvailable: count(1), NumberUnavailable: 1 - count(1)}
			_, err = apps.DaemonSets(ref.Namespace).UpdateStatus(ctx, ds, metav1.UpdateOptions{})
		}
		if err != nil {
			s.t.Fatalf("status of %s: %v", ref, err)
		}
	}
}

// A user who may read everything but create and patch nothing (an auditor)
// cannot run the dry runs: the probe is a warning naming the permission,
// and the drift check fails saying which permission is missing, while the
// checks that only read pass.
func TestReadOnlyUser(t *testing.T) {
	s := newStack(t, "kcheck-ro")
	ctx := context.Background()
	const user = "kcheck-auditor"
	rbac := s.cs.RbacV1()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list"}}}}
	if _, err := rbac.ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: user},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: user}}}
	if _, err := rbac.ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := labtest.SharedControlPlane(t).RESTConfig()
	cfg.Impersonate.UserName = user
	c, err := kubeapply.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.cluster = c
	// The authorizer learns of the binding from its cache.
	s.eventually("kube-pod-security", validate.Pass)
	s.expect("kube-no-secrets", validate.Pass)
	r := s.expect("kube-admission-refuses", validate.Warn, "could not probe admission")
	if !strings.Contains(r.Fix, "kubectl auth can-i create pods -n kcheck-ro") {
		t.Errorf("probe without the permission: fix %q", r.Fix)
	}
	r = s.expect("kube-drift", validate.Fail, "forbids this")
	if !strings.Contains(r.Fix, "auth can-i") {
		t.Errorf("drift without the permission: fix %q", r.Fix)
	}
}
