package assets

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// segment is one rendered network.
type segment struct {
	Name     string // Docker network name
	Subnet   string // CIDR
	Internal bool   // no route to the outside
}

// renderData is what every template sees. Methods on it (Hardening,
// SecretRefs, ...) generate the YAML blocks every service must carry, so the
// rules live in one place.
type renderData struct {
	Project    string
	Profile    answers.Profile
	Demo       bool
	Has        map[string]bool
	Hostname   string
	PublicURL  string // https://host[:port], what browsers use
	HTTPSPort  int
	HTTPPort   int
	BindIP     string
	AllowTLS12 bool
	Net        map[string]segment
	SecretsDir string
	// WAL is continuous archiving; WAL.On is false without it.
	WAL walArchiving

	ips            []netip.Addr
	images         map[string]string // Options.Images
	services       []Service
	serviceIDsFrom int
}

var (
	projectPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	hostnamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
)

// Network roles, in the order they are declared.
const (
	netDMZ        = "dmz"
	netApp        = "app"
	netData       = "data"
	netMonitoring = "monitoring"
)

func publicURL(host string, httpsPort int) string {
	u := "https://" + host
	if httpsPort != 443 {
		u += ":" + strconv.Itoa(httpsPort)
	}
	return u
}

// PublicURL is the gateway's URL as browsers use it.
func PublicURL(a answers.Answers) string {
	return publicURL(strings.ToLower(strings.TrimSpace(a.Host.Hostname)), orDefault(a.Gateway.HTTPSPort, 443))
}

// IdentityRealm is the Keycloak realm the installer imports for Fineract.
const IdentityRealm = "fineract"

// IssuerURL is the fineract realm's OIDC issuer, as browsers and the `iss`
// of its tokens see it (Keycloak under /auth behind the gateway).
func IssuerURL(a answers.Answers) string {
	return PublicURL(a) + "/auth/realms/" + IdentityRealm
}

// SignInRedirectURI is where Keycloak sends the browser back to the web
// app with the authorization code: the one redirect URI the realm's web-app
// client accepts, exactly.
func SignInRedirectURI(a answers.Answers) string {
	return PublicURL(a) + "/callback"
}

// WebAppClientID is the realm's client for the web app.
const WebAppClientID = "web-app"

func newRenderData(a answers.Answers, o Options) (*renderData, error) {
	if !projectPattern.MatchString(o.Project) {
		return nil, fmt.Errorf("compose project name %q must be lower-case letters, digits, '-' or '_', starting with a letter or digit", o.Project)
	}
	if o.SecretsDir == "" || !filepath.IsAbs(o.SecretsDir) {
		return nil, fmt.Errorf("secrets directory %q must be an absolute path", o.SecretsDir)
	}
	if strings.ContainsAny(o.SecretsDir, "$\"'\n\t ") {
		return nil, fmt.Errorf("secrets directory %q must not contain spaces, quotes or '$'", o.SecretsDir)
	}
	if a.Profile != answers.Production && a.Profile != answers.Demo {
		return nil, answers.FieldError("profile", "profile %q is neither %q nor %q", a.Profile, answers.Production, answers.Demo)
	}
	host := strings.ToLower(strings.TrimSpace(a.Host.Hostname))
	if !hostnamePattern.MatchString(host) || len(host) > 253 {
		return nil, answers.FieldError("host.hostname", "host.hostname %q is not a DNS name browsers can use (letters, digits, '-' and '.')", a.Host.Hostname)
	}
	ips, err := a.GatewayIPs()
	if err != nil {
		return nil, err
	}
	d := &renderData{
		Project:    o.Project,
		Profile:    a.Profile,
		Demo:       a.Profile == answers.Demo,
		Has:        map[string]bool{},
		Hostname:   host,
		HTTPSPort:  orDefault(a.Gateway.HTTPSPort, 443),
		HTTPPort:   orDefault(a.Gateway.HTTPPort, 80),
		BindIP:     a.Gateway.BindIP,
		AllowTLS12: a.Gateway.AllowTLS12,
		SecretsDir: filepath.Clean(o.SecretsDir),
		ips:        ips,
		images:     o.Images,

		serviceIDsFrom: orDefault(a.ServiceIDsFrom, answers.DefaultServiceIDsFrom),
	}
	if d.HTTPSPort == d.HTTPPort || !validPort(d.HTTPSPort) || !validPort(d.HTTPPort) {
		return nil, answers.FieldError("gateway.https_port", "gateway ports %d (https) and %d (http) must be two different ports between 1 and 65535", d.HTTPSPort, d.HTTPPort)
	}
	if d.BindIP != "" {
		if _, err := answers.ParseHostAddr(d.BindIP); err != nil {
			return nil, answers.FieldError("gateway.bind_ip", "gateway.bind_ip: %v", err)
		}
	}
	d.PublicURL = publicURL(host, d.HTTPSPort)
	d.WAL = newWALArchiving(a.Backup)

	groups, _, err := ResolveGroups(a.Groups)
	if err != nil {
		return nil, err
	}
	// Every group has an entry (missingkey=error), true when selected.
	for _, g := range answers.Groups {
		d.Has[g] = false
	}
	for _, g := range groups {
		d.Has[g] = true
	}
	if d.Net, err = networks(a.Network, d.Has); err != nil {
		return nil, err
	}
	return d, nil
}

// networks checks the answers' segments and returns the ones this stack uses.
func networks(n answers.Network, has map[string]bool) (map[string]segment, error) {
	roles := []struct {
		role     string
		seg      answers.Segment
		internal bool
		used     bool
	}{
		{netDMZ, n.DMZ, false, true},
		{netApp, n.App, true, true},
		{netData, n.Data, true, true},
		{netMonitoring, n.Monitoring, true, has[answers.GroupMonitoring] || has[answers.GroupLogging]},
	}
	out := map[string]segment{}
	var prefixes []netip.Prefix
	var names []string
	for _, r := range roles {
		if !r.used {
			continue
		}
		if !projectPattern.MatchString(r.seg.Name) {
			return nil, answers.FieldError("network."+r.role+".name", "network.%s.name %q must be lower-case letters, digits, '-' or '_'", r.role, r.seg.Name)
		}
		p, err := netip.ParsePrefix(r.seg.Subnet)
		if err != nil {
			return nil, answers.FieldError("network."+r.role+".subnet", "network.%s.subnet %q is not a CIDR subnet such as 10.231.10.0/24", r.role, r.seg.Subnet)
		}
		if p.Masked() != p {
			return nil, answers.FieldError("network."+r.role+".subnet", "network.%s.subnet %q has host bits set; use %s", r.role, r.seg.Subnet, p.Masked())
		}
		for i, q := range prefixes {
			if p.Overlaps(q) {
				return nil, answers.FieldError("network."+r.role+".subnet", "network.%s.subnet %s overlaps network %s (%s)", r.role, p, names[i], q)
			}
		}
		for _, other := range names {
			if other == r.seg.Name {
				return nil, answers.FieldError("network."+r.role+".name", "network.%s.name %q is used by two networks", r.role, r.seg.Name)
			}
		}
		prefixes = append(prefixes, p)
		names = append(names, r.seg.Name)
		out[r.role] = segment{Name: r.seg.Name, Subnet: p.String(), Internal: r.internal}
	}
	return out, nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func validPort(p int) bool { return p > 0 && p < 65536 }

// HasMonitoringNet reports whether the monitoring network is rendered.
func (d *renderData) HasMonitoringNet() bool {
	_, ok := d.Net[netMonitoring]
	return ok
}

// NetworkOrder lists the rendered network roles in declaration order.
func (d *renderData) NetworkOrder() []string {
	var out []string
	for _, r := range installation.NetworkRoles() {
		if _, ok := d.Net[r]; ok {
			out = append(out, r)
		}
	}
	return out
}

// imageOf is the reference a service is rendered with: the one
// Options.Images gives it, else this release's pin.
func (d *renderData) imageOf(service string) string {
	if img, ok := d.images[service]; ok && img != "" {
		return img
	}
	return imageOf(service)
}
