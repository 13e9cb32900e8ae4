package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

// KubernetesAuthMount is where Vault's Kubernetes auth method is enabled;
// the pods' agent configuration (kube.AgentConfig) logs in at
// auth/kubernetes.
const KubernetesAuthMount = "kubernetes"

// KubernetesAudience is the audience of the projected ServiceAccount token
// a pod logs in with. A token made for the API server (its default
// audience) is refused, so a token leaked from elsewhere in the pod cannot
// be replayed against Vault, nor a Vault token against the API server.
const KubernetesAudience = "vault"

// DefaultKubernetesTokenTTL is how long a pod's Vault token lives: the
// agent reads the files once at pod start and exits, so minutes suffice.
const DefaultKubernetesTokenTTL = 5 * time.Minute

// reviewerRecordPath (under banking/) keeps what the installer knows about
// the reviewer token it gave Vault: Vault never returns the token, so
// without this record a rerun could not tell an unchanged configuration
// from one that needs a fresh token.
const reviewerRecordPath = "installer/kubernetes-auth"

// reviewerRenewBefore is how long before its expiry the reviewer token is
// replaced on a rerun.
const reviewerRenewBefore = 30 * 24 * time.Hour

// KubernetesService is one service whose pods log in to Vault.
type KubernetesService struct {
	Namespace string
	// Service names the Deployment/StatefulSet and its ServiceAccount.
	Service string
}

// ReviewerToken is a token of the ServiceAccount Vault uses to call the
// TokenReview API, and when the API server lets it expire.
type ReviewerToken struct {
	JWT     string
	Expires time.Time
}

// KubernetesAuth is Vault's Kubernetes auth configuration for one cluster.
type KubernetesAuth struct {
	// Host is the API server's https URL as Vault reaches it.
	Host string
	// CACertPEM is the CA the API server's certificate chains to.
	CACertPEM []byte
	// Reviewer returns a fresh token for the vault-token-reviewer
	// ServiceAccount (RequestServiceAccountToken). It is called only when
	// Vault has none from this installer, the cluster changed, or the one
	// it has expires within 30 days; each call mints a new token.
	Reviewer func(ctx context.Context) (ReviewerToken, error)
	// Services get one policy and one role each.
	Services []KubernetesService
	// TokenTTL is the lifetime of a pod's Vault token; 0 means
	// DefaultKubernetesTokenTTL.
	TokenTTL time.Duration
}

// KubernetesPolicyName is the policy of one service's role.
func KubernetesPolicyName(namespace, service string) string {
	return "kubernetes-" + namespace + "-" + service
}

// KubernetesPolicy reads exactly the service's delivery secret: not its
// metadata, not other versions' deletion, not another service's files.
func KubernetesPolicy(namespace, service string) string {
	return "# Managed by fineract-installer: the files of " + service + " in namespace " + namespace + ".\n" +
		"path \"" + kvDataPathOf(kube.DeliveryPath(namespace, service)) + "\" {\n" +
		"  capabilities = [\"read\"]\n" +
		"}\n"
}

// kvDataPathOf turns banking/<rest> into KV v2's read path banking/data/<rest>.
func kvDataPathOf(p string) string {
	return KVMount + "/data/" + kvPath(p)
}

func (s KubernetesService) validate() error {
	// DNS-1123 labels, as Kubernetes requires of both names; it also keeps
	// them safe inside a policy's quoted path.
	for _, n := range []string{s.Namespace, s.Service} {
		if !dnsLabelRE.MatchString(n) {
			return fmt.Errorf("%q is not a valid Kubernetes namespace or ServiceAccount name", n)
		}
	}
	return nil
}

// ConfigureKubernetesAuth makes Vault accept the pods' ServiceAccount
// tokens, idempotently: the Kubernetes auth method at auth/kubernetes, its
// connection to the API server, and per service a policy and a role bound
// to the ServiceAccount named like the service in its namespace, for
// tokens with audience "vault". token must be a root (or equally
// privileged) token. A rerun with the same configuration changes nothing.
func (c *Conn) ConfigureKubernetesAuth(ctx context.Context, token string, p KubernetesAuth, emit event.Emitter) error {
	emit = event.Or(emit)
	if !strings.HasPrefix(p.Host, "https://") {
		return fmt.Errorf("kubernetes API address %q must start with https://", p.Host)
	}
	if len(p.CACertPEM) == 0 || p.Reviewer == nil {
		return errors.New("kubernetes auth needs the API server's CA certificate and a way to get a reviewer token")
	}
	for _, s := range p.Services {
		if err := s.validate(); err != nil {
			return err
		}
	}
	ttl := p.TokenTTL
	if ttl == 0 {
		ttl = DefaultKubernetesTokenTTL
	}
	cl, err := c.withToken(token)
	if err != nil {
		return err
	}
	if err := enableKubernetesAuth(ctx, cl, emit); err != nil {
		return err
	}
	if err := writeKubernetesConfig(ctx, cl, p, emit); err != nil {
		return err
	}
	for _, s := range p.Services {
		if err := putPolicy(ctx, cl, KubernetesPolicyName(s.Namespace, s.Service), KubernetesPolicy(s.Namespace, s.Service), emit); err != nil {
			return err
		}
		if err := putKubernetesRole(ctx, cl, s, ttl, emit); err != nil {
			return err
		}
	}
	return nil
}

func enableKubernetesAuth(ctx context.Context, cl *api.Client, emit event.Emitter) error {
	auths, err := cl.Sys().ListAuthWithContext(ctx)
	if err != nil {
		return fmt.Errorf("listing Vault auth methods: %w", err)
	}
	if m, ok := auths[KubernetesAuthMount+"/"]; ok {
		if m.Type != "kubernetes" {
			return fmt.Errorf("auth/%s/ is already enabled as %q, not the Kubernetes auth method: it was changed by hand; disable it and rerun",
				KubernetesAuthMount, m.Type)
		}
		return nil
	}
	err = cl.Sys().EnableAuthWithOptionsWithContext(ctx, KubernetesAuthMount, &api.EnableAuthOptions{
		Type:        "kubernetes",
		Description: "fineract-installer: pods log in with their ServiceAccount",
	})
	if err != nil {
		return fmt.Errorf("enabling the Kubernetes auth method at auth/%s: %w", KubernetesAuthMount, err)
	}
	emit.Info(eventSubject, "enabled the Kubernetes auth method at auth/"+KubernetesAuthMount)
	return nil
}

// writeKubernetesConfig writes auth/kubernetes/config when it differs from
// p or the reviewer token needs replacing.
func writeKubernetesConfig(ctx context.Context, cl *api.Client, p KubernetesAuth, emit event.Emitter) error {
	configPath := "auth/" + KubernetesAuthMount + "/config"
	cur, err := cl.Logical().ReadWithContext(ctx, configPath)
	if err != nil {
		return fmt.Errorf("reading %s: %w", configPath, err)
	}
	kv := cl.KVv2(KVMount)
	cluster := clusterFingerprint(p.Host, p.CACertPEM)
	if kubernetesConfigCurrent(cur, p) {
		rec, err := kv.Get(ctx, reviewerRecordPath)
		if err != nil && !errors.Is(err, api.ErrSecretNotFound) {
			return fmt.Errorf("reading %s/%s: %w", KVMount, reviewerRecordPath, err)
		}
		if rec != nil && rec.Data["cluster"] == cluster {
			exp, _ := time.Parse(time.RFC3339, fmt.Sprint(rec.Data["expires"]))
			if time.Until(exp) > reviewerRenewBefore {
				return nil
			}
		}
	}
	rt, err := p.Reviewer(ctx)
	if err != nil {
		return fmt.Errorf("getting a token for Vault's TokenReview calls: %w", err)
	}
	if rt.JWT == "" {
		return errors.New("getting a token for Vault's TokenReview calls: the API server returned an empty token")
	}
	_, err = cl.Logical().WriteWithContext(ctx, configPath, map[string]interface{}{
		"kubernetes_host":    p.Host,
		"kubernetes_ca_cert": string(p.CACertPEM),
		"token_reviewer_jwt": rt.JWT,
		// Vault runs outside the cluster's pods, or in one whose own
		// token must not stand in for the reviewer's.
		"disable_local_ca_jwt": true,
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", configPath, err)
	}
	_, err = kv.Put(ctx, reviewerRecordPath, map[string]interface{}{
		"cluster": cluster,
		"expires": rt.Expires.UTC().Format(time.RFC3339),
	})
	if err != nil {
		return fmt.Errorf("recording the reviewer token's expiry in %s/%s: %w", KVMount, reviewerRecordPath, err)
	}
	emit.Info(eventSubject, fmt.Sprintf("configured the Kubernetes auth method for %s (reviewer token valid until %s)",
		p.Host, rt.Expires.UTC().Format(time.RFC3339)))
	return nil
}

func kubernetesConfigCurrent(cur *api.Secret, p KubernetesAuth) bool {
	if cur == nil {
		return false
	}
	d := cur.Data
	return d["kubernetes_host"] == p.Host &&
		strings.TrimSpace(fmt.Sprint(d["kubernetes_ca_cert"])) == strings.TrimSpace(string(p.CACertPEM)) &&
		d["token_reviewer_jwt_set"] == true &&
		d["disable_local_ca_jwt"] == true
}

// clusterFingerprint ties the reviewer record to one API server and CA.
func clusterFingerprint(host string, ca []byte) string {
	h := sha256.New()
	h.Write([]byte(host))
	h.Write([]byte{0})
	h.Write(ca)
	return hex.EncodeToString(h.Sum(nil))
}

func putPolicy(ctx context.Context, cl *api.Client, name, body string, emit event.Emitter) error {
	cur, err := cl.Sys().GetPolicyWithContext(ctx, name)
	if err != nil {
		return fmt.Errorf("reading policy %s: %w", name, err)
	}
	if strings.TrimSpace(cur) == strings.TrimSpace(body) {
		return nil
	}
	if err := cl.Sys().PutPolicyWithContext(ctx, name, body); err != nil {
		return fmt.Errorf("writing policy %s: %w", name, err)
	}
	emit.Info(eventSubject, "wrote policy "+name)
	return nil
}

// kubernetesRole is the role's settings, as written and as compared with
// what Vault returns.
func kubernetesRole(s KubernetesService, ttl time.Duration) map[string]interface{} {
	return map[string]interface{}{
		"bound_service_account_names":      []string{s.Service},
		"bound_service_account_namespaces": []string{s.Namespace},
		"audience":                         KubernetesAudience,
		"token_policies":                   []string{KubernetesPolicyName(s.Namespace, s.Service)},
		// Only the one policy: Vault's default policy would add cubbyhole
		// and sys/ paths a file reader has no use for.
		"token_no_default_policy": true,
		"token_ttl":               int64(ttl / time.Second),
		"token_max_ttl":           int64(ttl / time.Second),
		"token_type":              "service",
	}
}

func putKubernetesRole(ctx context.Context, cl *api.Client, s KubernetesService, ttl time.Duration, emit event.Emitter) error {
	name := kube.VaultRole(s.Namespace, s.Service)
	rolePath := "auth/" + KubernetesAuthMount + "/role/" + name
	want := kubernetesRole(s, ttl)
	cur, err := cl.Logical().ReadWithContext(ctx, rolePath)
	if err != nil {
		return fmt.Errorf("reading Kubernetes auth role %s: %w", name, err)
	}
	if cur != nil && roleMatches(cur.Data, want) {
		return nil
	}
	if _, err := cl.Logical().WriteWithContext(ctx, rolePath, want); err != nil {
		return fmt.Errorf("writing Kubernetes auth role %s: %w", name, err)
	}
	emit.Info(eventSubject, fmt.Sprintf("wrote Kubernetes auth role %s for ServiceAccount %s/%s", name, s.Namespace, s.Service))
	return nil
}

// roleMatches compares the role Vault returns (JSON: numbers as
// json.Number, lists as []interface{}) with the settings written.
func roleMatches(got, want map[string]interface{}) bool {
	for k, w := range want {
		if normalise(got[k]) != normalise(w) {
			return false
		}
	}
	return true
}

func normalise(v interface{}) string {
	switch x := v.(type) {
	case []string:
		s := append([]string(nil), x...)
		sort.Strings(s)
		return strings.Join(s, "\x00")
	case []interface{}:
		s := make([]string, len(x))
		for i, e := range x {
			s[i] = fmt.Sprint(e)
		}
		sort.Strings(s)
		return strings.Join(s, "\x00")
	case nil:
		return "<nil>"
	default:
		return fmt.Sprint(x)
	}
}

// KubernetesDelivery is what one service's pods' agent writes: the Docker
// target's secret files, and files Vault holds as they are given.
type KubernetesDelivery struct {
	Delivery
	// Static maps a file name to the value Vault holds for it: the
	// certificates, keys and trust stores of the installation's PKI
	// (binary ones base64-encoded, which the agent decodes).
	Static map[string]string
}

// DeliverKubernetes writes each service's files into its delivery secret
// kube.DeliveryPath(namespace, service) (KV v2), one key per file name and
// the value the file's exact content, formatted exactly as Deliver formats
// the Docker target's files. A service whose secret already holds exactly
// those files is not written again (no new version). token needs the
// installer policy.
func (c *Conn) DeliverKubernetes(ctx context.Context, token, namespace string, deliveries []KubernetesDelivery, emit event.Emitter) error {
	emit = event.Or(emit)
	if !dnsLabelRE.MatchString(namespace) {
		return fmt.Errorf("%q is not a valid Kubernetes namespace name", namespace)
	}
	for _, d := range deliveries {
		if err := d.validate(); err != nil {
			return err
		}
		if !dnsLabelRE.MatchString(d.Service) {
			return fmt.Errorf("service %q is not a valid Kubernetes ServiceAccount name", d.Service)
		}
	}
	cl, err := c.withToken(token)
	if err != nil {
		return err
	}
	kv := cl.KVv2(KVMount)
	cache := map[string]map[string]interface{}{}
	for _, d := range deliveries {
		want, err := d.contents(ctx, kv, cache)
		if err != nil {
			return err
		}
		data := make(map[string]interface{}, len(want.files)+len(d.Static))
		for name, body := range want.files {
			data[name] = string(body)
		}
		for name, value := range d.Static {
			if _, ok := data[name]; ok {
				return fmt.Errorf("service %s: the secret file and the certificate file %s would share one name", d.Service, name)
			}
			data[name] = value
		}
		path := kvPath(kube.DeliveryPath(namespace, d.Service))
		cur, err := kv.Get(ctx, path)
		if err != nil && !errors.Is(err, api.ErrSecretNotFound) {
			return fmt.Errorf("reading %s: %w", kube.DeliveryPath(namespace, d.Service), err)
		}
		if cur != nil && reflect.DeepEqual(cur.Data, data) {
			continue
		}
		if _, err := kv.Put(ctx, path, data); err != nil {
			return fmt.Errorf("writing %s: %w", kube.DeliveryPath(namespace, d.Service), err)
		}
		emit.Info(eventSubject, fmt.Sprintf("stored %d secret file(s) for %s/%s's Vault agent", len(data), namespace, d.Service))
	}
	return nil
}
