package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// datasource is one provisioned data source (Grafana's provisioning
// format, apiVersion 1).
type datasource struct {
	ID             int               `json:"id"`
	UID            string            `json:"uid" yaml:"uid"`
	Name           string            `json:"name" yaml:"name"`
	Type           string            `json:"type" yaml:"type"`
	Access         string            `json:"access" yaml:"access"`
	URL            string            `json:"url" yaml:"url"`
	IsDefault      bool              `json:"isDefault" yaml:"isDefault"`
	BasicAuth      bool              `json:"basicAuth" yaml:"basicAuth"`
	BasicAuthUser  string            `json:"basicAuthUser" yaml:"basicAuthUser"`
	JSONData       map[string]any    `json:"jsonData" yaml:"jsonData"`
	SecureJSONData map[string]string `json:"-" yaml:"secureJsonData"`
	Editable       bool              `json:"-" yaml:"editable"`
	ReadOnly       bool              `json:"readOnly" yaml:"-"`
}

type provisioningFile struct {
	APIVersion  int          `yaml:"apiVersion"`
	Datasources []datasource `yaml:"datasources"`
}

// expansion is Grafana's interpolation in provisioning files: $$ is a
// dollar, $__env{X}, $__file{path}, ${X} and $X.
var expansion = regexp.MustCompile(`\$\$|\$__(env|file)\{([^}]*)\}|\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)`)

func expand(s string, getenv func(string) string) (string, error) {
	var ferr error
	out := expansion.ReplaceAllStringFunc(s, func(m string) string {
		sm := expansion.FindStringSubmatch(m)
		switch {
		case m == "$$":
			return "$"
		case sm[1] == "env":
			return getenv(sm[2])
		case sm[1] == "file":
			b, err := os.ReadFile(strings.TrimSpace(sm[2]))
			if err != nil && ferr == nil {
				ferr = fmt.Errorf("$__file{%s}: %w", sm[2], err)
			}
			return strings.TrimSpace(string(b))
		case sm[3] != "":
			return getenv(sm[3])
		default:
			return getenv(sm[4])
		}
	})
	return out, ferr
}

// expandTree expands every string of a decoded YAML document.
func expandTree(n *yaml.Node, getenv func(string) string) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		v, err := expand(n.Value, getenv)
		if err != nil {
			return err
		}
		n.Value = v
	}
	for _, c := range n.Content {
		if err := expandTree(c, getenv); err != nil {
			return err
		}
	}
	return nil
}

// loadDatasources reads DIR/datasources/*.yml and *.yaml in name order.
func loadDatasources(dir string, getenv func(string) string) ([]datasource, error) {
	var files []string
	for _, pat := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(dir, "datasources", pat))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	var out []datasource
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("provisioning: %w", err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("provisioning %s: %w", f, err)
		}
		if err := expandTree(&doc, getenv); err != nil {
			return nil, fmt.Errorf("provisioning %s: %w", f, err)
		}
		var pf provisioningFile
		if err := doc.Decode(&pf); err != nil {
			return nil, fmt.Errorf("provisioning %s: %w", f, err)
		}
		for _, ds := range pf.Datasources {
			if ds.Name == "" || ds.Type == "" {
				return nil, fmt.Errorf("provisioning %s: a data source needs a name and a type", f)
			}
			ds.ID = len(out) + 1
			ds.ReadOnly = !ds.Editable
			if ds.JSONData == nil {
				ds.JSONData = map[string]any{}
			}
			out = append(out, ds)
		}
	}
	return out, nil
}

func (ds *datasource) flag(key string) bool {
	b, _ := ds.JSONData[key].(bool)
	return b
}

// client is the HTTP client Grafana builds from the data source's
// settings (its httpclient provider: TLS and basic authentication).
func (ds *datasource) client() (*http.Client, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: ds.flag("tlsSkipVerify")}
	if s, _ := ds.JSONData["serverName"].(string); s != "" {
		cfg.ServerName = s
	}
	if ds.flag("tlsAuthWithCACert") {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(ds.SecureJSONData["tlsCACert"])) {
			return nil, fmt.Errorf("data source %s: tlsCACert holds no certificate", ds.Name)
		}
		cfg.RootCAs = pool
	}
	if ds.flag("tlsAuth") {
		pair, err := tls.X509KeyPair([]byte(ds.SecureJSONData["tlsClientCert"]), []byte(ds.SecureJSONData["tlsClientKey"]))
		if err != nil {
			return nil, fmt.Errorf("data source %s: client certificate: %w", ds.Name, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}, nil
}

// healthResult is Grafana's CheckHealth answer.
type healthResult struct {
	Status  string         `json:"status"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// checkHealth queries a Prometheus data source as Grafana's Prometheus
// plugin's health check does: the instant query 1+1.
func (ds *datasource) checkHealth(ctx context.Context) healthResult {
	if ds.Type != "prometheus" {
		return healthResult{Status: "ERROR", Message: fmt.Sprintf("the stand-in checks only prometheus data sources, not %s", ds.Type)}
	}
	fail := func(err error) healthResult {
		return healthResult{Status: "ERROR", Message: err.Error() + " - There was an error returned querying the Prometheus API."}
	}
	c, err := ds.client()
	if err != nil {
		return fail(err)
	}
	form := url.Values{"query": {"1+1"}, "time": {fmt.Sprint(time.Now().Unix())}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(ds.URL, "/")+"/api/v1/query", strings.NewReader(form.Encode()))
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if ds.BasicAuth {
		req.SetBasicAuth(ds.BasicAuthUser, ds.SecureJSONData["basicAuthPassword"])
	}
	resp, err := c.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("%s", resp.Status))
	}
	var parsed struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []any  `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &parsed); err != nil || parsed.Status != "success" || parsed.Data.ResultType != "scalar" || len(parsed.Data.Result) != 2 || parsed.Data.Result[1] != "2" {
		return fail(fmt.Errorf("unexpected answer to 1+1: %.200s", body))
	}
	return healthResult{Status: "OK", Message: "Successfully queried the Prometheus API.",
		Details: map[string]any{"application": "Prometheus", "features": map[string]any{"rulerApiEnabled": false}}}
}
