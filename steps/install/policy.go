package install

import (
	"path/filepath"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
)

// containerLogsDir is where Docker's json-file driver writes every
// container's log. The log shipper reads it (read-only, as root without
// capabilities): the one host path the stack mounts from outside the
// install and secrets directories.
const containerLogsDir = "/var/lib/docker/containers"

// logShipper is the service that reads containerLogsDir.
const logShipper = "filebeat"

// HardeningPolicy is the policy the engine enforces on every apply of the
// stack rendered as b: host paths only from the install dir and the secrets
// dir (plus the log shipper's read-only container logs), and root only for
// the services whose assets say why they need it.
func HardeningPolicy(b assets.Bundle, dir, secretsDir string) compose.Policy {
	pol := compose.Policy{BindRoots: []string{dir, secretsDir}}
	for _, s := range b.Services {
		if s.RootReason != "" {
			pol.RootServices = append(pol.RootServices, s.Name)
		}
		if s.Name == logShipper {
			pol.ReadOnlyHostPaths = map[string][]string{s.Name: {containerLogsDir}}
		}
		for _, w := range s.WritableBinds {
			if !filepath.IsAbs(w) {
				w = filepath.Join(dir, w)
			}
			if pol.WritableHostPaths == nil {
				pol.WritableHostPaths = map[string][]string{}
			}
			pol.WritableHostPaths[s.Name] = append(pol.WritableHostPaths[s.Name], w)
		}
	}
	return pol
}

// Policy is the hardening policy of this installation's stack.
func (env *Env) Policy() compose.Policy {
	return HardeningPolicy(env.Bundle, env.Dir, env.SecretsDir)
}
