// Package ratelimit makes the installer's HTTP clients wait out the
// gateway's rate limits as a patient person would: a request answered
// 429 Too Many Requests is sent again after a pause, for a bounded time.
// nginx answers 429 before the request reaches the service, so sending it
// again does not repeat anything the service did.
package ratelimit

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// MaxWait bounds how long one request waits: the gateway's sign-in zone
// lets 10 requests a minute through.
const MaxWait = 90 * time.Second

// Transport returns base (http.DefaultTransport when nil) retrying
// answers of 429 for up to MaxWait, honouring Retry-After.
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if _, ok := base.(patient); ok {
		return base
	}
	return patient{base: base}
}

// Client returns a shallow copy of c whose transport is patient. A
// timeout c has is extended by MaxWait: it bounds the whole exchange,
// waits included.
func Client(c *http.Client) *http.Client {
	cp := *c
	if _, ok := c.Transport.(patient); !ok && cp.Timeout > 0 {
		cp.Timeout += MaxWait
	}
	cp.Transport = Transport(c.Transport)
	return &cp
}

type patient struct{ base http.RoundTripper }

func (p patient) RoundTrip(req *http.Request) (*http.Response, error) {
	deadline := time.Now().Add(MaxWait)
	for delay := 250 * time.Millisecond; ; delay = min(2*delay, 4*time.Second) {
		resp, err := p.base.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests {
			return resp, err
		}
		wait := delay
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = time.Duration(s) * time.Second
		}
		if time.Now().Add(wait).After(deadline) || (req.Body != nil && req.GetBody == nil) {
			return resp, nil
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(wait):
		}
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}
