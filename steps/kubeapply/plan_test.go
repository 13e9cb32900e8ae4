package kubeapply

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func obj(spec map[string]any, meta map[string]any) *unstructured.Unstructured {
	md := map[string]any{"name": "web", "namespace": "bank"}
	for k, v := range meta {
		md[k] = v
	}
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": md, "spec": spec}}
}

// What the server keeps for itself never makes an object "changed"; a
// field the manifests set does.
func TestSameIgnoresServerBookkeeping(t *testing.T) {
	base := obj(map[string]any{"type": "ClusterIP"}, map[string]any{"resourceVersion": "1", "generation": int64(1)})
	bookkept := obj(map[string]any{"type": "ClusterIP"}, map[string]any{"resourceVersion": "7", "generation": int64(3),
		"creationTimestamp": "2026-12-04T05:00:00Z", "managedFields": []any{map[string]any{"manager": "x"}}})
	bookkept.Object["status"] = map[string]any{"loadBalancer": map[string]any{}}
	if !Same(base, bookkept) {
		t.Error("bookkeeping and status count as a change")
	}
	if Same(base, obj(map[string]any{"type": "NodePort"}, nil)) {
		t.Error("a changed spec counts as the same")
	}
	if Same(base, obj(map[string]any{"type": "ClusterIP"}, map[string]any{"labels": map[string]any{"a": "b"}})) {
		t.Error("a changed label counts as the same")
	}
	if base.GetResourceVersion() != "1" {
		t.Error("Same changed its argument")
	}
}

// The scope's labels are those every rendered object shares; the
// cluster-scoped objects are named.
func TestScopeOfSharedLabels(t *testing.T) {
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": "bank", "labels": map[string]any{LabelManagedBy: ManagedBy, "app.kubernetes.io/part-of": "fineract", "pod-security.kubernetes.io/enforce": "restricted"}}}}
	svc := obj(nil, map[string]any{"labels": map[string]any{LabelManagedBy: ManagedBy, "app.kubernetes.io/part-of": "fineract", "app.kubernetes.io/name": "web"}})
	crb := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": map[string]any{"name": "bank-vault-auth", "labels": map[string]any{LabelManagedBy: ManagedBy, "app.kubernetes.io/part-of": "fineract"}}}}
	s := ScopeOf([]string{"bank"}, []*unstructured.Unstructured{ns, svc, crb})
	if len(s.Labels) != 2 || s.Labels["app.kubernetes.io/part-of"] != "fineract" || s.Labels[LabelManagedBy] != ManagedBy {
		t.Errorf("labels %v", s.Labels)
	}
	if !s.ClusterNames["ClusterRoleBinding/bank-vault-auth"] || len(s.ClusterNames) != 1 {
		t.Errorf("cluster names %v", s.ClusterNames)
	}
	// Objects without the managed-by label in common fall back to it.
	bare := obj(nil, nil)
	if s := ScopeOf([]string{"bank"}, []*unstructured.Unstructured{svc, bare}); len(s.Labels) != 1 || s.Labels[LabelManagedBy] != ManagedBy {
		t.Errorf("fallback labels %v", s.Labels)
	}
}
