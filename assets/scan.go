package assets

import (
	"bufio"
	"bytes"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Finding is a secret-looking literal in a rendered file.
type Finding struct {
	Path string
	Line int
	// Rule is "private-key", "password-assignment" or "random-string".
	Rule string
	// Text is the offending line with the suspicious value masked.
	Text string
}

var (
	privateKeyPattern = regexp.MustCompile(`-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----`)
	// A sensitive name followed by ':' or '=' and a value.
	assignmentPattern = regexp.MustCompile(`(?i)([A-Za-z0-9_.\-]*(?:password|passwd|passphrase|secret|token|api[_.\-]?key|credential|private[_.\-]?key|encryption[_.\-]?key|requirepass|masterauth)[A-Za-z0-9_.\-]*)["']?\s*[:=]\s*("[^"]*"|'[^']*'|[^\s,;}\]]*)`)
	// Directive style (`requirepass value`) as in redis.conf.
	directivePattern = regexp.MustCompile(`(?i)^\s*(requirepass|masterauth|password|passphrase|secret)\s+("[^"]*"|'[^']*'|\S+)`)
	tokenSplit       = regexp.MustCompile(`[\s"'=:,;|&()\[\]{}<>\\@]+`)
	hexRun           = regexp.MustCompile(`^[0-9a-fA-F]{32,}$`)
	// Suffixes of names whose value is a file path, not the secret itself.
	fileNameSuffix = regexp.MustCompile(`(?i)(_file|__file|-file|\.file|_path|location|_dir)$`)
)

// Values that are settings, not secrets.
var safeValues = map[string]bool{
	"true": true, "false": true, "on": true, "off": true, "yes": true, "no": true,
	"none": true, "null": true, "required": true, "optional": true,
	"scram-sha-256": true, "md5": true, "peer": true, "{}": true,
}

// ScanSecrets reports secret-looking literals in one file: PEM private
// keys, a password-like name assigned a literal value, and long
// random-looking strings. References to secrets (file paths, *_FILE names,
// shell substitutions reading a file) are not findings.
func ScanSecrets(path string, data []byte) []Finding {
	var out []Finding
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if privateKeyPattern.MatchString(line) {
			out = append(out, Finding{Path: path, Line: n, Rule: "private-key", Text: strings.TrimSpace(line)})
			continue
		}
		if v, ok := literalAssignment(line); ok {
			out = append(out, Finding{Path: path, Line: n, Rule: "password-assignment", Text: mask(line, v)})
			continue
		}
		if v, ok := randomToken(line); ok {
			out = append(out, Finding{Path: path, Line: n, Rule: "random-string", Text: mask(line, v)})
		}
	}
	return out
}

// ScanSecrets scans every file of the bundle.
func (b Bundle) ScanSecrets() []Finding {
	var out []Finding
	for _, f := range b.Files {
		out = append(out, ScanSecrets(f.Path, f.Data)...)
	}
	return out
}

func literalAssignment(line string) (string, bool) {
	// In a comment, "the token: metrics ..." is prose; only a value shaped
	// like a secret (with a digit or a symbol) counts there.
	comment := isComment(line)
	suspicious := func(v string) bool {
		return !isReference(v) && (!comment || secretShaped(v))
	}
	for _, m := range assignmentPattern.FindAllStringSubmatch(line, -1) {
		if fileNameSuffix.MatchString(m[1]) {
			continue
		}
		if v := unquote(m[2]); suspicious(v) {
			return v, true
		}
	}
	if m := directivePattern.FindStringSubmatch(line); m != nil {
		if v := unquote(m[2]); suspicious(v) {
			return v, true
		}
	}
	return "", false
}

func isComment(line string) bool {
	t := strings.TrimSpace(line)
	for _, p := range []string{"#", "//", "--", ";", "*"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

func secretShaped(v string) bool {
	return len(v) >= 8 && strings.IndexFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) >= 0
}

func unquote(v string) string {
	v = strings.TrimRight(v, ";,")
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		v = v[1 : len(v)-1]
	}
	return strings.TrimSpace(v)
}

// isReference reports whether a value points at a secret instead of being one.
func isReference(v string) bool {
	switch {
	case len(v) < 6, safeValues[strings.ToLower(v)]:
		return true
	case strings.HasPrefix(v, "/"), strings.HasPrefix(v, "./"),
		strings.HasPrefix(v, "file:"), strings.HasPrefix(v, "configtree:"),
		strings.HasPrefix(v, "$"), strings.HasPrefix(v, ":'"),
		strings.HasPrefix(v, "`"):
		return true
	case strings.ContainsAny(v, " \t"):
		return true // prose in a comment, not a value
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return true
	}
	return false
}

func randomToken(line string) (string, bool) {
	for _, tok := range tokenSplit.Split(line, -1) {
		tok = strings.Trim(tok, ".")
		if len(tok) < 20 {
			continue
		}
		if strings.HasPrefix(tok, "sha256-") || strings.HasPrefix(tok, "sha384-") || strings.HasPrefix(tok, "sha512-") {
			continue // a CSP hash of public inline code
		}
		if hexRun.MatchString(tok) {
			return tok, true
		}
		if looksRandom(tok) {
			return tok, true
		}
	}
	return "", false
}

// looksRandom: base64-like characters only, upper and lower case and
// digits mixed, and a high character entropy.
func looksRandom(tok string) bool {
	var upper, lower, digit bool
	for _, r := range strings.TrimRight(tok, "=") {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case r == '+' || r == '/' || r == '_' || r == '-':
		default:
			return false
		}
	}
	return upper && lower && digit && entropy(tok) >= 3.5
}

func entropy(s string) float64 {
	counts := map[rune]int{}
	for _, r := range s {
		counts[r]++
	}
	var h float64
	n := float64(len(s))
	for _, c := range counts {
		p := float64(c) / n
		h -= p * math.Log2(p)
	}
	return h
}

func mask(line, value string) string {
	if value == "" {
		return strings.TrimSpace(line)
	}
	return strings.TrimSpace(strings.ReplaceAll(line, value, "<redacted>"))
}
