package kubeapply_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
)

// weakening removes or loosens one hardening field of a pod; c is the
// container it targets. want are the words the server's refusal must hold.
type weakening struct {
	field string
	apply func(p *corev1.Pod, c *corev1.Container)
	// want holds the words the refusal names; the container name is
	// checked as well when perContainer is set.
	want         []string
	perContainer bool
	// admissionPolicy marks what Pod Security does not check: our
	// ValidatingAdmissionPolicy refuses it, on workloads too.
	admissionPolicy bool
}

func sc(c *corev1.Container) *corev1.SecurityContext {
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	return c.SecurityContext
}

func podSC(p *corev1.Pod) *corev1.PodSecurityContext {
	if p.Spec.SecurityContext == nil {
		p.Spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	return p.Spec.SecurityContext
}

// containerWeakenings each weaken one container. A field that may be set on
// the pod as well is removed there too, so that the container is left
// without it and not merely inheriting it.
var containerWeakenings = []weakening{
	{field: "runAsNonRoot removed", want: []string{"runAsNonRoot"}, perContainer: true, apply: func(p *corev1.Pod, c *corev1.Container) {
		sc(c).RunAsNonRoot = nil
		podSC(p).RunAsNonRoot = nil
	}},
	{field: "runAsNonRoot false", want: []string{"runAsNonRoot"}, perContainer: true, apply: func(p *corev1.Pod, c *corev1.Container) {
		sc(c).RunAsNonRoot = ptrTo(false)
	}},
	{field: "runAsUser 0", want: []string{"runAsUser=0"}, perContainer: true, apply: func(p *corev1.Pod, c *corev1.Container) {
		sc(c).RunAsUser = ptrTo(int64(0))
	}},
	{field: "allowPrivilegeEscalation removed", want: []string{"allowPrivilegeEscalation"}, perContainer: true, apply: func(p *corev1.Pod, c *corev1.Container) {
		sc(c).AllowPrivilegeEscalation = nil
	}},
	{field: "allowPrivilegeEscalation true", want: []string{"allowPrivilegeEscalation"}, perContainer: true, apply: func(p *corev1.Pod, c *corev1.Container) {
		sc(c).AllowPrivilegeEscalation = ptrTo(true)
	}},
	{field: "capabilities drop ALL removed", want: []string{"capabilities", "drop"}, perContainer: true, apply: func(p *corev1.Pod, c *corev1.Container) {
		if sc(c).Capabilities != nil {
			sc(c).Capabilities.Drop = nil
		}
	}},
	{field: "capability SYS_ADMIN added", want: []string{"capabilities", "SYS_ADMIN"}, perContainer: true, apply: func(p *corev1.Pod, c *corev1.Container) {
		if sc(c).Capabilities == nil {
			sc(c).Capabilities = &corev1.Capabilities{}
		}
		sc(c).Capabilities.Add = append(sc(c).Capabilities.Add, "SYS_ADMIN")
	}},
	{field: "seccompProfile removed", want: []string{"seccompProfile"}, perContainer: true, apply: func(p *corev1.Pod, c *corev1.Container) {
		sc(c).SeccompProfile = nil
		podSC(p).SeccompProfile = nil
	}},
	{field: "seccompProfile Unconfined", want: []string{"seccompProfile", "Unconfined"}, perContainer: true, apply: func(p *corev1.Pod, c *corev1.Container) {
		sc(c).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
	}},
	{field: "readOnlyRootFilesystem false", want: []string{"readOnlyRootFilesystem"}, admissionPolicy: true, apply: func(p *corev1.Pod, c *corev1.Container) {
		sc(c).ReadOnlyRootFilesystem = ptrTo(false)
	}},
	{field: "memory limit removed", want: []string{"memory requests and limits"}, admissionPolicy: true, apply: func(p *corev1.Pod, c *corev1.Container) {
		delete(c.Resources.Limits, corev1.ResourceMemory)
	}},
	// A pod whose memory request alone is removed is admitted: the API
	// server defaults a pod container's missing request to its limit
	// (SetDefaults_Pod) before admission runs, so nothing is weakened.
	// Pod templates are not defaulted that way, so the workload itself
	// is refused; see weakenWorkload.
	{field: "memory request removed", want: []string{"memory requests and limits"}, admissionPolicy: true, apply: func(p *corev1.Pod, c *corev1.Container) {
		delete(c.Resources.Requests, corev1.ResourceMemory)
	}},
}

// podWeakenings each weaken the pod as a whole.
var podWeakenings = []weakening{
	{field: "hostNetwork true", want: []string{"hostNetwork=true"}, apply: func(p *corev1.Pod, _ *corev1.Container) {
		p.Spec.HostNetwork = true
	}},
	{field: "hostPID true", want: []string{"hostPID=true"}, apply: func(p *corev1.Pod, _ *corev1.Container) {
		p.Spec.HostPID = true
	}},
	{field: "hostPath volume", want: []string{"hostPath", "weakened-host"}, apply: func(p *corev1.Pod, _ *corev1.Container) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "weakened-host",
			VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
	}},
}

func ptrTo[T any](v T) *T { return &v }

// A manifest weakened by one hardening field at a time is refused by the
// API server itself: Pod Security "restricted" on the namespace refuses the
// pod, and the stack's ValidatingAdmissionPolicy refuses what Pod Security
// does not check (read-only root, memory requests and limits). The same
// pod, unweakened, is admitted, so refusals come from the weakening alone.
func TestWeakenedManifestsAreRefusedByTheAPIServer(t *testing.T) {
	l := newLab(t)
	m := render(t, testAnswers(t, answers.Production, answers.Groups[1:], "weakened"))
	mustApply(t, l, m)
	ns := m.Namespaces[0]
	live, err := l.cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := live.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Fatalf("namespace %s enforces Pod Security %q, want restricted", ns, got)
	}
	readOnlyExceptions := map[string]bool{}
	for _, x := range m.Exceptions {
		if strings.HasPrefix(x.Reason, "no read-only root filesystem") {
			readOnlyExceptions[x.Service] = true
		}
	}

	var workloads []*unstructured.Unstructured
	for _, o := range m.Objects {
		if (o.GetKind() == "Deployment" || o.GetKind() == "StatefulSet" || o.GetKind() == "DaemonSet") && o.GetNamespace() == ns {
			workloads = append(workloads, o)
		}
	}
	if len(workloads) == 0 {
		t.Fatalf("no workload in namespace %s", ns)
	}
	waitForPolicy(t, l, workloads[0], readOnlyExceptions)

	var cases, refused int
	for _, o := range workloads {
		ref := kubeapply.RefOf(o)
		base := podOf(t, o, o.GetName()+"-weakened")
		if err := dryRunPod(l, base); err != nil {
			t.Errorf("%s: its unweakened pod is refused, so no refusal below would be telling: %v", ref, err)
			continue
		}
		if len(base.Spec.InitContainers) == 0 || base.Spec.InitContainers[0].Name != "vault-agent" {
			t.Errorf("%s has no vault-agent init container", ref)
		}
		type target struct {
			name string
			pick func(p *corev1.Pod) *corev1.Container
		}
		var targets []target
		for i, c := range base.Spec.Containers {
			targets = append(targets, target{c.Name, func(p *corev1.Pod) *corev1.Container { return &p.Spec.Containers[i] }})
		}
		for i, c := range base.Spec.InitContainers {
			targets = append(targets, target{c.Name, func(p *corev1.Pod) *corev1.Container { return &p.Spec.InitContainers[i] }})
		}
		for _, tg := range targets {
			for _, w := range containerWeakenings {
				if w.field == "readOnlyRootFilesystem false" && readOnlyExceptions[tg.name] {
					continue // documented exception: the policy lets it write its root
				}
				cases++
				pod := base.DeepCopy()
				w.apply(pod, tg.pick(pod))
				want := w.want
				if w.perContainer {
					want = append([]string{`"` + tg.name + `"`}, want...)
				}
				got, err := l.cs.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
				if w.field == "memory request removed" {
					// Defaulted back to the limit before admission (see
					// containerWeakenings): the pod is admitted with a
					// request; the workload is the one to refuse.
					if err != nil {
						t.Errorf("%s container %s, %s: pod refused although the server defaults the request to the limit: %v", ref, tg.name, w.field, err)
					} else if c := tg.pick(got); !c.Resources.Requests.Memory().Equal(*c.Resources.Limits.Memory()) {
						t.Errorf("%s container %s, %s: admitted with memory request %v, limit %v", ref, tg.name, w.field, c.Resources.Requests.Memory(), c.Resources.Limits.Memory())
					}
				} else if msg, ok := refusal(err, want); !ok {
					t.Errorf("%s container %s, %s: the API server answered %q, want a refusal naming %q", ref, tg.name, w.field, msg, want)
				} else {
					refused++
				}
				if !w.admissionPolicy {
					continue
				}
				// Pod Security only warns about a workload's template; the
				// admission policy refuses the workload itself.
				cases++
				wl := weakenWorkload(t, o, func(p *corev1.Pod) { w.apply(p, tg.pick(p)) })
				if msg, ok := refusal(dryRunObject(l, wl), want); !ok {
					t.Errorf("%s container %s, %s: the weakened %s is answered %q, want a refusal naming %q", ref, tg.name, w.field, o.GetKind(), msg, want)
				} else {
					refused++
				}
			}
		}
		for _, w := range podWeakenings {
			cases++
			pod := base.DeepCopy()
			w.apply(pod, nil)
			if msg, ok := refusal(dryRunPod(l, pod), w.want); !ok {
				t.Errorf("%s, %s: the API server answered %q, want a refusal naming %q", ref, w.field, msg, w.want)
			} else {
				refused++
			}
		}
	}
	t.Logf("%d workloads in %s, %d of %d weakened objects refused", len(workloads), ns, refused, cases)
}

// waitForPolicy retries a pod the admission policy must refuse until it is
// refused: a new ValidatingAdmissionPolicy takes effect a moment after it
// is created.
func waitForPolicy(t *testing.T, l lab, o *unstructured.Unstructured, readOnlyExceptions map[string]bool) {
	t.Helper()
	pod := podOf(t, o, o.GetName()+"-policy-probe")
	for i := range pod.Spec.Containers {
		sc(&pod.Spec.Containers[i]).ReadOnlyRootFilesystem = ptrTo(false)
	}
	for i := range pod.Spec.InitContainers {
		sc(&pod.Spec.InitContainers[i]).ReadOnlyRootFilesystem = ptrTo(false)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := dryRunPod(l, pod)
		if _, ok := refusal(err, []string{"readOnlyRootFilesystem"}); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the admission policy %s is not in effect after 30s: a pod without a read-only root is answered %v", kube.HardeningPolicy(o.GetNamespace()), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func dryRunPod(l lab, pod *corev1.Pod) error {
	_, err := l.cs.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	return err
}

func dryRunObject(l lab, o *unstructured.Unstructured) error {
	gvk := o.GroupVersionKind()
	m, err := l.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	_, err = l.dyn.Resource(m.Resource).Namespace(o.GetNamespace()).Create(context.Background(), o, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	return err
}

// refusal says whether err is the server refusing with every word of want.
func refusal(err error, want []string) (string, bool) {
	if err == nil {
		return "admitted", false
	}
	msg := err.Error()
	if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
		return msg, false
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			return msg, false
		}
	}
	return msg, true
}

// weakenWorkload is a copy of workload o, under a new name, whose pod
// template weaken changed.
func weakenWorkload(t *testing.T, o *unstructured.Unstructured, weaken func(p *corev1.Pod)) *unstructured.Unstructured {
	t.Helper()
	tmpl, _, err := unstructured.NestedMap(o.Object, "spec", "template")
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, &pod); err != nil {
		t.Fatal(err)
	}
	weaken(&pod)
	spec, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&pod.Spec)
	if err != nil {
		t.Fatal(err)
	}
	w := o.DeepCopy()
	w.SetName(o.GetName() + "-weakened")
	if err := unstructured.SetNestedMap(w.Object, spec, "spec", "template", "spec"); err != nil {
		t.Fatal(err)
	}
	return w
}
