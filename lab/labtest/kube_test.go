package labtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	applycorev1 "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

func TestMain(m *testing.M) { KubeMain(m) }

func kubeClient(t *testing.T) *kubernetes.Clientset {
	t.Helper()
	c, err := kubernetes.NewForConfig(SharedControlPlane(t).RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// kubeNamespace creates a namespace with the labels and a "default"
// ServiceAccount in it (no controller-manager makes one).
func kubeNamespace(t *testing.T, c *kubernetes.Clientset, name string, labels map[string]string) {
	t.Helper()
	ctx := context.Background()
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	_, err = c.CoreV1().ServiceAccounts(name).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create service account %s/default: %v", name, err)
	}
}

func plainPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}}},
	}
}

// restrictedPod meets Pod Security "restricted" and has a read-only root
// file system.
func restrictedPod(name string) *corev1.Pod {
	p := plainPod(name)
	p.Spec.AutomountServiceAccountToken = ptr.To(false)
	p.Spec.SecurityContext = &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		RunAsUser:      ptr.To[int64](1000),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	return p
}

func TestKubeKubeconfig(t *testing.T) {
	cp := SharedControlPlane(t)
	cfg, err := clientcmd.LoadFromFile(cp.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != "lab" {
		t.Errorf("kubeconfig context %q, want lab", cfg.CurrentContext)
	}
	rc, err := clientcmd.BuildConfigFromFlags("", cp.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("server version through the kubeconfig: %v", err)
	}
	if v.GitVersion != "v1.37.2" || v.Major != "1" || v.Minor != "37" {
		t.Errorf("server version %s (major %q, minor %q), want v1.37.2", v.GitVersion, v.Major, v.Minor)
	}
	// A wrong token is refused: the server authenticates.
	bad := cp.RESTConfig()
	bad.BearerToken = "not-" + cp.Token
	bc, err := kubernetes.NewForConfig(bad)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bc.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
	if !apierrors.IsUnauthorized(err) {
		t.Errorf("list namespaces with a wrong token: %v, want Unauthorized", err)
	}
}

func TestKubePodSecurityRestricted(t *testing.T) {
	c := kubeClient(t)
	ctx := context.Background()
	ns := "psa-restricted"
	kubeNamespace(t, c, ns, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})

	_, err := c.CoreV1().Pods(ns).Create(ctx, plainPod("plain"), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("plain pod in a restricted namespace: %v, want Forbidden", err)
	}
	for _, reason := range []string{`violates PodSecurity "restricted:latest"`, "allowPrivilegeEscalation != false",
		"unrestricted capabilities", "runAsNonRoot != true", "seccompProfile"} {
		if !strings.Contains(err.Error(), reason) {
			t.Errorf("refusal lacks %q: %v", reason, err)
		}
	}

	// Server-side dry run is admitted the same way and stores nothing.
	_, err = c.CoreV1().Pods(ns).Create(ctx, plainPod("plain-dry"), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if !apierrors.IsForbidden(err) {
		t.Errorf("dry run of a plain pod: %v, want Forbidden", err)
	}
	if _, err := c.CoreV1().Pods(ns).Create(ctx, restrictedPod("ok-dry"), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("dry run of a compliant pod: %v", err)
	}
	if _, err := c.CoreV1().Pods(ns).Get(ctx, "ok-dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a dry-run pod was stored: %v", err)
	}

	created, err := c.CoreV1().Pods(ns).Create(ctx, restrictedPod("ok"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("compliant pod in a restricted namespace: %v", err)
	}
	// No scheduler or kubelet: the pod is stored and stays Pending.
	if created.Status.Phase != corev1.PodPending {
		t.Errorf("pod phase %q, want Pending", created.Status.Phase)
	}
}

func TestKubeServerSideApply(t *testing.T) {
	c := kubeClient(t)
	ctx := context.Background()
	ns := "ssa"
	kubeNamespace(t, c, ns, nil)
	opts := metav1.ApplyOptions{FieldManager: "fineract-installer", Force: true}
	cm := applycorev1.ConfigMap("settings", ns).WithLabels(map[string]string{"app": "fineract"}).WithData(map[string]string{"a": "1"})

	first, err := c.CoreV1().ConfigMaps(ns).Apply(ctx, cm, opts)
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	again, err := c.CoreV1().ConfigMaps(ns).Apply(ctx, cm, opts)
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if again.ResourceVersion != first.ResourceVersion {
		t.Errorf("applying an unchanged object moved resourceVersion %s -> %s", first.ResourceVersion, again.ResourceVersion)
	}
	changed, err := c.CoreV1().ConfigMaps(ns).Apply(ctx, cm.WithData(map[string]string{"a": "2"}), opts)
	if err != nil {
		t.Fatalf("apply a change: %v", err)
	}
	if changed.ResourceVersion == first.ResourceVersion || changed.Data["a"] != "2" {
		t.Errorf("a changed apply: resourceVersion %s (was %s), data %v", changed.ResourceVersion, first.ResourceVersion, changed.Data)
	}
	var managers []string
	for _, f := range changed.ManagedFields {
		managers = append(managers, f.Manager)
	}
	if len(managers) != 1 || managers[0] != "fineract-installer" {
		t.Errorf("field managers %v, want [fineract-installer]", managers)
	}

	// dryRun=All on apply changes nothing stored.
	dry := applycorev1.ConfigMap("settings", ns).WithLabels(map[string]string{"app": "fineract"}).WithData(map[string]string{"a": "3"})
	dryOpts := opts
	dryOpts.DryRun = []string{metav1.DryRunAll}
	got, err := c.CoreV1().ConfigMaps(ns).Apply(ctx, dry, dryOpts)
	if err != nil {
		t.Fatalf("dry-run apply: %v", err)
	}
	if got.Data["a"] != "3" {
		t.Errorf("dry-run apply answered data %v, want a=3", got.Data)
	}
	stored, err := c.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if stored.Data["a"] != "2" || stored.ResourceVersion != changed.ResourceVersion {
		t.Errorf("dry-run apply changed the stored object: data %v, resourceVersion %s (was %s)", stored.Data, stored.ResourceVersion, changed.ResourceVersion)
	}
}

// TestKubeValidatingAdmissionPolicy shows that the ValidatingAdmissionPolicy
// admission plugin (CEL, admissionregistration.k8s.io/v1) is active with
// the API server's defaults.
func TestKubeValidatingAdmissionPolicy(t *testing.T) {
	c := kubeClient(t)
	ctx := context.Background()
	const label = "lab.fineract-installer.dev/read-only-root"
	guarded, open := "vap-guarded", "vap-open"
	kubeNamespace(t, c, guarded, map[string]string{label: "enforce"})
	kubeNamespace(t, c, open, nil)

	rule := func(group, resource string) admissionregistrationv1.NamedRuleWithOperations {
		return admissionregistrationv1.NamedRuleWithOperations{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{group}, APIVersions: []string{"v1"}, Resources: []string{resource}},
		}}
	}
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "read-only-root"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{rule("", "pods"), rule("apps", "deployments")},
			},
			Variables: []admissionregistrationv1.Variable{{
				Name:       "containers",
				Expression: "object.kind == 'Pod' ? object.spec.containers : object.spec.template.spec.containers",
			}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: "variables.containers.all(c, has(c.securityContext) && has(c.securityContext.readOnlyRootFilesystem) && c.securityContext.readOnlyRootFilesystem)",
				Message:    "every container needs securityContext.readOnlyRootFilesystem: true",
			}},
		},
	}
	if _, err := c.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ValidatingAdmissionPolicy: %v", err)
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "read-only-root"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        "read-only-root",
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			MatchResources: &admissionregistrationv1.MatchResources{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{label: "enforce"}},
			},
		},
	}
	if _, err := c.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ValidatingAdmissionPolicyBinding: %v", err)
	}
	t.Cleanup(func() {
		_ = c.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(ctx, binding.Name, metav1.DeleteOptions{})
		_ = c.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(ctx, policy.Name, metav1.DeleteOptions{})
	})

	writable := plainPod("writable")
	dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	// The policy takes effect once the API server's informers see it.
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err = c.CoreV1().Pods(guarded).Create(ctx, writable, dry)
		if err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err) {
		t.Fatalf("pod without a read-only root in a guarded namespace: %v, want a refusal by the policy", err)
	}
	if !strings.Contains(err.Error(), "read-only-root") || !strings.Contains(err.Error(), "readOnlyRootFilesystem: true") {
		t.Errorf("refusal does not name the policy and its message: %v", err)
	}
	t.Logf("refused: %v", err)

	deployment := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "writable"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "writable"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "writable"}},
				Spec:       writable.Spec,
			},
		},
	}
	if _, err := c.AppsV1().Deployments(guarded).Create(ctx, deployment, dry); err == nil || !strings.Contains(err.Error(), "read-only-root") {
		t.Errorf("deployment without a read-only root in a guarded namespace: %v, want a refusal by the policy", err)
	}
	deployment.Spec.Template.Spec = restrictedPod("").Spec
	if _, err := c.AppsV1().Deployments(guarded).Create(ctx, deployment, metav1.CreateOptions{}); err != nil {
		t.Errorf("deployment with a read-only root in a guarded namespace: %v", err)
	}
	if _, err := c.CoreV1().Pods(guarded).Create(ctx, restrictedPod("read-only"), metav1.CreateOptions{}); err != nil {
		t.Errorf("pod with a read-only root in a guarded namespace: %v", err)
	}
	// The binding's namespace selector scopes it.
	if _, err := c.CoreV1().Pods(open).Create(ctx, writable, metav1.CreateOptions{}); err != nil {
		t.Errorf("pod without a read-only root outside the guarded namespace: %v", err)
	}
}

// TestKubeStartStop runs a second control plane beside the shared one (its
// own ports and files) and shows that Stop ends both of its processes.
func TestKubeStartStop(t *testing.T) {
	shared := SharedControlPlane(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cp, err := StartControlPlane(ctx, t.TempDir())
	if err != nil {
		t.Fatalf("start a second control plane: %v", err)
	}
	t.Cleanup(cp.Stop)
	if cp.URL == shared.URL || cp.Token == shared.Token {
		t.Fatalf("second control plane shares the first's URL %s or token", cp.URL)
	}
	c, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "second"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create a namespace on the second control plane: %v", err)
	}
	if _, err := kubeClient(t).CoreV1().Namespaces().Get(ctx, "second", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the shared control plane sees the second's namespace: %v", err)
	}
	procs := append([]*controlPlaneProcess(nil), cp.procs...)
	cp.Stop()
	for _, p := range procs {
		select {
		case <-p.done:
		default:
			t.Errorf("%s still running after Stop", p.name)
		}
	}
	if _, err := c.CoreV1().Namespaces().Get(ctx, "second", metav1.GetOptions{}); err == nil {
		t.Error("the stopped control plane still answers")
	}
	cp.Stop() // a second Stop is harmless
}

// The control plane writes its keys and token by path, so it refuses a
// directory another uid could swap a link into, before building anything.
func TestKubeRefusesADirectoryOthersCanWrite(t *testing.T) {
	base := t.TempDir()
	shared := filepath.Join(base, "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(base, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(private, link); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{shared: "writable by group or others", link: "is not a directory"} {
		_, err := StartControlPlane(context.Background(), dir)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("StartControlPlane(%s) = %v, want an error saying %q", dir, err, want)
		}
	}
	if err := checkPrivateDir(private); err != nil {
		t.Errorf("a private directory is refused: %v", err)
	}
}
