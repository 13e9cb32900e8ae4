package ratelimit

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// A POST refused twice by the rate limit reaches the service on the third
// try, with its body intact.
func TestRefusedRequestsAreSentAgainWithTheirBody(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	resp, err := Client(srv.Client()).Post(srv.URL, "text/plain", strings.NewReader("the form"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "the form" || calls.Load() != 3 {
		t.Errorf("status %d, body %q after %d calls; want 200, the form, 3", resp.StatusCode, body, calls.Load())
	}
}

// Other answers, errors included, are returned as they are, at once.
func TestOtherAnswersAreNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	resp, err := Client(srv.Client()).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || calls.Load() != 1 {
		t.Errorf("status %d after %d calls", resp.StatusCode, calls.Load())
	}
	if Transport(Transport(nil)) != Transport(nil) {
		t.Error("wrapping a patient transport again adds another layer")
	}
}
