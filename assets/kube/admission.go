package kube

import (
	"sort"
	"strconv"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// HardeningPolicy names the ValidatingAdmissionPolicy (and its binding)
// with which the API server itself refuses, in the stack's namespaces,
// what Pod Security "restricted" does not check: a container without a
// read-only root filesystem (but for the documented exceptions) and one
// without memory requests and limits.
func HardeningPolicy(namespace string) string { return namespace + "-hardening" }

// readOnlyExceptions are the containers the Docker target documents as
// unable to run with a read-only root (assets.Service.ReadOnlyException).
func (r *renderer) readOnlyExceptions() []string {
	var out []string
	for _, s := range r.bundle.Services {
		if s.ReadOnlyException != "" {
			out = append(out, s.Name)
		}
	}
	sort.Strings(out)
	return out
}

func celList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func (r *renderer) admissionPolicy() []runtime.Object {
	name := HardeningPolicy(r.ns)
	ops := []admissionv1.OperationType{admissionv1.Create, admissionv1.Update}
	rule := func(group string, resources ...string) admissionv1.NamedRuleWithOperations {
		return admissionv1.NamedRuleWithOperations{RuleWithOperations: admissionv1.RuleWithOperations{
			Operations: ops,
			Rule:       admissionv1.Rule{APIGroups: []string{group}, APIVersions: []string{"v1"}, Resources: resources},
		}}
	}
	exceptions := r.readOnlyExceptions()
	readOnly := `variables.containers.all(c, has(c.securityContext) && has(c.securityContext.readOnlyRootFilesystem) && c.securityContext.readOnlyRootFilesystem == true)`
	if len(exceptions) > 0 {
		readOnly = `variables.containers.all(c, (has(c.securityContext) && has(c.securityContext.readOnlyRootFilesystem) && c.securityContext.readOnlyRootFilesystem == true) || c.name in ` + celList(exceptions) + `)`
	}
	policy := &admissionv1.ValidatingAdmissionPolicy{
		TypeMeta:   typeMeta("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"),
		ObjectMeta: r.meta(name, "", nil),
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{
				rule("", "pods"),
				rule("apps", "deployments", "statefulsets", "daemonsets"),
			}},
			Variables: []admissionv1.Variable{
				{Name: "spec", Expression: `object.kind == "Pod" ? object.spec : object.spec.template.spec`},
				{Name: "containers", Expression: `variables.spec.containers + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])`},
			},
			Validations: []admissionv1.Validation{
				{
					Expression: readOnly,
					Message:    "every container must set securityContext.readOnlyRootFilesystem: true (documented exceptions: " + strings.Join(exceptions, ", ") + ")",
					Reason:     ptr(metav1.StatusReasonForbidden),
				},
				{
					Expression: `variables.containers.all(c, has(c.resources) && has(c.resources.limits) && "memory" in c.resources.limits && has(c.resources.requests) && "memory" in c.resources.requests)`,
					Message:    "every container must set memory requests and limits",
					Reason:     ptr(metav1.StatusReasonForbidden),
				},
			},
		},
	}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   typeMeta("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"),
		ObjectMeta: r.meta(name, "", nil),
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        name,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchExpressions: []metav1.LabelSelectorRequirement{{
					Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn, Values: r.m.Namespaces,
				}},
			}},
		},
	}
	return []runtime.Object{policy, binding}
}
