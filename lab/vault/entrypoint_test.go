package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestEntrypointArgs(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	cases := []struct {
		in   []string
		want []string
	}{
		{[]string{"server"}, []string{"vault", "server", "-config=/vault/config", "-dev-root-token-id=", "-dev-listen-address=0.0.0.0:8200"}},
		{[]string{"server", "-log-level=debug"}, []string{"vault", "server", "-config=/vault/config", "-dev-root-token-id=", "-dev-listen-address=0.0.0.0:8200", "-log-level=debug"}},
		{[]string{"status"}, []string{"vault", "status"}},
		{[]string{"version"}, []string{"vault", "version"}},
		{[]string{"-version"}, []string{"vault", "-version"}},
		{[]string{"vault", "server", "-config=/etc/v.hcl"}, []string{"vault", "server", "-config=/etc/v.hcl"}},
		{[]string{"sh", "-c", "true"}, []string{"sh", "-c", "true"}},
	}
	for _, c := range cases {
		if got := entrypointArgs(c.in, getenv); !reflect.DeepEqual(got, c.want) {
			t.Errorf("entrypointArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	env["VAULT_DEV_LISTEN_ADDRESS"] = "127.0.0.1:9999"
	got := entrypointArgs([]string{"server"}, getenv)
	if got[4] != "-dev-listen-address=127.0.0.1:9999" {
		t.Errorf("VAULT_DEV_LISTEN_ADDRESS not honoured: %q", got)
	}
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "vault.hcl"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadConfigReadsUpstreamStyleHCL(t *testing.T) {
	dir := writeConfig(t, `
storage "file" { path = "/vault/file" }
listener "tcp" {
  address         = "0.0.0.0:8200"
  tls_cert_file   = "/vault/tls/vault.crt"
  tls_key_file    = "/vault/tls/vault.key"
  tls_min_version = "tls13"
}
api_addr      = "https://vault:8200"
disable_mlock = true
ui            = true
`)
	cfg, err := loadConfig([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Storage.Type != "file" || cfg.Storage.Config["path"] != "/vault/file" {
		t.Errorf("storage = %+v", cfg.Storage)
	}
	if cfg.Storage.RedirectAddr != "https://vault:8200" {
		t.Errorf("api_addr not applied: %q", cfg.Storage.RedirectAddr)
	}
	l := cfg.Listeners[0]
	if l.Address != "0.0.0.0:8200" || l.TLSMinVersion != "tls13" || l.TLSDisable || l.TLSKeyFile != "/vault/tls/vault.key" {
		t.Errorf("listener = %+v", l)
	}
	if !cfg.DisableMlock || !cfg.EnableUI {
		t.Errorf("disable_mlock=%v ui=%v", cfg.DisableMlock, cfg.EnableUI)
	}
}

func TestLoadConfigRefusesWhatThisBuildLacks(t *testing.T) {
	cases := map[string]string{
		"raft":     `storage "raft" { path = "/x" }` + "\nlistener \"tcp\" { tls_disable = true }",
		"seal":     `storage "file" { path = "/x" }` + "\nlistener \"tcp\" { tls_disable = true }\nseal \"transit\" { address = \"https://x\" }",
		"listener": `storage "file" { path = "/x" }`,
	}
	for name, body := range cases {
		if _, err := loadConfig([]string{writeConfig(t, body)}); err == nil {
			t.Errorf("%s: config accepted, want a refusal", name)
		}
	}
	_, err := loadConfig([]string{t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "storage") {
		t.Errorf("empty config dir: err = %v, want a missing storage error", err)
	}
}

func TestChownVaultDirsSkipsOwnedAndMissing(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("chown needs root")
	}
	base := t.TempDir()
	vaultConfigDir, vaultLogsDir, vaultFileDir = filepath.Join(base, "config"), filepath.Join(base, "logs"), filepath.Join(base, "missing")
	t.Cleanup(func() { vaultConfigDir, vaultLogsDir, vaultFileDir = "/vault/config", "/vault/logs", "/vault/file" })
	for _, d := range []string{vaultConfigDir, vaultLogsDir} {
		if err := os.MkdirAll(filepath.Join(d, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := chownVaultDirs(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{vaultConfigDir, filepath.Join(vaultLogsDir, "sub")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != vaultUID || st.Gid != vaultGID {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, st.Uid, st.Gid, vaultUID, vaultGID)
		}
	}
}
