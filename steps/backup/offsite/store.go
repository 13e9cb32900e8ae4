// Package offsite mirrors the backup repository to an S3-compatible
// object store off the host.
//
// The base backups (REPO/base/*.fibackup) and archived WAL files
// (REPO/wal/*.fiwal) are copied to <prefix>/base/ and <prefix>/wal/ in
// the bucket. They are already encrypted and authenticated (packages
// archive and wal), so the store never sees a plain byte of the database
// and cannot change one unnoticed; what this package adds is that a copy
// counts only once it has been read back from the store and its SHA-256
// matches the local object. <prefix>/last-copy.json, written last, says
// when the last complete copy ended and what it held.
//
// The local repository is only read: a copy never deletes, renames or
// writes anything there. REPO/wal is writable by PostgreSQL's uid, so it
// is read through os.Root and O_NOFOLLOW, and only regular files with the
// expected names are taken.
package offsite

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// Credentials are the store's access key and secret key, kept in Vault
// (vault.OffsiteKey).
type Credentials struct {
	AccessKey string
	SecretKey string
}

// Config is one store to copy to.
type Config struct {
	Target answers.S3Target
	// Prefix is the key prefix (the target's, or the project name).
	Prefix string
	// Roots are the certificate authorities trusted for the endpoint
	// (see Roots).
	Roots       *x509.CertPool
	Credentials Credentials
}

// Store is a connection to the bucket holding the off-host copy.
type Store struct {
	client   *minio.Client
	bucket   string
	prefix   string
	endpoint string
}

// Bounds of the network work: a store that does not answer fails the
// copy within minutes rather than hanging a scheduled backup.
const (
	dialTimeout           = 10 * time.Second
	responseHeaderTimeout = 2 * time.Minute
	// maxRetries covers a brief outage; an unreachable store is
	// reported, and the next copy catches up.
	maxRetries = 3
)

// Open checks cfg and connects (lazily: the first request reaches the
// store).
func Open(cfg Config) (*Store, error) {
	t := cfg.Target
	u, err := url.Parse(t.Endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("off-host store endpoint %q is not an address like https://host:port", t.Endpoint)
	}
	secure := u.Scheme == "https"
	if !secure && !(u.Scheme == "http" && t.Insecure) {
		return nil, fmt.Errorf("off-host store endpoint %q: only https, or http with insecure: true (demo profile)", t.Endpoint)
	}
	if cfg.Credentials.AccessKey == "" || cfg.Credentials.SecretKey == "" {
		return nil, errors.New("the off-host store's access key or secret key is empty")
	}
	if cfg.Prefix == "" {
		return nil, errors.New("the off-host copy has no key prefix")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // the store is named in the answers; no proxy from the environment sees its traffic
	tr.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = responseHeaderTimeout
	tr.TLSClientConfig = &tls.Config{RootCAs: cfg.Roots, MinVersion: tls.VersionTLS12}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.Credentials.AccessKey, cfg.Credentials.SecretKey, ""),
		Secure:       secure,
		Region:       t.RegionOrDefault(),
		BucketLookup: minio.BucketLookupPath, // works with any server name and certificate
		Transport:    tr,
		MaxRetries:   maxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("off-host store %s: %w", t.Endpoint, err)
	}
	return &Store{client: c, bucket: t.Bucket, prefix: cfg.Prefix, endpoint: t.Endpoint}, nil
}

// Roots are the authorities trusted for the store: the system's, the
// installation's own CA (installCA, PEM; may be nil) and the PEM file
// caCert names (may be "").
func Roots(installCA []byte, caCert string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if len(installCA) > 0 && !pool.AppendCertsFromPEM(installCA) {
		return nil, errors.New("the installation's CA certificate holds no PEM certificate")
	}
	if caCert != "" {
		pem, err := os.ReadFile(caCert)
		if err != nil {
			return nil, fmt.Errorf("read the off-host store's CA certificate: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caCert)
		}
	}
	return pool, nil
}

func (s *Store) key(parts ...string) string {
	k := s.prefix
	for _, p := range parts {
		k += "/" + p
	}
	return k
}

// Location names the copy for people: endpoint, bucket and prefix.
func (s *Store) Location() string {
	return fmt.Sprintf("%s/%s/%s", s.endpoint, s.bucket, s.prefix)
}
