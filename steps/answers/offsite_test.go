package answers

import (
	"strings"
	"testing"
)

func TestOffsiteValidate(t *testing.T) {
	good := S3Target{Endpoint: "https://s3.example.net:9000", Bucket: "bank-backups"}
	with := func(f func(*S3Target)) Offsite {
		s := good
		f(&s)
		return Offsite{S3: &s}
	}
	cases := []struct {
		name    string
		o       Offsite
		profile Profile
		want    string // "" for valid
	}{
		{"none", Offsite{}, Production, ""},
		{"https", Offsite{S3: &good}, Production, ""},
		{"https without port, prefix, region, ca", with(func(s *S3Target) {
			s.Endpoint, s.Prefix, s.Region, s.CACert = "https://s3.example.net", "fineract/site-a", "eu-central-1", "/etc/ssl/store-ca.pem"
		}), Production, ""},
		{"http on a demo with insecure", with(func(s *S3Target) { s.Endpoint, s.Insecure = "http://10.0.0.5:8333", true }), Demo, ""},
		{"http on a demo", with(func(s *S3Target) { s.Endpoint = "http://10.0.0.5:8333" }), Demo, "insecure: true"},
		{"http in production even with insecure", with(func(s *S3Target) { s.Endpoint, s.Insecure = "http://10.0.0.5:8333", true }), Production, "production profile refuses"},
		{"insecure flag in production", with(func(s *S3Target) { s.Insecure = true }), Production, "insecure is not allowed"},
		{"empty endpoint", with(func(s *S3Target) { s.Endpoint = "" }), Demo, "endpoint is empty"},
		{"no scheme", with(func(s *S3Target) { s.Endpoint = "s3.example.net:9000" }), Demo, "endpoint"},
		{"ftp", with(func(s *S3Target) { s.Endpoint = "ftp://s3.example.net" }), Demo, "must start with https://"},
		{"credentials in the URL", with(func(s *S3Target) { s.Endpoint = "https://AK:SK@s3.example.net" }), Demo, "credentials in Vault"},
		{"bucket in the path", with(func(s *S3Target) { s.Endpoint = "https://s3.example.net/bank-backups" }), Demo, "scheme, host and port only"},
		{"empty port", with(func(s *S3Target) { s.Endpoint = "https://s3.example.net:" }), Demo, "empty port"},
		{"no bucket", with(func(s *S3Target) { s.Bucket = "" }), Demo, "bucket"},
		{"upper-case bucket", with(func(s *S3Target) { s.Bucket = "Backups" }), Demo, "bucket"},
		{"bucket like an IP", with(func(s *S3Target) { s.Bucket = "192.168.1.1" }), Demo, "bucket"},
		{"bucket with ..", with(func(s *S3Target) { s.Bucket = "a..b" }), Demo, "bucket"},
		{"prefix climbing", with(func(s *S3Target) { s.Prefix = "site/../other" }), Demo, "prefix"},
		{"prefix absolute", with(func(s *S3Target) { s.Prefix = "/site" }), Demo, "prefix"},
		{"prefix trailing slash", with(func(s *S3Target) { s.Prefix = "site/" }), Demo, "prefix"},
		{"prefix too long", with(func(s *S3Target) { s.Prefix = strings.Repeat("a", 201) }), Demo, "prefix"},
		{"region", with(func(s *S3Target) { s.Region = "EU West" }), Demo, "region"},
		{"relative ca_cert", with(func(s *S3Target) { s.CACert = "ca.pem" }), Demo, "absolute path"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.o.Validate(c.profile)
			if c.want == "" {
				if err != nil {
					t.Fatalf("valid settings refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want one saying %q", err, c.want)
			}
		})
	}
}

func TestS3TargetDefaults(t *testing.T) {
	var s S3Target
	if s.RegionOrDefault() != DefaultS3Region || s.PrefixOr("bank") != "bank" {
		t.Fatalf("defaults: region %q prefix %q", s.RegionOrDefault(), s.PrefixOr("bank"))
	}
	s.Region, s.Prefix = "eu-west-1", "site-a"
	if s.RegionOrDefault() != "eu-west-1" || s.PrefixOr("bank") != "site-a" {
		t.Fatalf("given: region %q prefix %q", s.RegionOrDefault(), s.PrefixOr("bank"))
	}
}

// The answers file's backup section carries the off-host copy and its
// checks: production refuses a plain http store.
func TestAnswersValidateOffsite(t *testing.T) {
	a := Defaults(Production)
	a.Backup.Offsite.S3 = &S3Target{Endpoint: "http://s3.example.net:8333", Bucket: "bank-backups", Insecure: true}
	err := a.Validate()
	if err == nil || !strings.Contains(err.Error(), "backup.offsite.s3.endpoint") || !strings.Contains(err.Error(), "production profile refuses") {
		t.Fatalf("production answers with an http store: %v", err)
	}
	data, err := Marshal(Defaults(Demo))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "offsite") {
		t.Fatalf("answers without an off-host copy write an offsite section:\n%s", data)
	}
}
