package kubeapply

import (
	"context"
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ManagedBy is the label every object the installer renders carries, and
// the one uninstall and status select by.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "fineract-installer"
)

// Status reads every Deployment, StatefulSet and DaemonSet the installer manages in
// namespaces, sorted by namespace, kind and name.
func (c *Cluster) Status(ctx context.Context, namespaces []string) ([]Workload, error) {
	sel := metav1.ListOptions{LabelSelector: LabelManagedBy + "=" + ManagedBy}
	var out []Workload
	for _, ns := range namespaces {
		ds, err := c.clientset.AppsV1().Deployments(ns).List(ctx, sel)
		if err != nil {
			return nil, c.explain(fmt.Errorf("list deployments in %s: %w", ns, err))
		}
		for _, d := range ds.Items {
			w, err := c.workload(ctx, Ref{Kind: "Deployment", Namespace: ns, Name: d.Name})
			if err != nil {
				return nil, err
			}
			out = append(out, w)
		}
		ss, err := c.clientset.AppsV1().StatefulSets(ns).List(ctx, sel)
		if err != nil {
			return nil, c.explain(fmt.Errorf("list statefulsets in %s: %w", ns, err))
		}
		for _, s := range ss.Items {
			w, err := c.workload(ctx, Ref{Kind: "StatefulSet", Namespace: ns, Name: s.Name})
			if err != nil {
				return nil, err
			}
			out = append(out, w)
		}
		dss, err := c.clientset.AppsV1().DaemonSets(ns).List(ctx, sel)
		if err != nil {
			return nil, c.explain(fmt.Errorf("list daemonsets in %s: %w", ns, err))
		}
		for _, d := range dss.Items {
			w, err := c.workload(ctx, Ref{Kind: "DaemonSet", Namespace: ns, Name: d.Name})
			if err != nil {
				return nil, err
			}
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Ref, out[j].Ref
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
	return out, nil
}
