// Package flatconf reads the YAML settings files of the Elastic stand-ins
// (elasticsearch.yml, kibana.yml, logstash.yml, filebeat.yml) the way the
// Elastic products read them: nested keys and dotted keys are the same
// setting ("a: {b: 1}" is "a.b: 1").
package flatconf

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Settings maps dotted keys to values: strings, numbers, booleans, lists
// (of values or of nested maps) as YAML gives them.
type Settings map[string]any

// Read reads and flattens one YAML file.
func Read(path string) (Settings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse flattens a YAML document.
func Parse(data []byte) (Settings, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	s := Settings{}
	flatten(s, "", doc)
	return s, nil
}

// Merge adds the settings of o, which win.
func (s Settings) Merge(o Settings) {
	for k, v := range o {
		s[k] = v
	}
}

func flatten(out Settings, prefix string, m map[string]any) {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok {
			flatten(out, key, sub)
			continue
		}
		out[key] = v
	}
}

// String returns a setting as text, or def when it is unset.
func (s Settings) String(key, def string) string {
	v, ok := s[key]
	if !ok || v == nil {
		return def
	}
	return fmt.Sprint(v)
}

// Int returns a numeric setting, or def when it is unset.
func (s Settings) Int(key string, def int) (int, error) {
	v, ok := s[key]
	if !ok || v == nil {
		return def, nil
	}
	n, err := strconv.Atoi(fmt.Sprint(v))
	if err != nil {
		return 0, fmt.Errorf("%s: %v is not a number", key, v)
	}
	return n, nil
}

// Bool returns a boolean setting, or def when it is unset.
func (s Settings) Bool(key string, def bool) (bool, error) {
	v, ok := s[key]
	if !ok || v == nil {
		return def, nil
	}
	b, err := strconv.ParseBool(fmt.Sprint(v))
	if err != nil {
		return false, fmt.Errorf("%s: %v is not true or false", key, v)
	}
	return b, nil
}

// Strings returns a list setting (a single value counts as a list of one).
func (s Settings) Strings(key string) []string {
	v, ok := s[key]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return []string{fmt.Sprint(v)}
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// Maps returns a list of maps (filebeat.inputs), each flattened.
func (s Settings) Maps(key string) []Settings {
	list, _ := s[key].([]any)
	var out []Settings
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		f := Settings{}
		flatten(f, "", m)
		out = append(out, f)
	}
	return out
}

// Under returns the settings under prefix (without it).
func (s Settings) Under(prefix string) Settings {
	out := Settings{}
	for k, v := range s {
		if rest, ok := strings.CutPrefix(k, prefix+"."); ok {
			out[rest] = v
		}
	}
	return out
}
