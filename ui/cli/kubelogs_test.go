package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
	"github.com/fineract-installer/fineract-installer/ui/cli/schema"
)

// kubeLogsLab is the rendered stack applied to the lab API server, with
// pods of some services made from their workloads' templates and bound
// to a stand-in kubelet's node (no controller makes pods here, and no
// container runs: the stand-in serves the lines the test gives it).
type kubeLogsLab struct {
	kubelet *labtest.Kubelet
	ns      string
	args    []string // --target kubernetes --answers FILE --kubeconfig FILE
}

func newKubeLogsLab(t *testing.T, ns string, services ...string) kubeLogsLab {
	t.Helper()
	cp := labtest.SharedControlPlane(t)
	k := cp.StartKubelet(t)
	file := kubeAnswersFile(t, ns)
	m := renderedManifests(t, file, "fineract")
	c, err := kubeapply.Connect(t.Context(), kubeapply.Kubeconfig{File: cp.Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(t.Context(), m.Objects, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, s := range services {
		want[s] = true
	}
	for _, o := range m.Objects {
		if o.GetKind() != "StatefulSet" && o.GetKind() != "Deployment" || !want[o.GetLabels()[kube.LabelName]] {
			continue
		}
		pod := podFromTemplate(t, o, o.GetName()+"-0")
		pod.Spec.NodeName = k.Node
		if _, err := cs.CoreV1().Pods(pod.Namespace).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod %s/%s: %v", pod.Namespace, pod.Name, err)
		}
	}
	return kubeLogsLab{kubelet: k, ns: ns, args: []string{"--target", "kubernetes", "--answers", file, "--kubeconfig", cp.Kubeconfig}}
}

// podFromTemplate is the pod a workload's controller would make: its
// template's labels and spec, with a claim per volume claim template.
func podFromTemplate(t *testing.T, o *unstructured.Unstructured, name string) *corev1.Pod {
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

func (l kubeLogsLab) run(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, "", append(append([]string{"logs"}, l.args...), args...)...)
}

// textLines is the text output of lines, service column width wide.
func textLines(width int, lines ...[2]string) string {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%-*s | %s\n", width, l[0], l[1])
	}
	return b.String()
}

// Two services' lines come out interleaved by the time the kubelet gave
// each, headed SERVICE/POD; the Vault agent's init container only when
// asked; -t shows the times.
func TestKubeLogsInterleavesServicesByTime(t *testing.T) {
	l := newKubeLogsLab(t, "logs-order", "fineract", "postgres")
	t0 := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	l.kubelet.AppendLog(l.ns, "postgres-0", "postgres", labtest.KubeletLine{Time: at(1), Text: "pg one"}, labtest.KubeletLine{Time: at(3), Text: "pg two"})
	l.kubelet.AppendLog(l.ns, "fineract-0", "fineract", labtest.KubeletLine{Time: at(2), Text: "fin one"}, labtest.KubeletLine{Time: at(4), Text: "fin two"})
	l.kubelet.AppendLog(l.ns, "fineract-0", "vault-agent", labtest.KubeletLine{Time: at(0.5), Text: "agent wrote 4 files"})

	r := l.run(t, "postgres", "fineract")
	w := len("fineract/fineract-0")
	want := textLines(w, [2]string{"postgres/postgres-0", "pg one"}, [2]string{"fineract/fineract-0", "fin one"},
		[2]string{"postgres/postgres-0", "pg two"}, [2]string{"fineract/fineract-0", "fin two"})
	if r.code != 0 || r.out != want {
		t.Fatalf("logs postgres fineract: exit %d\n%s\nwant\n%s\nstderr: %s", r.code, r.out, want, r.err)
	}
	// No service named: every service with pods, the same lines.
	if r := l.run(t); r.code != 0 || r.out != want {
		t.Errorf("logs: exit %d\n%s\nwant\n%s\nstderr: %s", r.code, r.out, want, r.err)
	}

	r = l.run(t, "--init-containers", "fineract")
	w = len("fineract/fineract-0/vault-agent")
	want = textLines(w, [2]string{"fineract/fineract-0/vault-agent", "agent wrote 4 files"},
		[2]string{"fineract/fineract-0", "fin one"}, [2]string{"fineract/fineract-0", "fin two"})
	if r.code != 0 || r.out != want {
		t.Errorf("logs --init-containers fineract: exit %d\n%s\nwant\n%s\nstderr: %s", r.code, r.out, want, r.err)
	}

	r = l.run(t, "-t", "postgres")
	w = len("postgres/postgres-0")
	want = fmt.Sprintf("%-*s | %s pg one\n%-*s | %s pg two\n", w, "postgres/postgres-0", at(1).Format("2006-01-02T15:04:05.000Z07:00"),
		w, "postgres/postgres-0", at(3).Format("2006-01-02T15:04:05.000Z07:00"))
	if r.code != 0 || r.out != want {
		t.Errorf("logs -t postgres: exit %d\n%s\nwant\n%s\nstderr: %s", r.code, r.out, want, r.err)
	}

	// -o json: the Docker target's log records, every line stdout.
	r = l.run(t, "-o", "json", "fineract", "postgres")
	if r.code != 0 {
		t.Fatalf("logs -o json: exit %d: %s", r.code, r.err)
	}
	if err := schema.Check([]byte(r.out)); err != nil {
		t.Errorf("logs -o json does not keep the output contract: %v", err)
	}
	var got []compose.LogLine
	for _, line := range strings.Split(strings.TrimSpace(r.out), "\n") {
		var rec struct {
			Schema int    `json:"schema"`
			Type   string `json:"type"`
			compose.LogLine
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if rec.Schema != schemaVersion || rec.Type != typeLog {
			t.Errorf("record %q: schema %d type %q", line, rec.Schema, rec.Type)
		}
		got = append(got, rec.LogLine)
	}
	wantJSON := []compose.LogLine{
		{Service: "postgres/postgres-0", Stream: compose.Stdout, Time: at(1), Text: "pg one"},
		{Service: "fineract/fineract-0", Stream: compose.Stdout, Time: at(2), Text: "fin one"},
		{Service: "postgres/postgres-0", Stream: compose.Stdout, Time: at(3), Text: "pg two"},
		{Service: "fineract/fineract-0", Stream: compose.Stdout, Time: at(4), Text: "fin two"},
	}
	if len(got) != len(wantJSON) {
		t.Fatalf("logs -o json: %d records, want %d: %s", len(got), len(wantJSON), r.out)
	}
	for i := range got {
		if got[i].Service != wantJSON[i].Service || got[i].Stream != wantJSON[i].Stream || !got[i].Time.Equal(wantJSON[i].Time) || got[i].Text != wantJSON[i].Text {
			t.Errorf("record %d: %+v, want %+v", i, got[i], wantJSON[i])
		}
	}
}

// --tail and --since reach the kubelet as tailLines and sinceSeconds or
// sinceTime (the stand-in records the query the API server forwarded),
// with timestamps always on; the kubelet's answer is what is printed.
func TestKubeLogsForwardsTailAndSince(t *testing.T) {
	l := newKubeLogsLab(t, "logs-tail", "postgres")
	now := time.Now().UTC()
	l.kubelet.AppendLog(l.ns, "postgres-0", "postgres",
		labtest.KubeletLine{Time: now.Add(-2 * time.Hour), Text: "oldest"},
		labtest.KubeletLine{Time: now.Add(-time.Hour), Text: "old"},
		labtest.KubeletLine{Time: now.Add(-time.Minute), Text: "new"},
		labtest.KubeletLine{Time: now.Add(-30 * time.Second), Text: "newest"})
	name := "postgres/postgres-0"

	r := l.run(t, "--tail", "3", "--since", "10m", "postgres")
	if want := textLines(len(name), [2]string{name, "new"}, [2]string{name, "newest"}); r.code != 0 || r.out != want {
		t.Errorf("--tail 3 --since 10m: exit %d\n%s\nwant\n%s\nstderr: %s", r.code, r.out, want, r.err)
	}
	q := lastQuery(t, l.kubelet)
	if q.Get("tailLines") != "3" || q.Get("sinceSeconds") != "600" || q.Get("timestamps") != "true" || q.Has("follow") || q.Has("sinceTime") {
		t.Errorf("forwarded query %v, want tailLines=3 sinceSeconds=600 timestamps=true", q)
	}

	since := now.Add(-90 * time.Minute)
	r = l.run(t, "--since", since.Format(time.RFC3339Nano), "postgres")
	if want := textLines(len(name), [2]string{name, "old"}, [2]string{name, "new"}, [2]string{name, "newest"}); r.code != 0 || r.out != want {
		t.Errorf("--since %s: exit %d\n%s\nwant\n%s\nstderr: %s", since.Format(time.RFC3339Nano), r.code, r.out, want, r.err)
	}
	q = lastQuery(t, l.kubelet)
	if q.Get("sinceTime") != since.Truncate(time.Second).Format(time.RFC3339) || q.Has("sinceSeconds") || q.Has("tailLines") {
		t.Errorf("forwarded query %v, want sinceTime=%s only", q, since.Truncate(time.Second).Format(time.RFC3339))
	}

	r = l.run(t, "--tail", "1", "postgres")
	if want := textLines(len(name), [2]string{name, "newest"}); r.code != 0 || r.out != want {
		t.Errorf("--tail 1: exit %d\n%s\nwant\n%s\nstderr: %s", r.code, r.out, want, r.err)
	}
}

func lastQuery(t *testing.T, k *labtest.Kubelet) url.Values {
	t.Helper()
	reqs := k.Requests()
	if len(reqs) == 0 {
		t.Fatal("no request reached the stand-in kubelet")
	}
	return reqs[len(reqs)-1].Query
}

// A name that is not a service of the stack is bad input naming the
// services; a service without pods says so and where to look.
func TestKubeLogsUnknownServiceAndServiceWithoutPods(t *testing.T) {
	l := newKubeLogsLab(t, "logs-missing", "postgres")
	r := l.run(t, "postgres", "nosuch")
	if r.code != ExitUsage || !strings.Contains(r.err, `"nosuch" is not a service of the stack`) || !strings.Contains(r.err, "(services: fineract, gateway, grafana, postgres, postgres-exporter, prometheus, web-app)") {
		t.Errorf("unknown service: exit %d: %s", r.code, r.err)
	}
	r = l.run(t, "-o", "json", "web-app")
	var rec errorRecord
	if err := json.Unmarshal([]byte(r.err), &rec); err != nil || r.code != ExitFailed {
		t.Fatalf("service without pods: exit %d %v: %s", r.code, err, r.err)
	}
	if rec.Cause != "no pod of web-app exists in namespace logs-missing" || !strings.Contains(rec.Hint, "status --target kubernetes") {
		t.Errorf("service without pods: cause %q hint %q", rec.Cause, rec.Hint)
	}
	if len(l.kubelet.Requests()) != 0 {
		t.Errorf("a refused request reached the kubelet: %+v", l.kubelet.Requests())
	}
	// A service named twice is read once.
	l.kubelet.AppendLog(l.ns, "postgres-0", "postgres", labtest.KubeletLine{Time: time.Now(), Text: "only once"})
	if r := l.run(t, "postgres", "postgres"); r.code != 0 || r.out != textLines(len("postgres/postgres-0"), [2]string{"postgres/postgres-0", "only once"}) {
		t.Errorf("logs postgres postgres: exit %d: %q %s", r.code, r.out, r.err)
	}

	// A stack not installed: no pod anywhere.
	file := kubeAnswersFile(t, "logs-not-installed")
	r = run(t, "", "logs", "--target", "kubernetes", "--answers", file, "--kubeconfig", labtest.SharedControlPlane(t).Kubeconfig)
	if r.code != ExitFailed || !strings.Contains(r.err, "no pod of the stack runs on a node in namespaces logs-not-installed") {
		t.Errorf("logs of a stack not installed: exit %d: %s", r.code, r.err)
	}
}

// -f prints the lines there are, then each line appended, until the
// command's context is cancelled; it then exits 0.
func TestKubeLogsFollow(t *testing.T) {
	l := newKubeLogsLab(t, "logs-follow", "postgres")
	l.kubelet.AppendLog(l.ns, "postgres-0", "postgres", labtest.KubeletLine{Time: time.Now().Add(-time.Minute), Text: "before"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		io := &Streams{In: strings.NewReader(""), Out: &out, Err: &errb}
		done <- Main(ctx, append(append([]string{"logs"}, l.args...), "-f", "--tail", "1", "postgres"), io, BuildInfo{Version: "v0.0.0-test", Go: "go"})
	}()
	name := "postgres/postgres-0"
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for out.String() != want {
			select {
			case code := <-done:
				t.Fatalf("logs -f ended (exit %d) before printing %q: %q %s", code, want, out.String(), errb.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("logs -f printed %q, want %q; stderr %s", out.String(), want, errb.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor(textLines(len(name), [2]string{name, "before"}))
	if q := lastQuery(t, l.kubelet); q.Get("follow") != "true" || q.Get("tailLines") != "1" {
		t.Errorf("forwarded query %v, want follow=true tailLines=1", q)
	}
	l.kubelet.AppendLog(l.ns, "postgres-0", "postgres", labtest.KubeletLine{Time: time.Now(), Text: "after"})
	waitFor(textLines(len(name), [2]string{name, "before"}, [2]string{name, "after"}))
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("logs -f after cancel: exit %d: %s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("logs -f did not stop when its context was cancelled")
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
