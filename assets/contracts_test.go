package assets

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// contractsFile is the machine-readable half of CONTRACTS.md: what each
// pinned upstream image provides and expects, with its sources.
const contractsFile = "contracts.yaml"

type contracts struct {
	Images []imageContract `yaml:"images"`
}

type imageContract struct {
	Service    string `yaml:"service"`
	Image      string `yaml:"image"`
	Tag        fact   `yaml:"tag"`
	User       fact   `yaml:"user"`
	Entrypoint fact   `yaml:"entrypoint"`
	Secrets    fact   `yaml:"secrets"`
	Ports      fact   `yaml:"ports"`
	// JVMOptions names the environment variables whose -D flags set the
	// JVM's system properties.
	JVMOptions    []string      `yaml:"jvm_options"`
	JVMProperties []jvmProperty `yaml:"jvm_properties"`
	Env           []envVar      `yaml:"env"`
	Binaries      []binary      `yaml:"binaries"`
	Writes        []writePath   `yaml:"writes"`
}

type fact struct {
	Claim string   `yaml:"claim"`
	Cite  []string `yaml:"cite"`
}

type envVar struct {
	Name   string   `yaml:"name"`
	ReadBy string   `yaml:"read_by"`
	Cite   []string `yaml:"cite"`
}

type binary struct {
	Name string   `yaml:"name"`
	Open string   `yaml:"open"`
	Cite []string `yaml:"cite"`
}

type jvmProperty struct {
	Name  string   `yaml:"name"`
	Value string   `yaml:"value"`
	Why   string   `yaml:"why"`
	Cite  []string `yaml:"cite"`
}

// writePath is a path the image writes at run time: literal (Path), or
// taken from a JVM system property (JVM) or an environment variable (Env),
// with the image's Default when the rendered service does not set it.
type writePath struct {
	Path    string   `yaml:"path"`
	JVM     string   `yaml:"jvm"`
	Env     string   `yaml:"env"`
	Default string   `yaml:"default"`
	Exec    bool     `yaml:"exec"`
	Why     string   `yaml:"why"`
	Open    string   `yaml:"open"`
	Cite    []string `yaml:"cite"`
}

func (w writePath) String() string {
	switch {
	case w.JVM != "":
		return "${" + w.JVM + "}"
	case w.Env != "":
		return "$" + w.Env
	}
	return w.Path
}

// A citation names a repository, a tag or commit and a file
// ("owner/repo@ref:path") or an issue thread ("owner/repo#number"), then an
// optional " - note"; or it says why the fact could not be established
// ("unverified: why").
var (
	sourceCite     = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(@[0-9A-Za-z._/-]+:[^\s]+|#[0-9]+)( - .+)?$`)
	unverifiedCite = regexp.MustCompile(`^unverified: \S.*$`)
)

func loadContracts(t *testing.T) contracts {
	t.Helper()
	data, err := os.ReadFile(contractsFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c contracts
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: %v", contractsFile, err)
	}
	return c
}

func (c contracts) image(service string) (imageContract, bool) {
	for _, ic := range c.Images {
		if ic.Service == service {
			return ic, true
		}
	}
	return imageContract{}, false
}

// citeProblems lists what is wrong with one fact's citations.
func citeProblems(what string, cites []string) []string {
	if len(cites) == 0 {
		return []string{what + ": no citation"}
	}
	var out []string
	for _, c := range cites {
		if !sourceCite.MatchString(c) && !unverifiedCite.MatchString(c) {
			out = append(out, fmt.Sprintf("%s: %q is neither owner/repo@ref:path nor \"unverified: why\"", what, c))
		}
	}
	return out
}

// verified reports whether at least one citation points at a source.
func verified(cites []string) bool {
	return slices.ContainsFunc(cites, sourceCite.MatchString)
}

// Every pinned reference has exactly one contract row, for the same image,
// and every fact in it cites its source or says why it could not.
func TestEveryPinHasACitedContract(t *testing.T) {
	c := loadContracts(t)
	seen := map[string]bool{}
	for _, ic := range c.Images {
		if seen[ic.Service] {
			t.Errorf("%s: two contract rows", ic.Service)
		}
		seen[ic.Service] = true
		if img := imageOf(ic.Service); img != ic.Image {
			t.Errorf("%s: contract is for %q, images.go pins %q", ic.Service, ic.Image, img)
		}
		var problems []string
		for what, f := range map[string]fact{"tag": ic.Tag, "user": ic.User, "entrypoint": ic.Entrypoint, "secrets": ic.Secrets, "ports": ic.Ports} {
			if strings.TrimSpace(f.Claim) == "" {
				problems = append(problems, what+": no claim")
			}
			problems = append(problems, citeProblems(what, f.Cite)...)
		}
		for _, e := range ic.Env {
			problems = append(problems, citeProblems("env "+e.Name, e.Cite)...)
			if e.ReadBy == "" {
				problems = append(problems, "env "+e.Name+": does not say what reads it")
			}
		}
		for _, b := range ic.Binaries {
			problems = append(problems, citeProblems("binary "+b.Name, b.Cite)...)
		}
		for _, p := range ic.JVMProperties {
			problems = append(problems, citeProblems("jvm property "+p.Name, p.Cite)...)
			if p.Value == "" || p.Why == "" {
				problems = append(problems, "jvm property "+p.Name+": needs a value and why")
			}
		}
		if len(ic.JVMProperties) > 0 && len(ic.JVMOptions) == 0 {
			problems = append(problems, "jvm_properties without jvm_options")
		}
		for _, w := range ic.Writes {
			problems = append(problems, citeProblems("write "+w.String(), w.Cite)...)
			kinds := 0
			for _, s := range []string{w.Path, w.JVM, w.Env} {
				if s != "" {
					kinds++
				}
			}
			switch {
			case kinds != 1:
				problems = append(problems, "write "+w.String()+": give exactly one of path, jvm, env")
			case w.Path != "" && !path.IsAbs(w.Path):
				problems = append(problems, "write "+w.Path+": not an absolute path")
			case w.Path == "" && !path.IsAbs(w.Default):
				problems = append(problems, "write "+w.String()+": needs an absolute default")
			case w.JVM != "" && len(ic.JVMOptions) == 0:
				problems = append(problems, "write "+w.String()+": jvm path without jvm_options")
			}
		}
		for _, p := range problems {
			t.Errorf("%s: %s", ic.Service, p)
		}
	}
	for _, p := range ImagePins() {
		if !seen[p.Service] {
			t.Errorf("%s (%s): no contract row in %s", p.Service, p.Image, contractsFile)
		}
	}
}

// contractCheck gathers the mismatches between contracts and rendered
// services across every combination, each reported once. A mismatch on a
// fact marked open is expected (its owner fixes it); an open fact without a
// mismatch anywhere means it was fixed and the marker must go.
type contractCheck struct {
	openSeen map[string]bool
	failures map[string]*failure
}

type failure struct {
	msg    string
	first  combo
	combos int
}

func (cc *contractCheck) mismatch(c combo, service, key, open, msg string) {
	key = service + " " + key
	if open != "" {
		cc.openSeen[key] = true
		return
	}
	f, ok := cc.failures[key]
	if !ok {
		f = &failure{msg: service + ": " + msg, first: c}
		cc.failures[key] = f
	}
	f.combos++
}

func (cc *contractCheck) report(t *testing.T, renders int) {
	keys := slices.Sorted(maps.Keys(cc.failures))
	for _, k := range keys {
		f := cc.failures[k]
		t.Errorf("%s (in %d of %d renderings, first %s)", f.msg, f.combos, renders, f.first)
	}
}

// The rendered compose files, for every group combination and profile,
// stay inside what each image's contract establishes: every environment
// variable is one the image reads, every program a healthcheck runs is in
// the image, every path the image writes is on a writable mount when the
// root is read-only (and allows exec where the image must execute from
// it), and the JVM properties the image means to set are set.
func TestRenderedServicesKeepTheirImageContracts(t *testing.T) {
	c := loadContracts(t)
	cc := &contractCheck{openSeen: map[string]bool{}, failures: map[string]*failure{}}
	opens := map[string]string{}
	for _, ic := range c.Images {
		for _, b := range ic.Binaries {
			if b.Open != "" {
				opens[ic.Service+" binary "+b.Name] = b.Open
			}
		}
		for _, w := range ic.Writes {
			if w.Open != "" {
				opens[ic.Service+" write "+w.String()] = w.Open
			}
		}
	}
	rendered := map[string]bool{}
	combos := allCombos()
	for _, combo := range combos {
		p, _ := loadBundle(t, mustRender(t, answersFor(combo)))
		for name, s := range p.Services {
			ic, ok := c.image(name)
			if !ok {
				t.Errorf("%s: service %s has no contract", combo, name)
				continue
			}
			rendered[name] = true
			if s.Image != ic.Image {
				t.Errorf("%s: %s runs %q, its contract is for %q", combo, name, s.Image, ic.Image)
			}
			checkEnv(cc, combo, ic, s)
			checkHealthcheck(cc, combo, ic, s)
			checkWrites(cc, combo, ic, s)
			checkJVMProperties(cc, combo, ic, s)
		}
	}
	cc.report(t, len(combos))
	for _, key := range slices.Sorted(maps.Keys(opens)) {
		service, _, _ := strings.Cut(key, " ")
		switch {
		case cc.openSeen[key]:
			t.Logf("known mismatch, owned elsewhere: %s: %s", key, opens[key])
		case rendered[service]:
			t.Errorf("%s: marked open in %s but no rendering shows the mismatch any more: remove the open marker", key, contractsFile)
		}
	}
}

func checkEnv(cc *contractCheck, combo combo, ic imageContract, s types.ServiceConfig) {
	for name := range s.Environment {
		if !slices.ContainsFunc(ic.Env, func(e envVar) bool { return e.Name == name }) {
			cc.mismatch(combo, ic.Service, "env "+name, "", fmt.Sprintf("sets %s, which its image contract does not list as read by the image", name))
		}
	}
}

func checkHealthcheck(cc *contractCheck, combo combo, ic imageContract, s types.ServiceConfig) {
	if s.HealthCheck == nil || len(s.HealthCheck.Test) < 2 {
		cc.mismatch(combo, ic.Service, "healthcheck", "", "has no healthcheck command")
		return
	}
	progs, err := healthcheckPrograms(s.HealthCheck.Test)
	if err != nil {
		cc.mismatch(combo, ic.Service, "healthcheck", "", err.Error())
		return
	}
	for _, prog := range progs {
		i := slices.IndexFunc(ic.Binaries, func(b binary) bool { return b.Name == prog })
		switch {
		case i < 0:
			cc.mismatch(combo, ic.Service, "binary "+prog, "", fmt.Sprintf("healthcheck runs %s, which its image contract does not list", prog))
		case !verified(ic.Binaries[i].Cite):
			cc.mismatch(combo, ic.Service, "binary "+prog, ic.Binaries[i].Open, fmt.Sprintf("healthcheck runs %s, which no source shows in the image", prog))
		}
	}
}

func checkWrites(cc *contractCheck, combo combo, ic imageContract, s types.ServiceConfig) {
	if !s.ReadOnly {
		return
	}
	for _, w := range ic.Writes {
		p := resolveWritePath(ic, s, w)
		m, ok := mountFor(s, p)
		switch {
		case !ok || !m.writable:
			cc.mismatch(combo, ic.Service, "write "+w.String(), w.Open, fmt.Sprintf("writes %s (%s, %s) but the root is read-only and no writable tmpfs or volume covers it", p, w.String(), w.Why))
		case w.Exec && !m.exec:
			cc.mismatch(combo, ic.Service, "write "+w.String(), w.Open, fmt.Sprintf("must execute from %s (%s) but %s is mounted noexec", p, w.Why, m.target))
		}
	}
}

func checkJVMProperties(cc *contractCheck, combo combo, ic imageContract, s types.ServiceConfig) {
	for _, want := range ic.JVMProperties {
		got, ok := renderedSystemProperty(ic, s, want.Name)
		if !ok || got != want.Value {
			cc.mismatch(combo, ic.Service, "jvm "+want.Name, "", fmt.Sprintf("-D%s=%s is not set in %s (%s)", want.Name, want.Value, strings.Join(ic.JVMOptions, ", "), want.Why))
		}
	}
}

// renderedSystemProperty is the value the rendered JVM options give a system property
// (the last -D wins, as with the JVM).
func renderedSystemProperty(ic imageContract, s types.ServiceConfig, name string) (string, bool) {
	var val string
	var found bool
	for _, env := range ic.JVMOptions {
		opts := s.Environment[env]
		if opts == nil {
			continue
		}
		for _, f := range strings.Fields(*opts) {
			if v, ok := strings.CutPrefix(f, "-D"+name+"="); ok {
				val, found = v, true
			}
		}
	}
	return val, found
}

func resolveWritePath(ic imageContract, s types.ServiceConfig, w writePath) string {
	switch {
	case w.JVM != "":
		if v, ok := renderedSystemProperty(ic, s, w.JVM); ok {
			return v
		}
		return w.Default
	case w.Env != "":
		if v := s.Environment[w.Env]; v != nil {
			return *v
		}
		return w.Default
	}
	return w.Path
}

type mount struct {
	target   string
	writable bool
	exec     bool
}

// mountFor finds the innermost mount holding p. Named volumes and binds
// allow exec; a tmpfs does only with an explicit "exec" option, since
// Docker mounts tmpfs noexec by default.
func mountFor(s types.ServiceConfig, p string) (mount, bool) {
	var mounts []mount
	for _, tm := range s.Tmpfs {
		target, opts, _ := strings.Cut(tm, ":")
		flags := strings.Split(opts, ",")
		mounts = append(mounts, mount{target: target, writable: !slices.Contains(flags, "ro"), exec: slices.Contains(flags, "exec")})
	}
	for _, v := range s.Volumes {
		mounts = append(mounts, mount{target: v.Target, writable: !v.ReadOnly, exec: v.Type != types.VolumeTypeTmpfs})
	}
	best, found := mount{}, false
	for _, m := range mounts {
		if (p == m.target || strings.HasPrefix(p, strings.TrimSuffix(m.target, "/")+"/")) && len(m.target) >= len(best.target) {
			best, found = m, true
		}
	}
	return best, found
}

// healthcheckPrograms lists the programs a compose healthcheck runs: the
// command of a CMD test (and the programs of its script when it is a shell
// given -c), or the shell and the programs of a CMD-SHELL script.
func healthcheckPrograms(test []string) ([]string, error) {
	switch test[0] {
	case "CMD":
		progs := []string{path.Base(test[1])}
		if (progs[0] == "sh" || progs[0] == "bash") && len(test) > 3 && test[2] == "-c" {
			progs = append(progs, shellPrograms(test[3])...)
		}
		return progs, nil
	case "CMD-SHELL":
		return append([]string{"sh"}, shellPrograms(test[1])...), nil
	}
	return nil, fmt.Errorf("healthcheck test %q is neither CMD nor CMD-SHELL", test[0])
}

// shellBuiltins run inside the shell: they need no program in the image
// ("[[" is bash's keyword; the healthchecks that use it run bash -c).
var shellBuiltins = map[string]bool{
	"printf": true, "echo": true, "test": true, "[": true, "[[": true, "true": true, "false": true,
	"exit": true, ":": true, "cd": true, "read": true, "set": true, "export": true, "unset": true,
}

var (
	assignment  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	redirection = regexp.MustCompile(`^[0-9]*(<>|>>|<<|>&|<&|>|<)`)
)

// shellPrograms lists the programs a shell script runs: the command word
// of every simple command and of every $(...) in it. It understands the
// subset healthchecks use: quotes, pipes and lists, { } groups,
// assignments before a command, redirections and exec.
func shellPrograms(script string) []string {
	var progs []string
	atStart, afterExec := true, false
	addWord := func(w string, subs []string) {
		for _, sub := range subs {
			progs = append(progs, shellPrograms(sub)...)
		}
		switch {
		case !atStart && !afterExec:
		case w == "{" || w == "}" || w == "!" || assignment.MatchString(w) || redirection.MatchString(w):
		case w == "exec" && atStart:
			atStart, afterExec = false, true
		case shellBuiltins[w]:
			atStart, afterExec = false, false
		default:
			progs = append(progs, path.Base(w))
			atStart, afterExec = false, false
		}
	}
	var word strings.Builder
	var subs []string
	inWord := false
	flush := func() {
		if inWord {
			addWord(word.String(), subs)
		}
		word.Reset()
		subs, inWord = nil, false
	}
	rs := []rune(script)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\'':
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			word.WriteString(string(rs[i+1 : min(j, len(rs))]))
			inWord, i = true, j
		case r == '"':
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				if rs[j] == '$' && j+1 < len(rs) && rs[j+1] == '(' {
					end := closingParen(rs, j+1)
					subs = append(subs, string(rs[j+2:end]))
					j = end
				}
				j++
			}
			word.WriteString(string(rs[i+1 : min(j, len(rs))]))
			inWord, i = true, j
		case r == '$' && i+1 < len(rs) && rs[i+1] == '(':
			end := closingParen(rs, i+1)
			subs = append(subs, string(rs[i+2:end]))
			inWord, i = true, end
		case r == '|' || r == ';' || r == '&' || r == '\n' || r == '(' || r == ')':
			if r == '&' && word.Len() > 0 && (strings.HasSuffix(word.String(), ">") || strings.HasSuffix(word.String(), "<")) {
				// >&3 and <&3 are redirections, not list operators.
				word.WriteRune(r)
				continue
			}
			flush()
			atStart, afterExec = true, false
		case r == ' ' || r == '\t':
			flush()
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	flush()
	return progs
}

// closingParen returns the index of the ')' matching the '(' at open.
func closingParen(rs []rune, open int) int {
	depth := 0
	for i := open; i < len(rs); i++ {
		switch rs[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return len(rs)
}

// The healthcheck parser finds the programs in the command shapes the
// templates use (and not the builtins, assignments or redirections).
func TestHealthcheckPrograms(t *testing.T) {
	cases := []struct {
		test []string
		want []string
	}{
		{[]string{"CMD", "vault", "status"}, []string{"vault"}},
		{[]string{"CMD", "/usr/bin/curl", "-fsS", "https://x/"}, []string{"curl"}},
		{[]string{"CMD-SHELL", "wget -q -O - https://127.0.0.1:8443/h | grep -q UP"}, []string{"sh", "wget", "grep"}},
		{[]string{"CMD-SHELL", `REDISCLI_AUTH="$(cat /run/secrets/password)" redis-cli ping | grep -q PONG`}, []string{"sh", "cat", "redis-cli", "grep"}},
		{[]string{"CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:9187/ 2>&1 | grep -q '400 Bad Request'"}, []string{"sh", "wget", "grep"}},
		{[]string{"CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9092"}, []string{"bash"}},
		{[]string{"CMD", "bash", "-c", `{ printf "HEAD / HTTP/1.0\r\n\r\n" >&0; grep -q "HTTP/1.[01] 200"; } 0<>/dev/tcp/127.0.0.1/9000`}, []string{"bash", "grep"}},
		{[]string{"CMD", "bash", "-c", `{ printf "HEAD / HTTP/1.0\r\n\r\n" >&3 && read -r line <&3 && [[ $line == "HTTP/1."[01]" 200"* ]]; } 3<>/dev/tcp/127.0.0.1/9000`}, []string{"bash"}},
		{[]string{"CMD-SHELL", "curl -s -w '%{http_code}' https://k/ | grep -qE '^(200|401)$'"}, []string{"sh", "curl", "grep"}},
		{[]string{"CMD-SHELL", "exec nc -z 127.0.0.1 1 && echo ok"}, []string{"sh", "nc"}},
	}
	for _, tc := range cases {
		got, err := healthcheckPrograms(tc.test)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: programs %q, %v; want %q", tc.test, got, err, tc.want)
		}
	}
}

// Each check reports the mismatch it exists for, on a service built to
// have it, and stays quiet on one without it.
func TestContractChecksCatchMismatches(t *testing.T) {
	str := func(s string) *string { return &s }
	src := []string{"example/image@v1:Dockerfile"}
	ic := imageContract{
		Service:       "svc",
		JVMOptions:    []string{"JAVA_TOOL_OPTIONS"},
		JVMProperties: []jvmProperty{{Name: "user.home", Value: "/tmp", Why: "w", Cite: src}},
		Env:           []envVar{{Name: "JAVA_TOOL_OPTIONS", ReadBy: "jvm", Cite: src}, {Name: "DATA", ReadBy: "app", Cite: src}},
		Binaries:      []binary{{Name: "curl", Cite: src}, {Name: "sh", Cite: src}, {Name: "grep", Cite: []string{"unverified: not read"}}},
		Writes: []writePath{
			{Path: "/data/x", Why: "state", Cite: src},
			{JVM: "java.io.tmpdir", Default: "/tmp", Exec: true, Why: "native libraries", Cite: src},
		},
	}
	// Promoted fields: compose-go splits a service across embedded specs.
	var good types.ServiceConfig
	good.ReadOnly = true
	good.Environment = types.MappingWithEquals{"JAVA_TOOL_OPTIONS": str("-Duser.home=/tmp -Djava.io.tmpdir=/work"), "DATA": str("1")}
	good.HealthCheck = &types.HealthCheckConfig{Test: []string{"CMD", "curl", "-f", "http://127.0.0.1/"}}
	good.Tmpfs = []string{"/tmp:size=16m,mode=1777"}
	good.Volumes = []types.ServiceVolumeConfig{
		{Type: types.VolumeTypeVolume, Source: "data", Target: "/data"},
		{Type: types.VolumeTypeVolume, Source: "work", Target: "/work"},
	}
	cases := []struct {
		name   string
		mutate func(s *types.ServiceConfig)
		want   string
	}{
		{"as contracted", func(*types.ServiceConfig) {}, ""},
		{"unlisted variable", func(s *types.ServiceConfig) { s.Environment["EXTRA"] = str("x") }, "sets EXTRA"},
		{"program not in the image", func(s *types.ServiceConfig) { s.HealthCheck.Test = []string{"CMD", "wget", "-q", "http://x/"} }, "runs wget, which its image contract does not list"},
		{"program only unverified", func(s *types.ServiceConfig) { s.HealthCheck.Test = []string{"CMD-SHELL", "curl -s x | grep -q ok"} }, "no source shows"},
		{"write path not mounted", func(s *types.ServiceConfig) { s.Volumes = s.Volumes[1:] }, "writes /data/x"},
		{"write path under a read-only bind", func(s *types.ServiceConfig) {
			s.Volumes[0] = types.ServiceVolumeConfig{Type: types.VolumeTypeBind, Source: "./d", Target: "/data", ReadOnly: true}
		}, "writes /data/x"},
		{"exec path on a noexec tmpfs", func(s *types.ServiceConfig) {
			s.Environment["JAVA_TOOL_OPTIONS"] = str("-Duser.home=/tmp")
		}, "must execute from /tmp"},
		{"exec path on an exec tmpfs", func(s *types.ServiceConfig) {
			s.Environment["JAVA_TOOL_OPTIONS"] = str("-Duser.home=/tmp")
			s.Tmpfs = []string{"/tmp:size=16m,exec"}
		}, ""},
		{"JVM property not set", func(s *types.ServiceConfig) {
			s.Environment["JAVA_TOOL_OPTIONS"] = str("-Djava.io.tmpdir=/work")
		}, "-Duser.home=/tmp is not set"},
		{"writable root needs no mounts", func(s *types.ServiceConfig) { s.ReadOnly = false; s.Volumes = nil }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			s.Environment = maps.Clone(good.Environment)
			s.HealthCheck = &types.HealthCheckConfig{Test: slices.Clone(good.HealthCheck.Test)}
			s.Volumes = slices.Clone(good.Volumes)
			tc.mutate(&s)
			cc := &contractCheck{openSeen: map[string]bool{}, failures: map[string]*failure{}}
			c := combo{}
			checkEnv(cc, c, ic, s)
			checkHealthcheck(cc, c, ic, s)
			checkWrites(cc, c, ic, s)
			checkJVMProperties(cc, c, ic, s)
			var got []string
			for _, f := range cc.failures {
				got = append(got, f.msg)
			}
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("unexpected mismatches: %q", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
				t.Errorf("mismatches %q, want one saying %q", got, tc.want)
			}
		})
	}
}

// Citations name a file at a ref, or an issue, or say why they cannot.
func TestCitationForms(t *testing.T) {
	for _, ok := range []string{
		"apache/fineract@4198b0bcf9a9:fineract-provider/build.gradle",
		"docker-library/repo-info@e81336d485fe:repos/postgres/remote/16.15-trixie.md - ENV PGDATA",
		"elastic/logstash#9288 - noexec /tmp",
		"unverified: the repository is too large to copy",
	} {
		if p := citeProblems("fact", []string{ok}); len(p) > 0 {
			t.Errorf("%q refused: %v", ok, p)
		}
	}
	for _, bad := range []string{
		"", "see the Dockerfile", "apache/fineract:build.gradle", "apache/fineract@develop", "unverified:", "https://github.com/elastic/logstash/issues/9288",
	} {
		if p := citeProblems("fact", []string{bad}); len(p) == 0 {
			t.Errorf("%q accepted as a citation", bad)
		}
	}
	if p := citeProblems("fact", nil); len(p) == 0 {
		t.Error("a fact without citations accepted")
	}
}
