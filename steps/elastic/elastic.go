// Package elastic talks to the logging group's Elasticsearch: it sets the
// log retention the answers ask for (an ILM policy and an index template)
// and reads back what Elasticsearch holds, for the install step and the
// validation checks.
//
// Elasticsearch listens only on the stack's internal monitoring network,
// so connections start inside its container's network namespace (nsdial),
// verify its certificate against the stack's CA and log in as the
// built-in elastic user with the bootstrap password the vault step
// delivered (ELASTIC_PASSWORD_FILE).
package elastic

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/compose/nsdial"
	"github.com/fineract-installer/fineract-installer/steps/delivered"
)

// Service is Elasticsearch's compose service name.
const Service = "elasticsearch"

// maxResponse bounds what is read of one answer: the service is less
// trusted than the installer, and the answers read here are small.
const maxResponse = 4 << 20

// Client sends requests to Elasticsearch.
type Client struct {
	base     string
	user     string
	password string
	http     *http.Client
}

// Config says how to reach Elasticsearch and log in.
type Config struct {
	// Address is the base URL, e.g. https://127.0.0.1:9200.
	Address string
	// ServerName is the name its certificate must carry.
	ServerName string
	CACertPEM  []byte
	User       string
	Password   string
	// Dial opens the TCP connections (nil: the host's network).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(cfg.CACertPEM) {
		return nil, errors.New("the stack's CA certificate holds no certificate")
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, ServerName: cfg.ServerName, MinVersion: tls.VersionTLS12},
		DialContext:         cfg.Dial,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConns:        2,
		IdleConnTimeout:     30 * time.Second,
	}
	return &Client{base: strings.TrimSuffix(cfg.Address, "/"), user: cfg.User, password: cfg.Password,
		http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}, nil
}

// Connect reaches the stack's Elasticsearch from inside its container's
// network namespace and logs in as elastic with the delivered bootstrap
// password.
func Connect(ctx context.Context, e *compose.Engine, project string, svc assets.Service, caPEM []byte, secretsDir string) (*Client, error) {
	password, err := delivered.Value(ctx, svc, secretsDir, assets.ElasticVaultPath, assets.ElasticVaultKey)
	if err != nil {
		return nil, fmt.Errorf("read Elasticsearch's bootstrap password: %w", err)
	}
	dial := nsdial.Dialer(func(ctx context.Context) (int, error) { return e.ServicePID(ctx, project, svc.Name) })
	return New(Config{Address: "https://127.0.0.1:9200", ServerName: svc.Name, CACertPEM: caPEM,
		User: "elastic", Password: password, Dial: dial})
}

// StatusError is an answer other than 2xx.
type StatusError struct {
	Method, Path string
	Code         int
	Reason       string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Code, e.Reason)
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// Do sends a request with a JSON body (nil for none) and decodes a 2xx
// answer into out (nil to ignore it).
func (c *Client) Do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.SetBasicAuth(c.user, c.password)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if len(data) > maxResponse {
		return fmt.Errorf("%s %s: the answer is larger than %d bytes", method, path, maxResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Method: method, Path: path, Code: resp.StatusCode, Reason: errorReason(data)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, path, err)
	}
	return nil
}

// errorReason is the reason in an Elasticsearch error answer, else its
// first bytes.
func errorReason(data []byte) string {
	var e struct {
		Error struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil && e.Error.Reason != "" {
		return e.Error.Type + ": " + e.Error.Reason
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// ApplyRetention makes Elasticsearch keep the stack's logs as l says: it
// writes the ILM policy and the index template (both idempotent), and
// gives the policy to the backing indices the data stream already has
// (the template reaches only indices made after it).
func ApplyRetention(ctx context.Context, c *Client, l assets.LogStore) error {
	if err := c.Do(ctx, http.MethodPut, "/_ilm/policy/"+url.PathEscape(l.Policy), l.PolicyBody(), nil); err != nil {
		return fmt.Errorf("write the ILM policy: %w", err)
	}
	if err := c.Do(ctx, http.MethodPut, "/_index_template/"+url.PathEscape(l.Template), l.TemplateBody(), nil); err != nil {
		return fmt.Errorf("write the index template: %w", err)
	}
	settings := mustJSON(map[string]any{"index.lifecycle.name": l.Policy})
	err := c.Do(ctx, http.MethodPut, "/"+url.PathEscape(l.DataStream)+"/_settings", settings, nil)
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("give the policy to the indices of %s: %w", l.DataStream, err)
	}
	return nil
}

// Retention is what Elasticsearch holds for the stack's logs.
type Retention struct {
	// DeleteAfter is the policy's delete phase min_age ("" when the policy
	// or its delete phase is missing).
	DeleteAfter string
	// TemplatePolicy is the policy the index template gives new indices.
	TemplatePolicy string
	// Indices maps each backing index of the data stream to its policy.
	Indices map[string]string
}

// ReadRetention reads the policy, the template and the data stream's
// backing indices' settings. A missing policy, template or data stream
// leaves its part empty.
func ReadRetention(ctx context.Context, c *Client, l assets.LogStore) (Retention, error) {
	var r Retention
	var policies map[string]struct {
		Policy struct {
			Phases map[string]struct {
				MinAge string `json:"min_age"`
			} `json:"phases"`
		} `json:"policy"`
	}
	err := c.Do(ctx, http.MethodGet, "/_ilm/policy/"+url.PathEscape(l.Policy), nil, &policies)
	switch {
	case IsNotFound(err):
	case err != nil:
		return r, fmt.Errorf("read the ILM policy: %w", err)
	default:
		if del, ok := policies[l.Policy].Policy.Phases["delete"]; ok {
			r.DeleteAfter = del.MinAge
		}
	}
	var templates struct {
		IndexTemplates []struct {
			Name          string `json:"name"`
			IndexTemplate struct {
				Template struct {
					Settings json.RawMessage `json:"settings"`
				} `json:"template"`
			} `json:"index_template"`
		} `json:"index_templates"`
	}
	err = c.Do(ctx, http.MethodGet, "/_index_template/"+url.PathEscape(l.Template), nil, &templates)
	switch {
	case IsNotFound(err):
	case err != nil:
		return r, fmt.Errorf("read the index template: %w", err)
	default:
		for _, t := range templates.IndexTemplates {
			if t.Name == l.Template {
				r.TemplatePolicy = lifecycleName(t.IndexTemplate.Template.Settings)
			}
		}
	}
	var indices map[string]struct {
		Settings json.RawMessage `json:"settings"`
	}
	err = c.Do(ctx, http.MethodGet, "/"+url.PathEscape(l.DataStream)+"/_settings", nil, &indices)
	switch {
	case IsNotFound(err):
	case err != nil:
		return r, fmt.Errorf("read the settings of %s: %w", l.DataStream, err)
	default:
		r.Indices = map[string]string{}
		for name, ix := range indices {
			r.Indices[name] = lifecycleName(ix.Settings)
		}
	}
	return r, nil
}

// lifecycleName finds index.lifecycle.name in settings, which
// Elasticsearch answers nested ({"index":{"lifecycle":{"name":...}}}) and
// accepts flat ("index.lifecycle.name").
func lifecycleName(settings json.RawMessage) string {
	var nested struct {
		Index struct {
			Lifecycle struct {
				Name string `json:"name"`
			} `json:"lifecycle"`
		} `json:"index"`
	}
	if json.Unmarshal(settings, &nested) == nil && nested.Index.Lifecycle.Name != "" {
		return nested.Index.Lifecycle.Name
	}
	var flat map[string]any
	if json.Unmarshal(settings, &flat) == nil {
		if s, ok := flat["index.lifecycle.name"].(string); ok {
			return s
		}
	}
	return ""
}

// Problems lists how r differs from what l asks for (none: it matches).
// A data stream with no index yet is no problem: the template gives the
// first one the policy.
func (r Retention) Problems(l assets.LogStore) []string {
	var out []string
	if r.DeleteAfter != l.DeleteAfter() {
		if r.DeleteAfter == "" {
			out = append(out, fmt.Sprintf("ILM policy %s is missing or has no delete phase", l.Policy))
		} else {
			out = append(out, fmt.Sprintf("ILM policy %s deletes after %s, the answers ask for %s", l.Policy, r.DeleteAfter, l.DeleteAfter()))
		}
	}
	if r.TemplatePolicy != l.Policy {
		out = append(out, fmt.Sprintf("index template %s gives new indices the policy %q, not %s", l.Template, r.TemplatePolicy, l.Policy))
	}
	for _, name := range slices.Sorted(maps.Keys(r.Indices)) {
		if policy := r.Indices[name]; policy != l.Policy {
			out = append(out, fmt.Sprintf("index %s has the policy %q, not %s", name, policy, l.Policy))
		}
	}
	return out
}

// Count returns how many documents of index hold phrase in their message.
func Count(ctx context.Context, c *Client, index, phrase string) (int, error) {
	q := mustJSON(map[string]any{"query": map[string]any{"match_phrase": map[string]any{"message": phrase}}})
	var res struct {
		Count int `json:"count"`
	}
	if err := c.Do(ctx, http.MethodPost, "/"+url.PathEscape(index)+"/_count", q, &res); err != nil {
		return 0, err
	}
	return res.Count, nil
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of strings always encode
	}
	return data
}
