// Package diagnose writes a support bundle: what a support engineer needs
// to understand a failed or misbehaving installation, with every secret
// removed. Redaction removes every value the installation keeps in Vault
// (read from the delivered secret files) and anything that looks like a
// token, password, private key or PEM block; the bundle lists what was
// redacted as counts, never values.
package diagnose

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/diagnose/redact"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/preflight"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// Options tune a bundle.
type Options struct {
	// LogLines is how many of each service's last log lines go in (default 500).
	LogLines int
	// Version is the installer's version.
	Version string
}

// Manifest describes a written bundle.
type Manifest struct {
	Created  time.Time      `json:"created"`
	Files    []string       `json:"files"`
	Redacted map[string]int `json:"redacted"`
	Notes    []string       `json:"notes,omitempty"`
}

// Write writes the bundle as a tar.gz to w.
func Write(ctx context.Context, env *install.Env, w io.Writer, o Options) (Manifest, error) {
	if o.LogLines <= 0 {
		o.LogLines = 500
	}
	known, _ := validate.SecretValues(env.Bundle.Services, env.SecretsDir)
	r, err := redact.New(known, redact.Options{})
	if err != nil {
		return Manifest{}, fmt.Errorf("prepare redaction: %w", err)
	}
	m := Manifest{Created: time.Now().UTC()}
	if len(known) == 0 {
		m.Notes = append(m.Notes, "no delivered secrets were readable (sealed Vault, or not root): redaction relied on patterns only")
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	add := func(name string, data []byte) error {
		clean, _ := r.Redact(data)
		m.Files = append(m.Files, name)
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(clean)), ModTime: m.Created, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(clean)
		return err
	}
	addJSON := func(name string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		return add(name, b)
	}
	e := env.Engine
	st, _ := e.Status(ctx, env.Project)
	envReplaced := 0
	sections := []func() error{
		func() error { return addJSON("host.json", hostFacts(ctx, e, o.Version)) },
		func() error { return addFile(add, "answers.yaml", filepath.Join(env.Dir, "answers.yaml")) },
		func() error { return addFile(add, "state.json", filepath.Join(env.Dir, "state.json")) },
		func() error { return addFile(add, "vault-record.json", filepath.Join(env.VaultDir(), "record.json")) },
		func() error {
			in := env.PreflightInput()
			in.Engine = e
			return addJSON("preflight.json", preflight.Run(ctx, in))
		},
		func() error {
			t, err := env.ValidationTarget()
			if err != nil {
				return addJSON("validate.json", map[string]string{"error": err.Error()})
			}
			return addJSON("validate.json", validate.Run(ctx, t, validate.All()))
		},
		func() error { return addJSON("status.json", st) },
		func() error {
			n, err := addContainers(ctx, e, st, add)
			envReplaced = n
			return err
		},
		func() error { return addLogs(ctx, e, env.Project, o.LogLines, add) },
		func() error { return addJSON("events.json", recentEvents(ctx, e, env.Project)) },
		func() error { return addJSON("networks.json", projectNetworks(ctx, e, env)) },
	}
	for _, s := range sections {
		if err := s(); err != nil {
			return m, fmt.Errorf("write support bundle: %w", err)
		}
	}
	m.Redacted = map[string]int{}
	for k, n := range r.Totals() {
		m.Redacted[string(k)] = n
	}
	if envReplaced > 0 {
		m.Redacted[string(envValue)] = envReplaced
	}
	if err := addJSON("MANIFEST.json", m); err != nil {
		return m, err
	}
	if err := tw.Close(); err != nil {
		return m, err
	}
	return m, gz.Close()
}

func addFile(add func(string, []byte) error, name, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		b = []byte("not available: " + err.Error())
	}
	return add(name, b)
}

func hostFacts(ctx context.Context, e *compose.Engine, version string) map[string]any {
	facts := map[string]any{"installer": version, "go": runtime.Version(), "time": time.Now().UTC()}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		facts["os_release"] = string(b)
	}
	if b, err := os.ReadFile("/proc/version"); err == nil {
		facts["kernel"] = strings.TrimSpace(string(b))
	}
	if v, err := e.API().ServerVersion(ctx); err == nil {
		facts["docker"] = map[string]string{"version": v.Version, "api": v.APIVersion, "os": v.Os, "arch": v.Arch, "kernel": v.KernelVersion}
	}
	if info, err := e.API().Info(ctx); err == nil {
		facts["docker_info"] = map[string]any{"driver": info.Driver, "cgroup": info.CgroupVersion, "live_restore": info.LiveRestoreEnabled,
			"containers": info.Containers, "mem_total": info.MemTotal, "ncpu": info.NCPU, "root_dir": info.DockerRootDir}
	}
	return facts
}

// addContainers adds docker inspect of each stack container with every
// environment value replaced: keys stay, values never leave the host.
func addContainers(ctx context.Context, e *compose.Engine, st []compose.ServiceStatus, add func(string, []byte) error) (int, error) {
	replaced := 0
	for _, s := range st {
		insp, err := e.API().ContainerInspect(ctx, s.ID)
		if err != nil {
			continue
		}
		if insp.Config != nil {
			for i, kv := range insp.Config.Env {
				if k, _, ok := strings.Cut(kv, "="); ok {
					insp.Config.Env[i] = k + "=" + redact.Replacement(envValue)
					replaced++
				}
			}
		}
		b, _ := json.MarshalIndent(insp, "", "  ")
		if err := add("containers/"+s.Service+".json", b); err != nil {
			return replaced, err
		}
	}
	return replaced, nil
}

// envValue is the kind counted for container environment values, which
// are all removed whatever they hold.
const envValue redact.Kind = "environment-value"

func addLogs(ctx context.Context, e *compose.Engine, project string, lines int, add func(string, []byte) error) error {
	byService := map[string]*bytes.Buffer{}
	err := e.Logs(ctx, project, compose.LogOptions{Tail: lines}, func(l compose.LogLine) {
		b := byService[l.Service]
		if b == nil {
			b = &bytes.Buffer{}
			byService[l.Service] = b
		}
		fmt.Fprintf(b, "%s %s %s\n", l.Time.Format(time.RFC3339Nano), l.Stream, l.Text)
	})
	if err != nil {
		return add("logs/ERROR.txt", []byte(err.Error()))
	}
	names := make([]string, 0, len(byService))
	for n := range byService {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := add("logs/"+n+".log", byService[n].Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// recentEvents reads the engine's events about the project over the last
// hour (start, die, health_status, oom, ...).
func recentEvents(ctx context.Context, e *compose.Engine, project string) []events.Message {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	now := time.Now()
	msgs, errs := e.API().Events(ctx, events.ListOptions{
		Since: fmt.Sprint(now.Add(-time.Hour).Unix()), Until: fmt.Sprint(now.Unix()),
		Filters: filters.NewArgs(filters.Arg("label", compose.LabelProject+"="+project)),
	})
	var out []events.Message
	for {
		select {
		case m := <-msgs:
			out = append(out, m)
		case <-errs:
			return out
		case <-ctx.Done():
			return out
		}
	}
}

func projectNetworks(ctx context.Context, e *compose.Engine, env *install.Env) []network.Inspect {
	var out []network.Inspect
	for _, seg := range env.Answers.Network.Segments() {
		if n, err := e.API().NetworkInspect(ctx, seg.Name, network.InspectOptions{}); err == nil {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
