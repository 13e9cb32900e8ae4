package assets

import (
	"fmt"
	"io/fs"
	"net/netip"
	"time"
)

// Options are rendering inputs that are not answers.
type Options struct {
	// Project is the compose project name, e.g. "fineract".
	Project string
	// SecretsDir is the absolute host directory the vault step fills with
	// one subdirectory per service: SecretsDir/<service>/<file>.
	SecretsDir string
	// Images replaces the pinned reference of the services it names: an
	// installation's recorded references, to render the stack as it was
	// installed (an upgrade's way back). A service it does not name keeps
	// this release's pin.
	Images map[string]string
}

// File is one rendered file of a bundle.
type File struct {
	// Path is relative to the install directory, slash-separated.
	Path string
	Data []byte
	Mode fs.FileMode
	// AppliedBy, when set, names the service whose API the installer sends
	// the file to: no container mounts it.
	AppliedBy string
}

// Bundle is a rendered stack: the compose file, every configuration file and
// what each service needs from the other steps.
type Bundle struct {
	// ComposeFile is the compose file's path inside the bundle.
	ComposeFile string
	// Files holds the compose file and every rendered config file, sorted by Path.
	Files []File
	// Services lists every rendered service, in installation order.
	Services []Service
	// Logs is where the logging group keeps container logs; nil without it.
	Logs *LogStore
	// Installer is the delivery of secrets only the installer reads (no
	// container, uid and gid 0): see InstallerName.
	Installer Service
}

// Service describes what one rendered service needs, for the pki and vault
// steps and for validation.
type Service struct {
	Name  string
	Group string
	Image string
	// UID and GID are the ids the container runs as; they own the service's
	// key and secret files and its data volumes.
	UID, GID int
	// OwnUID and OwnGID say the uid, the gid, is the service's own (from
	// the answers' service_ids_from block), which no host account may
	// share. Where the image needs a shared id, IDsReason says why.
	OwnUID, OwnGID bool
	IDsReason      string
	// Certs are the certificates the pki step must issue for the service.
	Certs []CertNeed
	// Secrets are the files the vault step must write into SecretsDir/<Name>/.
	Secrets []SecretNeed
	// MemoryMiB is the container's memory limit for the rendered profile.
	MemoryMiB int
	// Published are the host ports the service publishes (gateway only).
	Published []int
	// ReadOnlyException is non-empty when the root filesystem cannot be
	// read-only: it says why.
	ReadOnlyException string
	// RootReason is non-empty when the container must run as uid 0: it says why.
	RootReason string
	// WritableBinds are the host directories the service mounts
	// read-write, as the compose file names them (relative to the install
	// directory or absolute): the WAL repository PostgreSQL archives into.
	WritableBinds []string
	// Networks are the network roles the service joins (dmz, app, data, monitoring).
	Networks []string
	// DataVolumes are the named volumes (compose keys) that hold its state.
	DataVolumes []string
	// HealthBudget is how long a first start may take before the service is
	// healthy (Fineract's first start runs its database migrations).
	HealthBudget time.Duration
	// TLS lists the service's TLS listeners inside its container.
	TLS []TLSEndpoint
	// JavaTrustStore asks the pki step for pki/TrustStoreFile: the service's
	// JVM must trust the installer's CA for outbound calls it cannot be
	// given a PEM file for.
	JavaTrustStore bool
}

// TrustStoreFile is the file name, under the install directory's pki/, of
// the password-less PKCS#12 trust store holding the installer's CA, for JVMs
// (see Service.JavaTrustStore).
const TrustStoreFile = "ca-truststore.p12"

// CertNeed is one certificate a service needs. The pki step writes
// pki/<Name>.crt and pki/<Name>.key (PKCS#8) owned by the service's UID:GID.
type CertNeed struct {
	// Name is the file base name under pki/.
	Name string
	// CommonName is the subject CN. The subject is exactly CN=<CommonName>;
	// Kafka and Elasticsearch map client certificates to principals by it.
	CommonName string
	// DNSNames and IPs become the subject alternative names.
	DNSNames []string
	IPs      []netip.Addr
	// Server and Client select the extended key usages.
	Server, Client bool
	// Public marks the certificate browsers see (the gateway's). It alone
	// may be a certificate the operator imports (answers: gateway_chain).
	Public bool
	// CombinedPEM also asks for pki/<Name>.pem: the PKCS#8 key followed by
	// the certificate chain in one file, owned and protected like the key.
	// Kafka's PEM key stores (broker and clients) read that form only.
	CombinedPEM bool
}

// User is the service's "uid:gid", as compose's user setting and docker
// exec take it. Numeric ids, because a name would be looked up in the
// image's own /etc/passwd, which does not know the service's own ids.
func (s Service) User() string { return fmt.Sprintf("%d:%d", s.UID, s.GID) }

// SecretFiles lists the names of the service's secret files, each once,
// in the order of its needs (needs sharing a File make one file).
func (s Service) SecretFiles() []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range s.Secrets {
		if !seen[n.File] {
			seen[n.File] = true
			out = append(out, n.File)
		}
	}
	return out
}

// SecretNeed is one secret file a service reads. The vault step keeps the
// value at VaultPath/Key (generating it by Generate the first time) and
// writes Content(value) to SecretsDir/<service>/<File>, readable only by the
// service's uid. Several needs of one service may name the same File: the
// file then holds their contents one after another, in order.
type SecretNeed struct {
	// File is the file name in the service's secrets directory, and the name
	// the container sees under /run/secrets/.
	File string
	// VaultPath is the KV path, under banking/databases/ or banking/services/
	// (or WALKey's banking/installer/wal-archive).
	VaultPath string
	// Key is the key inside the KV secret at VaultPath.
	Key string
	// Generate says how to create the value when Vault does not hold it yet.
	Generate Generator
	// Format says how the file content is derived from the value.
	Format SecretFormat
}

// Generator is the rule for creating a secret value.
type Generator struct {
	Length  int
	Charset string // one of the Charset* constants
}

// Character sets for generated secrets. Alphanumeric values need no quoting
// in any configuration format the stack uses.
const (
	CharsetAlnum = "alnum" // A-Z a-z 0-9
	// CharsetPassword is for passwords people type: A-Z a-z 0-9 - _ .,
	// every class present.
	CharsetPassword = "password"
	// CharsetRandomBytes: Length random bytes in standard base64, for a key
	// a program uses as bytes.
	CharsetRandomBytes = "random-bytes"
)

// TLSEndpoint is one TLS listener of a service, as its configuration sets it.
type TLSEndpoint struct {
	Port int
	// MinTLS13 says the listener refuses TLS 1.2.
	MinTLS13 bool
	// Postgres says TLS starts after PostgreSQL's SSLRequest.
	Postgres bool
}
