package vault

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/event"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
)

// KubernetesInstall is everything an install on Kubernetes needs from Vault
// and the cluster.
type KubernetesInstall struct {
	// Token is a Vault token holding KubernetesInstallerPolicy (or root).
	Token   string
	Cluster *kubeapply.Cluster
	// Host and CACertPEM are the API server's address and CA as Vault
	// reaches it (written into auth/kubernetes/config).
	Host      string
	CACertPEM []byte
	Manifests kube.Manifests
	// Secrets are the services' secrets (install.Env.SecretSpecs): missing
	// ones are generated, existing ones kept.
	Secrets []SecretSpec
	// Deliveries are the Docker target's deliveries (install.Env.Deliveries),
	// whose files are formatted exactly as the pods must read them.
	Deliveries []Delivery
	// PKIDir is the installation's certificate directory (issued by the
	// certificates step): the certificates, keys and trust stores the
	// manifests deliver (kube.Delivery.PKI) are read from it.
	PKIDir string
}

// KubernetesInstallerPolicy is what the token given to an install on
// Kubernetes must be allowed to do; CheckKubernetesToken checks it before
// anything changes.
const KubernetesInstallerPolicy = `# fineract-installer: install --target kubernetes
path "sys/auth" { capabilities = ["read"] }
# only while auth/kubernetes is not enabled yet
path "sys/auth/kubernetes" { capabilities = ["create", "update", "sudo"] }
path "auth/kubernetes/config" { capabilities = ["read", "create", "update"] }
path "auth/kubernetes/role/*" { capabilities = ["read", "create", "update"] }
path "sys/policies/acl/kubernetes-*" { capabilities = ["read", "create", "update"] }
path "banking/data/*" { capabilities = ["read", "create", "update"] }
path "banking/metadata/*" { capabilities = ["read"] }
`

// identityKinds are applied before Vault is configured: the reviewer's
// token needs its ServiceAccount, and Vault's roles name the services'.
var identityKinds = []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}

// InstallKubernetes applies the manifests and gives Vault what the pods
// read, in the order that keeps a failure safe: every check that can fail
// (Vault unsealed and reachable with the given CA, the token's
// capabilities, the cluster reachable, every delivery's files known)
// runs before anything changes; then the namespaces, ServiceAccounts and
// RBAC objects are applied, Vault's Kubernetes auth is configured, the
// services' secrets are made to exist, each service's files are written to
// its delivery secret, and only then the workloads are applied. Waiting
// for them is the caller's (kubeapply.WaitStep).
func (c *Conn) InstallKubernetes(ctx context.Context, p KubernetesInstall, emit event.Emitter) (kubeapply.Applied, error) {
	emit = event.Or(emit)
	var out kubeapply.Applied
	if len(p.Manifests.Namespaces) == 0 {
		return out, errors.New("the manifests name no namespace")
	}
	mainNS := p.Manifests.Namespaces[0]
	deliveries, services, err := kubeDeliveries(p.Manifests.Deliveries, p.Deliveries, p.PKIDir)
	if err != nil {
		return out, err
	}
	if err := c.checkKubernetesInstall(ctx, p); err != nil {
		return out, err
	}

	var first, rest []*unstructured.Unstructured
	for _, o := range p.Manifests.Objects {
		if slices.Contains(identityKinds, o.GetKind()) {
			first = append(first, o)
		} else {
			rest = append(rest, o)
		}
	}
	a, err := p.Cluster.Apply(ctx, first, emit)
	out = merge(out, a)
	if err != nil {
		return out, err
	}
	cs := p.Cluster.Clientset()
	auth := KubernetesAuth{
		Host:      p.Host,
		CACertPEM: p.CACertPEM,
		Reviewer: func(ctx context.Context) (ReviewerToken, error) {
			return RequestServiceAccountToken(ctx, cs, mainNS, ReviewerServiceAccount, nil, DefaultReviewerTokenLifetime)
		},
		Services: services,
	}
	if err := c.ConfigureKubernetesAuth(ctx, p.Token, auth, emit); err != nil {
		return out, err
	}
	if _, err := c.EnsureSecrets(ctx, p.Token, p.Secrets, emit); err != nil {
		return out, err
	}
	for _, ns := range p.Manifests.Namespaces {
		if err := c.DeliverKubernetes(ctx, p.Token, ns, deliveries[ns], emit); err != nil {
			return out, err
		}
	}
	a, err = p.Cluster.Apply(ctx, rest, emit)
	return merge(out, a), err
}

func merge(a, b kubeapply.Applied) kubeapply.Applied {
	a.Created = append(a.Created, b.Created...)
	a.Changed = append(a.Changed, b.Changed...)
	a.Unchanged = append(a.Unchanged, b.Unchanged...)
	return a
}

// kubeDeliveries picks, per namespace, the Docker target's delivery of
// each service the manifests deliver to, with exactly the secret files
// the pods' agent writes, and reads the certificate files it writes from
// pkiDir. A file the installation does not make is an error: the agent
// would fail the pod's start on it.
func kubeDeliveries(want []kube.Delivery, docker []Delivery, pkiDir string) (map[string][]KubernetesDelivery, []KubernetesService, error) {
	byService := map[string]Delivery{}
	for _, d := range docker {
		byService[d.Service] = d
	}
	out := map[string][]KubernetesDelivery{}
	var services []KubernetesService
	for _, k := range want {
		src, ok := byService[k.Service]
		if !ok && len(k.Secrets) > 0 {
			return nil, nil, fmt.Errorf("service %s: the manifests deliver secret files %s, the installation knows none of its secrets",
				k.Service, strings.Join(k.Secrets, ", "))
		}
		d := KubernetesDelivery{Delivery: Delivery{Service: k.Service, UID: src.UID, GID: src.GID}}
		for _, name := range k.Secrets {
			n := len(d.Files)
			for _, f := range src.Files {
				if f.Name == name {
					d.Files = append(d.Files, f)
				}
			}
			if len(d.Files) == n {
				return nil, nil, fmt.Errorf("service %s: the manifests deliver secret file %s, which the installation does not make", k.Service, name)
			}
		}
		if len(k.PKI) > 0 {
			static, err := readPKIFiles(pkiDir, k.PKI, k.Base64)
			if err != nil {
				return nil, nil, fmt.Errorf("service %s: %w", k.Service, err)
			}
			d.Static = static
		}
		out[k.Namespace] = append(out[k.Namespace], d)
		services = append(services, KubernetesService{Namespace: k.Namespace, Service: k.Service})
	}
	return out, services, nil
}

// maxPKIFile bounds a file read from the certificate directory: its
// certificates, keys and trust store are a few KiB, so anything larger is
// not one of them and is not sent to Vault.
const maxPKIFile = 1 << 20

// readPKIFiles reads the named files of the certificate directory as Vault
// is to hold them: text as it is, the binary ones (binary) base64-encoded
// for the agent's base64Decode. Each is opened inside the directory without
// following a link, and must be a regular file.
func readPKIFiles(dir string, names, binary []string) (map[string]string, error) {
	if dir == "" {
		return nil, fmt.Errorf("certificate files %s are delivered but no certificate directory was given", strings.Join(names, ", "))
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, steps.Fail(fmt.Errorf("certificate directory: %w", err), "the install's certificates step issues them into it; run the install again")
	}
	defer root.Close()
	out := make(map[string]string, len(names))
	for _, name := range names {
		data, err := readPKIFile(root, name)
		if err != nil {
			return nil, steps.Fail(fmt.Errorf("certificate file %s: %w", filepath.Join(dir, name), err),
				"the install's certificates step issues it: run the install again, or `fineract-installer certs show` to see what is there")
		}
		switch {
		case slices.Contains(binary, name):
			out[name] = base64.StdEncoding.EncodeToString(data)
		case !utf8.Valid(data):
			return nil, fmt.Errorf("certificate file %s is not text (PEM)", filepath.Join(dir, name))
		default:
			out[name] = string(data)
		}
	}
	return out, nil
}

func readPKIFile(root *os.Root, name string) ([]byte, error) {
	if !fileNameRE.MatchString(name) {
		return nil, errors.New("not a plain file name")
	}
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPKIFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxPKIFile {
		return nil, fmt.Errorf("larger than %d bytes", maxPKIFile)
	}
	if len(data) == 0 {
		return nil, errors.New("empty")
	}
	return data, nil
}

// CheckKubernetesToken checks, changing nothing, that Vault is unsealed and
// answers over TLS with the configured CA, and that token may do every
// write InstallKubernetes makes (sys/capabilities-self).
func (c *Conn) CheckKubernetesToken(ctx context.Context, token string, deliveries []kube.Delivery, secrets []SecretSpec) error {
	st, err := c.Status(ctx)
	if err != nil {
		return steps.Fail(fmt.Errorf("vault at %s: %w", c.addr, err),
			"check the Vault address and CA in the answers' kubernetes.vault block, and that Vault is running")
	}
	if st.State != StateUnsealed {
		return steps.Fail(fmt.Errorf("vault at %s is %s", c.addr, st.State), "unseal Vault first; nothing was changed")
	}
	cl, err := c.withToken(token)
	if err != nil {
		return err
	}
	need := map[string][]string{
		"sys/auth":               {"read"},
		"auth/kubernetes/config": {"read", "create", "update"},
		kvDataPathOf(KVMount + "/" + reviewerRecordPath): {"read", "create", "update"},
	}
	auths, err := cl.Sys().ListAuthWithContext(ctx)
	if err != nil {
		return steps.Fail(fmt.Errorf("vault token: listing auth methods: %w", err),
			"give a valid token whose policy is the one `install --target kubernetes` documents; nothing was changed")
	}
	if _, ok := auths[KubernetesAuthMount+"/"]; !ok {
		need["sys/auth/"+KubernetesAuthMount] = []string{"create", "update", "sudo"}
	}
	for _, d := range deliveries {
		need["sys/policies/acl/"+KubernetesPolicyName(d.Namespace, d.Service)] = []string{"read", "create", "update"}
		need["auth/"+KubernetesAuthMount+"/role/"+kube.VaultRole(d.Namespace, d.Service)] = []string{"read", "create", "update"}
		need[kvDataPathOf(kube.DeliveryPath(d.Namespace, d.Service))] = []string{"read", "create", "update"}
	}
	for _, s := range secrets {
		need[kvDataPathOf(s.Path)] = []string{"read", "create", "update"}
	}
	var missing []string
	for _, path := range slices.Sorted(maps.Keys(need)) {
		got, err := cl.Sys().CapabilitiesSelfWithContext(ctx, path)
		if err != nil {
			return steps.Fail(fmt.Errorf("vault token: checking its capabilities on %s: %w", path, err),
				"give a valid, unexpired token; nothing was changed")
		}
		if slices.Contains(got, "root") {
			continue
		}
		for _, cap := range need[path] {
			if !slices.Contains(got, cap) {
				missing = append(missing, path+" ("+cap+")")
			}
		}
	}
	if len(missing) > 0 {
		return steps.Fail(fmt.Errorf("vault token may not: %s", strings.Join(missing, ", ")),
			"give a token with the policy `install --target kubernetes` documents; nothing was changed")
	}
	return nil
}

// checkKubernetesInstall checks, changing nothing, Vault, the token's
// capabilities and the cluster.
func (c *Conn) checkKubernetesInstall(ctx context.Context, p KubernetesInstall) error {
	if err := c.CheckKubernetesToken(ctx, p.Token, p.Manifests.Deliveries, p.Secrets); err != nil {
		return err
	}
	return p.Cluster.Ping(ctx)
}

// KubernetesCheckStep checks what InstallKubernetes checks of Vault, the
// token and the cluster, changing nothing. It runs first, so a wrong
// token or an unreachable Vault or cluster stops the install before its
// certificates are issued.
type KubernetesCheckStep struct {
	Conn   *Conn
	Params KubernetesInstall
}

func (s *KubernetesCheckStep) ID() string                              { return "kube-check" }
func (s *KubernetesCheckStep) Title() string                           { return "Check Vault, the token and the cluster" }
func (s *KubernetesCheckStep) Check(ctx context.Context) (bool, error) { return false, nil }
func (s *KubernetesCheckStep) Run(ctx context.Context, _ steps.Emitter) error {
	return s.Conn.checkKubernetesInstall(ctx, s.Params)
}

// KubernetesInstallStep runs InstallKubernetes. Its Check never says done:
// a rerun changes nothing that is in place, so running it is the check.
type KubernetesInstallStep struct {
	Conn   *Conn
	Params KubernetesInstall
	// Result is what the last run applied.
	Result kubeapply.Applied
}

func (s *KubernetesInstallStep) ID() string { return "kube-apply" }
func (s *KubernetesInstallStep) Title() string {
	return "Check Vault and the cluster, give Vault the services' files, apply the manifests"
}
func (s *KubernetesInstallStep) Check(ctx context.Context) (bool, error) { return false, nil }

func (s *KubernetesInstallStep) Run(ctx context.Context, emit steps.Emitter) error {
	res, err := s.Conn.InstallKubernetes(ctx, s.Params, emit)
	s.Result = res
	return err
}
