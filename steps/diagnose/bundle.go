// Package diagnose writes a support bundle: what a support engineer needs
// to understand a failed or misbehaving installation, with every secret
// removed. Redaction removes every value the installation keeps in Vault
// (read back from the delivered secret files, whatever their format), in
// every form the redact package knows, and anything that looks like a
// token, password or private key; the bundle lists what was redacted as
// counts, never values.
package diagnose

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/audit"
	"github.com/fineract-installer/fineract-installer/steps/delivered"
	"github.com/fineract-installer/fineract-installer/steps/diagnose/redact"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
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
	m := Manifest{Created: time.Now().UTC()}
	r, notes, err := newRedactor(ctx, env.Bundle.SecretHolders(), env.SecretsDir)
	if err != nil {
		return Manifest{}, err
	}
	m.Notes = append(m.Notes, notes...)
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
		func() error { return addFile(add, installation.Relative().AnswersFile(), env.AnswersFile()) },
		func() error { return addFile(add, installation.Relative().StateFile(), env.StateFile()) },
		func() error { return addFile(add, "vault-record.json", env.VaultRecordFile()) },
		func() error {
			// Holds no secret by construction; redacted like every file.
			data, err := audit.Read(env.Dir)
			if err != nil {
				data = []byte("not available: " + err.Error())
			}
			return add(installation.Relative().AuditLogFile(), data)
		},
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
		func() error { return addLogs(ctx, e, r, env.Project, o.LogLines, add) },
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

// newRedactor prepares redaction of every value Vault holds, read back
// from the delivered secret files (delivered.Secrets, which the
// secrets-leakage check searches for too). What it could not read goes
// into the manifest's notes: the bundle is still written, redacted by
// what is known and by the patterns.
func newRedactor(ctx context.Context, services []assets.Service, secretsDir string) (*redact.Redactor, []string, error) {
	known, err := delivered.Secrets(ctx, services, secretsDir)
	var notes []string
	switch {
	case len(known) == 0:
		note := "no delivered secret was readable (sealed Vault, or not root): redaction relied on patterns only"
		if err != nil {
			note += ": " + err.Error()
		}
		notes = append(notes, note)
	case err != nil:
		notes = append(notes, fmt.Sprintf("not every delivered secret was readable; those values were redacted only where a pattern caught them: %v", err))
	}
	r, err := redact.New(known, redact.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("prepare redaction: %w", err)
	}
	return r, notes, nil
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

// addLogs adds each service's last log lines. A service's lines are
// redacted together before their timestamps go back in front of them, so
// a value split over lines (wrapped output) is still found.
func addLogs(ctx context.Context, e *compose.Engine, r *redact.Redactor, project string, lines int, add func(string, []byte) error) error {
	byService := map[string][]compose.LogLine{}
	err := e.Logs(ctx, project, compose.LogOptions{Tail: lines}, func(l compose.LogLine) {
		byService[l.Service] = append(byService[l.Service], l)
	})
	if err != nil {
		return add("logs/ERROR.txt", []byte(err.Error()))
	}
	for _, n := range slices.Sorted(maps.Keys(byService)) {
		ls := byService[n]
		texts := make([][]byte, len(ls))
		for i, l := range ls {
			texts[i] = []byte(l.Text)
		}
		texts, _ = r.RedactLines(texts)
		var b bytes.Buffer
		for i, l := range ls {
			fmt.Fprintf(&b, "%s %s %s\n", l.Time.Format(time.RFC3339Nano), l.Stream, texts[i])
		}
		if err := add("logs/"+n+".log", b.Bytes()); err != nil {
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
