package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// parseQuery understands the queries the stack's checks and tests send:
// match_all, match and match_phrase on one field (case-insensitive: all
// terms present, or the phrase as a substring), term, and the q= URL
// parameter ("field:text" or "text" in any field).
func parseQuery(q url.Values, body []byte) (func(map[string]any) bool, int, error) {
	size := 10
	if s := q.Get("size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, 0, fmt.Errorf("size %q is not a number", s)
		}
		size = n
	}
	if text := q.Get("q"); text != "" {
		field, value, ok := strings.Cut(text, ":")
		if !ok {
			field, value = "", text
		}
		return func(doc map[string]any) bool { return fieldHas(doc, field, value, false) }, size, nil
	}
	if len(body) == 0 {
		return func(map[string]any) bool { return true }, size, nil
	}
	var req struct {
		Size  *int                       `json:"size"`
		Query map[string]json.RawMessage `json:"query"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, 0, err
	}
	if req.Size != nil {
		size = *req.Size
	}
	if len(req.Query) == 0 {
		return func(map[string]any) bool { return true }, size, nil
	}
	if len(req.Query) != 1 {
		return nil, 0, errors.New("the stand-in takes one query clause")
	}
	for kind, raw := range req.Query {
		switch kind {
		case "match_all":
			return func(map[string]any) bool { return true }, size, nil
		case "match", "match_phrase", "term":
			var clause map[string]json.RawMessage
			if err := json.Unmarshal(raw, &clause); err != nil || len(clause) != 1 {
				return nil, 0, fmt.Errorf("[%s] query takes one field", kind)
			}
			for field, v := range clause {
				var value string
				if json.Unmarshal(v, &value) != nil {
					var obj struct {
						Query string `json:"query"`
						Value string `json:"value"`
					}
					if err := json.Unmarshal(v, &obj); err != nil {
						return nil, 0, err
					}
					value = obj.Query + obj.Value
				}
				exact := kind == "term"
				phrase := kind == "match_phrase"
				return func(doc map[string]any) bool {
					if phrase || exact {
						return fieldHas(doc, field, value, exact)
					}
					for _, term := range strings.Fields(value) {
						if !fieldHas(doc, field, term, false) {
							return false
						}
					}
					return true
				}, size, nil
			}
		}
		return nil, 0, fmt.Errorf("unknown query [%s] (the stand-in knows match_all, match, match_phrase, term)", kind)
	}
	return nil, 0, errors.New("empty query")
}

// fieldHas looks for value in a dotted field of doc ("" = any string
// field).
func fieldHas(doc map[string]any, field, value string, exact bool) bool {
	var vals []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, sub := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, sub)
			}
		case []any:
			for _, sub := range x {
				walk(prefix, sub)
			}
		default:
			if field == "" || prefix == field {
				vals = append(vals, fmt.Sprint(x))
			}
		}
	}
	walk("", doc)
	for _, s := range vals {
		if exact && s == value || !exact && strings.Contains(strings.ToLower(s), strings.ToLower(value)) {
			return true
		}
	}
	return false
}

// globMatch matches a name against an index pattern with '*'.
func globMatch(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}
