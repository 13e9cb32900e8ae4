package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// maxBody bounds a request body.
const maxBody = 64 << 20

type api struct {
	store   *store
	sec     *security
	cluster string
	node    string
}

// esError is an error answer in Elasticsearch's shape.
type esError struct {
	Status int
	Type   string
	Reason string
}

func (e *esError) Error() string { return e.Type + ": " + e.Reason }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-elastic-product", "Elasticsearch")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, err error) {
	var e *esError
	if !errors.As(err, &e) {
		e = &esError{Status: 400, Type: "illegal_argument_exception", Reason: err.Error()}
	}
	if e.Status == 401 {
		w.Header().Set("WWW-Authenticate", `Basic realm="security", charset="UTF-8"`)
	}
	cause := map[string]any{"type": e.Type, "reason": e.Reason}
	writeJSON(w, e.Status, map[string]any{"error": map[string]any{"root_cause": []any{cause}, "type": e.Type, "reason": e.Reason}, "status": e.Status})
}

func forbidden(p *principal, action string) error {
	return &esError{Status: 403, Type: "security_exception",
		Reason: fmt.Sprintf("action [%s] is unauthorized for user [%s] with effective roles [%s]", action, p.user, strings.Join(p.roles, ","))}
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, err := a.sec.authenticate(r)
	if err != nil {
		writeErr(w, &esError{Status: 401, Type: "security_exception", Reason: err.Error()})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeErr(w, &esError{Status: 413, Type: "request_entity_too_large", Reason: "body too large or unreadable"})
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	for i := range parts {
		parts[i], _ = url.PathUnescape(parts[i])
	}
	status, out, err := a.route(r, p, parts, body)
	if err != nil {
		writeErr(w, err)
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, out)
}

func (a *api) route(r *http.Request, p *principal, parts []string, body []byte) (int, any, error) {
	m := r.Method
	if m == http.MethodHead {
		m = http.MethodGet
	}
	switch {
	case len(parts) == 1 && parts[0] == "" && m == http.MethodGet:
		if !a.sec.cluster(p, "monitor") {
			return 0, nil, forbidden(p, "cluster:monitor/main")
		}
		return 200, map[string]any{"name": a.node, "cluster_name": a.cluster, "version": map[string]any{"number": version, "build_flavor": "default"}, "tagline": "You Know, for Search"}, nil
	case len(parts) == 2 && parts[0] == "_cluster" && parts[1] == "health" && m == http.MethodGet:
		if !a.sec.cluster(p, "monitor") {
			return 0, nil, forbidden(p, "cluster:monitor/health")
		}
		return 200, map[string]any{"cluster_name": a.cluster, "status": "green", "timed_out": false, "number_of_nodes": 1, "number_of_data_nodes": 1}, nil
	case len(parts) == 2 && parts[0] == "_security" && parts[1] == "_authenticate" && m == http.MethodGet:
		return 200, map[string]any{"username": p.user, "roles": p.roles, "authentication_realm": map[string]any{"type": p.realm}, "enabled": true}, nil
	case parts[len(parts)-1] == "_bulk" && (m == http.MethodPost || m == http.MethodPut) && len(parts) <= 2:
		def := ""
		if len(parts) == 2 {
			def = parts[0]
		}
		return a.bulk(p, def, body, r.URL.Query().Get("refresh"))
	case len(parts) >= 2 && parts[0] == "_ilm" && parts[1] == "policy":
		name := ""
		if len(parts) == 3 {
			name = parts[2]
		}
		return a.ilmPolicy(p, m, name, body)
	case len(parts) == 2 && parts[0] == "_index_template":
		return a.indexTemplate(p, m, parts[1], body)
	case len(parts) == 2 && parts[0] == "_data_stream" && m == http.MethodGet:
		return a.getDataStream(p, parts[1])
	case (parts[len(parts)-1] == "_search" || parts[len(parts)-1] == "_count") && len(parts) <= 2 && (m == http.MethodGet || m == http.MethodPost):
		target := "*"
		if len(parts) == 2 {
			target = parts[0]
		}
		return a.search(p, target, r.URL.Query(), body, parts[len(parts)-1] == "_count")
	case len(parts) == 2 && parts[1] == "_settings":
		return a.settings(p, m, parts[0], body)
	}
	return 0, nil, &esError{Status: 400, Type: "illegal_argument_exception", Reason: "the stand-in does not implement " + r.Method + " /" + strings.Join(parts, "/")}
}

type bulkItem map[string]any

func (a *api) bulk(p *principal, def string, body []byte, _ string) (int, any, error) {
	st := a.store
	st.mu.Lock()
	defer st.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), maxBody)
	var items []bulkItem
	errorsSeen := false
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var action map[string]struct {
			Index string `json:"_index"`
		}
		if err := json.Unmarshal(line, &action); err != nil || len(action) != 1 {
			return 0, nil, &esError{Status: 400, Type: "illegal_argument_exception", Reason: "malformed action/metadata line"}
		}
		var op, target string
		for k, v := range action {
			op, target = k, v.Index
		}
		if target == "" {
			target = def
		}
		if op == "delete" {
			return 0, nil, &esError{Status: 400, Type: "illegal_argument_exception", Reason: "the stand-in does not implement bulk delete"}
		}
		if !sc.Scan() {
			return 0, nil, &esError{Status: 400, Type: "illegal_argument_exception", Reason: "the bulk request must be terminated by a newline"}
		}
		doc := append(json.RawMessage(nil), bytes.TrimSpace(sc.Bytes())...)
		res := a.bulkOne(p, op, target, doc)
		if res["status"].(int) >= 300 {
			errorsSeen = true
		}
		items = append(items, bulkItem{op: res})
	}
	if err := st.save(); err != nil {
		return 0, nil, err
	}
	return 200, map[string]any{"took": 1, "errors": errorsSeen, "items": items}, nil
}

func (a *api) bulkOne(p *principal, op, target string, doc json.RawMessage) map[string]any {
	st := a.store
	fail := func(status int, typ, reason string) map[string]any {
		return map[string]any{"_index": target, "status": status, "error": map[string]any{"type": typ, "reason": reason}}
	}
	if op != "create" && op != "index" {
		return fail(400, "illegal_argument_exception", "unknown bulk operation ["+op+"]")
	}
	if !a.sec.index(p, target, "create_doc") {
		return fail(403, "security_exception", fmt.Sprintf("action [indices:data/write/bulk[s]] is unauthorized for user [%s] on indices [%s]", p.user, target))
	}
	var fields map[string]any
	if err := json.Unmarshal(doc, &fields); err != nil {
		return fail(400, "document_parsing_exception", "failed to parse the document: "+err.Error())
	}
	canCreate := a.sec.index(p, target, "create_index") || a.sec.index(p, target, "auto_configure")
	name, isDS, err := st.writeIndex(target, canCreate)
	if err != nil {
		var e *esError
		if errors.As(err, &e) {
			return fail(e.Status, e.Type, e.Reason)
		}
		return fail(400, "illegal_argument_exception", err.Error())
	}
	if isDS {
		if op != "create" {
			return fail(400, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams")
		}
		if _, ok := fields["@timestamp"]; !ok {
			return fail(400, "document_parsing_exception", "data stream timestamp field [@timestamp] is missing")
		}
	}
	ix := st.st.Indices[name]
	ix.Docs = append(ix.Docs, doc)
	return map[string]any{"_index": name, "_id": strconv.Itoa(len(ix.Docs)), "result": "created", "status": 201}
}

func (a *api) ilmPolicy(p *principal, method, name string, body []byte) (int, any, error) {
	st := a.store
	st.mu.Lock()
	defer st.mu.Unlock()
	switch method {
	case http.MethodGet:
		if !a.sec.cluster(p, "read_ilm") {
			return 0, nil, forbidden(p, "cluster:admin/ilm/get")
		}
		out := map[string]any{}
		for n, pol := range st.st.Policies {
			if name == "" || name == n {
				out[n] = map[string]any{"version": pol.Version, "modified_date": pol.Modified, "policy": pol.Policy}
			}
		}
		if name != "" && len(out) == 0 {
			return 0, nil, &esError{Status: 404, Type: "resource_not_found_exception", Reason: "Lifecycle policy not found: " + name}
		}
		return 200, out, nil
	case http.MethodPut:
		if !a.sec.cluster(p, "manage_ilm") {
			return 0, nil, forbidden(p, "cluster:admin/ilm/put")
		}
		var req struct {
			Policy *struct {
				Phases map[string]struct {
					MinAge  string                     `json:"min_age"`
					Actions map[string]json.RawMessage `json:"actions"`
				} `json:"phases"`
			} `json:"policy"`
		}
		if err := json.Unmarshal(body, &req); err != nil || req.Policy == nil {
			return 0, nil, &esError{Status: 400, Type: "x_content_parse_exception", Reason: "a policy body {\"policy\": {...}} is required"}
		}
		for phase, ph := range req.Policy.Phases {
			switch phase {
			case "hot", "warm", "cold", "frozen", "delete":
			default:
				return 0, nil, &esError{Status: 400, Type: "illegal_argument_exception", Reason: "Lifecycle does not support phase [" + phase + "]"}
			}
			if ph.MinAge != "" && !validTimeValue(ph.MinAge) {
				return 0, nil, &esError{Status: 400, Type: "illegal_argument_exception", Reason: "failed to parse setting [min_age] with value [" + ph.MinAge + "] as a time value"}
			}
		}
		var raw struct {
			Policy json.RawMessage `json:"policy"`
		}
		_ = json.Unmarshal(body, &raw)
		version := 1
		if old, ok := st.st.Policies[name]; ok {
			version = old.Version + 1
		}
		st.st.Policies[name] = &policy{Version: version, Modified: now(), Policy: raw.Policy}
		if err := st.save(); err != nil {
			return 0, nil, err
		}
		return 200, map[string]any{"acknowledged": true}, nil
	case http.MethodDelete:
		if !a.sec.cluster(p, "manage_ilm") {
			return 0, nil, forbidden(p, "cluster:admin/ilm/delete")
		}
		if _, ok := st.st.Policies[name]; !ok {
			return 0, nil, &esError{Status: 404, Type: "resource_not_found_exception", Reason: "Lifecycle policy not found: " + name}
		}
		delete(st.st.Policies, name)
		if err := st.save(); err != nil {
			return 0, nil, err
		}
		return 200, map[string]any{"acknowledged": true}, nil
	}
	return 0, nil, &esError{Status: 405, Type: "illegal_argument_exception", Reason: "method not allowed"}
}

// validTimeValue accepts Elasticsearch time values such as 0ms, 90d, 12h.
func validTimeValue(s string) bool {
	for _, unit := range []string{"nanos", "micros", "ms", "s", "m", "h", "d"} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			if _, err := strconv.ParseUint(n, 10, 64); err == nil {
				return true
			}
		}
	}
	return false
}

func (a *api) indexTemplate(p *principal, method, name string, body []byte) (int, any, error) {
	st := a.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if !a.sec.cluster(p, "manage_index_templates") {
		return 0, nil, forbidden(p, "indices:admin/index_template/"+strings.ToLower(method))
	}
	switch method {
	case http.MethodGet:
		t, ok := st.st.Templates[name]
		if !ok {
			return 0, nil, &esError{Status: 404, Type: "resource_not_found_exception", Reason: "index template matching [" + name + "] not found"}
		}
		return 200, map[string]any{"index_templates": []any{map[string]any{"name": name, "index_template": t.Body}}}, nil
	case http.MethodPut:
		var tb templateBody
		if err := json.Unmarshal(body, &tb); err != nil || len(tb.IndexPatterns) == 0 {
			return 0, nil, &esError{Status: 400, Type: "action_request_validation_exception", Reason: "index patterns are missing"}
		}
		if _, err := flatSettings(tb.Template.Settings); err != nil {
			return 0, nil, &esError{Status: 400, Type: "settings_exception", Reason: err.Error()}
		}
		for _, c := range tb.ComposedOf {
			return 0, nil, &esError{Status: 400, Type: "invalid_index_template_exception", Reason: "index template [" + name + "] specifies component templates [" + c + "] that do not exist (the stand-in has no component templates)"}
		}
		prio := 0
		if tb.Priority != nil {
			prio = *tb.Priority
		}
		// Elasticsearch refuses two templates with overlapping patterns and
		// the same priority.
		for on, ot := range st.st.Templates {
			var ob templateBody
			if on == name || json.Unmarshal(ot.Body, &ob) != nil {
				continue
			}
			op := 0
			if ob.Priority != nil {
				op = *ob.Priority
			}
			if op == prio && overlaps(ob.IndexPatterns, tb.IndexPatterns) {
				return 0, nil, &esError{Status: 400, Type: "illegal_argument_exception",
					Reason: fmt.Sprintf("index template [%s] has index patterns %v matching patterns from existing templates [%s] with patterns (%s => %v) that have the same priority [%d]", name, tb.IndexPatterns, on, on, ob.IndexPatterns, prio)}
			}
		}
		st.st.Templates[name] = &template{Body: append(json.RawMessage(nil), body...)}
		if err := st.save(); err != nil {
			return 0, nil, err
		}
		return 200, map[string]any{"acknowledged": true}, nil
	case http.MethodDelete:
		if _, ok := st.st.Templates[name]; !ok {
			return 0, nil, &esError{Status: 404, Type: "resource_not_found_exception", Reason: "index_template [" + name + "] missing"}
		}
		delete(st.st.Templates, name)
		if err := st.save(); err != nil {
			return 0, nil, err
		}
		return 200, map[string]any{"acknowledged": true}, nil
	}
	return 0, nil, &esError{Status: 405, Type: "illegal_argument_exception", Reason: "method not allowed"}
}

// overlaps is a conservative test for two pattern lists matching a common
// name: equal patterns, or one matching the other taken literally.
func overlaps(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y || globMatch(x, y) || globMatch(y, x) {
				return true
			}
		}
	}
	return false
}

func (a *api) getDataStream(p *principal, name string) (int, any, error) {
	st := a.store
	st.mu.Lock()
	defer st.mu.Unlock()
	ds, ok := st.st.DataStreams[name]
	if !ok {
		return 0, nil, &esError{Status: 404, Type: "index_not_found_exception", Reason: "no such index [" + name + "]"}
	}
	if !a.sec.index(p, name, "view_index_metadata") {
		return 0, nil, forbidden(p, "indices:admin/data_stream/get")
	}
	var indices []any
	for _, ix := range ds.Indices {
		indices = append(indices, map[string]any{"index_name": ix, "ilm_policy": st.st.Indices[ix].Settings["index.lifecycle.name"]})
	}
	last := st.st.Indices[ds.Indices[len(ds.Indices)-1]]
	return 200, map[string]any{"data_streams": []any{map[string]any{"name": name, "generation": ds.Generation, "indices": indices,
		"template": ds.Template, "ilm_policy": last.Settings["index.lifecycle.name"], "status": "GREEN"}}}, nil
}

func (a *api) settings(p *principal, method, target string, body []byte) (int, any, error) {
	st := a.store
	st.mu.Lock()
	defer st.mu.Unlock()
	names, err := st.resolve(target)
	if err != nil {
		return 0, nil, err
	}
	switch method {
	case http.MethodGet:
		out := map[string]any{}
		for _, n := range names {
			if !a.sec.index(p, n, "view_index_metadata") && !a.sec.index(p, target, "view_index_metadata") {
				return 0, nil, forbidden(p, "indices:monitor/settings/get")
			}
			out[n] = map[string]any{"settings": nestSettings(st.st.Indices[n].Settings)}
		}
		return 200, out, nil
	case http.MethodPut:
		upd, err := flatSettings(body)
		if err != nil {
			return 0, nil, &esError{Status: 400, Type: "settings_exception", Reason: err.Error()}
		}
		for _, n := range names {
			if !a.sec.index(p, n, "manage") && !a.sec.index(p, target, "manage") {
				return 0, nil, forbidden(p, "indices:admin/settings/update")
			}
		}
		for _, n := range names {
			for k, v := range upd {
				st.st.Indices[n].Settings[k] = v
			}
		}
		if err := st.save(); err != nil {
			return 0, nil, err
		}
		return 200, map[string]any{"acknowledged": true}, nil
	}
	return 0, nil, &esError{Status: 405, Type: "illegal_argument_exception", Reason: "method not allowed"}
}

func (a *api) search(p *principal, target string, q url.Values, body []byte, count bool) (int, any, error) {
	st := a.store
	st.mu.Lock()
	defer st.mu.Unlock()
	names, err := st.resolve(target)
	if err != nil {
		return 0, nil, err
	}
	for _, n := range names {
		ds := st.st.Indices[n].DataStream
		if !a.sec.index(p, n, "read") && (ds == "" || !a.sec.index(p, ds, "read")) {
			return 0, nil, forbidden(p, "indices:data/read/search")
		}
	}
	match, size, err := parseQuery(q, body)
	if err != nil {
		return 0, nil, &esError{Status: 400, Type: "parsing_exception", Reason: err.Error()}
	}
	var hits []any
	total := 0
	sort.Strings(names)
	for _, n := range names {
		for i, d := range st.st.Indices[n].Docs {
			var doc map[string]any
			if json.Unmarshal(d, &doc) != nil || !match(doc) {
				continue
			}
			total++
			if len(hits) < size {
				hits = append(hits, map[string]any{"_index": n, "_id": strconv.Itoa(i + 1), "_score": 1.0, "_source": d})
			}
		}
	}
	if count {
		return 200, map[string]any{"count": total, "_shards": map[string]any{"total": 1, "successful": 1, "skipped": 0, "failed": 0}}, nil
	}
	return 200, map[string]any{"took": 1, "timed_out": false, "hits": map[string]any{"total": map[string]any{"value": total, "relation": "eq"}, "hits": hits}}, nil
}
