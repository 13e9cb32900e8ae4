package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// props resolves configuration the way Spring Boot does for the settings
// Fineract reads, in Spring's order of precedence:
//
//  1. operating-system environment variables (relaxed names: server.port
//     is also SERVER_PORT);
//  2. locations imported through spring.config.import (SPRING_CONFIG_IMPORT),
//     a later import winning over an earlier one;
//  3. Fineract's application.properties, whose values are placeholders
//     ${FINERACT_...:default}: the FINERACT_ name is looked up through 1 and
//     2, and the default applies when neither has it.
type props struct {
	env     map[string]string
	sources []source // in import order; later entries take precedence
}

// source is one imported property source.
type source struct {
	location string
	values   map[string]string
}

// newProps reads the environment and every location in SPRING_CONFIG_IMPORT
// (or spring.config.import). Supported locations: configtree:<dir>/ (one
// property per file, named by its path below dir with "/" turned into ".",
// as used for Docker and Kubernetes secrets) and file:<path>.properties,
// each optionally prefixed with optional:.
func newProps(environ []string) (*props, error) {
	p := &props{env: map[string]string{}}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			p.env[k] = v
		}
	}
	imports := p.env["SPRING_CONFIG_IMPORT"]
	if imports == "" {
		imports = p.env["spring.config.import"]
	}
	for _, loc := range strings.Split(imports, ",") {
		loc = strings.TrimSpace(loc)
		if loc == "" {
			continue
		}
		src, err := loadLocation(loc)
		if err != nil {
			return nil, err
		}
		if src.values != nil {
			p.sources = append(p.sources, src)
		}
	}
	return p, nil
}

func loadLocation(loc string) (source, error) {
	optional := false
	rest := loc
	if strings.HasPrefix(rest, "optional:") {
		optional = true
		rest = strings.TrimPrefix(rest, "optional:")
	}
	var (
		values map[string]string
		err    error
	)
	switch {
	case strings.HasPrefix(rest, "configtree:"):
		values, err = readConfigTree(strings.TrimPrefix(rest, "configtree:"))
	case strings.HasPrefix(rest, "file:"):
		values, err = readPropertiesLocation(strings.TrimPrefix(rest, "file:"))
	case strings.HasPrefix(rest, "classpath:"):
		return source{}, fmt.Errorf("config import %q: the stand-in has no classpath (use a file: or configtree: location)", loc)
	default:
		// Spring treats a location without a prefix as a file.
		values, err = readPropertiesLocation(rest)
	}
	if err != nil {
		if optional && os.IsNotExist(err) {
			return source{location: loc}, nil
		}
		return source{}, fmt.Errorf("config import %q: %w", loc, err)
	}
	return source{location: loc, values: values}, nil
}

// readConfigTree reads a Spring config tree: every regular file below dir
// is a property named by its relative path ("/" becomes "."), its content
// the value with one trailing newline removed (Spring's
// AUTO_TRIM_TRAILING_NEW_LINE). Names starting with ".." are skipped, like
// Spring does for the ..data links Kubernetes makes.
func readConfigTree(dir string) (map[string]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	values := map[string]string{}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir && strings.HasPrefix(d.Name(), "..") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := os.Stat(path) // follows symlinks, as Spring does
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			// The error names the file, never its content.
			return err
		}
		v := string(data)
		if strings.HasSuffix(v, "\r\n") {
			v = strings.TrimSuffix(v, "\r\n")
		} else {
			v = strings.TrimSuffix(v, "\n")
		}
		values[strings.ReplaceAll(filepath.ToSlash(rel), "/", ".")] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return values, nil
}

func readPropertiesLocation(path string) (map[string]string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".properties":
	case ".yml", ".yaml", ".xml":
		return nil, fmt.Errorf("the stand-in reads .properties files only")
	default:
		return nil, fmt.Errorf("unknown file type (want .properties)")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseProperties(bufio.NewReader(f))
}

// parseProperties reads java.util.Properties text: comments (# and !),
// key/value separators (=, : or whitespace), backslash line continuation and
// the usual escapes including \uXXXX.
func parseProperties(r *bufio.Reader) (map[string]string, error) {
	values := map[string]string{}
	var logical strings.Builder
	lineNo := 0
	flush := func() error {
		line := logical.String()
		logical.Reset()
		if line == "" {
			return nil
		}
		k, v, err := splitProperty(line)
		if err != nil {
			return fmt.Errorf("line %d: %w", lineNo, err)
		}
		values[k] = v
		return nil
	}
	for {
		raw, err := r.ReadString('\n')
		if raw == "" && err != nil {
			break
		}
		lineNo++
		line := strings.TrimRight(raw, "\r\n")
		if logical.Len() == 0 {
			line = strings.TrimLeft(line, " \t\f")
			if line == "" || line[0] == '#' || line[0] == '!' {
				continue
			}
		} else {
			line = strings.TrimLeft(line, " \t\f")
		}
		// An odd number of trailing backslashes continues the line.
		n := len(line) - len(strings.TrimRight(line, `\`))
		if n%2 == 1 {
			logical.WriteString(line[:len(line)-1])
			if err != nil {
				break
			}
			continue
		}
		logical.WriteString(line)
		if ferr := flush(); ferr != nil {
			return nil, ferr
		}
		if err != nil {
			break
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return values, nil
}

func splitProperty(line string) (string, string, error) {
	// The key ends at the first unescaped '=', ':' or whitespace.
	end := len(line)
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			end = i
			break
		}
	}
	key, rest := line[:end], line[end:]
	rest = strings.TrimLeft(rest, " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	k, err := unescapeProperty(key)
	if err != nil {
		return "", "", err
	}
	v, err := unescapeProperty(rest)
	if err != nil {
		return "", "", err
	}
	return k, v, nil
}

func unescapeProperty(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i == len(s)-1 {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf("malformed \\u escape")
			}
			r, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
			if err != nil {
				return "", fmt.Errorf("malformed \\u escape")
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}

// imported returns the value of key from the imported sources.
func (p *props) imported(key string) (string, bool) {
	for i := len(p.sources) - 1; i >= 0; i-- {
		if v, ok := p.sources[i].values[key]; ok {
			return v, true
		}
	}
	return "", false
}

// envName is Spring's relaxed environment-variable form of a property name:
// server.ssl.key-store becomes SERVER_SSL_KEYSTORE.
func envName(key string) string {
	r := strings.NewReplacer(".", "_", "-", "")
	return strings.ToUpper(r.Replace(key))
}

// lookup resolves a plain name (a FINERACT_* placeholder or a Spring
// property) through the environment and the imports.
func (p *props) lookup(key string) (string, bool) {
	if v, ok := p.env[key]; ok {
		return v, true
	}
	if strings.Contains(key, ".") {
		if v, ok := p.env[envName(key)]; ok {
			return v, true
		}
	}
	return p.imported(key)
}

// fineract resolves a setting that Fineract's application.properties defines
// as `property=${PLACEHOLDER:def}`: the property itself (if set in the
// environment or an import) wins, then the placeholder, then def.
func (p *props) fineract(property, placeholder, def string) string {
	if property != "" {
		if v, ok := p.lookup(property); ok {
			return v
		}
	}
	if v, ok := p.lookup(placeholder); ok {
		return v
	}
	return def
}

// spring resolves a Spring property that Fineract does not map to a
// placeholder.
func (p *props) spring(property, def string) string {
	if v, ok := p.lookup(property); ok {
		return v
	}
	return def
}
