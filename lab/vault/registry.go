package main

import (
	"sort"

	kubeauth "github.com/hashicorp/vault-plugin-auth-kubernetes"
	kv "github.com/hashicorp/vault-plugin-secrets-kv"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
)

// kvFactory is the KV secrets engine (v1 and v2), built in as in Vault.
var kvFactory logical.Factory = kv.Factory

// kubernetesAuthFactory is Vault's Kubernetes auth method, the plugin the
// official build registers as the builtin credential "kubernetes"
// (hashicorp/vault v1.21.4, helper/builtinplugins/registry_full.go:
// `pluginconsts.AuthTypeKubernetes: {Factory: credKube.Factory}`, with
// credKube = github.com/hashicorp/vault-plugin-auth-kubernetes at the
// v0.23.1 Vault's go.mod pins).
var kubernetesAuthFactory logical.Factory = kubeauth.Factory

// builtinRegistry is the plugin catalog's list of built-in plugins. This
// lab build carries the KV secrets engine and the Kubernetes auth method;
// the core adds its internal engines (system, cubbyhole, identity, token
// auth) itself.
type builtinRegistry struct{}

// builtins are the registry's plugins by type and name.
var builtins = map[consts.PluginType]map[string]logical.Factory{
	consts.PluginTypeSecrets:    {"kv": kvFactory},
	consts.PluginTypeCredential: {"kubernetes": kubernetesAuthFactory},
}

func (builtinRegistry) Get(name string, t consts.PluginType) (func() (interface{}, error), bool) {
	f, ok := builtins[t][name]
	if !ok {
		return nil, false
	}
	return func() (interface{}, error) { return f, nil }, true
}

func (builtinRegistry) Keys(t consts.PluginType) []string {
	var keys []string
	for name := range builtins[t] {
		keys = append(keys, name)
	}
	sort.Strings(keys)
	return keys
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
