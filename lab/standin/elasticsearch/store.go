package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// storeFile holds everything the node stores, in path.data.
const storeFile = "standin-state.json"

// policy is a stored ILM policy.
type policy struct {
	Version  int             `json:"version"`
	Modified string          `json:"modified_date"`
	Policy   json.RawMessage `json:"policy"`
	Builtin  bool            `json:"builtin,omitempty"`
}

// template is a stored composable index template.
type template struct {
	Body    json.RawMessage `json:"body"`
	Builtin bool            `json:"builtin,omitempty"`
}

// templateBody is the part of an index template the node acts on.
type templateBody struct {
	IndexPatterns []string         `json:"index_patterns"`
	Priority      *int             `json:"priority"`
	DataStream    *json.RawMessage `json:"data_stream"`
	ComposedOf    []string         `json:"composed_of"`
	Template      struct {
		Settings json.RawMessage `json:"settings"`
	} `json:"template"`
}

type dataStream struct {
	Indices    []string `json:"indices"`
	Generation int      `json:"generation"`
	Template   string   `json:"template"`
}

type index struct {
	Settings   map[string]any    `json:"settings"` // flat, index.* keys
	DataStream string            `json:"data_stream,omitempty"`
	Docs       []json.RawMessage `json:"docs"`
}

type state struct {
	Policies    map[string]*policy     `json:"policies"`
	Templates   map[string]*template   `json:"templates"`
	DataStreams map[string]*dataStream `json:"data_streams"`
	Indices     map[string]*index      `json:"indices"`
}

type store struct {
	mu   sync.Mutex
	file string
	st   state
}

// Elasticsearch 8's built-in logs template and policy (x-pack stack
// templates: "logs" template for logs-*-*, priority 100, whose logs@settings
// component sets index.lifecycle.name: logs).
var (
	builtinLogsTemplate = `{"index_patterns":["logs-*-*"],"priority":100,"data_stream":{},"template":{"settings":{"index.lifecycle.name":"logs"}},"_meta":{"managed":true}}`
	builtinLogsPolicy   = `{"phases":{"hot":{"min_age":"0ms","actions":{"rollover":{"max_age":"30d","max_primary_shard_size":"50gb"}}}},"_meta":{"managed":true}}`
)

func openStore(dir string) (*store, error) {
	s := &store{file: filepath.Join(dir, storeFile)}
	data, err := os.ReadFile(s.file)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read the stored data: %w", err)
	default:
		if err := json.Unmarshal(data, &s.st); err != nil {
			return nil, fmt.Errorf("%s is damaged: %w", s.file, err)
		}
	}
	if s.st.Policies == nil {
		s.st.Policies = map[string]*policy{}
	}
	if s.st.Templates == nil {
		s.st.Templates = map[string]*template{}
	}
	if s.st.DataStreams == nil {
		s.st.DataStreams = map[string]*dataStream{}
	}
	if s.st.Indices == nil {
		s.st.Indices = map[string]*index{}
	}
	if _, ok := s.st.Templates["logs"]; !ok {
		s.st.Templates["logs"] = &template{Body: json.RawMessage(builtinLogsTemplate), Builtin: true}
	}
	if _, ok := s.st.Policies["logs"]; !ok {
		s.st.Policies["logs"] = &policy{Version: 1, Modified: now(), Policy: json.RawMessage(builtinLogsPolicy), Builtin: true}
	}
	// Proves the data directory is writable at start, as Elasticsearch's
	// node lock does.
	if err := s.save(); err != nil {
		return nil, err
	}
	return s, nil
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// save writes the state; the caller holds mu (or is alone).
func (s *store) save() error {
	data, err := json.Marshal(&s.st)
	if err != nil {
		return err
	}
	tmp := s.file + ".tmp"
	if err := os.WriteFile(tmp, data, 0o660); err != nil {
		return fmt.Errorf("write the stored data: %w", err)
	}
	return os.Rename(tmp, s.file)
}

// flatSettings turns nested or flat index settings into flat keys with the
// index. prefix, as Elasticsearch normalises them.
func flatSettings(raw json.RawMessage) (map[string]any, error) {
	out := map[string]any{}
	if len(raw) == 0 {
		return out, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			if sub, ok := v.(map[string]any); ok {
				walk(key, sub)
				continue
			}
			if !strings.HasPrefix(key, "index.") {
				key = "index." + key
			}
			out[key] = v
		}
	}
	walk("", m)
	return out, nil
}

// nestSettings is the nested form GET _settings answers with.
func nestSettings(flat map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range flat {
		parts := strings.Split(k, ".")
		m := out
		for _, p := range parts[:len(parts)-1] {
			sub, ok := m[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[p] = sub
			}
			m = sub
		}
		m[parts[len(parts)-1]] = fmt.Sprint(v)
	}
	return out
}

// matchTemplate is the highest-priority template whose patterns match.
func (s *store) matchTemplate(name string) (string, *templateBody) {
	var bestName string
	var best *templateBody
	bestPrio := -1
	for tn, t := range s.st.Templates {
		var tb templateBody
		if json.Unmarshal(t.Body, &tb) != nil {
			continue
		}
		prio := 0
		if tb.Priority != nil {
			prio = *tb.Priority
		}
		for _, p := range tb.IndexPatterns {
			if ok, _ := path.Match(p, name); ok && prio > bestPrio {
				bestName, best, bestPrio = tn, &tb, prio
			}
		}
	}
	return bestName, best
}

// resolve turns a request target (comma-separated names and wildcards,
// data streams or indices) into index names. A concrete name that does not
// exist is an error.
func (s *store) resolve(target string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, part := range strings.Split(target, ",") {
		if part == "_all" || part == "*" {
			part = "*"
		}
		if strings.Contains(part, "*") {
			for name, ds := range s.st.DataStreams {
				if ok, _ := path.Match(part, name); ok {
					for _, ix := range ds.Indices {
						add(ix)
					}
				}
			}
			for name, ix := range s.st.Indices {
				if ok, _ := path.Match(part, name); ok && ix.DataStream == "" {
					add(name)
				}
			}
			continue
		}
		if ds, ok := s.st.DataStreams[part]; ok {
			for _, ix := range ds.Indices {
				add(ix)
			}
			continue
		}
		if _, ok := s.st.Indices[part]; ok {
			add(part)
			continue
		}
		return nil, &esError{Status: 404, Type: "index_not_found_exception", Reason: "no such index [" + part + "]"}
	}
	sort.Strings(out)
	return out, nil
}

// writeIndex returns the index a document for target goes to, creating a
// data stream (from a data stream template) or an index on first write.
// dsOnly reports a data stream, which takes only create operations.
func (s *store) writeIndex(target string, canCreate bool) (name string, isDS bool, err error) {
	if ds, ok := s.st.DataStreams[target]; ok {
		return ds.Indices[len(ds.Indices)-1], true, nil
	}
	if _, ok := s.st.Indices[target]; ok {
		return target, false, nil
	}
	tn, tb := s.matchTemplate(target)
	if !canCreate {
		return "", false, &esError{Status: 403, Type: "security_exception", Reason: "action [indices:admin/auto_create] is unauthorized for [" + target + "]"}
	}
	settings := map[string]any{}
	if tb != nil {
		if settings, err = flatSettings(tb.Template.Settings); err != nil {
			return "", false, err
		}
	}
	if tb != nil && tb.DataStream != nil {
		backing := fmt.Sprintf(".ds-%s-%s-%06d", target, time.Now().UTC().Format("2006.01.02"), 1)
		s.st.DataStreams[target] = &dataStream{Indices: []string{backing}, Generation: 1, Template: tn}
		s.st.Indices[backing] = &index{Settings: settings, DataStream: target}
		return backing, true, nil
	}
	s.st.Indices[target] = &index{Settings: settings}
	return target, false, nil
}
