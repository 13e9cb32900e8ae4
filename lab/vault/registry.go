package main

import (
	kv "github.com/hashicorp/vault-plugin-secrets-kv"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
)

// kvFactory is the KV secrets engine (v1 and v2), built in as in Vault.
var kvFactory logical.Factory = kv.Factory

// builtinRegistry is the plugin catalog's list of built-in plugins. This
// lab build carries only the KV secrets engine; the core adds its internal
// engines (system, cubbyhole, identity, token auth) itself.
type builtinRegistry struct{}

func (builtinRegistry) Get(name string, t consts.PluginType) (func() (interface{}, error), bool) {
	if t == consts.PluginTypeSecrets && name == "kv" {
		return func() (interface{}, error) { return kvFactory, nil }, true
	}
	return nil, false
}

func (builtinRegistry) Keys(t consts.PluginType) []string {
	if t == consts.PluginTypeSecrets {
		return []string{"kv"}
	}
	return nil
}

func (r builtinRegistry) Contains(name string, t consts.PluginType) bool {
	_, ok := r.Get(name, t)
	return ok
}

func (r builtinRegistry) DeprecationStatus(name string, t consts.PluginType) (consts.DeprecationStatus, bool) {
	if r.Contains(name, t) {
		return consts.Supported, true
	}
	return consts.Unknown, false
}

func (builtinRegistry) IsBuiltinEntPlugin(string, consts.PluginType) bool { return false }
