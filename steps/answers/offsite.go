package answers

import (
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
)

// Offsite is where the backup repository is mirrored off the host.
type Offsite struct {
	S3 *S3Target `yaml:"s3,omitempty"`
}

// S3Target is an S3-compatible object store holding the off-host copy.
// Its access key and secret key live in Vault, never in the answers.
type S3Target struct {
	// Endpoint is https://host[:port]; http only with Insecure, and never
	// in the production profile.
	Endpoint string `yaml:"endpoint"`
	Bucket   string `yaml:"bucket"`
	// Prefix is the key prefix of the copy in the bucket; default: the
	// project name.
	Prefix string `yaml:"prefix,omitempty"`
	// Region is the bucket's region; default us-east-1.
	Region string `yaml:"region,omitempty"`
	// CACert is a PEM file trusted for the endpoint besides the system
	// roots and the installation's own CA.
	CACert string `yaml:"ca_cert,omitempty"`
	// Insecure allows a plain http endpoint (demo profile only): the
	// objects are encrypted and authenticated, but the store's
	// credentials and the listing would cross the network in the clear.
	Insecure bool `yaml:"insecure,omitempty"`
}

// DefaultS3Region is the region signed for when none is given; most
// S3-compatible servers accept it whatever their location.
const DefaultS3Region = "us-east-1"

// RegionOrDefault is the region, DefaultS3Region when none is given.
func (s S3Target) RegionOrDefault() string {
	if s.Region == "" {
		return DefaultS3Region
	}
	return s.Region
}

// PrefixOr is the key prefix, project when none is given.
func (s S3Target) PrefixOr(project string) string {
	if s.Prefix == "" {
		return project
	}
	return s.Prefix
}

var (
	// Bucket names as S3 defines them (3-63 characters, lower case,
	// digits, dots and hyphens, starting and ending with a letter or
	// digit).
	s3BucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	// A prefix is one or more path segments of safe characters, each
	// starting with a letter or digit: no empty, "." or ".." segment,
	// nothing that needs escaping in a URL.
	s3PrefixRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$`)
	s3RegionRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
)

// Validate checks the off-host copy's settings for profile.
func (o Offsite) Validate(profile Profile) error {
	var ps problems
	o.validate(&ps, profile, "backup.offsite")
	if len(ps) > 0 {
		return ps.errors()
	}
	return nil
}

func (o Offsite) validate(ps *problems, profile Profile, path string) {
	s := o.S3
	if s == nil {
		return
	}
	path += ".s3"
	u, err := url.Parse(s.Endpoint)
	switch {
	case s.Endpoint == "":
		ps.add(path+".endpoint", "%s.endpoint is empty; give the store's address, https://host:port", path)
	case err != nil || u.Host == "" || u.Opaque != "":
		ps.add(path+".endpoint", "%s.endpoint %q is not an address like https://host:port", path, s.Endpoint)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		ps.add(path+".endpoint", "%s.endpoint %q must be scheme, host and port only: put the bucket in bucket and the key prefix in prefix, and the credentials in Vault (`fineract-installer backup offsite set-credentials`)", path, s.Endpoint)
	case u.Scheme == "https":
	case u.Scheme == "http" && profile == Production:
		ps.add(path+".endpoint", "%s.endpoint %q is plain http, which the production profile refuses: the store's credentials would cross the network in the clear; use https (ca_cert names the CA to trust when it is a private one)", path, s.Endpoint)
	case u.Scheme == "http" && !s.Insecure:
		ps.add(path+".endpoint", "%s.endpoint %q is plain http: the store's credentials would cross the network in the clear; use https, or set %s.insecure: true to accept that on a demo", path, s.Endpoint, path)
	case u.Scheme == "http":
	default:
		ps.add(path+".endpoint", "%s.endpoint %q must start with https://", path, s.Endpoint)
	}
	if err == nil && u.Host != "" {
		if _, port, perr := net.SplitHostPort(u.Host); perr == nil && port == "" {
			ps.add(path+".endpoint", "%s.endpoint %q has an empty port; leave out the colon or give the port", path, s.Endpoint)
		}
	}
	if !s3BucketRE.MatchString(s.Bucket) || strings.Contains(s.Bucket, "..") || net.ParseIP(s.Bucket) != nil {
		ps.add(path+".bucket", "%s.bucket %q is not an S3 bucket name: 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit", path, s.Bucket)
	}
	if s.Prefix != "" && (len(s.Prefix) > 200 || !s3PrefixRE.MatchString(s.Prefix)) {
		ps.add(path+".prefix", "%s.prefix %q: use path segments of letters, digits, '.', '-' and '_' separated by '/', no '.' or '..' segment, up to 200 characters (or leave it out for the project name)", path, s.Prefix)
	}
	if s.Region != "" && !s3RegionRE.MatchString(s.Region) {
		ps.add(path+".region", "%s.region %q is not a region name (lower-case letters, digits and hyphens), e.g. %s", path, s.Region, DefaultS3Region)
	}
	if s.CACert != "" && !filepath.IsAbs(s.CACert) {
		ps.add(path+".ca_cert", "%s.ca_cert %q must be an absolute path to a PEM file", path, s.CACert)
	}
	if s.Insecure && profile == Production {
		ps.add(path+".insecure", "%s.insecure is not allowed in the production profile; use an https endpoint", path)
	}
}
