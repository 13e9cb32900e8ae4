package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// props is a Java .properties file: key=value, key: value or "key value"
// lines, # and ! comments, backslash line continuations.
type props map[string]string

func readProps(path string) (props, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read properties: %w", err)
	}
	defer f.Close()
	p := props{}
	sc := bufio.NewScanner(f)
	var pending string
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t\f")
		if pending == "" && (line == "" || line[0] == '#' || line[0] == '!') {
			continue
		}
		if strings.HasSuffix(line, `\`) && !strings.HasSuffix(line, `\\`) {
			pending += strings.TrimSuffix(line, `\`)
			continue
		}
		line, pending = pending+line, ""
		i := strings.IndexAny(line, "=: \t")
		if i < 0 {
			p[line] = ""
			continue
		}
		key := line[:i]
		value := strings.TrimLeft(line[i:], " \t")
		if value != "" && (value[0] == '=' || value[0] == ':') {
			value = strings.TrimLeft(value[1:], " \t")
		}
		p[key] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read properties %s: %w", path, err)
	}
	return p, nil
}

// list splits a comma-separated setting, dropping empty items.
func (p props) list(key string) []string {
	var out []string
	for _, s := range strings.Split(p[key], ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// logDirs is log.dirs, else log.dir, as Kafka reads them.
func (p props) logDirs() []string {
	if d := p.list("log.dirs"); len(d) > 0 {
		return d
	}
	return p.list("log.dir")
}
