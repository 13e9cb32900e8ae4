package kubecheck

import (
	"context"
	"fmt"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// admissionPolicy proves the ValidatingAdmissionPolicy that refuses
// writable roots and missing memory limits is in force: the policy and its
// binding exist, the binding denies (not only warns or audits), binds the
// rendered policy to the stack's namespaces, and the policy fails closed
// with the rendered rules and expressions. Every other field is compared
// by a server-side dry-run apply, as the drift check does.
func admissionPolicy(ctx context.Context, c *kubeapply.Cluster, m kube.Manifests) validate.Finding {
	policies, bindings := rendered(m, "ValidatingAdmissionPolicy"), rendered(m, "ValidatingAdmissionPolicyBinding")
	if len(policies) == 0 || len(bindings) == 0 {
		return fail("the rendered manifests hold no ValidatingAdmissionPolicy and binding", "render the manifests again; this is a bug of the installer")
	}
	api := c.Clientset().AdmissionregistrationV1()
	var wrong, seen []string
	for _, o := range policies {
		var want admissionv1.ValidatingAdmissionPolicy
		if err := typed(o, &want); err != nil {
			return fail(err.Error(), "")
		}
		live, err := api.ValidatingAdmissionPolicies().Get(ctx, want.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			wrong = append(wrong, fmt.Sprintf("ValidatingAdmissionPolicy %s does not exist", want.Name))
			continue
		}
		if err != nil {
			return apiFail("read ValidatingAdmissionPolicy "+want.Name, err)
		}
		wrong = append(wrong, policyDiff(want, *live)...)
		seen = append(seen, fmt.Sprintf("policy %s (failurePolicy %s, %d validations)", live.Name, deref(live.Spec.FailurePolicy), len(live.Spec.Validations)))
	}
	for _, o := range bindings {
		var want admissionv1.ValidatingAdmissionPolicyBinding
		if err := typed(o, &want); err != nil {
			return fail(err.Error(), "")
		}
		live, err := api.ValidatingAdmissionPolicyBindings().Get(ctx, want.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			wrong = append(wrong, fmt.Sprintf("ValidatingAdmissionPolicyBinding %s does not exist: the policy %s is not applied anywhere", want.Name, want.Spec.PolicyName))
			continue
		}
		if err != nil {
			return apiFail("read ValidatingAdmissionPolicyBinding "+want.Name, err)
		}
		wrong = append(wrong, bindingDiff(want, *live)...)
		var in []string
		if s := live.Spec.MatchResources; s != nil && s.NamespaceSelector != nil {
			for _, e := range s.NamespaceSelector.MatchExpressions {
				in = append(in, e.Values...)
			}
		}
		seen = append(seen, fmt.Sprintf("binding %s: %v in namespaces %s", live.Name, live.Spec.ValidationActions, strings.Join(in, ", ")))
	}
	if len(wrong) == 0 {
		// The fields named above are what matters most; the dry run
		// catches any other edit (a changed message, variable or match).
		pl, err := c.Plan(ctx, append(slices.Clone(policies), bindings...))
		if err != nil {
			return apiFail("dry-run apply of the admission policy", err)
		}
		for _, r := range pl.Change {
			wrong = append(wrong, r.String()+" differs from the manifests")
		}
	}
	if len(wrong) > 0 {
		return fail(strings.Join(wrong, "; "), reinstall)
	}
	return pass("%s", strings.Join(seen, "; "))
}

func deref[T any](p *T) any {
	if p == nil {
		return "unset"
	}
	return *p
}

// policyDiff names the fields of a live policy that decide what it refuses
// and differ from the rendered one.
func policyDiff(want, got admissionv1.ValidatingAdmissionPolicy) []string {
	var out []string
	name := "ValidatingAdmissionPolicy " + want.Name
	if !equality.Semantic.DeepEqual(want.Spec.FailurePolicy, got.Spec.FailurePolicy) {
		out = append(out, fmt.Sprintf("%s: failurePolicy is %v, want %v", name, deref(got.Spec.FailurePolicy), deref(want.Spec.FailurePolicy)))
	}
	if w, g := expressions(want.Spec.Validations), expressions(got.Spec.Validations); !slices.Equal(w, g) {
		out = append(out, fmt.Sprintf("%s: validations are %q, want %q", name, g, w))
	}
	if w, g := rules(want.Spec.MatchConstraints), rules(got.Spec.MatchConstraints); !slices.Equal(w, g) {
		out = append(out, fmt.Sprintf("%s: matches %v, want %v", name, g, w))
	}
	return out
}

// bindingDiff names the fields of a live binding that decide where and how
// the policy applies and differ from the rendered one.
func bindingDiff(want, got admissionv1.ValidatingAdmissionPolicyBinding) []string {
	var out []string
	name := "ValidatingAdmissionPolicyBinding " + want.Name
	if got.Spec.PolicyName != want.Spec.PolicyName {
		out = append(out, fmt.Sprintf("%s: binds policy %q, want %q", name, got.Spec.PolicyName, want.Spec.PolicyName))
	}
	if !slices.Equal(got.Spec.ValidationActions, want.Spec.ValidationActions) {
		out = append(out, fmt.Sprintf("%s: validationActions are %v, want %v", name, got.Spec.ValidationActions, want.Spec.ValidationActions))
	}
	var w, g *metav1.LabelSelector
	if want.Spec.MatchResources != nil {
		w = want.Spec.MatchResources.NamespaceSelector
	}
	if got.Spec.MatchResources != nil {
		g = got.Spec.MatchResources.NamespaceSelector
	}
	if !equality.Semantic.DeepEqual(w, g) {
		out = append(out, fmt.Sprintf("%s: namespaceSelector is %s, want %s", name, metav1.FormatLabelSelector(g), metav1.FormatLabelSelector(w)))
	}
	if got.Spec.ParamRef != nil && want.Spec.ParamRef == nil {
		out = append(out, fmt.Sprintf("%s: has a paramRef the manifests do not set", name))
	}
	return out
}

func expressions(vs []admissionv1.Validation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Expression
	}
	return out
}

// rules renders the match rules as comparable strings; fields the API
// server defaults (scope) are left out.
func rules(m *admissionv1.MatchResources) []string {
	if m == nil {
		return nil
	}
	var out []string
	for _, r := range m.ResourceRules {
		out = append(out, fmt.Sprintf("%v %v/%v %v", r.Operations, r.APIGroups, r.APIVersions, r.Resources))
	}
	return out
}
