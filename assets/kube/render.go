package kube

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	psapi "k8s.io/pod-security-admission/api"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// Labels every object carries, and the pod labels selectors use.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelPartOf    = "app.kubernetes.io/part-of"
	LabelName      = "app.kubernetes.io/name"
	LabelComponent = "app.kubernetes.io/component"
	// NetworkLabelPrefix + role ("dmz", "app", "data", "monitoring") is
	// "member" on every pod of a service that joins that network.
	NetworkLabelPrefix = "network.fineract-installer.io/"
	memberValue        = "member"
)

// ClusterDomain is the DNS domain of the cluster's Services, which the
// gateway's nginx (whose resolver uses no search list) needs spelled out.
const ClusterDomain = "cluster.local"

// Paths inside the pods.
const (
	agentConfigDir = "/vault-agent/config"
	agentCADir     = "/vault-agent/ca"
	agentOutDir    = "/vault-agent/out"
	agentTokenDir  = "/var/run/secrets/vault"
	secretsDir     = "/run/secrets"
	// FileMode is the mode of every delivered file, as the Docker
	// target's secret directories (steps/vault secretdir.go) hold them.
	FileMode = 0o400
	// TokenExpirySeconds is the projected token's lifetime: the agent
	// logs in once, at start; 600 s is the shortest the API server allows.
	TokenExpirySeconds = 600
	agentMemoryMiB     = 64
)

// Delivery is what Vault must hold at DeliveryPath(Namespace, Service) for
// one service's agent: one key per file.
type Delivery struct {
	Namespace, Service string
	// Secrets are the service's secret files (assets.Service.SecretFiles),
	// mounted at /run/secrets/<name>.
	Secrets []string
	// PKI are files of the installation's pki directory (certificates,
	// keys, the CA) by their name there, mounted where the compose file
	// mounts them.
	PKI []string
	// Base64 names the files (of PKI) Vault holds base64-encoded because
	// they are binary (the PKCS#12 trust store); the agent decodes them.
	Base64 []string
}

// Exception is a service whose pods cannot meet Pod Security "restricted"
// or a read-only root, with the Docker target's reason.
type Exception struct {
	Service   string
	Namespace string
	Level     string
	Reason    string
}

type renderer struct {
	a        answers.Answers
	k        answers.Kubernetes
	project  string
	ns       string
	bundle   assets.Bundle
	compose  composeFile
	vaultCA  []byte
	pgCA     []byte
	objects  []runtime.Object
	nsUsed   map[string]psapi.Level
	members  map[string][]string // namespace -> network roles with members there
	m        *Manifests
	vaultImg string
}

// Render renders the stack as Kubernetes manifests from the same bundle
// the Docker target renders (assets.Render). It reads the CA files the
// answers name (kubernetes.vault.ca_cert, else the installation's
// pki/ca.crt; the external database's ca_cert).
func Render(a answers.Answers, o assets.Options) (Manifests, error) {
	if a.Kubernetes == nil {
		return Manifests{}, answers.FieldError("kubernetes", "the answers have no kubernetes block; add one with at least kubernetes.vault.address")
	}
	k := a.Kubernetes.WithDefaults(o.Project)
	if err := k.Validate(); err != nil {
		return Manifests{}, err
	}
	// WAL archiving runs the installer binary on the Docker host as
	// PostgreSQL's archive_command: nothing a pod has. It is left out here.
	a.Backup.WALArchiving = false
	b, err := assets.Render(a, o)
	if err != nil {
		return Manifests{}, err
	}
	cf, ok := b.File(b.ComposeFile)
	if !ok {
		return Manifests{}, errors.New("render kubernetes: the bundle has no compose file")
	}
	compose, err := parseCompose(cf.Data)
	if err != nil {
		return Manifests{}, err
	}
	r := &renderer{a: a, k: k, project: o.Project, ns: k.Namespace, bundle: b, compose: compose,
		nsUsed: map[string]psapi.Level{}, members: map[string][]string{}, m: &Manifests{}}
	if vs, ok := b.Service("vault"); ok {
		r.vaultImg = vs.Image
	}
	caPath, caField := k.Vault.CACert, "kubernetes.vault.ca_cert"
	if caPath == "" {
		caPath = filepath.Join(installation.New(a.InstallDir, o.Project).PKIDir(), "ca.crt")
	}
	if r.vaultCA, err = readCert(caPath, caField); err != nil {
		return Manifests{}, err
	}
	if e := k.Postgres.External; e != nil {
		if r.pgCA, err = readCert(e.CACert, "kubernetes.postgres.external.ca_cert"); err != nil {
			return Manifests{}, err
		}
	}
	if err := r.render(); err != nil {
		return Manifests{}, fmt.Errorf("render kubernetes: %w", err)
	}
	return *r.m, nil
}

// readCert reads a PEM file that must hold certificates only.
func readCert(p, field string) ([]byte, error) {
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, answers.FieldError(field, "%s: %s does not exist; give the PEM file of the CA (the installation's own CA is pki/ca.crt once the pki step ran)", field, p)
	}
	if err != nil {
		return nil, answers.FieldError(field, "%s: %v", field, err)
	}
	rest, n := data, 0
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, answers.FieldError(field, "%s: %s holds a %s block; give a file of CA certificates only", field, p, blk.Type)
		}
		n++
	}
	if n == 0 {
		return nil, answers.FieldError(field, "%s: %s holds no PEM certificate", field, p)
	}
	return data, nil
}

func (r *renderer) labels(extra map[string]string) map[string]string {
	l := map[string]string{LabelManagedBy: FieldManager, LabelPartOf: r.project}
	for k, v := range extra {
		l[k] = v
	}
	return l
}

func (r *renderer) meta(name, ns string, extra map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: r.labels(extra)}
}

func (r *renderer) add(objs ...runtime.Object) { r.objects = append(r.objects, objs...) }

// instance is one Deployment or StatefulSet of a service: Fineract may
// run as write, read and batch instances; every other service as one.
type instance struct {
	name      string // workload name
	component string // app.kubernetes.io/component
	replicas  int32
	env       map[string]string // overrides
	// persistent says the data volumes are claims (a StatefulSet); else
	// they are emptyDirs (Fineract's read and batch instances).
	persistent bool
}

func (r *renderer) instances(svc assets.Service) []instance {
	one := []instance{{name: svc.Name, component: "server", replicas: 1, persistent: true}}
	if svc.Name != "fineract" {
		return one
	}
	f := r.k.Fineract
	mode := func(read, write, batch bool) map[string]string {
		b := strconv.FormatBool
		return map[string]string{
			"FINERACT_MODE_READ_ENABLED":          b(read),
			"FINERACT_MODE_WRITE_ENABLED":         b(write),
			"FINERACT_MODE_BATCH_WORKER_ENABLED":  b(batch),
			"FINERACT_MODE_BATCH_MANAGER_ENABLED": b(batch),
		}
	}
	out := []instance{{name: "fineract", component: "write", replicas: 1, persistent: true, env: mode(true, true, !f.BatchInstance)}}
	if f.ReadReplicas > 0 {
		out = append(out, instance{name: "fineract-read", component: "read", replicas: int32(f.ReadReplicas), env: mode(true, false, false)})
	}
	if f.BatchInstance {
		out = append(out, instance{name: "fineract-batch", component: "batch", replicas: 1, env: mode(false, false, true)})
	}
	return out
}

func (r *renderer) render() error {
	type built struct {
		svc   assets.Service
		inst  []instance
		specs []corev1.PodSpec
		level psapi.Level
		why   string
		ns    string
		files Delivery
	}
	var all []built
	for _, svc := range r.bundle.Services {
		if svc.Name == "vault" {
			// The pods' Vault is the one kubernetes.vault.address names.
			continue
		}
		if svc.Name == "postgres" && r.k.Postgres.External != nil {
			continue
		}
		cs, ok := r.compose.Services[svc.Name]
		if !ok {
			return fmt.Errorf("service %s is not in the compose file", svc.Name)
		}
		bt := built{svc: svc, inst: r.instances(svc), level: psapi.LevelRestricted}
		for _, in := range bt.inst {
			spec, d, err := r.podSpec(svc, cs, in)
			if err != nil {
				return fmt.Errorf("service %s: %w", svc.Name, err)
			}
			bt.files = d
			l, why, err := weakestLevel(metav1.ObjectMeta{}, spec)
			if err != nil {
				return err
			}
			if levelRank(l) > levelRank(bt.level) {
				bt.level, bt.why = l, why
			}
			bt.specs = append(bt.specs, spec)
		}
		bt.ns = r.ns
		if bt.level != psapi.LevelRestricted {
			bt.ns = r.ns + "-" + string(bt.level)
			reason := "Pod Security " + bt.why
			if svc.RootReason != "" {
				reason = "runs as root because " + svc.RootReason + " (" + reason + ")"
			}
			r.m.Exceptions = append(r.m.Exceptions, Exception{Service: svc.Name, Namespace: bt.ns, Level: string(bt.level), Reason: reason})
		}
		if svc.ReadOnlyException != "" {
			r.m.Exceptions = append(r.m.Exceptions, Exception{Service: svc.Name, Namespace: bt.ns, Level: string(bt.level),
				Reason: "no read-only root filesystem: " + svc.ReadOnlyException})
		}
		r.nsUsed[bt.ns] = bt.level
		for _, n := range svc.Networks {
			if !slices.Contains(r.members[bt.ns], n) {
				r.members[bt.ns] = append(r.members[bt.ns], n)
			}
		}
		bt.files.Namespace, bt.files.Service = bt.ns, svc.Name
		all = append(all, bt)
	}
	r.m.Namespaces = []string{r.ns}
	for ns := range r.nsUsed {
		if ns != r.ns {
			r.m.Namespaces = append(r.m.Namespaces, ns)
		}
	}
	sort.Strings(r.m.Namespaces[1:])
	if _, ok := r.nsUsed[r.ns]; !ok {
		r.nsUsed[r.ns] = psapi.LevelRestricted
	}
	for _, ns := range r.m.Namespaces {
		r.namespace(ns, r.nsUsed[ns])
	}
	r.add(r.admissionPolicy()...)
	r.tokenReviewer()
	if err := r.networkPolicies(); err != nil {
		return err
	}
	for _, bt := range all {
		r.m.Deliveries = append(r.m.Deliveries, bt.files)
		if err := r.serviceObjects(bt.svc, bt.ns, bt.inst, bt.specs, bt.files); err != nil {
			return fmt.Errorf("service %s: %w", bt.svc.Name, err)
		}
	}
	for _, o := range r.objects {
		u, err := toUnstructured(o)
		if err != nil {
			return err
		}
		r.m.Objects = append(r.m.Objects, u)
	}
	sortObjects(r.m.Objects)
	_, err := r.m.files()
	return err
}

func levelRank(l psapi.Level) int {
	switch l {
	case psapi.LevelRestricted:
		return 0
	case psapi.LevelBaseline:
		return 1
	}
	return 2
}

func (r *renderer) namespace(ns string, level psapi.Level) {
	l := r.labels(nil)
	for _, mode := range []string{"enforce", "audit", "warn"} {
		l["pod-security.kubernetes.io/"+mode] = string(level)
		l["pod-security.kubernetes.io/"+mode+"-version"] = PodSecurityVersion
	}
	r.add(&corev1.Namespace{TypeMeta: typeMeta("v1", "Namespace"), ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: l}})
	r.add(&corev1.ConfigMap{TypeMeta: typeMeta("v1", "ConfigMap"), ObjectMeta: r.meta(vaultCAConfigMap, ns, nil),
		Data: map[string]string{"ca.crt": string(r.vaultCA)}})
	if r.pgCA != nil {
		r.add(&corev1.ConfigMap{TypeMeta: typeMeta("v1", "ConfigMap"), ObjectMeta: r.meta(postgresCAConfigMap, ns, nil),
			Data: map[string]string{postgresCAFile: string(r.pgCA)}})
	}
}

// ConfigMaps of public CA certificates, in every namespace of the stack.
const (
	vaultCAConfigMap    = "vault-ca"
	postgresCAConfigMap = "postgres-ca"
	postgresCAFile      = "postgres-ca.crt"
)

// TokenReviewer is the ServiceAccount whose token Vault's Kubernetes auth
// method uses to review the pods' tokens (TokenReview needs
// system:auth-delegator).
const TokenReviewer = "vault-token-reviewer"

func (r *renderer) tokenReviewer() {
	r.add(&corev1.ServiceAccount{TypeMeta: typeMeta("v1", "ServiceAccount"), ObjectMeta: r.meta(TokenReviewer, r.ns, nil)})
	r.add(&rbacv1.ClusterRoleBinding{
		TypeMeta:   typeMeta("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
		ObjectMeta: r.meta(r.ns+"-"+TokenReviewer, "", nil),
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:auth-delegator"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: TokenReviewer, Namespace: r.ns}},
	})
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

func mib(n int) resource.Quantity {
	return *resource.NewQuantity(int64(n)*1024*1024, resource.BinarySI)
}

// memoryResources are requests equal to limits: the Docker target's
// mem_limit, reserved on the node so the scheduler never overcommits it.
func memoryResources(n int) corev1.ResourceRequirements {
	q := corev1.ResourceList{corev1.ResourceMemory: mib(n)}
	return corev1.ResourceRequirements{Requests: q, Limits: q.DeepCopy()}
}

// composeSize converts a compose size (16m, 1g) to a quantity.
func composeSize(s string) (resource.Quantity, error) {
	if s == "" {
		return resource.Quantity{}, errors.New("empty size")
	}
	unit := map[byte]string{'k': "Ki", 'm': "Mi", 'g': "Gi"}[s[len(s)-1]]
	if unit == "" {
		return resource.ParseQuantity(s)
	}
	return resource.ParseQuantity(s[:len(s)-1] + unit)
}

var configKeyRE = regexp.MustCompile(`[^-._a-zA-Z0-9]`)

// podSpec builds one instance's pod spec from the compose service.
func (r *renderer) podSpec(svc assets.Service, cs composeService, in instance) (corev1.PodSpec, Delivery, error) {
	d := Delivery{Secrets: svc.SecretFiles()}
	readOnly := svc.ReadOnlyException == ""
	main := corev1.Container{
		Name:            svc.Name,
		Image:           svc.Image,
		Command:         literal(cs.Entrypoint),
		Args:            literal(cs.Command),
		SecurityContext: containerSecurity(svc.UID, svc.GID, readOnly),
		Resources:       memoryResources(svc.MemoryMiB),
	}
	env := map[string]string{}
	for k, v := range cs.Environment {
		env[k] = v
	}
	for k, v := range clusterEnv[svc.Name] {
		env[k] = v
	}
	for k, v := range r.externalPostgresEnv(svc.Name) {
		env[k] = v
	}
	for k, v := range in.env {
		env[k] = v
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		main.Env = append(main.Env, corev1.EnvVar{Name: k, Value: literal([]string{env[k]})[0]})
	}
	for _, p := range svc.TLS {
		main.Ports = append(main.Ports, corev1.ContainerPort{Name: portName(p.Port), ContainerPort: int32(p.Port), Protocol: corev1.ProtocolTCP})
	}
	for _, p := range extraPorts[svc.Name] {
		main.Ports = append(main.Ports, corev1.ContainerPort{Name: portName(p), ContainerPort: int32(p), Protocol: corev1.ProtocolTCP})
	}
	spec := corev1.PodSpec{
		ServiceAccountName:           svc.Name,
		AutomountServiceAccountToken: ptr(false),
		// No Service environment variables: a Service named kafka would
		// hand the broker KAFKA_PORT and the like, which its image reads
		// as settings.
		EnableServiceLinks: ptr(false),
		SecurityContext:    podSecurity(svc.UID, svc.GID),
	}
	if g, err := duration(cs.StopGrace); err != nil {
		return spec, d, fmt.Errorf("stop_grace_period: %w", err)
	} else if g > 0 {
		spec.TerminationGracePeriodSeconds = ptr(int64(g / time.Second))
	}
	vol := func(v corev1.Volume) {
		for _, have := range spec.Volumes {
			if have.Name == v.Name {
				return
			}
		}
		spec.Volumes = append(spec.Volumes, v)
	}
	memDir := func(name string, size resource.Quantity) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &size}}}
	}
	for i, t := range cs.Tmpfs {
		tm := parseTmpfs(t)
		size, err := composeSize(tm.Size)
		if err != nil {
			return spec, d, fmt.Errorf("tmpfs %s: %w", t, err)
		}
		name := "tmpfs-" + strconv.Itoa(i)
		vol(memDir(name, size))
		main.VolumeMounts = append(main.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: tm.Path})
	}
	if cs.ShmSize != "" {
		size, err := composeSize(cs.ShmSize)
		if err != nil {
			return spec, d, fmt.Errorf("shm_size: %w", err)
		}
		vol(memDir("shm", size))
		main.VolumeMounts = append(main.VolumeMounts, corev1.VolumeMount{Name: "shm", MountPath: "/dev/shm"})
	}
	configKeys := map[string]string{}
	for _, v := range cs.Volumes {
		switch {
		case v.Type == "volume":
			if in.persistent {
				main.VolumeMounts = append(main.VolumeMounts, corev1.VolumeMount{Name: v.Source, MountPath: v.Target})
			} else {
				vol(corev1.Volume{Name: v.Source, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
				main.VolumeMounts = append(main.VolumeMounts, corev1.VolumeMount{Name: v.Source, MountPath: v.Target})
			}
		case strings.HasPrefix(v.Source, "./config/"):
			key := configKeyRE.ReplaceAllString(path.Base(v.Source), "_")
			if prev, ok := configKeys[key]; ok && prev != v.Source {
				return spec, d, fmt.Errorf("config files %s and %s share the key %s", prev, v.Source, key)
			}
			configKeys[key] = v.Source
			if _, ok := r.bundle.File(strings.TrimPrefix(v.Source, "./")); !ok {
				return spec, d, fmt.Errorf("the compose file mounts %s, which the bundle does not hold", v.Source)
			}
			vol(corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: svc.Name + "-config"}, DefaultMode: ptr(int32(0o444))}}})
			main.VolumeMounts = append(main.VolumeMounts, corev1.VolumeMount{Name: "config", MountPath: v.Target, SubPath: key, ReadOnly: true})
		case strings.HasPrefix(v.Source, "./pki/"):
			name := path.Base(v.Source)
			if slices.Contains(d.Secrets, name) {
				return spec, d, fmt.Errorf("the secret file %s and the pki file %s would share one name", name, v.Source)
			}
			if !slices.Contains(d.PKI, name) {
				d.PKI = append(d.PKI, name)
				if strings.HasSuffix(name, ".p12") {
					d.Base64 = append(d.Base64, name)
				}
			}
			main.VolumeMounts = append(main.VolumeMounts, corev1.VolumeMount{Name: "vault-files", MountPath: v.Target, SubPath: name, ReadOnly: true})
		case path.IsAbs(v.Source) && v.Type == "bind":
			// Filebeat's node directory of container logs.
			name := "host-" + strconv.Itoa(len(spec.Volumes))
			vol(corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: v.Source, Type: ptr(corev1.HostPathDirectory)}}})
			main.VolumeMounts = append(main.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: v.Target, ReadOnly: true})
		default:
			return spec, d, fmt.Errorf("the compose file mounts %s at %s, which the manifests cannot carry", v.Source, v.Target)
		}
	}
	if r.pgCA != nil && externalDBClient(svc.Name) {
		vol(corev1.Volume{Name: postgresCAConfigMap, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: postgresCAConfigMap}, DefaultMode: ptr(int32(0o444))}}})
		main.VolumeMounts = append(main.VolumeMounts, corev1.VolumeMount{Name: postgresCAConfigMap, MountPath: postgresCAPath(svc.Name), SubPath: postgresCAFile, ReadOnly: true})
	}
	for _, f := range d.Secrets {
		main.VolumeMounts = append(main.VolumeMounts, corev1.VolumeMount{Name: "vault-files", MountPath: secretsDir + "/" + f, SubPath: f, ReadOnly: true})
	}
	if err := probes(&main, cs.Healthcheck, svc.HealthBudget); err != nil {
		return spec, d, err
	}
	spec.Containers = []corev1.Container{main}
	spec.InitContainers = []corev1.Container{r.agentContainer(svc)}
	vol(memDir("vault-files", resource.MustParse("1Mi")))
	vol(memDir("vault-agent-tmp", resource.MustParse("1Mi")))
	vol(corev1.Volume{Name: "vault-agent-config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: svc.Name + "-vault-agent"}, DefaultMode: ptr(int32(0o444))}}})
	vol(corev1.Volume{Name: "vault-ca", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: vaultCAConfigMap}, DefaultMode: ptr(int32(0o444))}}})
	vol(corev1.Volume{Name: "vault-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr(int32(0o400)),
		Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
			Audience: "vault", ExpirationSeconds: ptr(int64(TokenExpirySeconds)), Path: "token"}}},
	}}})
	if in.component == "read" {
		spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
				Weight: 100,
				PodAffinityTerm: corev1.PodAffinityTerm{
					TopologyKey:   "kubernetes.io/hostname",
					LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelName: svc.Name, LabelComponent: in.component}},
				},
			}},
		}}
	}
	return spec, d, nil
}

// clusterEnv are settings a service needs on a cluster and not on Docker.
var clusterEnv = map[string]map[string]string{
	// A new persistent volume's root may hold lost+found, and initdb
	// refuses a data directory that is not empty: the cluster goes one
	// level down (a Docker volume starts empty).
	"postgres": {"PGDATA": "/var/lib/postgresql/data/pgdata"},
}

// literal escapes "$" as "$$": the kubelet expands $(NAME) in a
// container's command, arguments and environment values, and the shell
// text compose hands over (Kafka's "$(kafka-storage.sh random-uuid)") must
// reach the container as written.
func literal(xs []string) []string {
	if xs == nil {
		return nil
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strings.ReplaceAll(x, "$", "$$")
	}
	return out
}

// extraPorts are listeners besides the catalog's TLS ones that other
// services connect to (the compose layout reaches them by service name).
var extraPorts = map[string][]int{
	"gateway":  {8443, 8080},
	"keycloak": {9000}, // health and metrics, scraped by Prometheus
	"logstash": {5044}, // the Beats input Filebeat ships to
	"filebeat": nil,
}

func portName(p int) string { return "p" + strconv.Itoa(p) }

// agentContainer is the init container that logs in to Vault with the
// pod's projected token, writes the service's files and exits. It runs as
// the service's uid and gid, so the files are the service's own.
func (r *renderer) agentContainer(svc assets.Service) corev1.Container {
	return corev1.Container{
		Name:  "vault-agent",
		Image: r.vaultImg,
		// The image's entrypoint (hashicorp/vault 1.21.4
		// .release/docker/docker-entrypoint.sh) disables core dumps and runs
		// `vault agent` for the "agent" subcommand; SKIP_CHOWN and
		// SKIP_SETCAP keep it from changing owners and file capabilities,
		// which a non-root container cannot and need not do. The binary is
		// /bin/vault (the image's Dockerfile: COPY ... /bin/).
		Command: []string{"docker-entrypoint.sh", "agent", "-config=" + agentConfigDir + "/agent.json"},
		Env: []corev1.EnvVar{
			{Name: "HOME", Value: "/tmp"},
			{Name: "SKIP_CHOWN", Value: "true"},
			{Name: "SKIP_SETCAP", Value: "true"},
		},
		SecurityContext: containerSecurity(svc.UID, svc.GID, true),
		Resources:       memoryResources(agentMemoryMiB),
		VolumeMounts: []corev1.VolumeMount{
			{Name: "vault-agent-config", MountPath: agentConfigDir, ReadOnly: true},
			{Name: "vault-ca", MountPath: agentCADir, ReadOnly: true},
			{Name: "vault-token", MountPath: agentTokenDir, ReadOnly: true},
			{Name: "vault-files", MountPath: agentOutDir},
			{Name: "vault-agent-tmp", MountPath: "/tmp"},
		},
	}
}

// probes derives the kubelet's probes from the compose healthcheck: the
// same command; readiness and liveness as Docker's health (interval,
// timeout, retries); a startup probe allowing the service's HealthBudget.
func probes(c *corev1.Container, h composeHealth, budget time.Duration) error {
	if len(h.Test) < 2 {
		return errors.New("the compose service has no healthcheck")
	}
	var cmd []string
	switch h.Test[0] {
	case "CMD":
		cmd = h.Test[1:]
	case "CMD-SHELL":
		cmd = []string{"/bin/sh", "-c", strings.Join(h.Test[1:], " ")}
	default:
		return fmt.Errorf("healthcheck test %q is neither CMD nor CMD-SHELL", h.Test[0])
	}
	interval, err := duration(h.Interval)
	if err != nil {
		return fmt.Errorf("healthcheck interval: %w", err)
	}
	timeout, err := duration(h.Timeout)
	if err != nil {
		return fmt.Errorf("healthcheck timeout: %w", err)
	}
	startInterval, err := duration(h.StartInterval)
	if err != nil {
		return fmt.Errorf("healthcheck start_interval: %w", err)
	}
	if startInterval == 0 {
		startInterval = interval
	}
	if interval <= 0 || timeout <= 0 || h.Retries <= 0 || budget <= 0 {
		return fmt.Errorf("healthcheck needs interval, timeout, retries and a health budget (%+v, %s)", h, budget)
	}
	probe := func(period time.Duration, failures int) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: slices.Clone(cmd)}},
			PeriodSeconds:    int32(period / time.Second),
			TimeoutSeconds:   int32(timeout / time.Second),
			FailureThreshold: int32(failures),
			SuccessThreshold: 1,
		}
	}
	c.ReadinessProbe = probe(interval, h.Retries)
	c.LivenessProbe = probe(interval, h.Retries)
	c.StartupProbe = probe(startInterval, int(math.Ceil(float64(budget)/float64(startInterval))))
	return nil
}

// externalDBClient says whether a service connects to PostgreSQL.
func externalDBClient(name string) bool {
	return name == "fineract" || name == "keycloak" || name == "postgres-exporter"
}

// postgresCAPath is where a database client finds the external server's
// CA: next to the installation's CA in its TLS directory.
func postgresCAPath(service string) string {
	switch service {
	case "fineract":
		return "/etc/fineract/tls/" + postgresCAFile
	case "keycloak":
		return "/opt/keycloak/conf/tls/" + postgresCAFile
	}
	return "/etc/postgres_exporter/tls/" + postgresCAFile
}

func postgresParams(service string) string {
	return "sslmode=verify-full&sslrootcert=" + postgresCAPath(service)
}

// TenantConnParams are the JDBC parameters of Fineract's tenant databases
// on Kubernetes: the Docker target's (assets.TenantConnParams) unless an
// external database's CA must verify the server. Fineract's first start
// overwrites them in the tenant store, and the installer sets them back.
func TenantConnParams(k answers.Kubernetes) string {
	if k.Postgres.External != nil {
		return postgresParams("fineract")
	}
	return assets.TenantConnParams
}

// externalPostgresEnv points a database client at the external server,
// with full verification against its CA.
func (r *renderer) externalPostgresEnv(service string) map[string]string {
	e := r.k.Postgres.External
	if e == nil || !externalDBClient(service) {
		return nil
	}
	hp := e.Host + ":" + strconv.Itoa(e.Port)
	if strings.Contains(e.Host, ":") {
		hp = "[" + e.Host + "]:" + strconv.Itoa(e.Port)
	}
	params := postgresParams(service)
	switch service {
	case "fineract":
		return map[string]string{
			"FINERACT_HIKARI_JDBC_URL":              "jdbc:postgresql://" + hp + "/" + e.Database + "?" + params,
			"FINERACT_DEFAULT_TENANTDB_HOSTNAME":    e.Host,
			"FINERACT_DEFAULT_TENANTDB_PORT":        strconv.Itoa(e.Port),
			"FINERACT_DEFAULT_TENANTDB_CONN_PARAMS": params,
		}
	case "keycloak":
		return map[string]string{"KC_DB_URL": "jdbc:postgresql://" + hp + "/keycloak?" + params}
	}
	return map[string]string{"DATA_SOURCE_URI": hp + "/postgres?" + params}
}

// serviceObjects renders a service's ServiceAccount, ConfigMaps, Services,
// workloads and disruption budget.
func (r *renderer) serviceObjects(svc assets.Service, ns string, inst []instance, specs []corev1.PodSpec, d Delivery) error {
	r.add(&corev1.ServiceAccount{TypeMeta: typeMeta("v1", "ServiceAccount"),
		ObjectMeta: r.meta(svc.Name, ns, map[string]string{LabelName: svc.Name}), AutomountServiceAccountToken: ptr(false)})
	cfg, err := r.configMap(svc, ns)
	if err != nil {
		return err
	}
	if cfg != nil {
		r.add(cfg)
	}
	files := append(slices.Clone(d.Secrets), d.PKI...)
	agent := AgentConfig{
		VaultAddr:   r.k.Vault.Address,
		CACertPath:  agentCADir + "/ca.crt",
		Role:        VaultRole(ns, svc.Name),
		TokenPath:   agentTokenDir + "/token",
		SecretPath:  DeliveryPath(ns, svc.Name),
		OutDir:      agentOutDir,
		Files:       files,
		Base64Files: d.Base64,
		Mode:        FileMode,
	}
	js, err := agent.JSON()
	if err != nil {
		return err
	}
	r.add(&corev1.ConfigMap{TypeMeta: typeMeta("v1", "ConfigMap"), ObjectMeta: r.meta(svc.Name+"-vault-agent", ns, map[string]string{LabelName: svc.Name}),
		Data: map[string]string{"agent.json": string(js)}})
	for i, in := range inst {
		podLabels := r.labels(map[string]string{LabelName: svc.Name, LabelComponent: in.component})
		for _, n := range svc.Networks {
			podLabels[NetworkLabelPrefix+n] = memberValue
		}
		selector := &metav1.LabelSelector{MatchLabels: map[string]string{LabelPartOf: r.project, LabelName: svc.Name, LabelComponent: in.component}}
		tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels}, Spec: specs[i]}
		meta := r.meta(in.name, ns, map[string]string{LabelName: svc.Name, LabelComponent: in.component})
		// The batch instance serves no client; the others are reached by
		// their Service's name, as compose reaches them by service name.
		if ports := servicePorts(specs[i]); len(ports) > 0 && in.component != "batch" {
			r.add(&corev1.Service{TypeMeta: typeMeta("v1", "Service"), ObjectMeta: meta,
				Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: selector.MatchLabels, Ports: ports}})
		}
		switch {
		case svc.Name == "filebeat":
			// Filebeat reads each node's container logs: one pod per node.
			// Its data volume (the registry of how far each log was read)
			// belongs to the node it reads, so it is a directory on that
			// node, as a claim template cannot give a DaemonSet one.
			for _, v := range svc.DataVolumes {
				tmpl.Spec.Volumes = append(tmpl.Spec.Volumes, corev1.Volume{Name: v, VolumeSource: corev1.VolumeSource{
					HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/" + r.project + "-" + v, Type: ptr(corev1.HostPathDirectoryOrCreate)}}})
			}
			r.add(&appsv1.DaemonSet{TypeMeta: typeMeta("apps/v1", "DaemonSet"), ObjectMeta: meta,
				Spec: appsv1.DaemonSetSpec{Selector: selector, Template: tmpl}})
		case in.persistent && len(svc.DataVolumes) > 0:
			ss := &appsv1.StatefulSet{TypeMeta: typeMeta("apps/v1", "StatefulSet"), ObjectMeta: meta,
				Spec: appsv1.StatefulSetSpec{Replicas: ptr(in.replicas), Selector: selector, Template: tmpl, ServiceName: in.name,
					PodManagementPolicy: appsv1.OrderedReadyPodManagement}}
			for _, v := range svc.DataVolumes {
				ss.Spec.VolumeClaimTemplates = append(ss.Spec.VolumeClaimTemplates, r.claim(v))
			}
			r.add(ss)
		default:
			r.add(&appsv1.Deployment{TypeMeta: typeMeta("apps/v1", "Deployment"), ObjectMeta: meta,
				Spec: appsv1.DeploymentSpec{Replicas: ptr(in.replicas), Selector: selector, Template: tmpl}})
		}
		if in.component == "read" && in.replicas >= 2 {
			r.add(&policyv1.PodDisruptionBudget{TypeMeta: typeMeta("policy/v1", "PodDisruptionBudget"), ObjectMeta: meta,
				Spec: policyv1.PodDisruptionBudgetSpec{Selector: selector, MinAvailable: ptr(intstr.FromInt32(in.replicas - 1))}})
		}
	}
	if svc.Name == "gateway" {
		r.add(r.gatewayService(ns, svc))
	}
	return nil
}

// servicePorts are the pod's ports as a ClusterIP Service's.
func servicePorts(spec corev1.PodSpec) []corev1.ServicePort {
	var out []corev1.ServicePort
	for _, p := range spec.Containers[0].Ports {
		out = append(out, corev1.ServicePort{Name: p.Name, Port: p.ContainerPort, TargetPort: intstr.FromInt32(p.ContainerPort), Protocol: corev1.ProtocolTCP})
	}
	return out
}

// PublicService is the gateway's Service of type LoadBalancer or NodePort.
const PublicService = "gateway-public"

func (r *renderer) gatewayService(ns string, svc assets.Service) *corev1.Service {
	// Published are the https and http ports, as compose publishes them
	// onto the containers' 8443 and 8080.
	targets := []int32{8443, 8080}
	s := &corev1.Service{TypeMeta: typeMeta("v1", "Service"), ObjectMeta: r.meta(PublicService, ns, map[string]string{LabelName: svc.Name}),
		Spec: corev1.ServiceSpec{
			Type:                  corev1.ServiceType(r.k.GatewayService),
			Selector:              map[string]string{LabelPartOf: r.project, LabelName: svc.Name, LabelComponent: "server"},
			ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal,
		}}
	for i, p := range svc.Published {
		sp := corev1.ServicePort{Name: []string{"https", "http"}[i], Port: int32(p), TargetPort: intstr.FromInt32(targets[i]), Protocol: corev1.ProtocolTCP}
		if i == 0 && r.k.GatewayService == answers.GatewayNodePort && r.k.NodePort != 0 {
			sp.NodePort = int32(r.k.NodePort)
		}
		s.Spec.Ports = append(s.Spec.Ports, sp)
	}
	return s
}

// volumeSizes are the data volumes' requested sizes; a volume not named
// gets defaultVolumeSize.
var volumeSizes = map[string]string{
	"postgres-data":      "20Gi",
	"prometheus-data":    "25Gi", // retention.size 20GB plus the head block
	"elasticsearch-data": "50Gi",
	"kafka-data":         "10Gi",
	"fineract-home":      "5Gi",
}

const defaultVolumeSize = "1Gi"

func (r *renderer) claim(name string) corev1.PersistentVolumeClaim {
	size := volumeSizes[name]
	if size == "" {
		size = defaultVolumeSize
	}
	c := corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: r.labels(nil)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
		},
	}
	if r.k.StorageClass != "" {
		c.Spec.StorageClassName = ptr(r.k.StorageClass)
	}
	return c
}

// configMap holds the rendered configuration files the compose service
// bind-mounts, keyed by base name; nil when it mounts none.
func (r *renderer) configMap(svc assets.Service, ns string) (*corev1.ConfigMap, error) {
	cs := r.compose.Services[svc.Name]
	data := map[string]string{}
	for _, v := range cs.Volumes {
		if !strings.HasPrefix(v.Source, "./config/") {
			continue
		}
		f, _ := r.bundle.File(strings.TrimPrefix(v.Source, "./"))
		content := f.Data
		if svc.Name == "gateway" && path.Base(f.Path) == "nginx.conf" {
			var err error
			if content, err = r.gatewayConf(content); err != nil {
				return nil, err
			}
		}
		data[configKeyRE.ReplaceAllString(path.Base(v.Source), "_")] = string(content)
	}
	if len(data) == 0 {
		return nil, nil
	}
	return &corev1.ConfigMap{TypeMeta: typeMeta("v1", "ConfigMap"), ObjectMeta: r.meta(svc.Name+"-config", ns, map[string]string{LabelName: svc.Name}), Data: data}, nil
}

var (
	dockerResolver = regexp.MustCompile(`(?m)^(\s*)resolver 127\.0\.0\.11 (.*)$`)
	upstreamRE     = regexp.MustCompile(`(?m)^(\s*)set \$upstream https://([a-z0-9-]+):([0-9]+);$`)
)

// gatewayConf adapts the gateway's nginx.conf to the cluster's DNS: nginx
// resolves upstreams itself, at request time, without the resolver's
// search list, so Docker's embedded resolver becomes kube-dns and each
// upstream its Service's full name; proxy_ssl_name keeps verifying the
// upstream's certificate for the short name it is issued to.
func (r *renderer) gatewayConf(conf []byte) ([]byte, error) {
	if !dockerResolver.Match(conf) || !upstreamRE.Match(conf) {
		return nil, errors.New("the gateway's nginx.conf no longer has the resolver and upstream lines the Kubernetes target adapts")
	}
	conf = dockerResolver.ReplaceAll(conf, []byte("${1}resolver kube-dns.kube-system.svc."+ClusterDomain+" ${2}"))
	conf = upstreamRE.ReplaceAll(conf, []byte("${1}set $$upstream https://${2}."+r.ns+".svc."+ClusterDomain+":${3};\n${1}proxy_ssl_name ${2};"))
	if bytes.Contains(conf, []byte("127.0.0.11")) {
		return nil, errors.New("the gateway's nginx.conf still names Docker's resolver")
	}
	return conf, nil
}

func toUnstructured(o runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, fmt.Errorf("convert %T: %w", o, err)
	}
	u := &unstructured.Unstructured{Object: m}
	// The typed objects' zero values (creationTimestamp: null, status: {})
	// are not the installer's to set: leave them to the API server.
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	for _, f := range []string{"updateStrategy", "strategy"} {
		if m, ok, _ := unstructured.NestedMap(u.Object, "spec", f); ok && len(m) == 0 {
			unstructured.RemoveNestedField(u.Object, "spec", f)
		}
	}
	if tmpl, ok, _ := unstructured.NestedMap(u.Object, "spec", "template", "metadata"); ok {
		delete(tmpl, "creationTimestamp")
		_ = unstructured.SetNestedMap(u.Object, tmpl, "spec", "template", "metadata")
	}
	if claims, ok, _ := unstructured.NestedSlice(u.Object, "spec", "volumeClaimTemplates"); ok {
		for _, c := range claims {
			cm := c.(map[string]any)
			unstructured.RemoveNestedField(cm, "metadata", "creationTimestamp")
			delete(cm, "status")
		}
		_ = unstructured.SetNestedSlice(u.Object, claims, "spec", "volumeClaimTemplates")
	}
	return u, nil
}
