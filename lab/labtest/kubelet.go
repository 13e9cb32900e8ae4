package labtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// kubeletClientName is the common name of the API server's kubelet client
// certificate; the stand-in kubelet records it with each request.
const kubeletClientName = "kube-apiserver-kubelet-client"

// kubeletTimeFormat is the kubelet's timestamp before each line with
// timestamps=true: RFC 3339 with nanoseconds, fixed width (k8s.io/cri-client
// v0.37.2 pkg/logs/logs.go, RFC3339NanoFixed as timeFormatOut).
const kubeletTimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// Kubelet is a stand-in kubelet: it serves only the container log endpoint;
// it runs no containers. It is an HTTPS server on 127.0.0.1 with a serving
// certificate the lab API server trusts, it requires the API server's
// kubelet client certificate, and it is registered as a Node whose
// InternalIP and kubelet port lead the API server to it. A pod whose
// spec.nodeName is Node has its logs (GET pods/log) proxied here by the
// real API server, as a cluster's API server proxies them to the node's
// kubelet.
//
// The log lines are those the test gives with AppendLog, not a container
// runtime's files: what it shows is the request path (client, API server,
// kubelet) and the query the API server forwards, not how a kubelet reads
// log files (rotation, partial lines, the CRI format).
type Kubelet struct {
	// Node is the name of the Node object it serves.
	Node string

	mu       sync.Mutex
	logs     map[string][]KubeletLine // by namespace/pod/container
	requests []KubeletRequest
	changed  chan struct{} // closed and replaced when a log grows: wakes followers
	closed   chan struct{} // closed when the stand-in stops
	srv      *http.Server
}

// KubeletLine is one line of a container log and when it was written.
type KubeletLine struct {
	Time time.Time
	Text string
}

// KubeletRequest is a log request the stand-in received.
type KubeletRequest struct {
	Namespace, Pod, Container string
	// Query is the query the API server forwarded (tailLines, follow,
	// sinceSeconds, sinceTime, timestamps, ...).
	Query url.Values
	// Client is the common name of the verified client certificate.
	Client string
}

// StartKubelet starts a stand-in kubelet and registers its Node with the
// control plane. Both end with the test.
func (cp *ControlPlane) StartKubelet(t testing.TB) *Kubelet {
	t.Helper()
	if cp.kubeletServingCA == nil {
		t.Fatal("this control plane has no kubelet CA: start it with StartControlPlane")
	}
	certPEM, keyPEM, err := cp.kubeletServingCA.issue("lab-kubelet", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	clients := x509.NewCertPool()
	clients.AddCert(cp.kubeletClientCA.cert)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	k := &Kubelet{
		Node:    "lab-node-" + hex.EncodeToString(suffix),
		logs:    map[string][]KubeletLine{},
		changed: make(chan struct{}),
		closed:  make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", k.serveLogs)
	k.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{cert},
		// Only the API server's kubelet client certificate gets in: a
		// test reaching this server by another way fails.
		ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs:  clients,
		MinVersion: tls.VersionTLS12,
	}}
	go func() { _ = k.srv.ServeTLS(ln, "", "") }()

	port := ln.Addr().(*net.TCPAddr).Port
	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	// The API server reads the node's address and kubelet port from its
	// status (kubernetes v1.37.2 pkg/kubelet/client/kubelet_client.go,
	// NodeConnectionInfoGetter.GetConnectionInfo); a Node's status may be
	// set on create (pkg/registry/core/node/strategy.go).
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: k.Node},
		Status: corev1.NodeStatus{
			Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(port)}},
		},
	}
	if _, err := cs.CoreV1().Nodes().Create(t.Context(), node, metav1.CreateOptions{}); err != nil {
		k.stop()
		t.Fatalf("register the stand-in kubelet's node: %v", err)
	}
	t.Cleanup(func() {
		k.stop()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = cs.CoreV1().Nodes().Delete(ctx, k.Node, metav1.DeleteOptions{})
	})
	return k
}

func (k *Kubelet) stop() {
	k.mu.Lock()
	select {
	case <-k.closed:
	default:
		close(k.closed)
	}
	k.mu.Unlock()
	_ = k.srv.Close()
}

// AppendLog adds lines to a container's log; a follower of that log gets
// them.
func (k *Kubelet) AppendLog(namespace, pod, container string, lines ...KubeletLine) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key := namespace + "/" + pod + "/" + container
	k.logs[key] = append(k.logs[key], lines...)
	close(k.changed)
	k.changed = make(chan struct{})
}

// Requests are the log requests received so far, oldest first.
func (k *Kubelet) Requests() []KubeletRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]KubeletRequest, len(k.requests))
	for i, r := range k.requests {
		r.Query = cloneValues(r.Query)
		out[i] = r
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, xs := range v {
		out[k] = append([]string(nil), xs...)
	}
	return out
}

// serveLogs answers as the kubelet's getContainerLogs does (kubernetes
// v1.37.2 pkg/kubelet/server/server.go): the query read as PodLogOptions
// (see logOptions); tailLines picks the last lines, then lines older than
// sinceTime or sinceSeconds are left out (k8s.io/cri-client v0.37.2
// pkg/logs/logs.go ReadLogs and logWriter.write; the since bound from
// pkg/kubelet/kuberuntime/kuberuntime_logs.go); timestamps puts the time
// before each line; follow keeps the response open and writes lines as
// they are appended. stdout and stderr come as one stream, as they do when
// the PodLogsQuerySplitStreams gate is off (its default in v1.37).
func (k *Kubelet) serveLogs(w http.ResponseWriter, r *http.Request) {
	req := KubeletRequest{Namespace: r.PathValue("namespace"), Pod: r.PathValue("pod"), Container: r.PathValue("container"),
		Query: cloneValues(r.URL.Query())}
	if len(r.TLS.VerifiedChains) > 0 {
		req.Client = r.TLS.VerifiedChains[0][0].Subject.CommonName
	}
	key := req.Namespace + "/" + req.Pod + "/" + req.Container
	k.mu.Lock()
	k.requests = append(k.requests, req)
	lines, ok := k.logs[key]
	lines = lines[:len(lines):len(lines)]
	k.mu.Unlock()
	if !ok {
		http.Error(w, fmt.Sprintf("container %q of pod %q has no log here", req.Container, req.Pod), http.StatusNotFound)
		return
	}
	opts, err := logOptions(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var since time.Time
	if opts.sinceSeconds > 0 {
		since = time.Now().Add(-time.Duration(opts.sinceSeconds) * time.Second)
	}
	if opts.sinceTime.After(since) {
		since = opts.sinceTime
	}
	seen := len(lines) // a follow goes on after the lines there are now
	if opts.tailLines >= 0 && opts.tailLines < len(lines) {
		lines = lines[len(lines)-opts.tailLines:]
	}
	w.Header().Set("Content-Type", "text/plain")
	rc := http.NewResponseController(w)
	write := func(ls []KubeletLine) error {
		for _, l := range ls {
			if l.Time.Before(since) {
				continue
			}
			text := l.Text + "\n"
			if opts.timestamps {
				text = l.Time.UTC().Format(kubeletTimeFormat) + " " + text
			}
			if _, err := w.Write([]byte(text)); err != nil {
				return err
			}
		}
		return rc.Flush()
	}
	if err := write(lines); err != nil || !opts.follow {
		return
	}
	for {
		k.mu.Lock()
		all, changed := k.logs[key], k.changed
		k.mu.Unlock()
		if len(all) > seen {
			if err := write(all[seen:]); err != nil {
				return
			}
			seen = len(all)
			continue
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		case <-k.closed:
			return
		}
	}
}

// kubeletLogOptions are the query parameters of a container log request
// the stand-in honours.
type kubeletLogOptions struct {
	follow, timestamps bool
	tailLines          int // -1: all
	sinceSeconds       int64
	sinceTime          time.Time
}

// logOptions reads the query as the API server writes it (kubernetes
// v1.37.2 pkg/registry/core/pod/strategy.go LogLocation: "true" for
// booleans, decimal integers, sinceTime in RFC 3339). client-go's scheme
// has no conversion from a query to PodLogOptions, so the few parameters
// are read here.
func logOptions(q url.Values) (kubeletLogOptions, error) {
	o := kubeletLogOptions{follow: q.Get("follow") == "true", timestamps: q.Get("timestamps") == "true", tailLines: -1}
	var err error
	if v := q.Get("tailLines"); v != "" {
		if o.tailLines, err = strconv.Atoi(v); err != nil || o.tailLines < 0 {
			return o, fmt.Errorf("tailLines %q: not a count of lines", v)
		}
	}
	if v := q.Get("sinceSeconds"); v != "" {
		if o.sinceSeconds, err = strconv.ParseInt(v, 10, 64); err != nil || o.sinceSeconds < 1 {
			return o, fmt.Errorf("sinceSeconds %q: not a positive count of seconds", v)
		}
	}
	if v := q.Get("sinceTime"); v != "" {
		if o.sinceTime, err = time.Parse(time.RFC3339, v); err != nil {
			return o, fmt.Errorf("sinceTime %q: %w", v, err)
		}
	}
	return o, nil
}

// labCA is a certificate authority the lab makes for one run.
type labCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newLabCA(name string) (*labCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &labCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// issue signs a certificate for name with one extended key usage, valid
// for ips; it returns the certificate and its key, PEM.
func (ca *labCA) issue(name string, usage x509.ExtKeyUsage, ips []net.IP) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour), IPAddresses: ips,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}
