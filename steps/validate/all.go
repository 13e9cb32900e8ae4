package validate

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/docker/docker/api/types/versions"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/atrest"
	"github.com/fineract-installer/fineract-installer/steps/hostfacts"
	"github.com/fineract-installer/fineract-installer/steps/preflight"
)

// All is the full checklist, in the order it is shown.
func All() []Check {
	var out []Check
	for _, group := range [][]Check{TLSChecks(), GatewayChecks(), ContainerChecks(), NetworkChecks(), VaultChecks(), PostgresChecks(), FineractChecks(), IdentityChecks(), MessagingChecks(), MonitoringChecks(), LoggingChecks(), SecretChecks(), BackupChecks(), AuditChecks(), HostChecks()} {
		out = append(out, group...)
	}
	return out
}

// HostChecks look at the Docker engine the stack runs on.
func HostChecks() []Check {
	return []Check{
		{ID: "host-docker", Area: AreaHost, Title: "Docker engine version and defaults", Controls: []Control{ControlHardening, ControlLogging}, Run: checkDocker},
		{ID: "host-ids", Area: AreaHost, Title: "No host account shares a service's uid or gid", Controls: []Control{ControlHardening, ControlSecrets}, Run: checkHostIDs},
		{ID: "host-encryption", Area: AreaHost, Title: "Images, volumes, install dir and backups are on encrypted storage", Controls: []Control{ControlAtRest}, Run: checkEncryption},
	}
}

// checkEncryption finds whether the data the stack keeps on this host
// (Docker's data root, with the images and the services' volumes; the
// install dir; the default backup directory) sits on dm-crypt. Encryption
// at rest is the host's to provide, so a host without it is a warning.
func checkEncryption(ctx context.Context, t *Target) Finding {
	info, err := t.Engine.API().Info(ctx)
	if err != nil {
		return fail("docker info: "+err.Error(), "")
	}
	ok, evidence := atrest.Summary(atrest.HostAt(t.HostRoot).Directories(info.DockerRootDir, t.Dir))
	if !ok {
		return Finding{Status: Warn, Evidence: evidence, Fix: atrest.Fix}
	}
	return pass(evidence)
}

// checkHostIDs reads the ids each service's process really runs as and
// looks for anything on the host using them (preflight's rule).
func checkHostIDs(ctx context.Context, t *Target) Finding {
	cs, err := t.inspectAll(ctx)
	if err != nil {
		return fail(err.Error(), "")
	}
	var running []assets.Service
	var wrong []string
	for _, svc := range t.Expect.Services {
		c, ok := cs[svc.Name]
		if !ok {
			continue // the container checks report it
		}
		uid, gid, err := hostfacts.ProcessIDs(c.State.Pid)
		if err != nil {
			wrong = append(wrong, fmt.Sprintf("%s: cannot read its process's ids: %v", svc.Name, err))
			continue
		}
		if uid != svc.UID || gid != svc.GID {
			wrong = append(wrong, fmt.Sprintf("%s runs as %d:%d, not as %s", svc.Name, uid, gid, svc.User()))
		}
		svc.UID, svc.GID = uid, gid
		running = append(running, svc)
	}
	if len(wrong) > 0 {
		return fail(strings.Join(wrong, "; "), "run `fineract-installer install` again: it recreates each service with its own ids")
	}
	root := t.HostRoot
	if root == "" {
		root = "/"
	}
	ids, err := hostfacts.ReadHostIDs(root)
	if err != nil {
		return fail(err.Error(), "run validate on the Docker host itself")
	}
	r := preflight.IDsResult(preflight.Result{}, ids, running, t.Answers.ServiceIDsFrom)
	return Finding{Status: Status(r.Status), Evidence: r.Observed, Fix: r.Fix}
}

func checkDocker(ctx context.Context, t *Target) Finding {
	info, err := t.Engine.API().Info(ctx)
	if err != nil {
		return fail("docker info: "+err.Error(), "")
	}
	evidence := fmt.Sprintf("Docker %s (API %s), storage %s, live-restore %t, default log driver %s", info.ServerVersion, t.Engine.APIVersion(), info.Driver, info.LiveRestoreEnabled, info.LoggingDriver)
	if versions.LessThan(t.Engine.APIVersion(), "1.41") {
		return fail(evidence, "upgrade Docker to 20.10 or newer")
	}
	var notes []string
	// Vault runs without mlock because its container has no swap; that
	// holds only if the engine enforces swap limits or the host has none.
	if swaps, _ := os.ReadFile("/proc/swaps"); len(strings.Split(strings.TrimSpace(string(swaps)), "\n")) > 1 && !info.SwapLimit {
		notes = append(notes, "this host has swap but the engine cannot limit it (enable swap accounting: kernel parameter swapaccount=1), so Vault's memory could be swapped out")
	}
	if !info.LiveRestoreEnabled {
		notes = append(notes, `enable "live-restore": true in /etc/docker/daemon.json so an engine upgrade does not stop the bank`)
	}
	if len(notes) > 0 {
		return Finding{Status: Warn, Evidence: evidence, Fix: strings.Join(notes, "; ")}
	}
	return pass(evidence)
}
