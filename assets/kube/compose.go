package kube

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// composeService is the part of a rendered compose service the manifests
// carry over. Reading the compose file the Docker target runs (instead of
// restating commands, environment and mounts here) keeps one source.
type composeService struct {
	Entrypoint  []string          `yaml:"entrypoint"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Tmpfs       []string          `yaml:"tmpfs"`
	Volumes     []composeVolume   `yaml:"volumes"`
	ShmSize     string            `yaml:"shm_size"`
	StopGrace   string            `yaml:"stop_grace_period"`
	Healthcheck composeHealth     `yaml:"healthcheck"`
	Ports       []composePort     `yaml:"ports"`
}

type composeVolume struct {
	Type     string `yaml:"type"`
	Source   string `yaml:"source"`
	Target   string `yaml:"target"`
	ReadOnly bool   `yaml:"read_only"`
}

type composePort struct {
	Target    int    `yaml:"target"`
	Published string `yaml:"published"`
}

type composeHealth struct {
	Test          []string `yaml:"test"`
	Interval      string   `yaml:"interval"`
	Timeout       string   `yaml:"timeout"`
	Retries       int      `yaml:"retries"`
	StartPeriod   string   `yaml:"start_period"`
	StartInterval string   `yaml:"start_interval"`
}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

// parseCompose reads the rendered compose file. Compose's "$$" (a literal
// "$") is unescaped; the rendered file uses no other interpolation.
func parseCompose(data []byte) (composeFile, error) {
	var f composeFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("read rendered compose file: %w", err)
	}
	for name, s := range f.Services {
		var err error
		unescape := func(xs []string) []string {
			out := make([]string, len(xs))
			for i, x := range xs {
				if strings.Contains(strings.ReplaceAll(x, "$$", ""), "$") && err == nil {
					err = fmt.Errorf("service %s: %q holds a compose variable, which the manifests cannot carry", name, x)
				}
				out[i] = strings.ReplaceAll(x, "$$", "$")
			}
			return out
		}
		s.Entrypoint, s.Command, s.Healthcheck.Test = unescape(s.Entrypoint), unescape(s.Command), unescape(s.Healthcheck.Test)
		for k, v := range s.Environment {
			s.Environment[k] = unescape([]string{v})[0]
		}
		if err != nil {
			return f, err
		}
		f.Services[name] = s
	}
	return f, nil
}

// duration parses a compose duration ("15s", "2m"); empty is zero.
func duration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

// tmpfsMount is one compose tmpfs entry: "/tmp:size=16m,mode=1777".
type tmpfsMount struct {
	Path string
	Size string // as compose writes it: 16m
}

func parseTmpfs(s string) tmpfsMount {
	path, opts, _ := strings.Cut(s, ":")
	t := tmpfsMount{Path: path}
	for _, o := range strings.Split(opts, ",") {
		if v, ok := strings.CutPrefix(o, "size="); ok {
			t.Size = v
		}
	}
	return t
}
