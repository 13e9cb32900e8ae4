// Package answers holds the installer's answers: everything a person decides
// about an installation, as plain data that can be saved to and loaded from a
// YAML answers file. Answers never hold a secret.
package answers

import (
	"net/netip"
	"os"
	"path/filepath"
)

// Profile selects safe production defaults or a convenient demo setup.
type Profile string

// The two profiles.
const (
	Production Profile = "production"
	Demo       Profile = "demo"
)

// Service groups a person can select. Core is always installed.
const (
	GroupCore       = "core"
	GroupIdentity   = "identity"
	GroupMessaging  = "messaging"
	GroupMonitoring = "monitoring"
	GroupLogging    = "logging"
)

// Groups lists every service group in installation order.
var Groups = []string{GroupCore, GroupIdentity, GroupMessaging, GroupMonitoring, GroupLogging}

// Key custody choices for Vault's unseal key shares.
const (
	// CustodyShow shows the shares once and asks the operator to prove one was recorded.
	CustodyShow = "show"
	// CustodyFile keeps the shares in a passphrase-encrypted file (demo only).
	CustodyFile = "file"
)

// Certificate sources.
const (
	CertGenerate = "generate"
	CertImport   = "import"
)

// Image sources.
const (
	ImagesRegistry = "registry"
	ImagesBundle   = "bundle"
)

// Answers is the complete, secret-free description of one installation.
type Answers struct {
	Version      int          `yaml:"version"`
	Profile      Profile      `yaml:"profile"`
	Host         Host         `yaml:"host"`
	Vault        Vault        `yaml:"vault"`
	Certificates Certificates `yaml:"certificates"`
	Gateway      Gateway      `yaml:"gateway"`
	Network      Network      `yaml:"network"`
	Groups       []string     `yaml:"groups"`
	InstallDir   string       `yaml:"install_dir"`
	Images       Images       `yaml:"images"`
	// ServiceIDsFrom starts the block of uids and gids the services run
	// as: each service has its own, which no account on the host may use.
	ServiceIDsFrom int `yaml:"service_ids_from"`
	// LogRetentionDays is how long the logging group keeps container logs
	// in Elasticsearch before deleting them.
	LogRetentionDays int `yaml:"log_retention_days"`
	// Credentials says how the passwords the installer sets reach the
	// operator when no terminal is there to show them.
	Credentials Credentials `yaml:"credentials,omitempty"`
	// Backup is continuous WAL archiving and the backup repository.
	Backup Backup `yaml:"backup"`
	// Kubernetes lays the stack out on Kubernetes (--target kubernetes);
	// nil for the Docker target.
	Kubernetes *Kubernetes `yaml:"kubernetes,omitempty"`
}

// Credentials is how the administrator passwords the installer sets are
// handed out without a terminal.
type Credentials struct {
	// PGPKey is a base64 OpenPGP public key, as vault.pgp_keys takes them:
	// the passwords are encrypted to it. Without it they go to a file
	// only root reads.
	PGPKey string `yaml:"pgp_key,omitempty"`
}

// Log retention defaults: production keeps 90 days of logs, a common
// minimum for investigating an incident after the fact; a demo keeps a
// week, so a classroom machine's disk does not fill.
const (
	DefaultLogRetentionDaysProduction = 90
	DefaultLogRetentionDaysDemo       = 7
	// MaxLogRetentionDays bounds the answer at ten years.
	MaxLogRetentionDays = 3650
)

// DefaultServiceIDsFrom is above the ranges Debian and Ubuntu hand to
// people (1000-59999), systemd's dynamic users (61184-65519) and nobody
// (65534), and below the subordinate ranges rootless containers get
// (100000 and up).
const DefaultServiceIDsFrom = 70000

// ServiceIDsBlock is how many ids from ServiceIDsFrom on are reserved for
// the services.
const ServiceIDsBlock = 100

// Host is how people and browsers reach the gateway.
type Host struct {
	Hostname string   `yaml:"hostname"`
	IPs      []string `yaml:"ips"`
}

// Vault holds the key-sharing choices made at Vault initialisation.
type Vault struct {
	KeyShares    int      `yaml:"key_shares"`
	KeyThreshold int      `yaml:"key_threshold"`
	Custody      string   `yaml:"custody"`
	PGPKeys      []string `yaml:"pgp_keys,omitempty"`
}

// Certificates says where the stack's certificates come from.
type Certificates struct {
	Source string `yaml:"source"`
	// CACert and CAKey import an existing CA that signs every service certificate.
	CACert string `yaml:"ca_cert,omitempty"`
	CAKey  string `yaml:"ca_key,omitempty"`
	// GatewayChain and GatewayKey import a ready public certificate for the gateway.
	GatewayChain string `yaml:"gateway_chain,omitempty"`
	GatewayKey   string `yaml:"gateway_key,omitempty"`
}

// Gateway configures the one published service.
type Gateway struct {
	HTTPSPort int `yaml:"https_port"`
	HTTPPort  int `yaml:"http_port"`
	// BindIP restricts the published ports to one host address ("" = all).
	BindIP string `yaml:"bind_ip,omitempty"`
	// AllowTLS12 lets old clients connect with TLS 1.2; TLS 1.3 only otherwise.
	AllowTLS12 bool `yaml:"allow_tls12"`
}

// Network is the four-network layout.
type Network struct {
	DMZ        Segment `yaml:"dmz"`
	App        Segment `yaml:"app"`
	Data       Segment `yaml:"data"`
	Monitoring Segment `yaml:"monitoring"`
}

// Segment is one Docker network.
type Segment struct {
	Name   string `yaml:"name"`
	Subnet string `yaml:"subnet"`
}

// Images says where container images come from.
type Images struct {
	Source string `yaml:"source"`
	// Bundle is a `docker save` tarball holding every image, for offline hosts.
	Bundle string `yaml:"bundle,omitempty"`
}

// Segments returns the network segments keyed by their role.
func (n Network) Segments() map[string]Segment {
	return map[string]Segment{"dmz": n.DMZ, "app": n.App, "data": n.Data, "monitoring": n.Monitoring}
}

// Defaults returns the answers a person starts from for a profile.
func Defaults(p Profile) Answers {
	a := Answers{
		Version: 1,
		Profile: p,
		Host:    Host{Hostname: "fineract.local", IPs: nil},
		Vault:   Vault{KeyShares: 5, KeyThreshold: 3, Custody: CustodyShow},
		Certificates: Certificates{
			Source: CertGenerate,
		},
		Gateway: Gateway{HTTPSPort: 443, HTTPPort: 80},
		Network: Network{
			DMZ:        Segment{Name: "dmz", Subnet: "10.231.10.0/24"},
			App:        Segment{Name: "app", Subnet: "10.231.20.0/24"},
			Data:       Segment{Name: "data", Subnet: "10.231.30.0/24"},
			Monitoring: Segment{Name: "monitoring", Subnet: "10.231.40.0/24"},
		},
		Groups:           []string{GroupCore},
		InstallDir:       DefaultInstallDir(),
		Images:           Images{Source: ImagesRegistry},
		ServiceIDsFrom:   DefaultServiceIDsFrom,
		LogRetentionDays: DefaultLogRetentionDaysProduction,
		Backup:           defaultBackup(p),
	}
	if p == Demo {
		a.Vault = Vault{KeyShares: 1, KeyThreshold: 1, Custody: CustodyFile}
		a.LogRetentionDays = DefaultLogRetentionDaysDemo
		a.Groups = []string{GroupCore, GroupMonitoring}
	}
	return a
}

// DefaultInstallDir is /opt/fineract-stack for root and a per-user data
// directory otherwise, so a non-root trial never needs sudo for its files.
func DefaultInstallDir() string {
	if os.Geteuid() == 0 {
		return "/opt/fineract-stack"
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "fineract-stack")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "fineract-stack")
	}
	return "fineract-stack"
}

// HasGroup reports whether a group is selected (core always is).
func (a Answers) HasGroup(g string) bool {
	if g == GroupCore {
		return true
	}
	for _, s := range a.Groups {
		if s == g {
			return true
		}
	}
	return false
}

// GatewayIPs parses the configured host IPs.
func (a Answers) GatewayIPs() ([]netip.Addr, error) {
	out := make([]netip.Addr, 0, len(a.Host.IPs))
	for _, s := range a.Host.IPs {
		ip, err := ParseHostAddr(s)
		if err != nil {
			return nil, FieldError("host.ips", "host.ips: %v", err)
		}
		out = append(out, ip)
	}
	return out, nil
}
