package delivered

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/diagnose/redact"
)

// stack renders every group and writes each service's secret files as the
// vault step does, with one generated-looking value per Vault key.
func stack(t *testing.T) (services []assets.Service, dir string, values map[string]string) {
	t.Helper()
	a := answers.Defaults(answers.Production)
	a.Groups = answers.Groups
	a.Host.Hostname = "bank.example.test"
	b, err := assets.Render(a, assets.Options{Project: "fineract", SecretsDir: "/run/x"})
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	values = map[string]string{}
	for _, svc := range b.Services {
		if err := os.MkdirAll(filepath.Join(dir, svc.Name), 0o700); err != nil {
			t.Fatal(err)
		}
		files, err := svc.SecretFileContents(func(need assets.SecretNeed) string {
			key := need.VaultPath + "#" + need.Key
			if values[key] == "" {
				sum := sha256.Sum256([]byte(key))
				values[key] = strings.ToUpper(hex.EncodeToString(sum[:]))[:need.Generate.Length/2] + hex.EncodeToString(sum[:])[:need.Generate.Length/2]
			}
			return values[key]
		})
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, svc.Name, name), data, 0o400); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.Services, dir, values
}

func TestSecretsRecoversEveryFormat(t *testing.T) {
	services, dir, values := stack(t)
	got, err := Secrets(context.Background(), services, dir)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, v := range got {
		if have[string(v)] {
			t.Errorf("%q returned twice", v)
		}
		have[string(v)] = true
	}
	for key, v := range values {
		if !have[v] {
			t.Errorf("the value of %s is missing", key)
		}
	}
	// Kibana's keys come as YAML settings, Redis' password also as the
	// hash in its ACL file.
	for _, key := range []string{"banking/services/kibana#security_encryption_key", "banking/services/kibana#reporting_encryption_key"} {
		if !have[values[key]] {
			t.Errorf("%s (YAML setting format) not recovered", key)
		}
	}
	sum := sha256.Sum256([]byte(values["banking/services/redis#password"]))
	if !have[hex.EncodeToString(sum[:])] {
		t.Error("the Redis ACL hash is missing")
	}
	if len(got) != len(values)+1 {
		t.Errorf("%d values, want %d (each Vault value and the ACL hash)", len(got), len(values)+1)
	}
	// Every value is long enough for the redactor.
	if _, err := redact.New(got, redact.Options{}); err != nil {
		t.Errorf("the redactor refuses the values: %v", err)
	}
	if MinLength < redact.MinKnownLength {
		t.Errorf("MinLength %d is below the redactor's minimum %d", MinLength, redact.MinKnownLength)
	}
}

// TestSecretsRefusesWhatItDidNotWrite: a service owns its secrets
// directory and could replace its files. A link is not followed, a FIFO
// does not block, and content the installer cannot have written is
// reported, not taken as a value; the other files are still read.
func TestSecretsRefusesWhatItDidNotWrite(t *testing.T) {
	services, dir, values := stack(t)
	outside := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(outside, []byte(strings.Repeat("L", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	replace := func(service, file string, make func(p string) error) {
		t.Helper()
		p := filepath.Join(dir, service, file)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := make(p); err != nil {
			t.Fatal(err)
		}
	}
	write := func(data string) func(string) error {
		return func(p string) error { return os.WriteFile(p, []byte(data), 0o400) }
	}
	replace("postgres", "superuser_password", func(p string) error { return os.Symlink(outside, p) })
	replace("grafana", "admin_password", func(p string) error { return syscall.Mkfifo(p, 0o600) })
	replace("keycloak", "keycloak.conf", write(strings.Repeat("k", 100<<10)))
	replace("kibana", "reporting-encryption-key.yml", write("xpack.reporting.encryptionKey: \"not-alnum!\"\n"))
	replace("elasticsearch", "elastic_password", write("Short1"))
	replace("redis", "password", write("not the installer's\n"))

	got, err := Secrets(context.Background(), services, dir)
	if err == nil {
		t.Fatal("no error for the replaced files")
	}
	for _, want := range []string{
		"postgres/superuser_password: open:",
		"grafana/admin_password: not a regular file",
		"keycloak/keycloak.conf: larger than",
		"kibana/reporting-encryption-key.yml: secret file reporting-encryption-key.yml (banking/services/kibana#reporting_encryption_key) does not hold what the installer writes in the yaml:xpack.reporting.encryptionKey format",
		"holds a value of 6 characters, too short to search for",
		"redis/password: secret file password",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	for _, v := range got {
		if strings.Contains(string(v), "L") && strings.Trim(string(v), "L") == "" || string(v) == "Short1" {
			t.Errorf("returned %q, which the installer did not write", v)
		}
	}
	// The untouched files still count.
	if !contains(got, values["banking/services/kibana#security_encryption_key"]) || !contains(got, values["banking/databases/fineract#password"]) {
		t.Error("values from untouched files are missing")
	}
}

// TestSecretsNeedsTheValueNotOnlyItsHash: a key delivered only in a
// hashing format would leave its value unknown to redaction.
func TestSecretsNeedsTheValueNotOnlyItsHash(t *testing.T) {
	services, dir, _ := stack(t)
	for i, svc := range services {
		if svc.Name != "redis" {
			continue
		}
		var acl []assets.SecretNeed
		for _, n := range svc.Secrets {
			if n.Format == assets.FormatRedisACL {
				acl = append(acl, n)
			}
		}
		services[i].Secrets = acl
	}
	_, err := Secrets(context.Background(), services, dir)
	if err == nil || !strings.Contains(err.Error(), "no delivered file gives back the value of banking/services/redis#password") {
		t.Fatalf("got %v", err)
	}
}

func TestSecretsWithoutTheDirectory(t *testing.T) {
	services, _, _ := stack(t)
	if _, err := Secrets(context.Background(), services, filepath.Join(t.TempDir(), "sealed")); err == nil || !strings.Contains(err.Error(), "open the delivered secrets") {
		t.Fatalf("got %v", err)
	}
}

func contains(vs [][]byte, s string) bool {
	for _, v := range vs {
		if string(v) == s {
			return true
		}
	}
	return false
}

// TestValueReadsOneSettingOfASharedFile reads Keycloak's bootstrap admin
// password back from keycloak.conf, which also holds the database
// password, and refuses a file replaced by a symbolic link.
func TestValueReadsOneSettingOfASharedFile(t *testing.T) {
	services, dir, values := stack(t)
	var kc assets.Service
	for _, s := range services {
		if s.Name == "keycloak" {
			kc = s
		}
	}
	got, err := Value(context.Background(), kc, dir, assets.KeycloakAdminVaultPath, assets.KeycloakAdminVaultKey)
	want := values[assets.KeycloakAdminVaultPath+"#"+assets.KeycloakAdminVaultKey]
	if err != nil || got != want || want == "" {
		t.Fatalf("Value = %q, %v; want %q", got, err, want)
	}
	if _, err := Value(context.Background(), kc, dir, "banking/services/nothing", "x"); err == nil {
		t.Error("a secret the service does not receive was found")
	}
	conf := filepath.Join(dir, "keycloak", "keycloak.conf")
	if err := os.Rename(conf, conf+".real"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(conf+".real", conf); err != nil {
		t.Fatal(err)
	}
	if _, err := Value(context.Background(), kc, dir, assets.KeycloakAdminVaultPath, assets.KeycloakAdminVaultKey); err == nil {
		t.Error("a symbolic link was followed")
	}
}
