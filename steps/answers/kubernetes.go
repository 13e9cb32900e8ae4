package answers

import (
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
)

// Kubernetes is how the stack is laid out when it is rendered as
// Kubernetes manifests (render/install --target kubernetes). The Docker
// target ignores it.
type Kubernetes struct {
	// Namespace is the namespace of the stack; default: the project name.
	// A workload that cannot meet Pod Security "restricted" goes to
	// <namespace>-<level>.
	Namespace string `yaml:"namespace,omitempty"`
	// GatewayService is the gateway Service's type: LoadBalancer (default)
	// or NodePort.
	GatewayService string `yaml:"gateway_service,omitempty"`
	// NodePort is the node port of the gateway's https port (NodePort
	// only); 0 lets the cluster choose.
	NodePort int `yaml:"node_port,omitempty"`
	// StorageClass is the storage class of the data volumes; empty means
	// the cluster's default class.
	StorageClass string             `yaml:"storage_class,omitempty"`
	Fineract     KubernetesFineract `yaml:"fineract"`
	Vault        KubernetesVault    `yaml:"vault"`
	Postgres     KubernetesPostgres `yaml:"postgres"`
}

// KubernetesFineract is how Fineract is split into instance types
// (apache/fineract 1.14.0 fineract-provider/src/main/resources/
// application.properties: fineract.mode.read-enabled, write-enabled,
// batch-worker-enabled and batch-manager-enabled, set by
// FINERACT_MODE_READ_ENABLED, _WRITE_ENABLED, _BATCH_WORKER_ENABLED and
// _BATCH_MANAGER_ENABLED).
type KubernetesFineract struct {
	// ReadReplicas is the number of read-only instances besides the one
	// write instance; 0 runs the write instance alone, as on Docker.
	ReadReplicas int `yaml:"read_replicas"`
	// BatchInstance runs the batch jobs (manager and worker) in an
	// instance of their own instead of the write instance.
	BatchInstance bool `yaml:"batch_instance"`
}

// KubernetesVault is the Vault the pods' agents log in to.
type KubernetesVault struct {
	// Address is Vault's https URL as the pods reach it.
	Address string `yaml:"address"`
	// CACert is a PEM file of the CA Vault's certificate chains to; empty
	// when the installation's own CA signs Vault.
	CACert string `yaml:"ca_cert,omitempty"`
}

// KubernetesPostgres says where the database runs.
type KubernetesPostgres struct {
	// External is a managed PostgreSQL the stack connects to with TLS
	// (sslmode=verify-full); nil runs PostgreSQL in the cluster.
	External *ExternalPostgres `yaml:"external,omitempty"`
}

// ExternalPostgres is a PostgreSQL server outside the cluster.
type ExternalPostgres struct {
	Host string `yaml:"host"`
	// Port defaults to 5432.
	Port int `yaml:"port,omitempty"`
	// Database is Fineract's tenant store database; default
	// fineract_tenants (the tenant database stays fineract_default,
	// Keycloak's keycloak).
	Database string `yaml:"database,omitempty"`
	// CACert is the PEM file of the CA the server's certificate chains to.
	CACert string `yaml:"ca_cert"`
}

// Kubernetes defaults and bounds.
const (
	GatewayLoadBalancer    = "LoadBalancer"
	GatewayNodePort        = "NodePort"
	DefaultPostgresPort    = 5432
	DefaultTenantsDatabase = "fineract_tenants"
	// MaxFineractReadReplicas bounds read_replicas: every instance holds
	// its own connection pool on one database.
	MaxFineractReadReplicas  = 20
	minNodePort, maxNodePort = 30000, 32767
)

var (
	// A DNS-1123 label, as Kubernetes names namespaces; 50 characters
	// leave room for the -<level> suffix of a weaker namespace.
	namespaceRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,48}[a-z0-9])?$`)
	// A DNS-1123 subdomain, as Kubernetes names storage classes.
	storageClassRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)
	databaseRE     = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
)

// WithDefaults fills what the answers leave out: the namespace from the
// project name, the gateway Service type, the external database's port
// and database.
func (k Kubernetes) WithDefaults(project string) Kubernetes {
	if k.Namespace == "" {
		k.Namespace = project
	}
	if k.GatewayService == "" {
		k.GatewayService = GatewayLoadBalancer
	}
	if e := k.Postgres.External; e != nil {
		c := *e
		if c.Port == 0 {
			c.Port = DefaultPostgresPort
		}
		if c.Database == "" {
			c.Database = DefaultTenantsDatabase
		}
		k.Postgres.External = &c
	}
	return k
}

// Validate checks the Kubernetes settings.
func (k Kubernetes) Validate() error {
	var ps problems
	k.validate(&ps, "kubernetes")
	if len(ps) > 0 {
		return ps.errors()
	}
	return nil
}

func (k Kubernetes) validate(ps *problems, path string) {
	if k.Namespace != "" && !namespaceRE.MatchString(k.Namespace) {
		ps.add(path+".namespace", "%s.namespace %q is not a namespace name: up to 50 lower-case letters, digits and '-', starting and ending with a letter or digit (leave it out for the project name)", path, k.Namespace)
	}
	switch k.GatewayService {
	case "", GatewayLoadBalancer:
		if k.NodePort != 0 {
			ps.add(path+".node_port", "%s.node_port is set but gateway_service is %s; set gateway_service: NodePort or leave node_port out", path, GatewayLoadBalancer)
		}
	case GatewayNodePort:
		if k.NodePort != 0 && (k.NodePort < minNodePort || k.NodePort > maxNodePort) {
			ps.add(path+".node_port", "%s.node_port %d is outside Kubernetes' default node port range %d-%d; choose one in it, or leave it out for the cluster to choose", path, k.NodePort, minNodePort, maxNodePort)
		}
	default:
		ps.add(path+".gateway_service", "%s.gateway_service %q is not known; use LoadBalancer or NodePort", path, k.GatewayService)
	}
	if k.StorageClass != "" && !storageClassRE.MatchString(k.StorageClass) {
		ps.add(path+".storage_class", "%s.storage_class %q is not a storage class name (lower-case letters, digits, '-' and '.'); `kubectl get storageclass` lists them", path, k.StorageClass)
	}
	if r := k.Fineract.ReadReplicas; r < 0 || r > MaxFineractReadReplicas {
		ps.add(path+".fineract.read_replicas", "%s.fineract.read_replicas %d: give 0 (one instance, as on Docker) up to %d read-only instances", path, r, MaxFineractReadReplicas)
	}
	k.validateVault(ps, path+".vault")
	if e := k.Postgres.External; e != nil {
		e.validate(ps, path+".postgres.external")
	}
}

func (k Kubernetes) validateVault(ps *problems, path string) {
	v := k.Vault
	u, err := url.Parse(v.Address)
	switch {
	case v.Address == "":
		ps.add(path+".address", "%s.address is empty; give the https URL the pods reach Vault at, e.g. https://vault.example.net:8200", path)
	case err != nil || u.Scheme != "https" || u.Hostname() == "" || u.Opaque != "":
		ps.add(path+".address", "%s.address %q is not an https URL such as https://vault.example.net:8200", path, v.Address)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		ps.add(path+".address", "%s.address %q must be scheme, host and port only", path, v.Address)
	case u.Port() != "":
		if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
			ps.add(path+".address", "%s.address %q has a port outside 1-65535", path, v.Address)
		}
	}
	if v.CACert != "" && !filepath.IsAbs(v.CACert) {
		ps.add(path+".ca_cert", "%s.ca_cert %q must be an absolute path to a PEM file (or leave it out when the installation's CA signs Vault)", path, v.CACert)
	}
}

func (e ExternalPostgres) validate(ps *problems, path string) {
	if e.Host == "" {
		ps.add(path+".host", "%s.host is empty; give the database server's DNS name or IP address as its certificate names it (sslmode=verify-full checks it)", path)
	} else if net.ParseIP(e.Host) == nil && !validHostname(e.Host) {
		ps.add(path+".host", "%s.host %q is neither a DNS name nor an IP address", path, e.Host)
	}
	if e.Port != 0 && (e.Port < 1 || e.Port > 65535) {
		ps.add(path+".port", "%s.port %d must be between 1 and 65535 (default %d)", path, e.Port, DefaultPostgresPort)
	}
	if e.Database != "" && !databaseRE.MatchString(e.Database) {
		ps.add(path+".database", "%s.database %q: use lower-case letters, digits and '_' (default %s)", path, e.Database, DefaultTenantsDatabase)
	}
	if e.CACert == "" || !filepath.IsAbs(e.CACert) {
		ps.add(path+".ca_cert", "%s.ca_cert %q must be the absolute path of the PEM file of the CA that signs the server's certificate: the connection verifies it (sslmode=verify-full)", path, e.CACert)
	}
}

// VaultHostPort is Vault's host and port (443 when the URL names none).
func (v KubernetesVault) VaultHostPort() (host string, port int, err error) {
	u, err := url.Parse(v.Address)
	if err != nil {
		return "", 0, FieldError("kubernetes.vault.address", "kubernetes.vault.address %q: %v", v.Address, err)
	}
	port = 443
	if u.Port() != "" {
		if port, err = strconv.Atoi(u.Port()); err != nil {
			return "", 0, FieldError("kubernetes.vault.address", "kubernetes.vault.address %q has no numeric port", v.Address)
		}
	}
	return u.Hostname(), port, nil
}
