package main

import (
	"context"
	"testing"

	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
)

// The lab Vault resolves "kubernetes" as the official build does: a
// builtin credential plugin whose factory yields Vault's Kubernetes auth
// backend (its paths login, config and role/).
func TestRegistryHasKubernetesAuth(t *testing.T) {
	r := builtinRegistry{}
	if !r.Contains("kubernetes", consts.PluginTypeCredential) {
		t.Fatal("kubernetes is not a builtin credential plugin")
	}
	if r.Contains("kubernetes", consts.PluginTypeSecrets) {
		t.Error("kubernetes is listed as a secrets engine; only the auth method is built in")
	}
	if got := r.Keys(consts.PluginTypeCredential); len(got) != 1 || got[0] != "kubernetes" {
		t.Errorf("credential plugins %v, want [kubernetes]", got)
	}
	get, ok := r.Get("kubernetes", consts.PluginTypeCredential)
	if !ok {
		t.Fatal("Get(kubernetes) failed")
	}
	f, err := get()
	if err != nil {
		t.Fatal(err)
	}
	factory, ok := f.(logical.Factory)
	if !ok {
		t.Fatalf("the kubernetes plugin is a %T, not a logical.Factory", f)
	}
	b, err := factory(context.Background(), &logical.BackendConfig{System: logical.TestSystemView(), StorageView: &logical.InmemStorage{}})
	if err != nil {
		t.Fatal(err)
	}
	if b.Type() != logical.TypeCredential {
		t.Errorf("backend type %v, want credential", b.Type())
	}
	paths := b.SpecialPaths()
	if paths == nil || len(paths.Unauthenticated) == 0 || paths.Unauthenticated[0] != "login" {
		t.Errorf("unauthenticated paths %+v, want login", paths)
	}
}
