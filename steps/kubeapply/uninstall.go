package kubeapply

import (
	"context"
	"fmt"
	"slices"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// Scope is what belongs to one installation on a cluster: its namespaces,
// the labels every one of its objects carries, and the names of its
// cluster-scoped objects.
type Scope struct {
	Namespaces []string
	Labels     map[string]string
	// ClusterNames are "Kind/name" of the cluster-scoped objects the
	// manifests hold; they pick the installation's own among every
	// cluster-scoped object the installer labelled when Labels do not tell
	// installations apart.
	ClusterNames map[string]bool
	// KeepData leaves the PersistentVolumeClaims (the database's and
	// Vault's storage) and so the namespaces holding them, as the Docker
	// target's uninstall keeps its data volumes unless purged.
	KeepData bool
}

// ScopeOf derives the scope from the rendered objects: the labels all of
// them share (the managed-by label at least) and their namespaces.
func ScopeOf(namespaces []string, objs []*unstructured.Unstructured) Scope {
	s := Scope{Namespaces: namespaces, Labels: map[string]string{LabelManagedBy: ManagedBy}, ClusterNames: map[string]bool{}}
	var common map[string]string
	for _, o := range objs {
		if o.GetNamespace() == "" && o.GetKind() != "Namespace" {
			s.ClusterNames[o.GetKind()+"/"+o.GetName()] = true
		}
		l := o.GetLabels()
		if common == nil {
			common = map[string]string{}
			for k, v := range l {
				common[k] = v
			}
			continue
		}
		for k, v := range common {
			if l[k] != v {
				delete(common, k)
			}
		}
	}
	if common[LabelManagedBy] == ManagedBy {
		s.Labels = common
	}
	return s
}

// Object is one live object found in a scope.
type Object struct {
	Ref
	gvr schema.GroupVersionResource
}

// Managed lists the scope's live objects not already being deleted: every
// object carrying its labels in its namespaces, every cluster-scoped one of
// its (see Scope), and last the namespaces themselves.
func (c *Cluster) Managed(ctx context.Context, s Scope) ([]Object, error) {
	lists, err := c.discovery.ServerPreferredResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, c.explain(fmt.Errorf("list the cluster's resource kinds: %w", err))
	}
	lists = discovery.FilteredBy(discovery.SupportsAllVerbs{Verbs: []string{"list", "delete"}}, lists)
	sel := metav1.ListOptions{LabelSelector: labels.SelectorFromSet(s.Labels).String()}
	onlyManagedBy := len(s.Labels) == 1
	var out []Object
	var nsObjs []Object
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			gvr := gv.WithResource(r.Name)
			// Events record what happened and Endpoints are made by the
			// cluster from Services: neither is the installation's.
			if r.Name == "events" || gv.Group == "" && r.Name == "endpoints" {
				continue
			}
			if s.KeepData && gv.Group == "" && (r.Name == "persistentvolumeclaims" || r.Name == "namespaces") {
				continue
			}
			if !r.Namespaced {
				items, err := c.dynamic.Resource(gvr).List(ctx, sel)
				if err != nil {
					return nil, c.explain(fmt.Errorf("list %s: %w", gvr.Resource, err))
				}
				for _, it := range items.Items {
					switch {
					case it.GetDeletionTimestamp() != nil:
					case gvr.Group == "" && r.Name == "namespaces":
						if slices.Contains(s.Namespaces, it.GetName()) {
							nsObjs = append(nsObjs, Object{Ref: Ref{Kind: r.Kind, Name: it.GetName()}, gvr: gvr})
						}
					case onlyManagedBy && !s.ClusterNames[r.Kind+"/"+it.GetName()]:
					default:
						out = append(out, Object{Ref: Ref{Kind: r.Kind, Name: it.GetName()}, gvr: gvr})
					}
				}
				continue
			}
			for _, ns := range s.Namespaces {
				items, err := c.dynamic.Resource(gvr).Namespace(ns).List(ctx, sel)
				if err != nil {
					return nil, c.explain(fmt.Errorf("list %s in %s: %w", gvr.Resource, ns, err))
				}
				for _, it := range items.Items {
					if it.GetDeletionTimestamp() != nil {
						continue // already going
					}
					out = append(out, Object{Ref: Ref{Kind: r.Kind, Namespace: ns, Name: it.GetName()}, gvr: gvr})
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref.String() < out[j].Ref.String() })
	return append(out, nsObjs...), nil
}

// Uninstall deletes the scope's objects, namespaces last, and returns what
// it deleted. Dependents (pods of a Deployment) are left to the cluster's
// garbage collector, which deletes them in the background; a namespace
// stays Terminating until the cluster's namespace controller has emptied
// it.
func (c *Cluster) Uninstall(ctx context.Context, s Scope, emit event.Emitter) ([]Ref, error) {
	r := newReporter(emit)
	objs, err := c.Managed(ctx, s)
	if err != nil {
		return nil, err
	}
	bg := metav1.DeletePropagationBackground
	var removed []Ref
	for i, o := range objs {
		r.progress(event.ResourceKubeObject, o.Ref.String(), event.ActionRemove, event.StatusWorking, int64(i), int64(len(objs)), "")
		ri := c.dynamic.Resource(o.gvr)
		var err error
		if o.Namespace != "" {
			err = ri.Namespace(o.Namespace).Delete(ctx, o.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
		} else {
			err = ri.Delete(ctx, o.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
		}
		if err != nil && !apierrors.IsNotFound(err) {
			err = c.explain(fmt.Errorf("delete %s: %w", o.Ref, err))
			r.failed(event.ResourceKubeObject, o.Ref.String(), event.ActionRemove, err)
			return removed, err
		}
		removed = append(removed, o.Ref)
		r.progress(event.ResourceKubeObject, o.Ref.String(), event.ActionRemove, event.StatusDone, int64(i+1), int64(len(objs)), "")
	}
	return removed, nil
}
