package redact

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
)

// A pattern finds secrets by their shape. Only capture groups named "v"
// are redacted, so keys, header names and URL hosts stay readable.
//
// No pattern matches across a line break (the Writer and the line
// prefilter rely on that); private key blocks and YAML block scalars are
// handled in pem.go and yaml.go.
type pattern struct {
	kind Kind
	re   *regexp.Regexp
	// triggers are lower-case literals of which every match contains one.
	// The regexp runs only on lines holding a trigger (and one of also,
	// if set): Go's regexp engine is slow on megabytes of logs, a
	// substring search is not.
	triggers, also []string
	// keyed patterns start with "^" and a key name ending in a trigger;
	// they run once from the start of each such key instead of searching.
	keyed bool
	// keep, when set, vetoes a match after the fact (RE2 has no lookaround).
	keep func(m match, value string) bool
}

// secretWords end a key name that means "secret".
const secretWords = `password|passwd|passphrase|secret|token|api[_\-]?key|private[_\-]?key|secret[_\-]?key|access[_\-]?key|auth[_\-]?key|signing[_\-]?key|encryption[_\-]?key|credentials?`

// secretKey is a key name that ends in a word meaning "secret", or in
// pass or pwd as a part of their own (DB_PASS, redis.pass, TENANTDB_PWD).
// Keys that merely contain one (token_ttl, password_file, bypass) are left
// alone, so paths to secret files stay visible to whoever diagnoses the
// bundle.
const secretKey = `[A-Za-z0-9_.\-]*(?:` + secretWords + `|[_.\-](?:pass|pwd))`

// shortKey is pass or pwd as the whole key. Short words occur in prose and
// the shell's PWD is a directory, so they have their own pattern, with
// more context required (shortKeyValue).
const shortKey = `pass|pwd`

// flagKey is a command-line flag name that takes a secret: any name
// ending in a secret word or in pass or pwd (--db-password, --pass,
// keytool's -storepass), and openssl's -passin and -passout.
const flagKey = `[A-Za-z0-9_.\-]*(?:` + secretWords + `|pass|pwd|passin|passout)`

// secretKeyTriggers: every secretKey, shortKey and flagKey match contains
// one of these.
var secretKeyTriggers = []string{"pass", "secret", "token", "key", "credential", "pwd"}

// value is a quoted string (its inside) or a bare word up to whitespace,
// a quote or a list separator.
const value = `(?:"(?P<v>(?:[^"\\\r\n]|\\.)*)"|'(?P<v>[^'\r\n]*)'|(?P<v>[^\s"',;&]+))`

// spaced separates a flag or directive from its value: blanks, or a comma
// between the items of a JSON or Python list (docker inspect's "Cmd").
const spaced = `["']?(?:[ \t]*,[ \t]*|[ \t]+)`

var patterns = []pattern{
	{kind: KindVaultToken, triggers: []string{"hvs.", "hvb.", "hvr."},
		re: regexp.MustCompile(`\b(?P<v>hv[sbr]\.[A-Za-z0-9_\-]{20,})`)},
	{kind: KindJDBCPassword, triggers: []string{"jdbc:"},
		re: regexp.MustCompile(`(?i)\bjdbc:[a-z0-9]+:[^\s"'<>]*?[?&;:](?:password|pwd)=(?P<v>[^&;\s"'<>]+)`)},
	{kind: KindJDBCPassword, triggers: []string{"jdbc:oracle:"},
		re: regexp.MustCompile(`(?i)\bjdbc:oracle:[a-z]+:[^/\s@"'<>:]*/(?P<v>[^@\s"'<>]+)@`)},
	{kind: KindURLPassword, triggers: []string{"://"}, also: []string{"@"},
		re: regexp.MustCompile(`\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@"'<>:]*:(?P<v>[^\s/?#"'<>]+)@`)},
	{kind: KindAuthHeader, triggers: []string{"authorization"},
		re: regexp.MustCompile(`(?i)\b(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*\[?[ \t]*["']?(?:(?:bearer|basic|token|digest|negotiate|ntlm)[ \t]+)?(?P<v>[^"'\r\n]+)`)},
	{kind: KindAuthHeader, triggers: []string{"x-vault-token", "x-api-key", "x-auth-token", "cookie"},
		re: regexp.MustCompile(`(?i)\b(?:x-vault-token|x-api-key|x-auth-token|cookie|set-cookie)["']?[ \t]*[:=][ \t]*\[?[ \t]*["']?(?P<v>[^"'\r\n]+)`)},
	{kind: KindAuthHeader, triggers: []string{"bearer"},
		re: regexp.MustCompile(`(?i)\bbearer[ \t]+(?P<v>[A-Za-z0-9._~+/\-]{8,}=*)`)},
	{kind: KindAssignment, triggers: secretKeyTriggers, keyed: true, keep: notPlaceholderValue,
		re: regexp.MustCompile(`(?i)^["']?` + secretKey + `["']?[ \t]*(?::=|=|:)[ \t]*` + value)},
	{kind: KindAssignment, triggers: []string{"pass", "pwd"}, keyed: true, keep: shortKeyValue,
		re: regexp.MustCompile(`(?i)^(?P<q>["']?)(?P<k>` + shortKey + `)["']?[ \t]*(?P<sep>:=|=|:)[ \t]*` + value)},
	{kind: KindAssignment, triggers: secretKeyTriggers, also: []string{"</"}, keep: notPlaceholderValue,
		re: regexp.MustCompile(`(?i)<(?:[A-Za-z0-9_\-]+:)?` + secretKey + `>(?P<v>[^<\r\n]+)<`)},
	// --password X, -storepass X, ["--db-password","X"]
	{kind: KindAssignment, triggers: secretKeyTriggers, keyed: true, keep: flagValue,
		re: regexp.MustCompile(`(?i)^["']?--?` + flagKey + spaced + value)},
	// Redis configuration and commands: requirepass X, CONFIG SET masterauth X
	{kind: KindAssignment, triggers: []string{"requirepass", "masterauth"}, keep: notPlaceholderValue,
		re: regexp.MustCompile(`(?i)(?:^|[\s"'\[,(])(?:requirepass|masterauth)` + spaced + value)},
}

// match is one match of a pattern, in the whole input, for vetoes.
type match struct {
	b  []byte
	re *regexp.Regexp
	m  []int // as FindSubmatchIndex gives it, offsets into b
}

// group returns the named group's text, or "".
func (c match) group(name string) string {
	i := c.re.SubexpIndex(name)
	if i < 0 || c.m[2*i] < 0 {
		return ""
	}
	return string(c.b[c.m[2*i]:c.m[2*i+1]])
}

// atLineStart reports whether only blanks and YAML list dashes come
// before the match on its line.
func (c match) atLineStart() bool {
	for i := c.m[0] - 1; i >= 0 && c.b[i] != '\n'; i-- {
		if b := c.b[i]; b != ' ' && b != '\t' && b != '-' && b != '\r' {
			return false
		}
	}
	return true
}

// notPlaceholder skips values that are no secret: booleans, null, template
// and shell references such as ${DB_PASSWORD} or $(cat file), YAML block
// indicators (the block is yaml.go's), and earlier redactions.
func notPlaceholder(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "true", "false", "null", "nil", "none", "yes", "no", "on", "off", "~":
		return false
	}
	if blockIndicator.MatchString(v) {
		return false
	}
	for _, p := range []string{"${", "$(", "$${", "$$(", "{{", "[REDACTED"} {
		if strings.HasPrefix(v, p) {
			return false
		}
	}
	return true
}

var blockIndicator = regexp.MustCompile(`^[|>][1-9+\-]{0,2}$`)

func notPlaceholderValue(_ match, v string) bool { return notPlaceholder(v) }

// flagValue: a flag followed by another flag has no value.
func flagValue(_ match, v string) bool { return notPlaceholder(v) && !strings.HasPrefix(v, "-") }

// shortKeyValue keeps what only looks like a pass= or pwd: assignment:
// the shell's PWD=/root (a directory, not a password) and prose such as
// "tests pass: 12" (a bare key before a colon counts only at the start of
// a line, as in YAML; quoted or with = it counts anywhere).
func shortKeyValue(c match, v string) bool {
	if !notPlaceholder(v) {
		return false
	}
	if strings.EqualFold(c.group("k"), "pwd") && strings.HasPrefix(v, "/") {
		return false
	}
	return c.group("q") != "" || c.group("sep") != ":" || c.atLineStart()
}

// find appends the spans of the pattern's matches in b; lower is b with
// ASCII letters in lower case (same offsets), lines finds the lines that
// hold a trigger.
func (p *pattern) find(b, lower []byte, lines *lineIndex, out []span) []span {
	for _, line := range lines.with(p.triggers, p.also) {
		text := b[line.start:line.end]
		if !p.keyed {
			for _, m := range p.re.FindAllSubmatchIndex(text, -1) {
				out = p.values(b, m, line.start, out)
			}
			continue
		}
		for _, k := range keyStarts(text, lower[line.start:line.end], p.triggers) {
			if m := p.re.FindSubmatchIndex(text[k:]); m != nil {
				out = p.values(b, m, line.start+k, out)
			}
		}
	}
	return out
}

// values appends the spans of the "v" groups of match m, found at offset.
func (p *pattern) values(b []byte, m []int, offset int, out []span) []span {
	for i := range m {
		if m[i] >= 0 {
			m[i] += offset
		}
	}
	for g, name := range p.re.SubexpNames() {
		s, e := m[2*g], m[2*g+1]
		if name != "v" || s < 0 || s == e {
			continue
		}
		if p.keep == nil || p.keep(match{b: b, re: p.re, m: m}, string(b[s:e])) {
			out = append(out, span{start: s, end: e, kind: p.kind})
		}
	}
	return out
}

// maxKeyLen bounds the walk back from a trigger to the start of its key.
const maxKeyLen = 256

// keyStarts returns, in order, where the keys holding a trigger start
// (at an opening quote, if any).
func keyStarts(text, lower []byte, triggers []string) []int {
	seen := map[int]bool{}
	var starts []int
	for _, tr := range triggers {
		for i := 0; ; {
			j := bytes.Index(lower[i:], []byte(tr))
			if j < 0 {
				break
			}
			hit := i + j
			i = hit + len(tr)
			k := hit
			for k > 0 && hit-k < maxKeyLen && isKeyChar(text[k-1]) {
				k--
			}
			if k > 0 && isKeyChar(text[k-1]) {
				continue // longer than any real key
			}
			if k > 0 && (text[k-1] == '"' || text[k-1] == '\'') {
				k--
			}
			if !seen[k] {
				seen[k] = true
				starts = append(starts, k)
			}
		}
	}
	slices.Sort(starts)
	return starts
}

func isKeyChar(c byte) bool { return isWord(c) || c == '.' || c == '-' }

// lineIndex finds the lines of one input that hold trigger words. The
// patterns share trigger lists, so each list is searched for once.
type lineIndex struct {
	lower []byte
	seen  map[*string][]span // by a trigger list's first element
}

func newLineIndex(lower []byte) *lineIndex {
	return &lineIndex{lower: lower, seen: map[*string][]span{}}
}

// with returns, in order, the lines that contain one of the triggers and,
// if also is set, one of also.
func (x *lineIndex) with(triggers, also []string) []span {
	lines, ok := x.seen[&triggers[0]]
	if !ok {
		lines = triggeredLines(x.lower, triggers)
		x.seen[&triggers[0]] = lines
	}
	if len(also) == 0 {
		return lines
	}
	var out []span
	for _, l := range lines {
		if containsAny(x.lower[l.start:l.end], also) {
			out = append(out, l)
		}
	}
	return out
}

// triggeredLines returns, in order, the lines of lower that contain one of
// the triggers.
func triggeredLines(lower []byte, triggers []string) []span {
	ends := map[int]int{} // line start -> end
	for _, tr := range triggers {
		for i := 0; ; {
			j := bytes.Index(lower[i:], []byte(tr))
			if j < 0 {
				break
			}
			hit := i + j
			start := bytes.LastIndexByte(lower[:hit], '\n') + 1
			end := len(lower)
			if k := bytes.IndexByte(lower[hit:], '\n'); k >= 0 {
				end = hit + k
			}
			ends[start] = end
			i = end
		}
	}
	lines := make([]span, 0, len(ends))
	for s, e := range ends {
		lines = append(lines, span{start: s, end: e})
	}
	sortSpans(lines)
	return lines
}

func containsAny(b []byte, subs []string) bool {
	if len(subs) == 0 {
		return true
	}
	for _, s := range subs {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// asciiLower lower-cases ASCII letters only, so offsets stay the same.
func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// findLegacyTokens finds pre-1.10 Vault tokens: s., b. or r. at a word
// start, then exactly 24 base62 characters mixing upper case, lower case
// and digits (which keeps words like s.abcdefghijklmnopqrstuvwx out). It
// is the regexp \b[sbr]\.[A-Za-z0-9]{24}\b written out, because nearly
// every line holds an "s." and the regexp would run on all of them.
func findLegacyTokens(b []byte, out []span) []span {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '.')
		if j < 0 {
			return out
		}
		dot := i + j
		i = dot + 1
		if dot == 0 || !strings.ContainsRune("sbr", rune(b[dot-1])) || (dot >= 2 && isWord(b[dot-2])) {
			continue
		}
		end := dot + 1 + 24
		if end > len(b) || (end < len(b) && isWord(b[end])) {
			continue
		}
		tok := b[dot+1 : end]
		if !isBase62(tok) || !mixedCase(tok) {
			continue
		}
		out = append(out, span{start: dot - 1, end: end, kind: KindVaultToken})
		i = end
	}
}

func isWord(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isBase62(b []byte) bool {
	for _, c := range b {
		if c == '_' || !isWord(c) {
			return false
		}
	}
	return true
}

func mixedCase(b []byte) bool {
	return bytes.ContainsAny(b, "0123456789") &&
		bytes.ContainsAny(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") &&
		bytes.ContainsAny(b, "abcdefghijklmnopqrstuvwxyz")
}
