package labtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The real API server proxies a pod's log request to the stand-in kubelet
// of the pod's node, with its kubelet client certificate and the query
// the client asked for; the stand-in refuses anyone without that
// certificate.
func TestKubeletStandInServesLogsThroughTheAPIServer(t *testing.T) {
	cp := SharedControlPlane(t)
	c := kubeClient(t)
	k := cp.StartKubelet(t)
	ctx := t.Context()
	ns := "kubelet-logs"
	kubeNamespace(t, c, ns, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	pod := restrictedPod("app-0")
	pod.Spec.NodeName = k.Node
	if _, err := c.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	k.AppendLog(ns, "app-0", "app",
		KubeletLine{t0, "first"}, KubeletLine{t0.Add(time.Second), "second"}, KubeletLine{time.Now(), "third"})

	read := func(opts *corev1.PodLogOptions) string {
		t.Helper()
		b, err := c.CoreV1().Pods(ns).GetLogs("app-0", opts).DoRaw(ctx)
		if err != nil {
			t.Fatalf("logs %+v: %v", opts, err)
		}
		return string(b)
	}
	if got := read(&corev1.PodLogOptions{Container: "app"}); got != "first\nsecond\nthird\n" {
		t.Errorf("all lines: %q", got)
	}
	if got := read(&corev1.PodLogOptions{Container: "app", TailLines: ptr.To[int64](2), Timestamps: true}); got != t0.Add(time.Second).Format(kubeletTimeFormat)+" second\n"+k.lastLineTime(t, ns)+" third\n" {
		t.Errorf("tail 2 with timestamps: %q", got)
	}
	if got := read(&corev1.PodLogOptions{Container: "app", SinceSeconds: ptr.To[int64](600)}); got != "third\n" {
		t.Errorf("since 10m: %q", got)
	}
	reqs := k.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests reached the stand-in, want 3: %+v", len(reqs), reqs)
	}
	for _, r := range reqs {
		if r.Client != kubeletClientName || r.Namespace != ns || r.Pod != "app-0" || r.Container != "app" {
			t.Errorf("request %+v: want %s/app-0/app from %s", r, ns, kubeletClientName)
		}
	}
	if q := reqs[1].Query; q.Get("tailLines") != "2" || q.Get("timestamps") != "true" {
		t.Errorf("forwarded query %v, want tailLines=2 and timestamps=true", q)
	}
	if q := reqs[2].Query; q.Get("sinceSeconds") != "600" {
		t.Errorf("forwarded query %v, want sinceSeconds=600", q)
	}

	// follow: the appended line comes through the open response.
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	rc, err := c.CoreV1().Pods(ns).GetLogs("app-0", &corev1.PodLogOptions{Container: "app", Follow: true, TailLines: ptr.To[int64](1)}).Stream(fctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	lines := bufio.NewScanner(rc)
	if !lines.Scan() || lines.Text() != "third" {
		t.Fatalf("follow, first line: %q %v", lines.Text(), lines.Err())
	}
	k.AppendLog(ns, "app-0", "app", KubeletLine{time.Now(), "fourth"})
	if !lines.Scan() || lines.Text() != "fourth" {
		t.Fatalf("follow, appended line: %q %v", lines.Text(), lines.Err())
	}

	// Straight to the stand-in, trusting its CA but without the API
	// server's client certificate: refused in the handshake.
	roots := x509.NewCertPool()
	roots.AddCert(cp.kubeletServingCA.cert)
	direct := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	port := strconv.Itoa(int(k.port(t)))
	resp, err := direct.Get("https://127.0.0.1:" + port + "/containerLogs/" + ns + "/app-0/app")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("a client without the kubelet client certificate got %s: %q", resp.Status, body)
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("refusal: %v", err)
	}
}

// lastLineTime is the timestamp the stand-in writes for the last line of
// app-0's log.
func (k *Kubelet) lastLineTime(t *testing.T, ns string) string {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	ls := k.logs[ns+"/app-0/app"]
	return ls[len(ls)-1].Time.UTC().Format(kubeletTimeFormat)
}

// port is the kubelet port its Node object names.
func (k *Kubelet) port(t *testing.T) int32 {
	t.Helper()
	n, err := kubeClient(t).CoreV1().Nodes().Get(t.Context(), k.Node, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n.Status.DaemonEndpoints.KubeletEndpoint.Port
}
