package kube

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// vaultAgentConfig is the part of Vault's parsed agent configuration
// (command/agent/config.Config of hashicorp/vault v1.21.4) the pods rely on.
type vaultAgentConfig struct {
	ExitAfterAuth bool
	Vault         struct{ Address, CACert string }
	AutoAuth      struct {
		Method struct {
			Type, MountPath string
			Config          map[string]any
		}
		Sinks []any
	}
	TemplateConfig struct{ ExitOnRetryFailure bool }
	Templates      []struct {
		Contents, Destination *string
		Perms                 *uint32
		ErrMissingKey         *bool
	}
}

// TestAgentConfigAsVaultReadsIt loads AgentConfig.JSON() with Vault's own
// agent configuration loader and validation (lab/vault/agentconfig), so a
// key Vault ignores or reads differently fails here, not in a pod.
func TestAgentConfigAsVaultReadsIt(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "lab", "vault"))
	if err != nil {
		t.Fatal(err)
	}
	bin, err := labtest.GoBinary("vault-agentconfig", dir, "./agentconfig")
	if err != nil {
		t.Fatalf("building Vault's agent configuration loader: %v", err)
	}
	cfg := AgentConfig{
		VaultAddr: "https://vault.example:8200", CACertPath: "/vault/ca/ca.crt",
		Role: VaultRole("bank", "fineract"), TokenPath: "/var/run/secrets/vault/token",
		SecretPath: DeliveryPath("bank", "fineract"), OutDir: "/run/secrets/fineract",
		Files: []string{"db_password", "app.conf"}, Mode: 0o400,
	}
	body, err := cfg.JSON()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "agent.json")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, file).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("Vault's agent refuses the configuration: %v\n%s\n%s", err, stderr, body)
	}
	var got vaultAgentConfig
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if !got.ExitAfterAuth || !got.TemplateConfig.ExitOnRetryFailure {
		t.Errorf("exit_after_auth %v, exit_on_retry_failure %v: the init container must end, and fail when a file cannot be rendered",
			got.ExitAfterAuth, got.TemplateConfig.ExitOnRetryFailure)
	}
	if got.Vault.Address != cfg.VaultAddr || got.Vault.CACert != cfg.CACertPath {
		t.Errorf("vault stanza %+v", got.Vault)
	}
	m := got.AutoAuth.Method
	if m.Type != "kubernetes" || m.MountPath != "auth/kubernetes" ||
		m.Config["role"] != cfg.Role || m.Config["token_path"] != cfg.TokenPath {
		t.Errorf("auto_auth method %+v", m)
	}
	if len(got.AutoAuth.Sinks) != 0 {
		t.Errorf("the agent writes its Vault token to %d sink(s); the pod needs the files only", len(got.AutoAuth.Sinks))
	}
	want := map[string]string{
		"/run/secrets/fineract/app.conf":    `{{ with secret "banking/data/kubernetes/bank/fineract" }}{{ index .Data.data "app.conf" }}{{ end }}`,
		"/run/secrets/fineract/db_password": `{{ with secret "banking/data/kubernetes/bank/fineract" }}{{ index .Data.data "db_password" }}{{ end }}`,
	}
	if len(got.Templates) != len(want) {
		t.Fatalf("%d templates, want %d", len(got.Templates), len(want))
	}
	for _, tpl := range got.Templates {
		if tpl.Destination == nil || tpl.Contents == nil || want[*tpl.Destination] != *tpl.Contents {
			t.Errorf("template %v -> %v, want one of %v", tpl.Contents, tpl.Destination, want)
			continue
		}
		if tpl.Perms == nil || *tpl.Perms != 0o400 {
			t.Errorf("%s: perms %v, want 0400", *tpl.Destination, tpl.Perms)
		}
		if tpl.ErrMissingKey == nil || !*tpl.ErrMissingKey {
			t.Errorf("%s: a missing key would render an empty file", *tpl.Destination)
		}
	}
}
