package kubeapply

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/fineract-installer/fineract-installer/steps"
)

// ErrUnreachable marks a cluster whose API server did not answer; the
// caller maps it to "the host is not ready", as it does an unreachable
// Docker engine.
var ErrUnreachable = errors.New("kubernetes API server unreachable")

// ErrKubeconfig marks a kubeconfig that cannot be used as given (missing
// file, unknown context, incomplete configuration): bad input.
var ErrKubeconfig = errors.New("kubeconfig not usable")

// Cluster is a connection to one cluster's API server.
type Cluster struct {
	// Server is the API server's address, for messages.
	Server string
	// Context is the kubeconfig context used ("" when the configuration
	// came without one).
	Context   string
	dynamic   dynamic.Interface
	clientset kubernetes.Interface
	discovery discovery.CachedDiscoveryInterface
	mapper    meta.ResettableRESTMapper
}

// Kubeconfig says which kubeconfig file and context to use, as kubectl
// does: File empty means $KUBECONFIG, else ~/.kube/config; Context empty
// means the file's current context.
type Kubeconfig struct {
	File    string
	Context string
}

// RESTConfig loads the client configuration k names.
func (k Kubeconfig) RESTConfig() (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	where := "$KUBECONFIG or " + clientcmd.RecommendedHomeFile
	if k.File != "" {
		if _, err := os.Stat(k.File); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, "", steps.Fail(fmt.Errorf("%w: kubeconfig %s does not exist", ErrKubeconfig, k.File),
					"pass the kubeconfig your cluster's administrator gave you with --kubeconfig FILE, or leave it out to use $KUBECONFIG or ~/.kube/config as kubectl does")
			}
			return nil, "", fmt.Errorf("%w: kubeconfig %s: %w", ErrKubeconfig, k.File, err)
		}
		rules.ExplicitPath = k.File
		where = k.File
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: k.Context})
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, "", steps.Fail(fmt.Errorf("%w: read %s: %w", ErrKubeconfig, where, err),
			"check the file with `kubectl config view --kubeconfig FILE`")
	}
	name := raw.CurrentContext
	if k.Context != "" {
		name = k.Context
	}
	if len(raw.Contexts) == 0 {
		return nil, "", steps.Fail(fmt.Errorf("%w: no kubeconfig found (looked at %s)", ErrKubeconfig, where),
			"pass --kubeconfig FILE, set KUBECONFIG, or check `kubectl config get-contexts`")
	}
	if _, ok := raw.Contexts[name]; !ok || name == "" {
		var known []string
		for n := range raw.Contexts {
			known = append(known, n)
		}
		sort.Strings(known)
		what := fmt.Sprintf("context %q is not in %s", name, where)
		if name == "" {
			what = fmt.Sprintf("%s sets no current context", where)
		}
		return nil, "", steps.Fail(fmt.Errorf("%w: %s", ErrKubeconfig, what),
			fmt.Sprintf("pass --context NAME with one of: %s (see `kubectl config get-contexts`)", strings.Join(known, ", ")))
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", steps.Fail(fmt.Errorf("%w: context %q of %s: %w", ErrKubeconfig, name, where, err),
			"check the context with `kubectl config view --minify --context "+name+"`")
	}
	return cfg, name, nil
}

// Connect loads k and checks that the API server answers and accepts the
// credentials.
func Connect(ctx context.Context, k Kubeconfig) (*Cluster, error) {
	cfg, name, err := k.RESTConfig()
	if err != nil {
		return nil, err
	}
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	c.Context = name
	if err := c.Ping(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// New connects to the API server cfg names, without checking it answers.
func New(cfg *rest.Config) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	// Applying a stack is a few dozen requests; client-go's default of 5
	// per second would make it wait on itself.
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client for %s: %w", cfg.Host, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client for %s: %w", cfg.Host, err)
	}
	disc := memory.NewMemCacheClient(cs.Discovery())
	return &Cluster{Server: cfg.Host, dynamic: dyn, clientset: cs, discovery: disc,
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(disc)}, nil
}

// Ping asks the API server for its version: an answer proves it is
// reachable and the credentials are accepted.
func (c *Cluster) Ping(ctx context.Context) error {
	_, err := c.clientset.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
	if err == nil {
		return nil
	}
	return c.explain(err)
}

// explain turns a request's error into one with a hint: who refused, and
// what to check.
func (c *Cluster) explain(err error) error {
	ctxName := c.Context
	if ctxName == "" {
		ctxName = "NAME"
	}
	var netErr net.Error
	var opErr *net.OpError
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	var badCert x509.CertificateInvalidError
	switch {
	case apierrors.IsUnauthorized(err):
		return steps.Fail(fmt.Errorf("the API server at %s refused the credentials: %w", c.Server, err),
			"the kubeconfig's token or certificate is not accepted: get a fresh kubeconfig from the cluster's administrator, and check `kubectl --context "+ctxName+" auth whoami`")
	case apierrors.IsForbidden(err):
		return steps.Fail(fmt.Errorf("the API server at %s forbids this: %w", c.Server, err),
			"the kubeconfig's user lacks the permission: check `kubectl --context "+ctxName+" auth can-i --list`")
	case errors.As(err, &unknownCA), errors.As(err, &badHost), errors.As(err, &badCert):
		return steps.Fail(fmt.Errorf("the API server at %s has a certificate this host does not trust: %w", c.Server, err),
			"the kubeconfig's certificate-authority-data must be the CA of the cluster's API server: check `kubectl --context "+ctxName+" cluster-info`, or get a fresh kubeconfig")
	case errors.As(err, &opErr), errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded) && !apierrors.IsTimeout(err):
		return steps.Fail(fmt.Errorf("%w: %s: %w", ErrUnreachable, c.Server, err),
			"check that the cluster runs and that this host reaches it: `kubectl --context "+ctxName+" cluster-info`")
	}
	return err
}

// Clientset is the typed client of the cluster, for the calls server-side
// apply does not cover (the TokenRequest API).
func (c *Cluster) Clientset() kubernetes.Interface { return c.clientset }
