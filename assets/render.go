package assets

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"text/template"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

//go:embed templates
var templateFS embed.FS

// composeFileName is the compose file's path inside a bundle: where the
// installation keeps it.
var composeFileName = installation.Relative().ComposeFile()

// output is one rendered file: which template makes it, where it goes and
// for which group.
type output struct {
	tmpl  string
	path  string
	mode  fs.FileMode
	group string
}

// outputs lists every file a bundle can hold. Templates under
// templates/compose/ other than compose.yaml.tmpl are partials (one per
// group) that compose.yaml.tmpl includes.
var outputs = []output{
	{"compose/compose.yaml.tmpl", composeFileName, 0o644, answers.GroupCore},
	{"vault/vault.hcl.tmpl", "config/vault/vault.hcl", 0o644, answers.GroupCore},
	{"fineract/installer.properties.tmpl", "config/fineract/installer.properties", 0o644, answers.GroupCore},
	{"postgres/postgresql.conf.tmpl", "config/postgres/postgresql.conf", 0o644, answers.GroupCore},
	{"postgres/pg_hba.conf.tmpl", "config/postgres/pg_hba.conf", 0o644, answers.GroupCore},
	{"postgres/10-roles.sh.tmpl", "config/postgres/initdb/10-roles.sh", 0o755, answers.GroupCore},
	{"postgres/passwd.tmpl", "config/postgres/passwd", 0o644, answers.GroupCore},
	{"postgres/group.tmpl", "config/postgres/group", 0o644, answers.GroupCore},
	{"nginx/gateway.conf.tmpl", "config/gateway/nginx.conf", 0o644, answers.GroupCore},
	{"nginx/security-headers.conf.tmpl", "config/gateway/security-headers.conf", 0o644, answers.GroupCore},
	{"nginx/web-app.conf.tmpl", "config/web-app/nginx.conf", 0o644, answers.GroupCore},
	{"web-app/env.js.tmpl", "config/web-app/env.js", 0o644, answers.GroupCore},
	{"keycloak/realm-fineract.json.tmpl", "config/keycloak/realm-fineract.json", 0o644, answers.GroupIdentity},
	{"kafka/server.properties.tmpl", "config/kafka/server.properties", 0o644, answers.GroupMessaging},
	{"kafka/log4j2.yaml.tmpl", "config/kafka/log4j2.yaml", 0o644, answers.GroupMessaging},
	{"redis/redis.conf.tmpl", "config/redis/redis.conf", 0o644, answers.GroupMessaging},
	{"prometheus/prometheus.yml.tmpl", "config/prometheus/prometheus.yml", 0o644, answers.GroupMonitoring},
	{"prometheus/web.yml.tmpl", "config/prometheus/web.yml", 0o644, answers.GroupMonitoring},
	{"prometheus/promtool-http.yml.tmpl", "config/prometheus/promtool-http.yml", 0o644, answers.GroupMonitoring},
	{"grafana/datasources.yml.tmpl", "config/grafana/datasources.yml", 0o644, answers.GroupMonitoring},
	{"postgres-exporter/web.yml.tmpl", "config/postgres-exporter/web.yml", 0o644, answers.GroupMonitoring},
	{"elasticsearch/elasticsearch.yml.tmpl", "config/elasticsearch/elasticsearch.yml", 0o644, answers.GroupLogging},
	{"elasticsearch/roles.yml.tmpl", "config/elasticsearch/roles.yml", 0o644, answers.GroupLogging},
	{"elasticsearch/role_mapping.yml.tmpl", "config/elasticsearch/role_mapping.yml", 0o644, answers.GroupLogging},
	{"logstash/logstash.yml.tmpl", "config/logstash/logstash.yml", 0o644, answers.GroupLogging},
	{"logstash/pipelines.yml.tmpl", "config/logstash/pipelines.yml", 0o644, answers.GroupLogging},
	{"logstash/main.conf.tmpl", "config/logstash/main.conf", 0o644, answers.GroupLogging},
	{"kibana/kibana.yml.tmpl", "config/kibana/kibana.yml", 0o644, answers.GroupLogging},
	{"filebeat/filebeat.yml.tmpl", "config/filebeat/filebeat.yml", 0o644, answers.GroupLogging},
}

var (
	parseOnce   sync.Once
	parsedTmpls *template.Template
	parseErr    error
)

// templates parses every embedded template once, each under its path
// relative to templates/ (two files may share a base name).
func templates() (*template.Template, error) {
	parseOnce.Do(func() {
		root := template.New("").Option("missingkey=error").Funcs(template.FuncMap{
			"bind":    bind,
			"bindRW":  bindRW,
			"data":    data,
			"pki":     pkiFile,
			"q":       q,
			"percent": percent,
			"join":    strings.Join,
		})
		parseErr = fs.WalkDir(templateFS, "templates", func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(p, ".tmpl") {
				return err
			}
			src, err := templateFS.ReadFile(p)
			if err != nil {
				return err
			}
			name := strings.TrimPrefix(p, "templates/")
			if _, err := root.New(name).Parse(string(src)); err != nil {
				return fmt.Errorf("parse template %s: %w", name, err)
			}
			return nil
		})
		parsedTmpls = root
	})
	return parsedTmpls, parseErr
}

// Render produces the compose project and every configuration file for the
// answers. It performs no I/O besides reading the embedded templates.
func Render(a answers.Answers, o Options) (Bundle, error) {
	d, err := newRenderData(a, o)
	if err != nil {
		return Bundle{}, fmt.Errorf("render stack: %w", err)
	}
	d.buildServices()
	t, err := templates()
	if err != nil {
		return Bundle{}, fmt.Errorf("render stack: %w", err)
	}
	var files []File
	for _, out := range outputs {
		if !d.Has[out.group] {
			continue
		}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, out.tmpl, d); err != nil {
			return Bundle{}, fmt.Errorf("render %s: %w", out.path, err)
		}
		files = append(files, File{Path: out.path, Data: buf.Bytes(), Mode: out.mode})
	}
	var logs *LogStore
	if d.Has[answers.GroupLogging] {
		logs = newLogStore(d.Project, a)
		files = append(files,
			File{Path: "config/elasticsearch/ilm-policy.json", Data: logs.PolicyBody(), Mode: 0o644, AppliedBy: "elasticsearch"},
			File{Path: "config/elasticsearch/index-template.json", Data: logs.TemplateBody(), Mode: 0o644, AppliedBy: "elasticsearch"})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return Bundle{ComposeFile: composeFileName, Files: files, Services: d.services, Logs: logs, Installer: installer(a)}, nil
}

// File returns the bundle's file at path.
func (b Bundle) File(path string) (File, bool) {
	for _, f := range b.Files {
		if f.Path == path {
			return f, true
		}
	}
	return File{}, false
}

// Service returns the bundle's service by name.
func (b Bundle) Service(name string) (Service, bool) {
	for _, s := range b.Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}
