package answers

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestTemplateRoundTripsToDefaults(t *testing.T) {
	for _, p := range []Profile{Production, Demo} {
		data, err := Template(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "# ") {
			t.Errorf("%s template has no comments", p)
		}
		got, err := Parse("answers.yaml", data)
		if err != nil {
			t.Fatalf("%s template does not load: %v\n%s", p, err, data)
		}
		if want := Defaults(p); !reflect.DeepEqual(got, want) {
			t.Errorf("%s template loads as\n%+v\nwant\n%+v", p, got, want)
		}
	}
}

func TestErrorsNameLineAndFix(t *testing.T) {
	cases := []struct {
		name, yaml string
		line       int
		want       []string
	}{
		{"unknown key with suggestion", "version: 1\nprofile: demo\nvault:\n  key_treshold: 1\n", 4, []string{`unknown key "vault.key_treshold"`, `did you mean "vault.key_threshold"?`}},
		{"unknown top-level key", "version: 1\nhostname: bank.example\n", 2, []string{`unknown key "hostname"`}},
		{"wrong type", "version: 1\nvault:\n  key_shares: five\n", 3, []string{"wrong type", "five"}},
		{"threshold above shares", "version: 1\nvault:\n  key_shares: 3\n  key_threshold: 4\n", 4, []string{"larger than vault.key_shares (3)", "could never be unsealed"}},
		{"bad subnet", "version: 1\nnetwork:\n  data: {name: data, subnet: 10.300.0.0/24}\n", 3, []string{"network.data.subnet", "not a subnet in CIDR form"}},
		{"host bits", "version: 1\nnetwork:\n  data: {name: data, subnet: 10.231.30.5/24}\n", 3, []string{"did you mean 10.231.30.0/24?"}},
		{"overlapping subnets", "version: 1\nnetwork:\n  app: {name: app, subnet: 10.231.0.0/16}\n", 3, []string{"overlaps", "network.dmz.subnet"}},
		{"unknown group", "version: 1\ngroups: [core, monitorng]\n", 2, []string{`unknown group "monitorng"`, `did you mean "monitoring"?`}},
		{"import key without its certificate", "version: 1\ncertificates:\n  source: import\n  gateway_key: /etc/bank/gw.key\n", 4, []string{"certificates.gateway_chain and certificates.gateway_key must be given together"}},
		// Files that would be ignored are a mistake, not a silent no-op.
		{"import files with source generate", "version: 1\ncertificates:\n  source: generate\n  ca_cert: /etc/bank/ca.pem\n  ca_key: /etc/bank/ca.key\n", 3, []string{"certificates.source is generate, so the files named under certificates would be ignored"}},
		{"file custody in production", "version: 1\nprofile: production\nvault:\n  custody: file\n", 4, []string{"only the demo profile allows"}},
		{"unknown profile", "version: 1\nprofile: staging\n", 2, []string{`profile "staging" is not known`}},
		{"not yaml", "version: 1\nvault: [\n", 2, []string{"not valid YAML"}},
		// An IPv6 zone is free text: it would reach certificates, nginx and
		// compose port bindings, newlines included.
		{"zone in host.ips", "version: 1\nhost:\n  hostname: bank.example\n  ips: [\"fe80::1%eth0\\n  injected: true\"]\n", 4, []string{`"fe80::1" has an IPv6 zone`}},
		{"zone in bind_ip", "version: 1\ngateway:\n  bind_ip: \"::1%lo\"\n", 3, []string{"gateway.bind_ip", `"::1" has an IPv6 zone`}},
		{"bind_ip not an address", "version: 1\ngateway:\n  bind_ip: localhost\n", 3, []string{`gateway.bind_ip: "localhost" is not an IP address`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("answers.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			prefix := fmt.Sprintf("answers.yaml:%d: ", c.line)
			if !strings.Contains(msg, prefix) {
				t.Errorf("want line %d (%q) in %q", c.line, prefix, msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("want %q in %q", w, msg)
				}
			}
		})
	}
}

func TestOmittedFieldsTakeProfileDefaults(t *testing.T) {
	a, err := Parse("a.yaml", []byte("version: 1\nprofile: demo\nhost: {hostname: bank.example.org}\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := Defaults(Demo)
	if !reflect.DeepEqual(a.Vault, d.Vault) || !reflect.DeepEqual(a.Groups, d.Groups) || a.Host.Hostname != "bank.example.org" {
		t.Errorf("got %+v", a)
	}
}

// log_retention_days: each profile's default is valid, a file's value is
// taken, and a value outside 1..3650 is refused naming the key.
func TestLogRetentionDays(t *testing.T) {
	for p, want := range map[Profile]int{Production: 90, Demo: 7} {
		a := Defaults(p)
		if a.LogRetentionDays != want {
			t.Errorf("%s default: %d days, want %d", p, a.LogRetentionDays, want)
		}
	}
	a, err := Parse("answers.yaml", []byte("version: 1\nprofile: demo\nlog_retention_days: 30\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.LogRetentionDays != 30 {
		t.Errorf("parsed %d days, want 30", a.LogRetentionDays)
	}
	for _, days := range []int{0, -1, MaxLogRetentionDays + 1} {
		_, err := Parse("answers.yaml", []byte(fmt.Sprintf("version: 1\nprofile: demo\nlog_retention_days: %d\n", days)))
		if err == nil || !strings.Contains(err.Error(), "log_retention_days") {
			t.Errorf("%d days: got %v, want a refusal naming log_retention_days", days, err)
		}
	}
}
