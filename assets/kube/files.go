package kube

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/fineract-installer/fineract-installer/assets"
)

// applyRank orders kinds so that what an object needs exists before it:
// namespaces, then cluster-wide policy, identities, configuration,
// segmentation, Services and finally the workloads.
var applyRank = map[string]int{
	"Namespace":                        10,
	"ValidatingAdmissionPolicy":        20,
	"ValidatingAdmissionPolicyBinding": 21,
	"ClusterRoleBinding":               22,
	"ServiceAccount":                   30,
	"ConfigMap":                        40,
	"NetworkPolicy":                    50,
	"Service":                          60,
	"PodDisruptionBudget":              70,
	"StatefulSet":                      80,
	"Deployment":                       81,
	"DaemonSet":                        82,
}

func rank(u *unstructured.Unstructured) int {
	if r, ok := applyRank[u.GetKind()]; ok {
		return r
	}
	return 90
}

func fileName(u *unstructured.Unstructured) string {
	parts := []string{fmt.Sprintf("%03d-%s", rank(u), strings.ToLower(u.GetKind()))}
	if ns := u.GetNamespace(); ns != "" {
		parts = append(parts, ns)
	}
	return strings.Join(append(parts, u.GetName()), ".") + ".yaml"
}

func sortObjects(objs []*unstructured.Unstructured) {
	sort.SliceStable(objs, func(i, j int) bool { return fileName(objs[i]) < fileName(objs[j]) })
}

// Files is one YAML file per object, named so that sorting by name is the
// apply order (`kubectl apply --server-side -f DIR` reads a directory in
// name order). Render has already written them once (files), so no
// object of a rendered Manifests fails here.
func (m Manifests) Files() []assets.File {
	out, _ := m.files()
	return out
}

func (m Manifests) files() ([]assets.File, error) {
	var out []assets.File
	seen := map[string]bool{}
	for _, u := range m.Objects {
		data, err := yaml.Marshal(u.Object)
		if err != nil {
			return nil, fmt.Errorf("write %s %s: %w", u.GetKind(), u.GetName(), err)
		}
		name := fileName(u)
		if seen[name] {
			return nil, fmt.Errorf("two objects would be written to %s", name)
		}
		seen[name] = true
		out = append(out, assets.File{Path: name, Data: data, Mode: 0o644})
	}
	return out, nil
}
