package kube

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	psapi "k8s.io/pod-security-admission/api"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// Every pod of every group combination meets Pod Security "restricted",
// but for the services the Docker target documents as running as root,
// which run in a namespace of the weakest level they meet, named in
// Exceptions; every container carries the hardening fields itself.
func TestPodSecurityEveryCombination(t *testing.T) {
	for _, c := range allCombos() {
		t.Run(c.String(), func(t *testing.T) {
			_, b, m := renderedCombo(t, c)
			levels := map[string]string{}
			for _, u := range m.Objects {
				if u.GetKind() == "Namespace" {
					levels[u.GetName()] = u.GetLabels()["pod-security.kubernetes.io/enforce"]
					if v := u.GetLabels()["pod-security.kubernetes.io/enforce-version"]; v != PodSecurityVersion {
						t.Errorf("namespace %s pins enforce-version %q", u.GetName(), v)
					}
				}
			}
			if levels["fineract"] != "restricted" {
				t.Fatalf("the main namespace enforces %q", levels["fineract"])
			}
			for _, w := range workloads(t, m) {
				svc, ok := b.Service(w.service())
				if !ok {
					t.Fatalf("%s %s: no service %q in the bundle", w.kind, w.name, w.service())
				}
				ok, why, err := CheckPodSecurity(psapi.LevelRestricted, metav1.ObjectMeta{}, w.template.Spec)
				if err != nil {
					t.Fatal(err)
				}
				if w.namespace == "fineract" {
					if !ok {
						t.Errorf("%s %s fails restricted: %s", w.kind, w.name, why)
					}
				} else {
					if ok {
						t.Errorf("%s %s meets restricted but runs in %s", w.kind, w.name, w.namespace)
					}
					if svc.RootReason == "" {
						t.Errorf("%s runs in %s without a documented reason", w.name, w.namespace)
					}
					if !slices.ContainsFunc(m.Exceptions, func(e Exception) bool {
						return e.Service == svc.Name && e.Namespace == w.namespace && e.Level == levels[w.namespace]
					}) {
						t.Errorf("%s in %s (%s) is not in Exceptions: %+v", w.name, w.namespace, levels[w.namespace], m.Exceptions)
					}
					level, err := psapi.ParseLevel(levels[w.namespace])
					if err != nil {
						t.Fatal(err)
					}
					if ok, why, _ := CheckPodSecurity(level, metav1.ObjectMeta{}, w.template.Spec); !ok {
						t.Errorf("%s fails its own namespace's level %s: %s", w.name, level, why)
					}
				}
				spec := w.template.Spec
				if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
					t.Errorf("%s mounts the ServiceAccount token", w.name)
				}
				if spec.SecurityContext.FSGroup == nil || *spec.SecurityContext.FSGroup != int64(svc.GID) {
					t.Errorf("%s: fsGroup %v, want %d", w.name, spec.SecurityContext.FSGroup, svc.GID)
				}
				for _, ctr := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
					checkHardening(t, w.name+"/"+ctr.Name, ctr, svc)
				}
			}
		})
	}
}

func checkHardening(t *testing.T, where string, c corev1.Container, svc assets.Service) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil {
		t.Errorf("%s has no securityContext", where)
		return
	}
	readOnly := svc.ReadOnlyException == "" || c.Name == "vault-agent"
	switch {
	case sc.RunAsUser == nil || *sc.RunAsUser != int64(svc.UID), sc.RunAsGroup == nil || *sc.RunAsGroup != int64(svc.GID):
		t.Errorf("%s runs as %v:%v, want %d:%d", where, sc.RunAsUser, sc.RunAsGroup, svc.UID, svc.GID)
	case svc.UID != 0 && (sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot):
		t.Errorf("%s lacks runAsNonRoot", where)
	case sc.ReadOnlyRootFilesystem == nil || *sc.ReadOnlyRootFilesystem != readOnly:
		t.Errorf("%s readOnlyRootFilesystem %v, want %v", where, sc.ReadOnlyRootFilesystem, readOnly)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("%s allows privilege escalation", where)
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("%s capabilities %+v", where, sc.Capabilities)
	case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("%s seccomp %+v", where, sc.SeccompProfile)
	}
}

// No rendered byte holds a secret: the scanner the compose bundle is held
// to finds nothing, and no Secret object is rendered.
func TestNoSecretsInManifests(t *testing.T) {
	for _, c := range allCombos() {
		t.Run(c.String(), func(t *testing.T) {
			_, _, m := renderedCombo(t, c)
			for _, f := range m.Files() {
				for _, finding := range assets.ScanSecrets(f.Path, withoutCertificates(f.Data)) {
					t.Errorf("%s:%d: %s: %s", finding.Path, finding.Line, finding.Rule, finding.Text)
				}
			}
			for _, u := range m.Objects {
				if u.GetKind() == "Secret" || u.GetKind() == "Ingress" {
					t.Errorf("rendered a %s %s", u.GetKind(), u.GetName())
				}
			}
		})
	}
}

// withoutCertificates blanks the bodies of PEM certificates (public CA
// certificates, which Render checks hold nothing else), whose base64 the
// scanner would take for random secrets; a private key's header stays.
func withoutCertificates(data []byte) []byte {
	var out []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		switch t := strings.TrimSpace(line); {
		case strings.HasSuffix(t, "-----BEGIN CERTIFICATE-----"):
			in = true
		case t == "-----END CERTIFICATE-----":
			in = false
		case in:
			line = ""
		}
		out = append(out, line)
	}
	return []byte(strings.Join(out, "\n"))
}

// The scanner does see a private key in a manifest: the test above can fail.
func TestSecretScanSeesKeysInManifests(t *testing.T) {
	data := []byte("apiVersion: v1\nkind: ConfigMap\ndata:\n  tls.key: |\n    -----BEGIN PRIVATE KEY-----\n")
	if len(assets.ScanSecrets("x.yaml", withoutCertificates(data))) == 0 {
		t.Fatal("a private key in a ConfigMap went unnoticed")
	}
	// Nor does blanking certificates hide what follows one.
	data = []byte("ca.crt: |\n  -----BEGIN CERTIFICATE-----\n  AAAA\n  -----END CERTIFICATE-----\npassword: Xk29fjQ83jdkQ0sl2kdj3Kd8\n")
	if len(assets.ScanSecrets("x.yaml", withoutCertificates(data))) == 0 {
		t.Fatal("a password after a certificate went unnoticed")
	}
}

// Memory requests and limits are the memory table's, for every container.
func TestResourcesMatchMemoryTable(t *testing.T) {
	for _, p := range []answers.Profile{answers.Production, answers.Demo} {
		a := testAnswers(t, combo{groups: answers.Groups[1:], profile: p})
		b := bundleFor(t, a)
		for _, w := range workloads(t, render(t, a)) {
			svc, _ := b.Service(w.service())
			for _, c := range append(slices.Clone(w.template.Spec.InitContainers), w.template.Spec.Containers...) {
				want := svc.MemoryMiB
				if c.Name == "vault-agent" {
					want = agentMemoryMiB
				}
				q := resource.MustParse(fmt.Sprintf("%dMi", want))
				if l := c.Resources.Limits[corev1.ResourceMemory]; l.Cmp(q) != 0 {
					t.Errorf("%s %s/%s: limit %s, want %s", p, w.name, c.Name, l.String(), q.String())
				}
				if r := c.Resources.Requests[corev1.ResourceMemory]; r.Cmp(q) != 0 {
					t.Errorf("%s %s/%s: request %s, want %s", p, w.name, c.Name, r.String(), q.String())
				}
			}
		}
	}
}

// The probes run the compose healthchecks' commands, read here from the
// compose file itself.
func TestProbesMatchComposeHealthchecks(t *testing.T) {
	a := testAnswers(t, combo{groups: answers.Groups[1:], profile: answers.Production})
	b := bundleFor(t, a)
	cf, _ := b.File(b.ComposeFile)
	var doc struct {
		Services map[string]struct {
			Healthcheck struct {
				Test     []string `yaml:"test"`
				Interval string   `yaml:"interval"`
				Retries  int      `yaml:"retries"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(cf.Data, &doc); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, w := range workloads(t, render(t, a)) {
		h := doc.Services[w.service()].Healthcheck
		want := slices.Clone(h.Test[1:])
		if h.Test[0] == "CMD-SHELL" {
			want = []string{"/bin/sh", "-c", h.Test[1]}
		}
		for i := range want {
			want[i] = strings.ReplaceAll(want[i], "$$", "$")
		}
		c := w.template.Spec.Containers[0]
		svc, _ := b.Service(w.service())
		interval, _ := duration(h.Interval)
		for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
			if p == nil || p.Exec == nil || !slices.Equal(p.Exec.Command, want) {
				t.Errorf("%s %s probe %+v, want exec %q", w.name, name, p, want)
				continue
			}
			if name != "startup" && (p.PeriodSeconds != int32(interval.Seconds()) || int(p.FailureThreshold) != h.Retries) {
				t.Errorf("%s %s probe every %ds x%d, want %s x%d", w.name, name, p.PeriodSeconds, p.FailureThreshold, h.Interval, h.Retries)
			}
		}
		if sp := c.StartupProbe; sp != nil && float64(sp.PeriodSeconds*sp.FailureThreshold) < svc.HealthBudget.Seconds() {
			t.Errorf("%s startup probe allows %ds, less than the health budget %s", w.name, sp.PeriodSeconds*sp.FailureThreshold, svc.HealthBudget)
		}
		seen++
	}
	if seen < 10 {
		t.Fatalf("only %d workloads checked", seen)
	}
}

// The agent writes exactly the service's secret files (mounted under
// /run/secrets) and its TLS files (mounted where compose mounts them),
// with mode 0400, from DeliveryPath with VaultRole.
func TestVaultAgentDelivery(t *testing.T) {
	a := testAnswers(t, combo{groups: answers.Groups[1:], profile: answers.Production})
	b := bundleFor(t, a)
	m := render(t, a)
	for _, w := range workloads(t, m) {
		svc, _ := b.Service(w.service())
		cm := object(m, "ConfigMap", w.namespace, svc.Name+"-vault-agent")
		if cm == nil {
			t.Fatalf("%s: no agent ConfigMap", w.name)
		}
		var cfg struct {
			AutoAuth struct {
				Method []struct {
					Config map[string]string `json:"config"`
				} `json:"method"`
			} `json:"auto_auth"`
			Template []struct {
				Destination string `json:"destination"`
				Perms       string `json:"perms"`
				Contents    string `json:"contents"`
			} `json:"template"`
		}
		data, _, _ := unstructuredString(cm.Object, "data", "agent.json")
		if err := json.Unmarshal([]byte(data), &cfg); err != nil {
			t.Fatalf("%s agent.json: %v", w.name, err)
		}
		if got := cfg.AutoAuth.Method[0].Config["role"]; got != VaultRole(w.namespace, svc.Name) {
			t.Errorf("%s role %q", w.name, got)
		}
		written := map[string]bool{}
		for _, tp := range cfg.Template {
			written[strings.TrimPrefix(tp.Destination, agentOutDir+"/")] = true
			if tp.Perms != "0400" || !strings.Contains(tp.Contents, `"banking/data/kubernetes/`+w.namespace+`/`+svc.Name+`"`) {
				t.Errorf("%s template %+v", w.name, tp)
			}
		}
		mounted := map[string]string{}
		for _, vm := range w.template.Spec.Containers[0].VolumeMounts {
			if vm.Name == "vault-files" {
				mounted[vm.SubPath] = vm.MountPath
				if !vm.ReadOnly {
					t.Errorf("%s mounts %s writable", w.name, vm.MountPath)
				}
			}
		}
		for _, f := range svc.SecretFiles() {
			if mounted[f] != "/run/secrets/"+f {
				t.Errorf("%s: secret %s mounted at %q", w.name, f, mounted[f])
			}
		}
		for f := range mounted {
			if !written[f] {
				t.Errorf("%s mounts %s, which the agent does not write", w.name, f)
			}
		}
		if len(written) != len(mounted) {
			t.Errorf("%s: agent writes %d files, the service mounts %d", w.name, len(written), len(mounted))
		}
		for _, cert := range svc.Certs {
			if mounted[cert.Name+".key"] == "" {
				t.Errorf("%s: key %s.key not delivered", w.name, cert.Name)
			}
		}
		// The token is the init container's alone.
		for _, vm := range w.template.Spec.Containers[0].VolumeMounts {
			if vm.Name == "vault-token" {
				t.Errorf("%s's main container mounts the Vault token", w.name)
			}
		}
	}
}

func unstructuredString(obj map[string]any, fields ...string) (string, bool, error) {
	cur := any(obj)
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false, nil
		}
		cur = m[f]
	}
	s, ok := cur.(string)
	return s, ok, nil
}

// Files are one per object, in apply order: namespaces first, workloads
// last, each parsing back to its object.
func TestFilesApplyOrder(t *testing.T) {
	m := render(t, testAnswers(t, combo{groups: answers.Groups[1:], profile: answers.Demo}))
	files := m.Files()
	if len(files) != len(m.Objects) {
		t.Fatalf("%d files for %d objects", len(files), len(m.Objects))
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Path
		var back map[string]any
		if err := yaml.Unmarshal(f.Data, &back); err != nil || back["kind"] != m.Objects[i].GetKind() {
			t.Errorf("%s does not parse back to a %s: %v", f.Path, m.Objects[i].GetKind(), err)
		}
		labels := m.Objects[i].GetLabels()
		if labels[LabelManagedBy] != FieldManager || labels[LabelPartOf] != "fineract" {
			t.Errorf("%s labels %v", f.Path, labels)
		}
	}
	if !sort.StringsAreSorted(names) {
		t.Error("file names are not in apply order")
	}
	first, last := m.Objects[0].GetKind(), m.Objects[len(m.Objects)-1].GetKind()
	if first != "Namespace" || !slices.Contains([]string{"Deployment", "StatefulSet", "DaemonSet"}, last) {
		t.Errorf("apply order runs from %s to %s", first, last)
	}
}

// Changing an answer changes only the objects it is about.
func TestAnswerChangesOnlyItsObjects(t *testing.T) {
	base := testAnswers(t, combo{groups: []string{answers.GroupMonitoring}, profile: answers.Production})
	files := func(f func(*answers.Kubernetes)) map[string]string {
		a := base
		k := *base.Kubernetes
		f(&k)
		a.Kubernetes = &k
		out := map[string]string{}
		for _, file := range render(t, a).Files() {
			out[file.Path] = string(file.Data)
		}
		return out
	}
	diff := func(x, y map[string]string) []string {
		var out []string
		for p, d := range x {
			if y[p] != d {
				out = append(out, p)
			}
		}
		for p := range y {
			if _, ok := x[p]; !ok {
				out = append(out, p)
			}
		}
		sort.Strings(out)
		return out
	}
	two := files(func(k *answers.Kubernetes) { k.Fineract.ReadReplicas = 2 })
	cases := []struct {
		name string
		from map[string]string
		to   func(*answers.Kubernetes)
		want []string
	}{
		{"read replicas 2 to 3", two, func(k *answers.Kubernetes) { k.Fineract.ReadReplicas = 3 },
			[]string{"070-poddisruptionbudget.fineract.fineract-read.yaml", "081-deployment.fineract.fineract-read.yaml"}},
		{"read replicas 0 to 2", files(func(*answers.Kubernetes) {}), func(k *answers.Kubernetes) { k.Fineract.ReadReplicas = 2 },
			// The write instance keeps running the batch jobs: unchanged.
			[]string{"060-service.fineract.fineract-read.yaml", "070-poddisruptionbudget.fineract.fineract-read.yaml", "081-deployment.fineract.fineract-read.yaml"}},
		{"batch instance", two, func(k *answers.Kubernetes) { k.Fineract.ReadReplicas, k.Fineract.BatchInstance = 2, true },
			[]string{"080-statefulset.fineract.fineract.yaml", "081-deployment.fineract.fineract-batch.yaml"}},
		{"node port", two, func(k *answers.Kubernetes) {
			k.Fineract.ReadReplicas, k.GatewayService, k.NodePort = 2, answers.GatewayNodePort, 30443
		}, []string{"060-service.fineract.gateway-public.yaml"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := diff(c.from, files(c.to)); !slices.Equal(got, c.want) {
				t.Errorf("changed %q, want %q", got, c.want)
			}
		})
	}
}

// Fineract's instance types set the mode variables of the pinned release.
func TestFineractInstanceTypes(t *testing.T) {
	a := testAnswers(t, combo{profile: answers.Production})
	a.Kubernetes.Fineract = answers.KubernetesFineract{ReadReplicas: 3, BatchInstance: true}
	m := render(t, a)
	want := map[string]struct {
		replicas int32
		mode     string // read write worker manager
	}{
		"fineract":       {1, "true true false false"},
		"fineract-read":  {3, "true false false false"},
		"fineract-batch": {1, "false false true true"},
	}
	got := 0
	for _, w := range workloads(t, m) {
		if w.service() != "fineract" {
			continue
		}
		got++
		env := map[string]string{}
		for _, e := range w.template.Spec.Containers[0].Env {
			env[e.Name] = e.Value
		}
		mode := strings.Join([]string{env["FINERACT_MODE_READ_ENABLED"], env["FINERACT_MODE_WRITE_ENABLED"],
			env["FINERACT_MODE_BATCH_WORKER_ENABLED"], env["FINERACT_MODE_BATCH_MANAGER_ENABLED"]}, " ")
		if w.replicas != want[w.name].replicas || mode != want[w.name].mode {
			t.Errorf("%s: %d replicas, mode %s; want %+v", w.name, w.replicas, mode, want[w.name])
		}
		aff := w.template.Spec.Affinity
		if (w.name == "fineract-read") != (aff != nil && aff.PodAntiAffinity != nil) {
			t.Errorf("%s anti-affinity %+v", w.name, aff)
		}
	}
	if got != 3 {
		t.Fatalf("%d Fineract workloads, want 3", got)
	}
	pdb := object(m, "PodDisruptionBudget", "fineract", "fineract-read")
	if pdb == nil {
		t.Fatal("no PodDisruptionBudget for the read instances")
	}
	if v, _, _ := unstructuredNested(pdb.Object, "spec", "minAvailable"); fmt.Sprint(v) != "2" {
		t.Errorf("minAvailable %v, want 2", v)
	}
	svc := object(m, "Service", "fineract", "fineract")
	if sel, _, _ := unstructuredNested(svc.Object, "spec", "selector"); sel.(map[string]any)[LabelComponent] != "write" {
		t.Errorf("the fineract Service selects %v, want the write instance", sel)
	}
}

func unstructuredNested(obj map[string]any, fields ...string) (any, bool, error) {
	cur := any(obj)
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false, nil
		}
		cur = m[f]
	}
	return cur, cur != nil, nil
}

// With an external database there is no PostgreSQL workload; its clients
// verify the server against its CA, mounted from a ConfigMap.
func TestExternalPostgres(t *testing.T) {
	a := testAnswers(t, combo{groups: []string{answers.GroupIdentity, answers.GroupMonitoring}, profile: answers.Production})
	ca := writeCA(t, t.TempDir(), "db-ca")
	a.Kubernetes.Postgres.External = &answers.ExternalPostgres{Host: "db.example.net", CACert: ca}
	m := render(t, a)
	clients := 0
	for _, w := range workloads(t, m) {
		if w.service() == "postgres" {
			t.Fatal("a postgres workload is rendered with an external database")
		}
		env := map[string]string{}
		for _, e := range w.template.Spec.Containers[0].Env {
			env[e.Name] = e.Value
		}
		var url string
		switch w.service() {
		case "fineract":
			url = env["FINERACT_HIKARI_JDBC_URL"]
			if env["FINERACT_DEFAULT_TENANTDB_HOSTNAME"] != "db.example.net" || !strings.Contains(env["FINERACT_DEFAULT_TENANTDB_CONN_PARAMS"], "verify-full") {
				t.Errorf("fineract tenant database: %v", env)
			}
		case "keycloak":
			url = env["KC_DB_URL"]
		case "postgres-exporter":
			url = env["DATA_SOURCE_URI"]
		default:
			continue
		}
		clients++
		if w.service() == "fineract" && env["FINERACT_DEFAULT_TENANTDB_CONN_PARAMS"] != TenantConnParams(*a.Kubernetes) {
			t.Errorf("tenant parameters %q, TenantConnParams says %q", env["FINERACT_DEFAULT_TENANTDB_CONN_PARAMS"], TenantConnParams(*a.Kubernetes))
		}
		caPath := postgresCAPath(w.service())
		if !strings.Contains(url, "db.example.net:5432/") || !strings.Contains(url, "sslmode=verify-full&sslrootcert="+caPath) {
			t.Errorf("%s connects with %q", w.name, url)
		}
		if !slices.ContainsFunc(w.template.Spec.Containers[0].VolumeMounts, func(v corev1.VolumeMount) bool {
			return v.MountPath == caPath && v.Name == postgresCAConfigMap
		}) {
			t.Errorf("%s does not mount the database's CA at %s", w.name, caPath)
		}
	}
	if clients != 3 {
		t.Errorf("%d database clients, want 3", clients)
	}
	if object(m, "ConfigMap", "fineract", postgresCAConfigMap) == nil || object(m, "NetworkPolicy", "fineract", PolicyPostgres) == nil {
		t.Error("no CA ConfigMap or egress policy for the external database")
	}
}

// Render refuses missing or unusable CA files and a missing block, saying
// which answer to fix.
func TestRenderErrors(t *testing.T) {
	a := testAnswers(t, combo{profile: answers.Demo})
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(key, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		f    func(*answers.Answers)
		want string
	}{
		{"no block", func(a *answers.Answers) { a.Kubernetes = nil }, "no kubernetes block"},
		{"invalid block", func(a *answers.Answers) { a.Kubernetes = &answers.Kubernetes{} }, "kubernetes.vault.address is empty"},
		{"missing ca", func(a *answers.Answers) { a.Kubernetes.Vault.CACert = filepath.Join(dir, "none.pem") }, "does not exist"},
		{"a key as ca", func(a *answers.Answers) { a.Kubernetes.Vault.CACert = key }, "CA certificates only"},
		{"no pki yet", func(a *answers.Answers) { a.InstallDir = dir }, "pki/ca.crt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := a
			k := *a.Kubernetes
			b.Kubernetes = &k
			c.f(&b)
			_, err := Render(b, testOptions)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// The gateway resolves upstreams through the cluster's DNS by their full
// names, verifying each for the name its certificate carries, and is
// published by the Service type the answers choose.
func TestGateway(t *testing.T) {
	a := testAnswers(t, combo{profile: answers.Production})
	a.Kubernetes.GatewayService, a.Kubernetes.NodePort = answers.GatewayNodePort, 30443
	m := render(t, a)
	cm := object(m, "ConfigMap", "fineract", "gateway-config")
	conf, _, _ := unstructuredString(cm.Object, "data", "nginx.conf")
	if strings.Contains(conf, "127.0.0.11") || !strings.Contains(conf, "resolver kube-dns.kube-system.svc.cluster.local ") {
		t.Error("the gateway still uses Docker's resolver")
	}
	if !strings.Contains(conf, "set $upstream https://fineract.fineract.svc.cluster.local:8443;") || !strings.Contains(conf, "proxy_ssl_name fineract;") {
		t.Error("the gateway's Fineract upstream is not the Service's full name with the certificate's name")
	}
	svc := object(m, "Service", "fineract", PublicService)
	typ, _, _ := unstructuredNested(svc.Object, "spec", "type")
	ports, _, _ := unstructuredNested(svc.Object, "spec", "ports")
	first := ports.([]any)[0].(map[string]any)
	if typ != "NodePort" || fmt.Sprint(first["nodePort"]) != "30443" || fmt.Sprint(first["port"]) != "443" || fmt.Sprint(first["targetPort"]) != "8443" {
		t.Errorf("public Service %v %v", typ, first)
	}
	for _, u := range m.Objects {
		if typ, _, _ := unstructuredNested(u.Object, "spec", "type"); u.GetKind() == "Service" && u.GetName() != PublicService && typ != "ClusterIP" {
			t.Errorf("Service %s is %v", u.GetName(), typ)
		}
	}
}

// The admission policy names exactly the Docker target's read-only
// exceptions and binds to the stack's namespaces.
func TestAdmissionPolicy(t *testing.T) {
	a := testAnswers(t, combo{groups: answers.Groups[1:], profile: answers.Production})
	b := bundleFor(t, a)
	m := render(t, a)
	vap := object(m, "ValidatingAdmissionPolicy", "", HardeningPolicy("fineract"))
	vs, _, _ := unstructuredNested(vap.Object, "spec", "validations")
	expr := vs.([]any)[0].(map[string]any)["expression"].(string)
	for _, s := range b.Services {
		named := strings.Contains(expr, `"`+s.Name+`"`)
		if named != (s.ReadOnlyException != "") {
			t.Errorf("policy names %s: %v, Docker documents a read-only exception: %v", s.Name, named, s.ReadOnlyException != "")
		}
	}
	binding := object(m, "ValidatingAdmissionPolicyBinding", "", HardeningPolicy("fineract"))
	vals, _, _ := unstructuredNested(binding.Object, "spec", "matchResources", "namespaceSelector", "matchExpressions")
	got := fmt.Sprint(vals.([]any)[0].(map[string]any)["values"])
	if got != fmt.Sprint(toAny(m.Namespaces)) {
		t.Errorf("binding covers %s, want %v", got, m.Namespaces)
	}
}

func toAny(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// The kubelet's $(NAME) expansion leaves the compose shell text as
// written: Kafka formats its storage with a generated cluster id.
func TestCommandsReachContainersAsWritten(t *testing.T) {
	m := render(t, testAnswers(t, combo{groups: []string{answers.GroupMessaging}, profile: answers.Demo}))
	for _, w := range workloads(t, m) {
		if w.service() != "kafka" {
			continue
		}
		args := strings.Join(w.template.Spec.Containers[0].Args, " ")
		if !strings.Contains(args, `--cluster-id "$$(/opt/kafka/bin/kafka-storage.sh random-uuid)"`) {
			t.Errorf("kafka's arguments: %s", args)
		}
		return
	}
	t.Fatal("no kafka workload")
}

// The API server refuses a workload whose container mounts a volume the
// pod does not define (a DaemonSet has no claim templates to give one).
func TestEveryMountHasItsVolume(t *testing.T) {
	for _, c := range allCombos() {
		t.Run(c.String(), func(t *testing.T) {
			_, _, m := renderedCombo(t, c)
			claims := map[string]map[string]bool{}
			for _, u := range m.Objects {
				if u.GetKind() != "StatefulSet" {
					continue
				}
				var s appsv1.StatefulSet
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &s); err != nil {
					t.Fatal(err)
				}
				claims[u.GetName()] = map[string]bool{}
				for _, ct := range s.Spec.VolumeClaimTemplates {
					claims[u.GetName()][ct.Name] = true
				}
			}
			for _, w := range workloads(t, m) {
				defined := map[string]bool{}
				for _, v := range w.template.Spec.Volumes {
					defined[v.Name] = true
				}
				if w.kind == "StatefulSet" {
					for n := range claims[w.name] {
						defined[n] = true
					}
				}
				for _, ctr := range append(append([]corev1.Container(nil), w.template.Spec.InitContainers...), w.template.Spec.Containers...) {
					for _, vm := range ctr.VolumeMounts {
						if !defined[vm.Name] {
							t.Errorf("%s %s container %s mounts %q, which the pod does not define", w.kind, w.name, ctr.Name, vm.Name)
						}
					}
				}
			}
		})
	}
}
