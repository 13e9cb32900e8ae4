package main

import (
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/fineract-installer/fineract-installer/lab/standin/internal/flatconf"
	"github.com/fineract-installer/fineract-installer/lab/standin/internal/tlsfiles"
)

// role is a role of roles.yml (or a built-in one).
type role struct {
	Cluster []string    `yaml:"cluster"`
	Indices []indexPerm `yaml:"indices"`
}

type indexPerm struct {
	Names      []string `yaml:"names"`
	Privileges []string `yaml:"privileges"`
}

// builtinRoles are the Elasticsearch reserved roles the stack names.
var builtinRoles = map[string]role{
	"superuser":     {Cluster: []string{"all"}, Indices: []indexPerm{{Names: []string{"*"}, Privileges: []string{"all"}}}},
	"kibana_system": {Cluster: []string{"monitor", "manage_index_templates", "manage_ilm"}, Indices: []indexPerm{{Names: []string{".kibana*"}, Privileges: []string{"all"}}}},
}

// security is the realms and roles of the node.
type security struct {
	enabled  bool
	password string              // elastic's bootstrap password
	pkiCAs   *x509.CertPool      // the PKI realm's trusted CAs; nil: no PKI realm
	mapping  map[string][]string // subject DN -> roles
	roles    map[string]role
}

// principal is an authenticated user.
type principal struct {
	user  string
	realm string
	roles []string
}

func loadSecurity(conf flatconf.Settings, rel func(string) string, password string) (*security, error) {
	on, err := conf.Bool("xpack.security.enabled", true)
	if err != nil {
		return nil, err
	}
	s := &security{enabled: on, password: password, mapping: map[string][]string{}, roles: map[string]role{}}
	for k, v := range builtinRoles {
		s.roles[k] = v
	}
	data, err := os.ReadFile(rel("roles.yml"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read roles.yml: %w", err)
	}
	if len(data) > 0 {
		var file map[string]role
		if err := yaml.Unmarshal(data, &file); err != nil {
			return nil, fmt.Errorf("roles.yml: %w", err)
		}
		for k, v := range file {
			s.roles[k] = v
		}
	}
	pki := conf.Under("xpack.security.authc.realms.pki")
	for key := range pki {
		// pki.<name>.certificate_authorities, pki.<name>.files.role_mapping
		name, _, _ := cut(key)
		r := pki.Under(name)
		cas := r.Strings("certificate_authorities")
		if len(cas) == 0 {
			return nil, fmt.Errorf("PKI realm %s: the stand-in needs certificate_authorities", name)
		}
		var files []string
		for _, f := range cas {
			files = append(files, rel(f))
		}
		if s.pkiCAs, err = tlsfiles.Pool(files...); err != nil {
			return nil, fmt.Errorf("PKI realm %s: %w", name, err)
		}
		mdata, err := os.ReadFile(rel(r.String("files.role_mapping", "role_mapping.yml")))
		if err != nil {
			return nil, fmt.Errorf("PKI realm %s: %w", name, err)
		}
		var m map[string][]string
		if err := yaml.Unmarshal(mdata, &m); err != nil {
			return nil, fmt.Errorf("PKI realm %s: role mapping: %w", name, err)
		}
		for roleName, dns := range m {
			for _, dn := range dns {
				s.mapping[dn] = append(s.mapping[dn], roleName)
			}
		}
		break
	}
	return s, nil
}

func cut(key string) (string, string, bool) {
	for i := range len(key) {
		if key[i] == '.' {
			return key[:i], key[i+1:], true
		}
	}
	return key, "", false
}

var errNoCredentials = errors.New("missing authentication credentials")

// authenticate tries basic auth, then the client certificate (realm order
// of elasticsearch.yml: native before pki).
func (s *security) authenticate(r *http.Request) (*principal, error) {
	if !s.enabled {
		return &principal{user: "_anonymous", realm: "none", roles: []string{"superuser"}}, nil
	}
	if user, pass, ok := r.BasicAuth(); ok {
		if user == "elastic" && s.password != "" && subtle.ConstantTimeCompare([]byte(pass), []byte(s.password)) == 1 {
			return &principal{user: "elastic", realm: "reserved", roles: []string{"superuser"}}, nil
		}
		return nil, fmt.Errorf("unable to authenticate user [%s] for REST request [%s]", user, r.URL.Path)
	}
	if s.pkiCAs != nil && r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		leaf := r.TLS.PeerCertificates[0]
		inter := x509.NewCertPool()
		for _, c := range r.TLS.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: s.pkiCAs, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			return nil, fmt.Errorf("client certificate not trusted by the PKI realm: %v", err)
		}
		dn := leaf.Subject.String()
		return &principal{user: leaf.Subject.CommonName, realm: "pki", roles: s.mapping[dn]}, nil
	}
	return nil, errNoCredentials
}

// implied lists what a privilege grants besides itself.
var implied = map[string][]string{
	// cluster
	"all":        {"monitor", "manage", "manage_ilm", "read_ilm", "manage_index_templates"},
	"manage":     {"monitor", "manage_ilm", "read_ilm", "manage_index_templates"},
	"manage_ilm": {"read_ilm"},
	// index ("all" above also covers every index privilege)
	"write":        {"create_doc", "create", "index"},
	"create":       {"create_doc"},
	"index":        {"create_doc", "create"},
	"manage_index": {"view_index_metadata", "create_index", "auto_configure"},
	"create_index": {"auto_configure"},
}

func grants(held []string, want string) bool {
	for _, h := range held {
		if h == want || h == "all" || slices.Contains(implied[h], want) {
			return true
		}
		if h == "manage" && (want == "view_index_metadata" || want == "create_index" || want == "auto_configure") {
			return true
		}
	}
	return false
}

func (s *security) cluster(p *principal, priv string) bool {
	for _, rn := range p.roles {
		if grants(s.roles[rn].Cluster, priv) {
			return true
		}
	}
	return false
}

func (s *security) index(p *principal, name, priv string) bool {
	for _, rn := range p.roles {
		for _, ip := range s.roles[rn].Indices {
			for _, pattern := range ip.Names {
				if ok, _ := path.Match(pattern, name); ok && grants(ip.Privileges, priv) {
					return true
				}
			}
		}
	}
	return false
}
