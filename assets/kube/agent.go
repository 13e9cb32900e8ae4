package kube

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
)

// AgentConfig is the Vault agent configuration one service's pods run
// with, in their init container: log in once with the pod's projected
// ServiceAccount token, write every file, exit.
type AgentConfig struct {
	// VaultAddr is Vault's https address as the pod reaches it.
	VaultAddr string
	// CACertPath is, inside the agent container, the PEM file Vault's
	// certificate must chain to.
	CACertPath string
	// Role is the Kubernetes auth role (VaultRole).
	Role string
	// TokenPath is the projected ServiceAccount token (audience "vault").
	TokenPath string
	// SecretPath is the KV v2 secret holding the files (DeliveryPath).
	SecretPath string
	// OutDir is the memory-backed directory the files are written into.
	OutDir string
	// Files are the file names, each a key of the secret at SecretPath.
	Files []string
	// Base64Files are the files (of Files) Vault holds base64-encoded
	// because they are binary; the agent decodes them.
	Base64Files []string
	// Mode is the files' permission bits, as the service reads them.
	Mode uint32
}

// JSON renders the configuration in the JSON form of Vault's agent
// configuration (Vault parses HCL and JSON alike); JSON is generated with
// encoding/json, so no value needs hand-written escaping.
func (c AgentConfig) JSON() ([]byte, error) {
	if c.VaultAddr == "" || c.Role == "" || c.TokenPath == "" || c.SecretPath == "" || c.OutDir == "" {
		return nil, fmt.Errorf("vault agent configuration for %q is incomplete", c.SecretPath)
	}
	files := append([]string(nil), c.Files...)
	sort.Strings(files)
	kvData, err := kvDataPath(c.SecretPath)
	if err != nil {
		return nil, err
	}
	var templates []map[string]any
	for _, f := range files {
		value := `index .Data.data ` + strconv.Quote(f)
		if slices.Contains(c.Base64Files, f) {
			value = `base64Decode (` + value + `)`
		}
		templates = append(templates, map[string]any{
			"destination":          c.OutDir + "/" + f,
			"perms":                fmt.Sprintf("%04o", c.Mode),
			"error_on_missing_key": true,
			// index, not a field name: file names hold dots and dashes.
			"contents": `{{ with secret ` + strconv.Quote(kvData) + ` }}{{ ` + value + ` }}{{ end }}`,
		})
	}
	vault := map[string]any{"address": c.VaultAddr}
	if c.CACertPath != "" {
		vault["ca_cert"] = c.CACertPath
	}
	cfg := map[string]any{
		"vault":           vault,
		"exit_after_auth": true,
		"auto_auth": map[string]any{
			"method": []map[string]any{{
				"type":       "kubernetes",
				"mount_path": "auth/kubernetes",
				"config": map[string]any{
					"role":       c.Role,
					"token_path": c.TokenPath,
				},
			}},
		},
		// A file that cannot be rendered fails the pod's start instead of
		// leaving the service to start without its secret.
		"template_config": map[string]any{"exit_on_retry_failure": true},
		"template":        templates,
	}
	return json.MarshalIndent(cfg, "", "  ")
}

// kvDataPath turns banking/<rest> into KV v2's read path banking/data/<rest>.
func kvDataPath(p string) (string, error) {
	const mount = "banking/"
	if len(p) <= len(mount) || p[:len(mount)] != mount {
		return "", fmt.Errorf("secret path %q is not under %s", p, mount)
	}
	return mount + "data/" + p[len(mount):], nil
}
