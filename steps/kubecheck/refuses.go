package kubecheck

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// admissionRefuses proves the API server itself refuses a weakened pod in
// each namespace of the stack, not only that the labels and the policy
// read right: it asks, as a server-side dry run that stores nothing, to
// create a pod made from a rendered workload's template, first as rendered
// (which must be admitted, or a refusal would prove nothing), then with
// one container's read-only root turned off, then without its memory
// limits (both the admission policy's to refuse), then with a field the
// namespace's Pod Security level forbids (privilege escalation under
// "restricted", privileged under "baseline").
func admissionRefuses(ctx context.Context, c *kubeapply.Cluster, m kube.Manifests) validate.Finding {
	policies := rendered(m, "ValidatingAdmissionPolicy")
	if len(policies) == 0 {
		return fail("the rendered manifests hold no ValidatingAdmissionPolicy", "render the manifests again; this is a bug of the installer")
	}
	policy := policies[0].GetName()
	levels := map[string][2]string{}
	for _, o := range rendered(m, "Namespace") {
		l := o.GetLabels()
		levels[o.GetName()] = [2]string{l[podSecurityPrefix+"enforce"], l[podSecurityPrefix+"enforce-version"]}
	}
	var wrong, seen []string
	for _, ns := range m.Namespaces {
		pod, ci, from, err := probePod(m, ns)
		if err != nil {
			return fail(err.Error(), "")
		}
		if pod == nil {
			seen = append(seen, ns+": no workload with a read-only container to probe")
			continue
		}
		pods := c.Clientset().CoreV1().Pods(ns)
		create := func(p *corev1.Pod) error {
			_, err := pods.Create(ctx, p, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: kube.FieldManager})
			return err
		}
		if err := create(pod); err != nil {
			if strings.Contains(err.Error(), "violates PodSecurity") || strings.Contains(err.Error(), policy) {
				wrong = append(wrong, fmt.Sprintf("%s: a pod of %s as rendered is refused: %v", ns, from, err))
				continue
			}
			fix := "the pod was refused for a reason of its own (a missing ServiceAccount or namespace: see kube-drift); the probe runs once a pod as rendered is admitted"
			if apierrors.IsForbidden(err) && strings.Contains(err.Error(), "cannot create") {
				fix = "the probe is a server-side dry run (nothing is stored) and needs the kubeconfig's user to be allowed to create pods in the stack's namespaces: check `kubectl auth can-i create pods -n " + ns + "`"
			}
			return validate.Finding{Status: validate.Warn, Evidence: fmt.Sprintf("%s: could not probe admission with a dry run of a pod of %s: %v", ns, from, err), Fix: fix}
		}
		name := pod.Spec.Containers[ci].Name
		weakened := []weakening{
			{"writable root filesystem", "admission policy " + policy, policy, func(c *corev1.Container) { c.SecurityContext.ReadOnlyRootFilesystem = ptr(false) }},
			{"no memory requests and limits", "admission policy " + policy, policy, func(c *corev1.Container) { c.Resources = corev1.ResourceRequirements{} }},
		}
		level := levels[ns]
		psa := fmt.Sprintf("violates PodSecurity %q", level[0]+":"+level[1])
		switch level[0] {
		case "restricted":
			weakened = append(weakened, weakening{"allowPrivilegeEscalation: true", "Pod Security " + level[0], psa, func(c *corev1.Container) { c.SecurityContext.AllowPrivilegeEscalation = ptr(true) }})
		case "baseline":
			weakened = append(weakened, weakening{"privileged: true", "Pod Security " + level[0], psa, func(c *corev1.Container) {
				c.SecurityContext.Privileged = ptr(true)
				c.SecurityContext.AllowPrivilegeEscalation = ptr(true)
			}})
		}
		var refused []string
		for _, w := range weakened {
			p := pod.DeepCopy()
			w.change(&p.Spec.Containers[ci])
			err := create(p)
			switch {
			case err == nil:
				wrong = append(wrong, fmt.Sprintf("%s: a pod of %s with %s in container %s was admitted; %s should refuse it", ns, from, w.what, name, w.by))
			case !strings.Contains(err.Error(), w.expect):
				wrong = append(wrong, fmt.Sprintf("%s: a pod of %s with %s in container %s was refused, but not by %s: %v", ns, from, w.what, name, w.by, err))
			default:
				refused = append(refused, w.what+" (by "+w.by+")")
			}
		}
		seen = append(seen, fmt.Sprintf("%s: a pod of %s is admitted as rendered and refused with %s", ns, from, strings.Join(refused, ", ")))
	}
	if len(wrong) > 0 {
		return fail(strings.Join(wrong, "; "), "the kube-pod-security and kube-admission-policy checks name what differs; "+reinstall)
	}
	return pass("%s", strings.Join(seen, "; "))
}

// weakening is one change a probe makes to a container, and who must
// refuse it: expect is in that refusal's message.
type weakening struct {
	what, by, expect string
	change           func(*corev1.Container)
}

// probePod is a pod made from the template of the first workload in ns
// with a container that the manifests give a read-only root, and that
// container's index; nil when ns has none. The name is one no controller
// gives a pod; a StatefulSet's claims are mounted as its controller would.
func probePod(m kube.Manifests, ns string) (*corev1.Pod, int, kubeapply.Ref, error) {
	for _, ref := range kubeapply.Workloads(m.Objects) {
		if ref.Namespace != ns {
			continue
		}
		var o *unstructured.Unstructured
		for _, x := range m.Objects {
			if kubeapply.RefOf(x) == ref {
				o = x
			}
		}
		tmpl, ok, err := unstructured.NestedMap(o.Object, "spec", "template")
		if err != nil || !ok {
			return nil, 0, ref, fmt.Errorf("rendered %s has no pod template: %v", ref, err)
		}
		var pod corev1.Pod
		if err := typed(&unstructured.Unstructured{Object: tmpl}, &pod); err != nil {
			return nil, 0, ref, err
		}
		ci := -1
		for i, c := range pod.Spec.Containers {
			if sc := c.SecurityContext; sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
				ci = i
				break
			}
		}
		if ci < 0 {
			continue
		}
		pod.Name, pod.Namespace = ref.Name+"-validate-probe", ns
		claims, _, _ := unstructured.NestedSlice(o.Object, "spec", "volumeClaimTemplates")
		for _, c := range claims {
			claim, _ := c.(map[string]any)
			cn, _, _ := unstructured.NestedString(claim, "metadata", "name")
			pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: cn,
				VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: cn + "-" + pod.Name}}})
		}
		return &pod, ci, ref, nil
	}
	return nil, 0, kubeapply.Ref{}, nil
}

func ptr[T any](v T) *T { return &v }
