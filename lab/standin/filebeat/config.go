package main

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/fineract-installer/fineract-installer/lab/standin/internal/flatconf"
)

type input struct {
	id       string
	paths    []string
	docker   bool   // container parser, format docker
	stream   string // all, stdout, stderr
	symlinks bool
}

type dissect struct {
	field  string
	prefix string
	re     *regexp.Regexp
	keys   []string // "" for %{}
}

type config struct {
	inputs   []input
	dissects []dissect
	dataDir  string
	httpAddr string
}

func loadConfig(conf flatconf.Settings) (config, error) {
	var c config
	for _, in := range conf.Maps("filebeat.inputs") {
		if t := in.String("type", ""); t != "filestream" {
			return c, fmt.Errorf("input type %q: the stand-in runs filestream inputs only", t)
		}
		if on, err := in.Bool("enabled", true); err != nil || !on {
			continue
		}
		i := input{id: in.String("id", ""), paths: in.Strings("paths"), stream: "all"}
		var err error
		if i.symlinks, err = in.Bool("prospector.scanner.symlinks", false); err != nil {
			return c, err
		}
		parsers, _ := in["parsers"].([]any)
		for _, p := range parsers {
			pm, _ := p.(map[string]any)
			ct, ok := pm["container"].(map[string]any)
			if !ok {
				return c, fmt.Errorf("input %s: the stand-in knows only the container parser", i.id)
			}
			if f, _ := ct["format"].(string); f != "" && f != "docker" && f != "auto" {
				return c, fmt.Errorf("input %s: container format %q: the stand-in reads docker's json-file only", i.id, f)
			}
			i.docker = true
			if s, _ := ct["stream"].(string); s != "" {
				i.stream = s
			}
		}
		if len(i.paths) == 0 {
			return c, fmt.Errorf("input %s has no paths", i.id)
		}
		c.inputs = append(c.inputs, i)
	}
	if len(c.inputs) == 0 {
		return c, errors.New("no enabled input in filebeat.inputs")
	}
	procs, _ := conf["processors"].([]any)
	for _, p := range procs {
		pm, _ := p.(map[string]any)
		d, ok := pm["dissect"].(map[string]any)
		if !ok {
			return c, errors.New("the stand-in runs the dissect processor only")
		}
		ds, err := newDissect(fmt.Sprint(d["tokenizer"]), fmt.Sprint(d["field"]), fmt.Sprint(d["target_prefix"]))
		if err != nil {
			return c, err
		}
		c.dissects = append(c.dissects, ds)
	}
	c.dataDir = conf.String("path.data", "/usr/share/filebeat/data")
	if on, err := conf.Bool("http.enabled", false); err != nil {
		return c, err
	} else if on {
		port, err := conf.Int("http.port", 5066)
		if err != nil {
			return c, err
		}
		c.httpAddr = net.JoinHostPort(conf.String("http.host", "localhost"), strconv.Itoa(port))
	}
	return c, nil
}

var dissectKey = regexp.MustCompile(`%\{([^}]*)\}`)

// newDissect compiles a tokenizer ("/a/%{id}/%{}") into a regular
// expression: each key takes the shortest text up to the next delimiter,
// the last one the rest.
func newDissect(tokenizer, field, prefix string) (dissect, error) {
	if field == "" || field == "<nil>" {
		field = "message"
	}
	if prefix == "<nil>" {
		prefix = "dissect"
	}
	d := dissect{field: field, prefix: prefix}
	var re strings.Builder
	re.WriteString("^")
	last := 0
	locs := dissectKey.FindAllStringSubmatchIndex(tokenizer, -1)
	if len(locs) == 0 {
		return d, fmt.Errorf("dissect tokenizer %q has no key", tokenizer)
	}
	for i, loc := range locs {
		re.WriteString(regexp.QuoteMeta(tokenizer[last:loc[0]]))
		if i == len(locs)-1 && loc[1] == len(tokenizer) {
			re.WriteString("(.*)")
		} else {
			re.WriteString("(.*?)")
		}
		d.keys = append(d.keys, tokenizer[loc[2]:loc[3]])
		last = loc[1]
	}
	re.WriteString(regexp.QuoteMeta(tokenizer[last:]))
	re.WriteString("$")
	d.re = regexp.MustCompile(re.String())
	return d, nil
}

// apply adds the dissected keys to ev under prefix.
func (d dissect) apply(ev map[string]any) {
	v, ok := lookup(ev, d.field).(string)
	if !ok {
		return
	}
	m := d.re.FindStringSubmatch(v)
	if m == nil {
		return
	}
	target := ev
	if d.prefix != "" {
		sub, _ := ev[d.prefix].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
			ev[d.prefix] = sub
		}
		target = sub
	}
	for i, k := range d.keys {
		if k != "" {
			target[k] = m[i+1]
		}
	}
}

func lookup(ev map[string]any, dotted string) any {
	var cur any = ev
	for _, p := range strings.Split(dotted, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}
