package vault

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// hostVault connects to the lab Vault run on the host (labtest.HostVault),
// once it answers.
func hostVault(t *testing.T) *Conn {
	t.Helper()
	addr, caPEM := labtest.HostVault(t)
	c, err := Connect(Config{Address: addr, CACertPEM: caPEM})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(testCtx(t), 30*time.Second)
	defer cancel()
	if _, err := c.WaitResponding(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// kubeStack creates, in the lab API server, what the rendered manifests
// hold for Vault: the namespace, one ServiceAccount per service, and the
// reviewer ServiceAccount bound to system:auth-delegator.
func kubeStack(t *testing.T, cs kubernetes.Interface, ns string, services ...string) {
	t.Helper()
	ctx := testCtx(t)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, sa := range append([]string{ReviewerServiceAccount}, services...) {
		obj := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns}}
		if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + ReviewerServiceAccount},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:auth-delegator"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: ReviewerServiceAccount, Namespace: ns}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// kubeLogin logs in at auth/kubernetes as role with jwt and returns a
// client holding the Vault token it got.
func kubeLogin(ctx context.Context, c *Conn, role, jwt string) (*api.Client, error) {
	cl, err := c.client.Clone()
	if err != nil {
		return nil, err
	}
	sec, err := cl.Logical().WriteWithContext(ctx, "auth/"+KubernetesAuthMount+"/login", map[string]interface{}{"role": role, "jwt": jwt})
	if err != nil {
		return nil, err
	}
	if sec == nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		return nil, errors.New("login returned no token")
	}
	cl.SetToken(sec.Auth.ClientToken)
	return cl, nil
}

func isStatus(err error, code int) bool {
	var re *api.ResponseError
	return errors.As(err, &re) && re.StatusCode == code
}

// TestKubernetesAuthAgainstLabCluster: a real Vault (the lab build with the
// real Kubernetes auth plugin) checks real ServiceAccount tokens through a
// real kube-apiserver's TokenReview API.
func TestKubernetesAuthAgainstLabCluster(t *testing.T) {
	cp := labtest.SharedControlPlane(t)
	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	const ns = "bank-vaultauth"
	kubeStack(t, cs, ns, "alpha", "beta")

	c := hostVault(t)
	ctx := testCtx(t)
	store := FileRecordStore{Path: filepath.Join(t.TempDir(), "vault-record.json")}
	res := initProduction(t, c, store)
	unsealAll(t, c, res.Keys[:3])
	if err := c.Configure(ctx, res.RootToken, nil, nil); err != nil {
		t.Fatal(err)
	}
	installer, err := c.CreateInstallerToken(ctx, res.RootToken, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnsureSecrets(ctx, installer, testSpecs, nil); err != nil {
		t.Fatal(err)
	}

	var reviewerCalls atomic.Int32
	auth := KubernetesAuth{
		Host:      cp.URL,
		CACertPEM: cp.CAPEM,
		Reviewer: func(ctx context.Context) (ReviewerToken, error) {
			reviewerCalls.Add(1)
			return RequestServiceAccountToken(ctx, cs, ns, ReviewerServiceAccount, nil, DefaultReviewerTokenLifetime)
		},
		Services: []KubernetesService{{Namespace: ns, Service: "alpha"}, {Namespace: ns, Service: "beta"}},
	}
	uid, gid := serviceIDs()
	setting := func(key string) func(string) ([]byte, error) {
		return func(v string) ([]byte, error) { return []byte(key + "=" + v + "\n"), nil }
	}
	deliveries := []Delivery{
		{Service: "alpha", UID: uid, GID: gid, Files: []SecretFile{
			{Name: "db_password", Path: "banking/databases/fineract", Key: "password"},
			{Name: "app.conf", Path: "banking/databases/fineract", Key: "username", Format: setting("user")},
			{Name: "app.conf", Path: "banking/databases/fineract", Key: "password", Format: setting("password")},
		}},
		{Service: "beta", UID: uid, GID: gid, Files: []SecretFile{
			{Name: "admin_password", Path: "banking/services/keycloak", Key: "admin-password"},
		}},
	}
	kubeDeliveries := make([]KubernetesDelivery, len(deliveries))
	for i, d := range deliveries {
		kubeDeliveries[i] = KubernetesDelivery{Delivery: d}
	}
	rec := &recorder{}
	if err := c.ConfigureKubernetesAuth(ctx, res.RootToken, auth, rec.emitter()); err != nil {
		t.Fatal(err)
	}
	// auth method, config, and a policy and a role per service
	if n := len(rec.take()); n != 6 {
		t.Errorf("first ConfigureKubernetesAuth emitted %d events, want 6", n)
	}
	if err := c.DeliverKubernetes(ctx, installer, ns, kubeDeliveries, rec.emitter()); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.take()); n != 2 {
		t.Errorf("first DeliverKubernetes emitted %d events, want 2", n)
	}

	token := func(sa string, audiences []string) string {
		t.Helper()
		rt, err := RequestServiceAccountToken(ctx, cs, ns, sa, audiences, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return rt.JWT
	}
	alphaJWT := token("alpha", []string{KubernetesAudience})
	alphaRole, betaRole := kube.VaultRole(ns, "alpha"), kube.VaultRole(ns, "beta")

	t.Run("the service's own token reads exactly its files", func(t *testing.T) {
		cl, err := kubeLogin(ctx, c, alphaRole, alphaJWT)
		if err != nil {
			t.Fatalf("alpha's ServiceAccount token could not log in as %s: %v", alphaRole, err)
		}
		// The same bytes the Docker target's delivery writes as files.
		root := t.TempDir()
		if err := c.Deliver(ctx, installer, root, deliveries, nil); err != nil {
			t.Fatal(err)
		}
		s, err := cl.Logical().ReadWithContext(ctx, kvDataPathOf(kube.DeliveryPath(ns, "alpha")))
		if err != nil || s == nil {
			t.Fatalf("alpha cannot read its delivery secret: %v", err)
		}
		data, _ := s.Data["data"].(map[string]interface{})
		if len(data) != 2 {
			t.Errorf("alpha's delivery secret holds %d keys, want 2 (db_password, app.conf): %v", len(data), keys(data))
		}
		for _, name := range []string{"db_password", "app.conf"} {
			want, err := os.ReadFile(filepath.Join(root, "alpha", name))
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := data[name].(string); got != string(want) || got == "" {
				t.Errorf("%s in Vault differs from the Docker target's file (%d vs %d bytes)", name, len(got), len(want))
			}
		}
		self, err := cl.Auth().Token().LookupSelfWithContext(ctx)
		if err == nil {
			t.Errorf("the pod's token may look itself up (%v): it should carry only its own policy", self.Data["policies"])
		}
		denied := map[string]func() error{
			"beta's files": func() error {
				_, err := cl.Logical().ReadWithContext(ctx, kvDataPathOf(kube.DeliveryPath(ns, "beta")))
				return err
			},
			"a service secret": func() error {
				_, err := cl.Logical().ReadWithContext(ctx, "banking/data/databases/fineract")
				return err
			},
			"its own metadata": func() error {
				_, err := cl.Logical().ReadWithContext(ctx, "banking/metadata/kubernetes/"+ns+"/alpha")
				return err
			},
			"writing its own files": func() error {
				_, err := cl.Logical().WriteWithContext(ctx, kvDataPathOf(kube.DeliveryPath(ns, "alpha")), map[string]interface{}{"data": map[string]interface{}{"x": "y"}})
				return err
			},
			"listing deliveries": func() error {
				_, err := cl.Logical().ListWithContext(ctx, "banking/metadata/kubernetes/"+ns)
				return err
			},
			"cubbyhole": func() error {
				_, err := cl.Logical().WriteWithContext(ctx, "cubbyhole/x", map[string]interface{}{"a": "b"})
				return err
			},
			"sys/mounts": func() error { _, err := cl.Sys().ListMountsWithContext(ctx); return err },
		}
		for name, op := range denied {
			if err := op(); !isForbidden(err) {
				t.Errorf("%s with alpha's Vault token: err %v, want 403 permission denied", name, err)
			}
		}
	})

	t.Run("another service's token cannot take the role", func(t *testing.T) {
		_, err := kubeLogin(ctx, c, alphaRole, token("beta", []string{KubernetesAudience}))
		if !isForbidden(err) {
			t.Fatalf("beta's ServiceAccount token logging in as %s: err %v, want 403", alphaRole, err)
		}
		if _, err := kubeLogin(ctx, c, betaRole, alphaJWT); !isForbidden(err) {
			t.Fatalf("alpha's ServiceAccount token logging in as %s: err %v, want 403", betaRole, err)
		}
	})

	t.Run("a token for another audience is refused", func(t *testing.T) {
		for _, aud := range [][]string{nil, {"not-vault"}} {
			if _, err := kubeLogin(ctx, c, alphaRole, token("alpha", aud)); err == nil || isStatus(err, http.StatusOK) {
				t.Errorf("a token of alpha with audiences %v logged in", aud)
			}
		}
	})

	t.Run("a token of a deleted ServiceAccount is refused", func(t *testing.T) {
		gone := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "gamma", Namespace: ns}}
		if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, gone, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		jwt := token("gamma", []string{KubernetesAudience})
		g := auth
		g.Services = append(append([]KubernetesService(nil), auth.Services...), KubernetesService{Namespace: ns, Service: "gamma"})
		if err := c.ConfigureKubernetesAuth(ctx, res.RootToken, g, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := kubeLogin(ctx, c, kube.VaultRole(ns, "gamma"), jwt); err != nil {
			t.Fatalf("gamma could not log in before its deletion: %v", err)
		}
		if err := cs.CoreV1().ServiceAccounts(ns).Delete(ctx, "gamma", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		// The API server's TokenReview, not a signature check, decides. The
		// API server caches a successful token check for 10 seconds
		// (k8s.io/kubernetes v1.37.2 pkg/kubeapiserver/options/
		// authentication.go, TokenSuccessCacheTTL), so the refusal may take
		// that long.
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := kubeLogin(ctx, c, kube.VaultRole(ns, "gamma"), jwt)
			if err != nil {
				if !isForbidden(err) {
					t.Errorf("login of a deleted ServiceAccount: err %v, want 403", err)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a token of a deleted ServiceAccount still logs in after 30 s")
			}
			time.Sleep(time.Second)
		}
	})

	t.Run("rerun changes nothing", func(t *testing.T) {
		calls := reviewerCalls.Load()
		versions := map[string]int{}
		for _, s := range []string{"alpha", "beta"} {
			versions[s] = secretVersion(t, c, installer, kvPath(kube.DeliveryPath(ns, s)))
		}
		rec.take()
		if err := c.ConfigureKubernetesAuth(ctx, res.RootToken, auth, rec.emitter()); err != nil {
			t.Fatal(err)
		}
		if err := c.DeliverKubernetes(ctx, installer, ns, kubeDeliveries, rec.emitter()); err != nil {
			t.Fatal(err)
		}
		for _, e := range rec.take() {
			t.Errorf("rerun changed something: %q", e.Message)
		}
		if got := reviewerCalls.Load(); got != calls {
			t.Errorf("rerun asked for a new reviewer token (%d calls, had %d)", got, calls)
		}
		for s, v := range versions {
			if got := secretVersion(t, c, installer, kvPath(kube.DeliveryPath(ns, s))); got != v {
				t.Errorf("%s's delivery secret went from version %d to %d on a rerun", s, v, got)
			}
		}
		if _, err := kubeLogin(ctx, c, alphaRole, alphaJWT); err != nil {
			t.Errorf("login after the rerun: %v", err)
		}
	})

	t.Run("a changed secret is delivered anew", func(t *testing.T) {
		cl, _ := c.withToken(res.RootToken)
		if _, err := cl.KVv2(KVMount).Patch(ctx, "services/keycloak", map[string]interface{}{"admin-password": strings.Repeat("b", 40)}); err != nil {
			t.Fatal(err)
		}
		before := secretVersion(t, c, installer, kvPath(kube.DeliveryPath(ns, "beta")))
		if err := c.DeliverKubernetes(ctx, installer, ns, kubeDeliveries, nil); err != nil {
			t.Fatal(err)
		}
		if got := readSecret(t, c, installer, kvPath(kube.DeliveryPath(ns, "beta")))["admin_password"]; got != strings.Repeat("b", 40) {
			t.Errorf("beta's delivery holds %q after the secret changed", got)
		}
		if after := secretVersion(t, c, installer, kvPath(kube.DeliveryPath(ns, "beta"))); after != before+1 {
			t.Errorf("beta's delivery version %d -> %d, want one new version", before, after)
		}
	})
}

func keys(m map[string]interface{}) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
