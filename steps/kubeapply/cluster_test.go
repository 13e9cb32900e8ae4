package kubeapply_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/event"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
)

func TestMain(m *testing.M) { labtest.KubeMain(m) }

// testAnswers are answers for the groups and profile, laid out in
// namespace ns, with an installation whose CA signs Vault.
func testAnswers(t *testing.T, profile answers.Profile, groups []string, ns string) answers.Answers {
	t.Helper()
	a := labtest.KubernetesAnswers(t, profile, t.TempDir(), ns)
	a.Groups = append([]string{answers.GroupCore}, groups...)
	return a
}

func render(t *testing.T, a answers.Answers) kube.Manifests {
	t.Helper()
	m, err := kube.Render(a, assets.Options{Project: "fineract", SecretsDir: "/run/fineract-stack/fineract/secrets"})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return m
}

// lab is the shared control plane and clients to it.
type lab struct {
	cp      *labtest.ControlPlane
	cluster *kubeapply.Cluster
	cs      kubernetes.Interface
	dyn     dynamic.Interface
	mapper  meta.RESTMapper
}

func newLab(t *testing.T) lab {
	t.Helper()
	cp := labtest.SharedControlPlane(t)
	c, err := kubeapply.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	groups, err := restmapper.GetAPIGroupResources(cs.Discovery())
	if err != nil {
		t.Fatal(err)
	}
	return lab{cp: cp, cluster: c, cs: cs, dyn: dyn, mapper: restmapper.NewDiscoveryRESTMapper(groups)}
}

// live reads the object o names, nil when it does not exist.
func (l lab) live(t *testing.T, o *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	gvk := o.GroupVersionKind()
	m, err := l.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Fatal(err)
	}
	ri := dynamic.ResourceInterface(l.dyn.Resource(m.Resource))
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = l.dyn.Resource(m.Resource).Namespace(o.GetNamespace())
	}
	got, err := ri.Get(context.Background(), o.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// versions maps each object to its live resourceVersion.
func (l lab) versions(t *testing.T, objs []*unstructured.Unstructured) map[kubeapply.Ref]string {
	t.Helper()
	out := map[kubeapply.Ref]string{}
	for _, o := range objs {
		if got := l.live(t, o); got != nil {
			out[kubeapply.RefOf(o)] = got.GetResourceVersion()
		}
	}
	return out
}

// events collects what a run emits.
type events struct{ list []event.Event }

func (e *events) emitter() event.Emitter {
	return event.Func(func(ev event.Event) { e.list = append(e.list, ev) })
}

func mustApply(t *testing.T, l lab, m kube.Manifests) kubeapply.Applied {
	t.Helper()
	res, err := l.cluster.Apply(context.Background(), m.Objects, nil)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return res
}

func refs(rs []kubeapply.Ref) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.String())
	}
	sort.Strings(out)
	return out
}

// Every group combination, under both profiles, is accepted by a real
// server-side apply into namespaces that enforce Pod Security, and each
// workload's pod template is admitted as a pod there (a server-side dry
// run of the pod, since no controller makes pods here).
func TestEveryCombinationIsAcceptedByServerSideApply(t *testing.T) {
	l := newLab(t)
	optional := answers.Groups[1:]
	n := 0
	for _, profile := range []answers.Profile{answers.Production, answers.Demo} {
		for mask := 0; mask < 1<<len(optional); mask++ {
			var gs []string
			for i, g := range optional {
				if mask&(1<<i) != 0 {
					gs = append(gs, g)
				}
			}
			n++
			ns := fmt.Sprintf("combo-%02d", n)
			t.Run(fmt.Sprintf("%s/%s", profile, strings.Join(append([]string{"core"}, gs...), "+")), func(t *testing.T) {
				m := render(t, testAnswers(t, profile, gs, ns))
				var ev events
				res, err := l.cluster.Apply(context.Background(), m.Objects, ev.emitter())
				if err != nil {
					t.Fatalf("server-side apply: %v", err)
				}
				if len(res.Created)+len(res.Changed)+len(res.Unchanged) != len(m.Objects) {
					t.Errorf("apply accounted for %d of %d objects", len(res.Created)+len(res.Changed)+len(res.Unchanged), len(m.Objects))
				}
				var done int
				for _, e := range ev.list {
					if e.Resource == event.ResourceKubeObject && e.Action == event.ActionCreate && e.Status == event.StatusDone {
						done++
					}
				}
				if done != len(m.Objects) {
					t.Errorf("%d create-done events for %d new objects", done, len(m.Objects))
				}
				for _, ns := range m.Namespaces {
					live, err := l.cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
					if err != nil {
						t.Fatal(err)
					}
					if live.Labels["pod-security.kubernetes.io/enforce"] == "" {
						t.Errorf("namespace %s enforces no Pod Security level", ns)
					}
				}
				admitPodTemplates(t, l, m)
			})
		}
	}
}

// admitPodTemplates asks the API server to admit, in a dry run, a pod made
// from each workload's template, in the workload's namespace.
func admitPodTemplates(t *testing.T, l lab, m kube.Manifests) {
	t.Helper()
	for _, o := range m.Objects {
		if o.GetKind() != "Deployment" && o.GetKind() != "StatefulSet" && o.GetKind() != "DaemonSet" {
			continue
		}
		pod := podOf(t, o, o.GetName()+"-admission")
		_, err := l.cs.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			t.Errorf("%s: its pod is refused: %v", kubeapply.RefOf(o), err)
		}
	}
}

// A second apply of the same manifests changes no object: every
// resourceVersion stays, and both the apply and the plan say unchanged.
func TestReapplyChangesNothing(t *testing.T) {
	l := newLab(t)
	m := render(t, testAnswers(t, answers.Production, nil, "reapply"))
	first := mustApply(t, l, m)
	if len(first.Created) != len(m.Objects) {
		t.Errorf("first apply created %d of %d objects", len(first.Created), len(m.Objects))
	}
	before := l.versions(t, m.Objects)
	if len(before) != len(m.Objects) {
		t.Fatalf("%d of %d objects exist after apply", len(before), len(m.Objects))
	}
	plan, err := l.cluster.Plan(context.Background(), m.Objects)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Pending() {
		t.Errorf("plan of applied manifests: create %v, change %v", refs(plan.Create), refs(plan.Change))
	}
	again := mustApply(t, l, m)
	if len(again.Created)+len(again.Changed) > 0 {
		t.Errorf("re-apply: created %v, changed %v", refs(again.Created), refs(again.Changed))
	}
	after := l.versions(t, m.Objects)
	for ref, v := range before {
		if after[ref] != v {
			t.Errorf("%s: resourceVersion %s -> %s on a re-apply", ref, v, after[ref])
		}
	}
}

// A changed answer changes exactly the objects the plan names, and the
// plan of manifests not applied yet says every object is created.
func TestPlanNamesExactlyTheObjectsAnApplyChanges(t *testing.T) {
	l := newLab(t)
	a := testAnswers(t, answers.Production, nil, "plan-change")
	m := render(t, a)
	fresh, err := l.cluster.Plan(context.Background(), m.Objects)
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh.Create) != len(m.Objects) || len(fresh.Change)+len(fresh.Unchanged) != 0 {
		t.Errorf("plan before any apply: %d create, %d change, %d unchanged of %d", len(fresh.Create), len(fresh.Change), len(fresh.Unchanged), len(m.Objects))
	}
	mustApply(t, l, m)
	before := l.versions(t, m.Objects)

	a.Kubernetes.Fineract.ReadReplicas = 2
	a.Kubernetes.GatewayService = "NodePort"
	changed := render(t, a)
	plan, err := l.cluster.Plan(context.Background(), changed.Objects)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Change) == 0 {
		t.Fatal("the plan names no object to change after read replicas and the gateway Service type changed")
	}
	if !slices.ContainsFunc(plan.Change, func(r kubeapply.Ref) bool { return r.Kind == "Service" }) {
		t.Errorf("the gateway Service type changed but no Service is planned to change: %v", refs(plan.Change))
	}
	res, err := l.cluster.Apply(context.Background(), changed.Objects, nil)
	if err != nil {
		t.Fatal(err)
	}
	after := l.versions(t, changed.Objects)
	var moved, created []kubeapply.Ref
	for _, o := range changed.Objects {
		ref := kubeapply.RefOf(o)
		v, existed := before[ref]
		switch {
		case !existed:
			created = append(created, ref)
		case after[ref] != v:
			moved = append(moved, ref)
		}
	}
	if got, want := refs(moved), refs(plan.Change); !slices.Equal(got, want) {
		t.Errorf("objects whose resourceVersion moved %v, the plan named %v", got, want)
	}
	if got, want := refs(created), refs(plan.Create); !slices.Equal(got, want) {
		t.Errorf("objects created %v, the plan named %v", got, want)
	}
	if got, want := refs(res.Changed), refs(plan.Change); !slices.Equal(got, want) {
		t.Errorf("apply reported changed %v, the plan named %v", got, want)
	}
}

// Status lists every workload of the manifests, none ready: no node runs
// pods here.
func TestStatusListsTheWorkloads(t *testing.T) {
	l := newLab(t)
	m := render(t, testAnswers(t, answers.Demo, []string{answers.GroupMonitoring}, "status"))
	mustApply(t, l, m)
	ws, err := l.cluster.Status(context.Background(), m.Namespaces)
	if err != nil {
		t.Fatal(err)
	}
	var got []kubeapply.Ref
	for _, w := range ws {
		got = append(got, w.Ref)
		if w.IsReady() || w.Desired < 1 {
			t.Errorf("%s: desired %d, ready %d, ready? %v with no node", w.Ref, w.Desired, w.Ready, w.IsReady())
		}
	}
	if want := kubeapply.Workloads(m.Objects); len(want) == 0 || !slices.Equal(refs(got), refs(want)) {
		t.Errorf("status lists %v, the manifests hold %v", refs(got), refs(want))
	}
}

// Without a kubelet (or controllers) no workload becomes ready: the wait
// fails at its timeout with what to check, first because no pod exists,
// then, once a pod of the workload exists, because it stays Pending.
func TestWaitFailsWithWhatToCheck(t *testing.T) {
	l := newLab(t)
	m := render(t, testAnswers(t, answers.Production, nil, "wait"))
	mustApply(t, l, m)
	ws := kubeapply.Workloads(m.Objects)
	// A Deployment: its pod needs no claim made from a template.
	first := ws[slices.IndexFunc(ws, func(r kubeapply.Ref) bool { return r.Kind == "Deployment" })]
	var ev events
	err := l.cluster.Wait(context.Background(), []kubeapply.Ref{first}, 3*time.Second, ev.emitter())
	x := steps.Explain(err)
	if err == nil || !strings.Contains(x.Cause, "no pod of "+first.String()) || !strings.Contains(x.Hint, "kubectl get pods -n "+first.Namespace) {
		t.Errorf("wait without pods: cause %q hint %q", x.Cause, x.Hint)
	}
	if !slices.ContainsFunc(ev.list, func(e event.Event) bool {
		return e.Resource == event.ResourceWorkload && e.Subject == first.String() && e.Status == event.StatusWorking
	}) {
		t.Errorf("no progress event for %s: %v", first, ev.list)
	}

	// A pod of the workload, as its controller would make it.
	var o *unstructured.Unstructured
	for _, x := range m.Objects {
		if kubeapply.RefOf(x) == first {
			o = x
		}
	}
	pod := podOf(t, o, first.Name+"-0")
	if _, err := l.cs.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create a pod of %s: %v", first, err)
	}
	err = l.cluster.Wait(context.Background(), []kubeapply.Ref{first}, 3*time.Second, nil)
	x = steps.Explain(err)
	if err == nil || !strings.Contains(x.Cause, "stay Pending: "+pod.Name) || !strings.Contains(x.Hint, "no node runs them") || !strings.Contains(x.Hint, "kubectl get events -n "+first.Namespace) {
		t.Errorf("wait with a pending pod: cause %q hint %q", x.Cause, x.Hint)
	}
}

// Uninstall deletes every object of the installation, cluster-scoped ones
// included; with KeepData the claims and namespaces stay. The namespaces
// stay Terminating here: no namespace controller runs.
func TestUninstallRemovesEverything(t *testing.T) {
	l := newLab(t)
	m := render(t, testAnswers(t, answers.Production, nil, "uninstall"))
	mustApply(t, l, m)
	scope := kubeapply.ScopeOf(m.Namespaces, m.Objects)

	keep := scope
	keep.KeepData = true
	if _, err := l.cluster.Uninstall(context.Background(), keep, nil); err != nil {
		t.Fatal(err)
	}
	var claims int
	for _, o := range m.Objects {
		got := l.live(t, o)
		switch o.GetKind() {
		case "PersistentVolumeClaim", "Namespace":
			claims++
			if got == nil || got.GetDeletionTimestamp() != nil {
				t.Errorf("%s deleted although data is kept", kubeapply.RefOf(o))
			}
		default:
			if got != nil {
				t.Errorf("%s left after uninstall", kubeapply.RefOf(o))
			}
		}
	}
	if claims == 0 {
		t.Error("the manifests hold no claim or namespace to keep")
	}

	mustApply(t, l, m)
	removed, err := l.cluster.Uninstall(context.Background(), scope, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) < len(m.Objects) {
		t.Errorf("removed %d objects of %d applied", len(removed), len(m.Objects))
	}
	for _, o := range m.Objects {
		got := l.live(t, o)
		if got != nil && !(o.GetKind() == "Namespace" && got.GetDeletionTimestamp() != nil) {
			t.Errorf("%s left after uninstall", kubeapply.RefOf(o))
		}
	}
	left, err := l.cluster.Managed(context.Background(), scope)
	if err != nil || len(left) > 0 {
		t.Errorf("managed objects left: %v %v", left, err)
	}
}

// podOf is the pod a workload's controller would make from its template:
// a StatefulSet's pod mounts a claim per volume claim template.
func podOf(t *testing.T, o *unstructured.Unstructured, name string) *corev1.Pod {
	t.Helper()
	tmpl, ok, err := unstructured.NestedMap(o.Object, "spec", "template")
	if !ok || err != nil {
		t.Fatalf("%s has no pod template: %v", kubeapply.RefOf(o), err)
	}
	var pod corev1.Pod
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, &pod); err != nil {
		t.Fatal(err)
	}
	pod.Name, pod.Namespace = name, o.GetNamespace()
	claims, _, _ := unstructured.NestedSlice(o.Object, "spec", "volumeClaimTemplates")
	for _, c := range claims {
		claim, _ := c.(map[string]any)
		cn, _, _ := unstructured.NestedString(claim, "metadata", "name")
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: cn,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: cn + "-" + name}}})
	}
	return &pod
}
