package assets

import (
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

func TestRenderedFilesHoldNoSecretLiteral(t *testing.T) {
	for _, c := range allCombos() {
		b := mustRender(t, answersFor(c))
		for _, f := range b.ScanSecrets() {
			t.Errorf("%s: %s:%d (%s): %s", c, f.Path, f.Line, f.Rule, f.Text)
		}
	}
}

// TestScannerFindsPlantedLiterals plants each kind of literal into a real
// rendered file and expects the scanner to report it there.
func TestScannerFindsPlantedLiterals(t *testing.T) {
	b := mustRender(t, answersFor(combo{groups: answers.Groups[1:], profile: answers.Production}))
	pemKey := "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"
	cases := []struct {
		name, path, plant, value, rule string
	}{
		{"compose env password", composeFileName, "      FINERACT_HIKARI_PASSWORD: \"Sup3rS3cretValue\"\n", "Sup3rS3cretValue", "password-assignment"},
		{"compose env list form", composeFileName, "      - POSTGRES_PASSWORD=changeit-please\n", "changeit-please", "password-assignment"},
		{"redis directive", "config/redis/redis.conf", "requirepass s3cretvalue\n", "s3cretvalue", "password-assignment"},
		{"properties", "config/fineract/installer.properties", "spring.datasource.password=hunter2hunter2\n", "hunter2hunter2", "password-assignment"},
		{"json", "config/keycloak/realm-fineract.json", "  \"secret\": \"K8s-client-secret-value\",\n", "K8s-client-secret-value", "password-assignment"},
		{"hcl token", "config/vault/vault.hcl", "token = \"hvs.CAESIJ2x9\"\n", "hvs.CAESIJ2x9", "password-assignment"},
		{"password in a comment", "config/postgres/pg_hba.conf", "# password: hunter2hunter2\n", "hunter2hunter2", "password-assignment"},
		{"PEM private key", "config/gateway/nginx.conf", pemKey, "", "private-key"},
		{"random string in env", composeFileName, "      GF_EXTRA: q8Xv2LmN4pR7sT1wY6zB3cD9\n", "q8Xv2LmN4pR7sT1wY6zB3cD9", "random-string"},
		{"hex key", "config/kafka/server.properties", "some.setting=4f9d2c7a1b8e3f6d0a5c9e2b7d4f1a8c3e6b9d2f\n", "4f9d2c7a1b8e3f6d0a5c9e2b7d4f1a8c3e6b9d2f", "random-string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := b.File(tc.path)
			if !ok {
				t.Fatalf("bundle has no %s", tc.path)
			}
			if got := ScanSecrets(f.Path, f.Data); len(got) > 0 {
				t.Fatalf("clean file already has findings: %+v", got)
			}
			planted := append([]byte(tc.plant), f.Data...)
			got := ScanSecrets(f.Path, planted)
			if len(got) == 0 {
				t.Fatalf("planted %q was not found", tc.plant)
			}
			if got[0].Rule != tc.rule || got[0].Line != 1 {
				t.Errorf("finding %+v, want rule %s on line 1", got[0], tc.rule)
			}
			if tc.value != "" && strings.Contains(got[0].Text, tc.value) {
				t.Errorf("finding text %q repeats the secret instead of masking it", got[0].Text)
			}
		})
	}
}

func TestScannerAcceptsReferences(t *testing.T) {
	clean := strings.Join([]string{
		"POSTGRES_PASSWORD_FILE: /run/secrets/superuser_password",
		"GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/admin_password",
		"spring.ssl.bundle.pem.fineract.keystore.private-key=file:/etc/fineract/tls/fineract.key",
		`export KC_DB_PASSWORD="$$(< /run/secrets/db_password)"`,
		"password_encryption = 'scram-sha-256'",
		"ALTER ROLE fineract WITH LOGIN PASSWORD :'pw';",
		"# The token: metrics carry no secret",
		`"accessTokenLifespan": 300,`,
		"add_header Content-Security-Policy \"script-src 'self' 'sha256-MhtPZXr7+LpJUY5qtMutB+qWfQtMaPccfe7QXtCcEYc='\" always;",
		"secrets:",
	}, "\n")
	if got := ScanSecrets("refs", []byte(clean)); len(got) > 0 {
		t.Errorf("references reported as secrets: %+v", got)
	}
}
