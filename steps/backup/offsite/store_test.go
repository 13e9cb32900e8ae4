package offsite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

func TestOpenRefusesWhatItCannotUseSafely(t *testing.T) {
	creds := Credentials{AccessKey: "AK", SecretKey: "SK"}
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"plain http", Config{Target: answers.S3Target{Endpoint: "http://s3.example.net:8333", Bucket: "b"}, Prefix: "p", Credentials: creds}, "only https"},
		{"no host", Config{Target: answers.S3Target{Endpoint: "https://", Bucket: "b"}, Prefix: "p", Credentials: creds}, "not an address"},
		{"no secret key", Config{Target: answers.S3Target{Endpoint: "https://s3.example.net", Bucket: "b"}, Prefix: "p", Credentials: Credentials{AccessKey: "AK"}}, "secret key is empty"},
		{"no prefix", Config{Target: answers.S3Target{Endpoint: "https://s3.example.net", Bucket: "b"}, Credentials: creds}, "no key prefix"},
	}
	for _, c := range cases {
		if _, err := Open(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
	if _, err := Open(Config{Target: answers.S3Target{Endpoint: "http://s3.example.net:8333", Bucket: "b", Insecure: true}, Prefix: "p", Credentials: creds}); err != nil {
		t.Errorf("http with insecure: %v", err)
	}
}

func TestRootsRefusesAFileWithoutACertificate(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bad, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Roots(nil, bad); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("ca_cert without a certificate: %v", err)
	}
	if _, err := Roots([]byte("junk"), ""); err == nil {
		t.Error("an installation CA without a certificate was taken")
	}
	if _, err := Roots(nil, filepath.Join(t.TempDir(), "missing.pem")); err == nil || !strings.Contains(err.Error(), "read the off-host store's CA certificate") {
		t.Errorf("missing ca_cert: %v", err)
	}
}
