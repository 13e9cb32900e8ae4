package validate

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/delivered"
)

// MonitoringChecks prove that monitoring works: Prometheus scrapes every
// target it is given, and Grafana reaches Prometheus through its
// provisioned data source.
func MonitoringChecks() []Check {
	return []Check{
		{ID: "monitoring-targets", Area: AreaMonitoring, Title: "Every Prometheus target is up", Controls: []Control{ControlLogging}, Run: checkPrometheusTargets, Group: answers.GroupMonitoring},
		{ID: "monitoring-grafana", Area: AreaMonitoring, Title: "Grafana's data sources answer its health check", Controls: []Control{ControlLogging}, Run: checkGrafanaSources, Group: answers.GroupMonitoring},
	}
}

// grafanaSubPath is where Grafana serves (the compose file's
// GF_SERVER_ROOT_URL with GF_SERVER_SERVE_FROM_SUB_PATH), and
// grafanaAdmin its admin user (GF_SECURITY_ADMIN_USER).
const (
	grafanaSubPath = "/grafana"
	grafanaAdmin   = "admin"
)

// serviceClient is an HTTPS client that reaches a service's port from
// inside its network namespace and verifies it with the stack's CA.
func (t *Target) serviceClient(service string, port int) (*http.Client, error) {
	roots, err := t.caPool()
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return t.dialService(ctx, service, port)
		},
		TLSClientConfig:   &tls.Config{ServerName: service, RootCAs: roots, MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true,
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

// getJSON fetches a URL and decodes a bounded JSON answer into v; it
// returns the HTTP status.
func getJSON(ctx context.Context, c *http.Client, u string, auth func(*http.Request), v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	if auth != nil {
		auth(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return resp.StatusCode, fmt.Errorf("%s: not JSON: %.120q", resp.Status, body)
	}
	return resp.StatusCode, nil
}

// promTarget is one active target of Prometheus' /api/v1/targets.
type promTarget struct {
	ScrapePool string `json:"scrapePool"`
	ScrapeURL  string `json:"scrapeUrl"`
	Health     string `json:"health"`
	LastError  string `json:"lastError"`
}

func (t *Target) promTargets(ctx context.Context) ([]promTarget, error) {
	c, err := t.serviceClient("prometheus", 9090)
	if err != nil {
		return nil, err
	}
	var out struct {
		Status string `json:"status"`
		Data   struct {
			ActiveTargets []promTarget `json:"activeTargets"`
		} `json:"data"`
	}
	code, err := getJSON(ctx, c, "https://prometheus:9090/api/v1/targets?state=active", nil, &out)
	if err != nil {
		return nil, fmt.Errorf("GET /api/v1/targets: %w", err)
	}
	if code != http.StatusOK || out.Status != "success" {
		return nil, fmt.Errorf("GET /api/v1/targets: HTTP %d, status %q", code, out.Status)
	}
	return out.Data.ActiveTargets, nil
}

// targetsSettle bounds the wait for targets Prometheus has not scraped
// yet (health "unknown"): one scrape interval of the rendered
// configuration and a little more.
const targetsSettle = 40 * time.Second

func checkPrometheusTargets(ctx context.Context, t *Target) Finding {
	var targets []promTarget
	deadline := time.Now().Add(targetsSettle)
	for {
		var err error
		targets, err = t.promTargets(ctx)
		if err != nil {
			return fail(err.Error(), "see `fineract-installer logs prometheus`")
		}
		unknown := false
		for _, tg := range targets {
			unknown = unknown || tg.Health == "unknown"
		}
		if !unknown || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return fail("interrupted while waiting for Prometheus' first scrapes", "")
		case <-time.After(2 * time.Second):
		}
	}
	if len(targets) == 0 {
		return fail("Prometheus has no active target", "re-run the install to render prometheus.yml again")
	}
	var up, down, subjects []string
	for _, tg := range targets {
		name := tg.ScrapePool + " " + tg.ScrapeURL
		if tg.Health == "up" {
			up = append(up, name)
			continue
		}
		down = append(down, fmt.Sprintf("%s is %s: %s", name, tg.Health, tg.LastError))
		subjects = append(subjects, tg.ScrapePool)
	}
	sort.Strings(up)
	if len(down) > 0 {
		sort.Strings(down)
		return Finding{Status: Fail, Evidence: strings.Join(down, "; ") + fmt.Sprintf(" (%d of %d up)", len(up), len(targets)),
			Fix: "`fineract-installer status` and `fineract-installer logs SERVICE` for the targets that are down", Subject: strings.Join(subjects, ", ")}
	}
	return pass(fmt.Sprintf("%d targets up over verified TLS: %s", len(up), strings.Join(up, ", ")))
}

// grafanaSource is one data source of Grafana's /api/datasources.
type grafanaSource struct {
	UID  string `json:"uid"`
	Name string `json:"name"`
	Type string `json:"type"`
	URL  string `json:"url"`
}

func checkGrafanaSources(ctx context.Context, t *Target) Finding {
	svc, _ := t.Expect.Service("grafana")
	password, err := delivered.Value(ctx, svc, t.SecretsDir, assets.GrafanaAdminVaultPath, assets.GrafanaAdminVaultKey)
	if err != nil {
		return fail("cannot read Grafana's delivered admin password: "+err.Error(), "run as root; after a reboot run `fineract-installer unseal` first")
	}
	c, err := t.serviceClient("grafana", 3000)
	if err != nil {
		return fail(err.Error(), "")
	}
	auth := func(r *http.Request) { r.SetBasicAuth(grafanaAdmin, password) }
	base := "https://grafana:3000" + grafanaSubPath
	var sources []grafanaSource
	code, err := getJSON(ctx, c, base+"/api/datasources", auth, &sources)
	switch {
	case err != nil:
		return fail("GET /api/datasources: "+err.Error(), "see `fineract-installer logs grafana`")
	case code == http.StatusUnauthorized:
		return fail("Grafana refused the delivered admin password (HTTP 401)", "Grafana keeps the admin password of its first start: reset it with `grafana cli admin reset-admin-password` to the delivered one")
	case code != http.StatusOK:
		return fail(fmt.Sprintf("GET /api/datasources: HTTP %d", code), "see `fineract-installer logs grafana`")
	case len(sources) == 0:
		return fail("Grafana has no data source", "re-run the install to render its provisioning file again")
	}
	var good, bad, subjects []string
	for _, ds := range sources {
		var h struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		}
		_, err := getJSON(ctx, c, base+"/api/datasources/uid/"+url.PathEscape(ds.UID)+"/health", auth, &h)
		name := fmt.Sprintf("%s (%s, %s)", ds.Name, ds.Type, ds.URL)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s: health API: %v", name, err))
		case h.Status != "OK":
			bad = append(bad, fmt.Sprintf("%s: %s: %s", name, h.Status, h.Message))
		default:
			good = append(good, fmt.Sprintf("%s: %s", name, h.Message))
			continue
		}
		subjects = append(subjects, ds.Name)
	}
	if len(bad) > 0 {
		return Finding{Status: Fail, Evidence: strings.Join(bad, "; "), Fix: "re-run the install to render Grafana's data sources again; see `fineract-installer logs grafana`", Subject: strings.Join(subjects, ", ")}
	}
	return pass(strings.Join(good, "; "))
}
