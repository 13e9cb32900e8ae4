// Package kubecheck is the validation checklist of the Kubernetes target.
// Each check reads live objects from the cluster's API server and compares
// them with the rendered manifests, which are the only source of what is
// expected: a check proves one hardening claim of the target (Pod
// Security, the admission policy, segmentation, no Secrets, no drift,
// readiness, the gateway's exposure) or says what breaks it.
//
// Checks that need running pods (TLS handshakes, probes from inside a
// container) are the Docker target's only; see the README.
package kubecheck

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// AreaCluster groups the checks about the cluster's objects as a whole.
const AreaCluster validate.Area = "Cluster"

// Check is one entry of the Kubernetes checklist.
type Check struct {
	ID       string
	Area     validate.Area
	Title    string
	Controls []validate.Control
	// Run reads the live objects and compares them with m.
	Run func(ctx context.Context, c *kubeapply.Cluster, m kube.Manifests) validate.Finding
}

// All is the checklist, in the order it is shown.
func All() []Check {
	hardening := []validate.Control{validate.ControlHardening}
	return []Check{
		{ID: "kube-pod-security", Area: validate.AreaContainers, Title: "Namespaces enforce their Pod Security level", Controls: hardening, Run: podSecurity},
		{ID: "kube-admission-policy", Area: validate.AreaContainers, Title: "Hardening admission policy and binding deny", Controls: hardening, Run: admissionPolicy},
		{ID: "kube-admission-refuses", Area: validate.AreaContainers, Title: "API server refuses a weakened pod", Controls: hardening, Run: admissionRefuses},
		{ID: "kube-workloads-ready", Area: validate.AreaContainers, Title: "Every workload is ready", Controls: hardening, Run: workloadsReady},
		{ID: "kube-network-policies", Area: validate.AreaNetwork, Title: "Default deny and only the rendered NetworkPolicies", Controls: []validate.Control{validate.ControlSegmentation}, Run: networkPolicies},
		{ID: "kube-gateway-exposed", Area: validate.AreaNetwork, Title: "Gateway Service reachable by its users", Controls: []validate.Control{validate.ControlSegmentation, validate.ControlTransit}, Run: gatewayExposed},
		{ID: "kube-no-secrets", Area: validate.AreaSecrets, Title: "No Kubernetes Secret in the stack's namespaces", Controls: []validate.Control{validate.ControlSecrets}, Run: noSecrets},
		{ID: "kube-drift", Area: AreaCluster, Title: "Live objects match the rendered manifests", Controls: []validate.Control{validate.ControlHardening, validate.ControlSegmentation}, Run: drift},
	}
}

// Run runs every check of All, one after the other, in order.
func Run(ctx context.Context, c *kubeapply.Cluster, m kube.Manifests) []validate.Result {
	var out []validate.Result
	for _, ch := range All() {
		out = append(out, ch.result(ctx, c, m))
	}
	return out
}

// ByID runs the one check named id; it is false when no check has that id.
func ByID(ctx context.Context, c *kubeapply.Cluster, m kube.Manifests, id string) (validate.Result, bool) {
	for _, ch := range All() {
		if ch.ID == id {
			return ch.result(ctx, c, m), true
		}
	}
	return validate.Result{}, false
}

func (ch Check) result(ctx context.Context, c *kubeapply.Cluster, m kube.Manifests) validate.Result {
	f := ch.Run(ctx, c, m)
	return validate.Result{ID: ch.ID, Area: ch.Area, Title: ch.Title, Controls: ch.Controls,
		Status: f.Status, Evidence: f.Evidence, Fix: f.Fix, Subject: f.Subject, Observed: time.Now().UTC()}
}

func pass(format string, args ...any) validate.Finding {
	return validate.Finding{Status: validate.Pass, Evidence: fmt.Sprintf(format, args...)}
}

func fail(evidence, fix string) validate.Finding {
	return validate.Finding{Status: validate.Fail, Evidence: evidence, Fix: fix}
}

// apiFail is a check that could not read what it needs: the API server's
// refusal with the permission to look for, or the cause and hint the
// cluster gave.
func apiFail(what string, err error) validate.Finding {
	if apierrors.IsForbidden(err) {
		return fail(what+": "+err.Error(), "the kubeconfig's user may not do this: check `kubectl auth can-i --list` for the stack's namespaces; validate needs get and list on every kind the manifests hold, and Secrets")
	}
	x := steps.Explain(err)
	if apierrors.IsInvalid(err) && x.Hint == "" {
		// A forced apply merges list-valued fields another manager set
		// (a binding's validationActions) with the manifests' values, which
		// the API server may refuse as a whole.
		x.Hint = "the live object cannot take the manifests' fields as they are: another field manager set a value that conflicts with them; see who with `kubectl get KIND NAME -o yaml --show-managed-fields`, then delete the object and run `fineract-installer install --target kubernetes` again"
	}
	return fail(what+": "+x.Cause, x.Hint)
}

// reinstall is the fix for an object that differs from the manifests.
const reinstall = "run `fineract-installer install --target kubernetes` again (or `kubectl apply --server-side --field-manager " + kube.FieldManager + " -f DIR` of a fresh render): it puts back every field the manifests set; see what differs first with `fineract-installer plan --target kubernetes`"

// rendered returns the rendered objects of one kind.
func rendered(m kube.Manifests, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range m.Objects {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// typed converts a rendered object to its API type.
func typed(o *unstructured.Unstructured, into any) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, into); err != nil {
		return fmt.Errorf("rendered %s: %w", kubeapply.RefOf(o), err)
	}
	return nil
}

func refsString(rs []kubeapply.Ref) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}
