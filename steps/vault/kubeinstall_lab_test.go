package vault

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
)

func toUnstructured(t *testing.T, gvk string, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	switch gvk {
	case "rbac":
		u.SetAPIVersion("rbac.authorization.k8s.io/v1")
	default:
		u.SetAPIVersion("v1")
	}
	return u
}

// kubeInstallManifests is a small stack as kube.Render shapes it: the
// namespace, the services' and the reviewer's ServiceAccounts, the
// reviewer's binding, and one object applied only after Vault is ready.
func kubeInstallManifests(t *testing.T, ns string) kube.Manifests {
	objs := []*unstructured.Unstructured{}
	add := func(kind, group string, o runtime.Object) {
		u := toUnstructured(t, group, o)
		u.SetKind(kind)
		objs = append(objs, u)
	}
	add("Namespace", "", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	for _, sa := range []string{ReviewerServiceAccount, "alpha", "beta"} {
		add("ServiceAccount", "", &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns}})
	}
	add("ClusterRoleBinding", "rbac", &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + ReviewerServiceAccount},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:auth-delegator"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: ReviewerServiceAccount, Namespace: ns}},
	})
	add("ConfigMap", "", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns}, Data: map[string]string{"a": "b"}})
	return kube.Manifests{
		Namespaces: []string{ns},
		Objects:    objs,
		Deliveries: []kube.Delivery{
			{Namespace: ns, Service: "alpha", Secrets: []string{"db_password", "app.conf"},
				PKI: []string{"alpha.crt", "alpha.key", "ca.crt", "truststore.p12"}, Base64: []string{"truststore.p12"}},
			{Namespace: ns, Service: "beta", Secrets: []string{"admin_password"}},
		},
	}
}

// TestInstallKubernetesAgainstLabCluster: InstallKubernetes against the
// lab Vault and the lab API server refuses a bad token or an unreachable
// Vault before any object exists, then leaves each service's files and
// role in Vault, and a rerun changes nothing.
func TestInstallKubernetesAgainstLabCluster(t *testing.T) {
	cp := labtest.SharedControlPlane(t)
	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := kubeapply.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	const ns = "bank-kubeinstall"
	m := kubeInstallManifests(t, ns)

	c := hostVault(t)
	ctx := testCtx(t)
	store := FileRecordStore{Path: filepath.Join(t.TempDir(), "vault-record.json")}
	res := initProduction(t, c, store)
	unsealAll(t, c, res.Keys[:3])
	if err := c.Configure(ctx, res.RootToken, nil, nil); err != nil {
		t.Fatal(err)
	}
	root, err := c.withToken(res.RootToken)
	if err != nil {
		t.Fatal(err)
	}
	tokenWith := func(policy, body string) string {
		t.Helper()
		if body != "" {
			if err := root.Sys().PutPolicyWithContext(ctx, policy, body); err != nil {
				t.Fatal(err)
			}
		}
		s, err := root.Auth().Token().CreateWithContext(ctx, &api.TokenCreateRequest{Policies: []string{policy}, TTL: "15m"})
		if err != nil {
			t.Fatal(err)
		}
		return s.Auth.ClientToken
	}
	token := tokenWith("kubernetes-installer", KubernetesInstallerPolicy)
	uid, gid := serviceIDs()
	setting := func(key string) func(string) ([]byte, error) {
		return func(v string) ([]byte, error) { return []byte(key + "=" + v + "\n"), nil }
	}
	docker := []Delivery{
		{Service: "alpha", UID: uid, GID: gid, Files: []SecretFile{
			{Name: "db_password", Path: "banking/databases/fineract", Key: "password"},
			{Name: "app.conf", Path: "banking/databases/fineract", Key: "username", Format: setting("user")},
			{Name: "app.conf", Path: "banking/databases/fineract", Key: "password", Format: setting("password")},
			{Name: "not_on_kubernetes", Path: "banking/services/keycloak", Key: "admin-password"},
		}},
		{Service: "beta", UID: uid, GID: gid, Files: []SecretFile{
			{Name: "admin_password", Path: "banking/services/keycloak", Key: "admin-password"},
		}},
	}
	// The certificate directory as the certificates step leaves it; the
	// trust store is binary, as a PKCS#12 file is.
	pkiDir := t.TempDir()
	certs := newTestPKI(t, "alpha")
	pkiFiles := map[string][]byte{"alpha.crt": certs.certPEM, "alpha.key": certs.keyPEM, "ca.crt": certs.caPEM,
		"truststore.p12": {0x30, 0x82, 0x00, 0xff, 0xfe, 0x00, 0x01}}
	for name, body := range pkiFiles {
		if err := os.WriteFile(filepath.Join(pkiDir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	params := KubernetesInstall{Token: token, Cluster: cluster, Host: cp.URL, CACertPEM: cp.CAPEM,
		Manifests: m, Secrets: testSpecs, Deliveries: docker, PKIDir: pkiDir}

	nothingApplied := func(t *testing.T) {
		t.Helper()
		if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("namespace %s exists after a refused install (err %v)", ns, err)
		}
		if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, ns+"-"+ReviewerServiceAccount, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("the reviewer's ClusterRoleBinding exists after a refused install (err %v)", err)
		}
	}
	t.Run("refused before any object is applied", func(t *testing.T) {
		weak := tokenWith("kubernetes-installer-weak", `path "banking/data/*" { capabilities = ["read"] }
path "sys/auth" { capabilities = ["read"] }
`)
		unreachable, err := Connect(Config{Address: "https://127.0.0.1:1", CACertPEM: cp.CAPEM})
		if err != nil {
			t.Fatal(err)
		}
		otherCA := newTestPKI(t, "localhost", "127.0.0.1")
		wrongCA, err := Connect(Config{Address: c.Address(), CACertPEM: otherCA.caPEM})
		if err != nil {
			t.Fatal(err)
		}
		cases := map[string]struct {
			conn  *Conn
			token string
		}{
			"unknown token":         {c, "hvs.not-a-token"},
			"token lacking policy":  {c, weak},
			"unreachable Vault":     {unreachable, token},
			"Vault with another CA": {wrongCA, token},
		}
		for name, tc := range cases {
			p := params
			p.Token = tc.token
			if _, err := tc.conn.InstallKubernetes(ctx, p, nil); err == nil {
				t.Errorf("%s: install succeeded", name)
			} else {
				t.Logf("%s: %v", name, err)
			}
			nothingApplied(t)
		}
		// A file the Docker target does not make is refused up front too.
		p := params
		p.Deliveries = docker[1:]
		if _, err := c.InstallKubernetes(ctx, p, nil); err == nil {
			t.Error("a delivery of files the installation does not make succeeded")
		}
		nothingApplied(t)
		// So is a certificate file missing from the certificate
		// directory, or one that is a link (followed, it could hand
		// Vault any file the installer can read).
		missing := t.TempDir()
		linked := t.TempDir()
		for name, body := range pkiFiles {
			if name != "alpha.key" {
				if err := os.WriteFile(filepath.Join(missing, name), body, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(linked, name), body, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := os.Symlink(filepath.Join(pkiDir, "alpha.key"), filepath.Join(linked, "alpha.key")); err != nil {
			t.Fatal(err)
		}
		for name, dir := range map[string]string{"missing key": missing, "linked key": linked} {
			p := params
			p.PKIDir = dir
			if _, err := c.InstallKubernetes(ctx, p, nil); err == nil || !strings.Contains(err.Error(), "alpha.key") {
				t.Errorf("%s: install: %v, want a refusal naming alpha.key", name, err)
			}
			nothingApplied(t)
		}
	})

	rec := &recorder{}
	applied, err := c.InstallKubernetes(ctx, params, rec.emitter())
	if err != nil {
		t.Fatal(err)
	}
	if len(applied.Created) != len(m.Objects) {
		t.Errorf("first install created %v, want all %d objects", applied.Created, len(m.Objects))
	}
	if len(rec.take()) == 0 {
		t.Error("the install emitted no events")
	}

	t.Run("each service reads exactly its own files", func(t *testing.T) {
		files := t.TempDir()
		if err := c.Deliver(ctx, res.RootToken, files, docker, nil); err != nil {
			t.Fatal(err)
		}
		for svc, names := range map[string][]string{"alpha": {"db_password", "app.conf"}, "beta": {"admin_password"}} {
			pki := map[string][]string{"alpha": {"alpha.crt", "alpha.key", "ca.crt", "truststore.p12"}}[svc]
			rt, err := RequestServiceAccountToken(ctx, cs, ns, svc, []string{KubernetesAudience}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			cl, err := kubeLogin(ctx, c, kube.VaultRole(ns, svc), rt.JWT)
			if err != nil {
				t.Fatalf("%s cannot log in: %v", svc, err)
			}
			s, err := cl.Logical().ReadWithContext(ctx, kvDataPathOf(kube.DeliveryPath(ns, svc)))
			if err != nil || s == nil {
				t.Fatalf("%s cannot read its files: %v", svc, err)
			}
			data, _ := s.Data["data"].(map[string]interface{})
			if len(data) != len(names)+len(pki) {
				t.Errorf("%s's delivery holds %v, want exactly %v and %v", svc, keys(data), names, pki)
			}
			// Certificates as the certificate directory holds them; the
			// trust store base64, as the agent's base64Decode reads it.
			for _, name := range pki {
				got, _ := data[name].(string)
				if name == "truststore.p12" {
					b, err := base64.StdEncoding.DecodeString(got)
					if err != nil || !bytes.Equal(b, pkiFiles[name]) {
						t.Errorf("%s/%s in Vault is %q, want the file base64-encoded (%v)", svc, name, got, err)
					}
					continue
				}
				if got != string(pkiFiles[name]) {
					t.Errorf("%s/%s in Vault differs from the certificate directory's file", svc, name)
				}
			}
			for _, name := range names {
				want, err := os.ReadFile(filepath.Join(files, svc, name))
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := data[name].(string); got != string(want) || got == "" {
					t.Errorf("%s/%s in Vault differs from the Docker target's file", svc, name)
				}
			}
			other := map[string]string{"alpha": "beta", "beta": "alpha"}[svc]
			if _, err := cl.Logical().ReadWithContext(ctx, kvDataPathOf(kube.DeliveryPath(ns, other))); !isForbidden(err) {
				t.Errorf("%s reading %s's files: err %v, want 403", svc, other, err)
			}
		}
	})

	t.Run("a rerun changes nothing", func(t *testing.T) {
		before, err := root.KVv2(KVMount).GetMetadata(ctx, kvPath(kube.DeliveryPath(ns, "alpha")))
		if err != nil {
			t.Fatal(err)
		}
		again, err := c.InstallKubernetes(ctx, params, rec.emitter())
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Created)+len(again.Changed) != 0 || len(again.Unchanged) != len(m.Objects) {
			t.Errorf("rerun applied %+v, want every object unchanged", again)
		}
		for _, e := range rec.take() {
			if e.Subject == eventSubject {
				t.Errorf("rerun changed Vault: %s", e.Message)
			}
		}
		after, err := root.KVv2(KVMount).GetMetadata(ctx, kvPath(kube.DeliveryPath(ns, "alpha")))
		if err != nil {
			t.Fatal(err)
		}
		if after.CurrentVersion != before.CurrentVersion {
			t.Errorf("rerun wrote alpha's files again: version %d -> %d", before.CurrentVersion, after.CurrentVersion)
		}
	})
}
