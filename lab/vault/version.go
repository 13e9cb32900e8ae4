package main

import "github.com/hashicorp/vault/version"

// versionLine is what `vault version` prints, e.g. "Vault v1.21.4 (lab build)".
func versionLine() string {
	return version.GetVersion().FullVersionNumber(false) + " (lab build)"
}
