package validate

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// GatewayChecks look at the gateway the way a browser and an attacker do.
func GatewayChecks() []Check {
	transit := []Control{ControlTransit}
	return []Check{
		{ID: "http-redirect", Area: AreaHTTP, Title: "Plain HTTP redirects to HTTPS", Controls: transit, Run: checkRedirect},
		{ID: "http-headers", Area: AreaHTTP, Title: "HSTS and security headers, server version hidden", Controls: []Control{ControlTransit, ControlSession}, Run: checkHeaders},
		{ID: "http-rate-limit", Area: AreaHTTP, Title: "A burst beyond the rate limit gets 429", Controls: []Control{ControlRateLimit}, Run: checkRateLimit, Alone: true},
		{ID: "http-fineract-health", Area: AreaHTTP, Title: "Fineract is UP through the gateway", Controls: []Control{ControlBackup}, Run: checkFineractHealth},
	}
}

// GatewayClient sends requests for the configured hostname to the gateway's
// published address, verifying TLS as a browser does (the system trust
// store for an imported public certificate, and the stack's CA), and never follows
// redirects (the checks look at them).
func (t *Target) GatewayClient() (*http.Client, error) {
	roots, err := t.gatewayPool()
	if err != nil {
		return nil, err
	}
	host := t.Answers.Gateway.BindIP
	if host == "" {
		host = "127.0.0.1"
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, net.JoinHostPort(host, port))
	}
	return &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: t.Answers.Host.Hostname, MinVersion: tls.VersionTLS12},
			MaxIdleConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

func (t *Target) gatewayURL(scheme, path string) string {
	port := t.Answers.Gateway.HTTPSPort
	if scheme == "http" {
		port = t.Answers.Gateway.HTTPPort
	}
	return fmt.Sprintf("%s://%s:%d%s", scheme, t.Answers.Host.Hostname, port, path)
}

func (t *Target) get(ctx context.Context, url string) (*http.Response, []byte, error) {
	c, err := t.GatewayClient()
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp, body, nil
}

func checkRedirect(ctx context.Context, t *Target) Finding {
	resp, _, err := t.get(ctx, t.gatewayURL("http", "/fineract-provider/api/v1/clients?x=1"))
	if err != nil {
		return fail("GET over plain HTTP: "+err.Error(), "see `fineract-installer logs gateway`")
	}
	loc := resp.Header.Get("Location")
	if (resp.StatusCode == http.StatusMovedPermanently || resp.StatusCode == http.StatusPermanentRedirect) && strings.HasPrefix(loc, "https://") {
		return pass(fmt.Sprintf("%d to %s", resp.StatusCode, loc))
	}
	return fail(fmt.Sprintf("plain HTTP answered %d (Location %q)", resp.StatusCode, loc), "the port 80 server must only redirect: re-run the install to render the gateway configuration")
}

func checkHeaders(ctx context.Context, t *Target) Finding {
	resp, _, err := t.get(ctx, t.gatewayURL("https", "/"))
	if err != nil {
		return fail("GET /: "+err.Error(), "see `fineract-installer logs gateway`")
	}
	var missing, seen []string
	want := map[string]func(string) bool{
		"Strict-Transport-Security": func(v string) bool { return strings.Contains(v, "max-age=") && !strings.Contains(v, "max-age=0") },
		"X-Content-Type-Options":    func(v string) bool { return strings.EqualFold(v, "nosniff") },
		"Referrer-Policy":           func(v string) bool { return v != "" },
	}
	for h, ok := range want {
		if v := resp.Header.Get(h); ok(v) {
			seen = append(seen, h+": "+v)
		} else {
			missing = append(missing, h)
		}
	}
	frame := resp.Header.Get("X-Frame-Options")
	csp := resp.Header.Get("Content-Security-Policy")
	if frame == "" && !strings.Contains(csp, "frame-ancestors") {
		missing = append(missing, "X-Frame-Options or CSP frame-ancestors")
	}
	server := resp.Header.Get("Server")
	if strings.ContainsAny(server, "0123456789") {
		missing = append(missing, fmt.Sprintf("a Server header without a version (got %q)", server))
	}
	if len(missing) > 0 {
		return fail("missing: "+strings.Join(missing, ", "), "re-run the install to render the gateway's security headers")
	}
	return pass(fmt.Sprintf("%s; frame protection present; Server %q", strings.Join(seen, "; "), server))
}

// rateProbe requests go out at once, rateRounds times over, until one is
// refused: more than the health path's burst, few enough to stay polite to
// a production gateway. Only the first round makes connections; the later
// ones reuse them, so on a loaded host, where 40 TLS handshakes can take
// longer than the burst lasts, the requests still come faster than the
// limit lets through.
const (
	rateProbe  = 40
	rateRounds = 5
)

func checkRateLimit(ctx context.Context, t *Target) Finding {
	c, err := t.GatewayClient()
	if err != nil {
		return fail(err.Error(), "")
	}
	url := t.gatewayURL("https", "/fineract-provider/actuator/health")
	var limited atomic.Bool
	results := make(chan int, rateProbe*rateRounds)
	var wg sync.WaitGroup
	for range rateProbe {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rateRounds {
				if limited.Load() {
					return
				}
				code := 0
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if resp, err := c.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				if code == http.StatusTooManyRequests {
					limited.Store(true)
				}
				results <- code
			}
		}()
	}
	wg.Wait()
	close(results)
	codes, sent := map[int]int{}, 0
	for code := range results {
		codes[code]++
		sent++
	}
	evidence := fmt.Sprintf("%d requests, %d at a time, to %s: status counts %v", sent, rateProbe, "/fineract-provider/actuator/health", codes)
	if codes[http.StatusTooManyRequests] > 0 {
		return pass(evidence)
	}
	return fail(evidence+"; none was limited", "the gateway must set limit_req with limit_req_status 429")
}

func checkFineractHealth(ctx context.Context, t *Target) Finding {
	// A 429 means an earlier burst (this checklist's rate-limit probe, run
	// moments ago) has not drained yet; that says nothing about Fineract.
	var resp *http.Response
	var body []byte
	var err error
	for try := 0; try < 20; try++ {
		resp, body, err = t.get(ctx, t.gatewayURL("https", "/fineract-provider/actuator/health"))
		if err != nil || resp.StatusCode != http.StatusTooManyRequests {
			break
		}
		select {
		case <-ctx.Done():
			return fail(ctx.Err().Error(), "")
		case <-time.After(250 * time.Millisecond):
		}
	}
	if err != nil {
		return fail("GET actuator health: "+err.Error(), "see `fineract-installer logs gateway fineract`")
	}
	text := strings.TrimSpace(string(body))
	if resp.StatusCode == http.StatusOK && strings.Contains(text, `"UP"`) {
		return pass(fmt.Sprintf("200 %s", text))
	}
	return fail(fmt.Sprintf("%d %s", resp.StatusCode, text), "see `fineract-installer logs fineract`; its first start runs database migrations for several minutes")
}
