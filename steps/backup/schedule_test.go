package backup

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func testSchedule(t *testing.T) Schedule {
	t.Helper()
	dir := t.TempDir()
	pass := filepath.Join(dir, "backup pass")
	unseal := filepath.Join(dir, "unseal.pass")
	for _, f := range []string{pass, unseal} {
		if err := os.WriteFile(f, []byte("a long passphrase\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return Schedule{Binary: "/usr/local/bin/fineract-installer", Dir: "/opt/fineract-stack", Project: "bank",
		At: "02:05", Keep: 14, PassphraseFile: pass, UnsealPassphraseFile: unseal}
}

func TestScheduleRefusesWhatCannotRunUnattended(t *testing.T) {
	good := testSchedule(t)
	if err := good.Validate(); err != nil {
		t.Fatalf("a sound schedule: %v", err)
	}
	file := func(content string, mode os.FileMode) string {
		p := filepath.Join(t.TempDir(), "pass")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	open := file("a long passphrase\n", 0o644)
	groupReadable := file("a long passphrase\n", 0o640)
	weak := file("123456789012345\n", 0o600)
	cases := []struct {
		change func(*Schedule)
		want   string
	}{
		{func(s *Schedule) { s.At = "2:30" }, "HH:MM"},
		{func(s *Schedule) { s.At = "24:00" }, "HH:MM"},
		{func(s *Schedule) { s.Keep = 0 }, "keep at least one"},
		{func(s *Schedule) { s.Project = "Bank One" }, "can name a unit"},
		{func(s *Schedule) { s.Dir = "stack" }, "--dir must be an absolute path"},
		{func(s *Schedule) { s.PassphraseFile = "" }, "cannot ask for a passphrase"},
		{func(s *Schedule) { s.UnsealPassphraseFile = "/nonexistent/unseal.pass" }, "no such file"},
		{func(s *Schedule) { s.PassphraseFile = open }, "chmod 600"},
		{func(s *Schedule) { s.UnsealPassphraseFile = groupReadable }, "chmod 600"},
		// Every run writes a new archive with it: the rule for new passphrases.
		{func(s *Schedule) { s.PassphraseFile = weak }, "only digits"},
	}
	for _, c := range cases {
		s := good
		c.change(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error with %q, got %v", c.want, err)
		}
	}
	// The unseal passphrase opens an existing custody file: any will do.
	s := good
	s.UnsealPassphraseFile = weak
	if err := s.Validate(); err != nil {
		t.Errorf("an existing custody file's passphrase: %v", err)
	}
}

func TestScheduleFiles(t *testing.T) {
	s := testSchedule(t)
	svc := s.SystemdService()
	// The path with a space is quoted for systemd; nothing else is.
	if !strings.Contains(svc, `ExecStart=/usr/local/bin/fineract-installer backup --dir /opt/fineract-stack --project bank --passphrase-file "`+s.PassphraseFile+`" --unseal-passphrase-file `+s.UnsealPassphraseFile+` --keep 14 --no-color`) {
		t.Errorf("service:\n%s", svc)
	}
	if timer := s.SystemdTimer(); !strings.Contains(timer, "OnCalendar=*-*-* 02:05:00") || !strings.Contains(timer, "Persistent=true") {
		t.Errorf("timer:\n%s", timer)
	}
	cron := s.CronFile()
	if !strings.Contains(cron, "\n5 2 * * * root /usr/local/bin/fineract-installer backup --dir /opt/fineract-stack --project bank --passphrase-file '"+s.PassphraseFile+"' ") ||
		!strings.HasSuffix(cron, ">>/var/log/fineract-backup-bank.log 2>&1\n") {
		t.Errorf("cron:\n%s", cron)
	}
	for _, body := range []string{svc, cron} {
		if strings.Contains(body, "a long passphrase") {
			t.Error("a passphrase is written into the schedule")
		}
	}
}

// awkwardNames are file and directory names a schedule must carry exactly:
// each is special to systemd, to cron or to sh.
var awkwardNames = []string{
	"backup pass", "50%off", "%n%i", "100%%", `a\%b`, `a\\%b`, `ends with\`, `back\slash`, `\x41`,
	"$HOME", "${USER}x", "$$", "it's", `say "hi"`, `'"'"`, "semi;colon", ";", "#hash", "`id`", "$(id)",
	"tilde~", "glob*?[a]", "ünïcödé wörds", "a & b | c > d",
}

// TestScheduleCarriesAwkwardPathsExactly writes the schedule for paths full
// of characters that systemd, cron or sh read specially, and parses the
// written files back the way systemd and cron do: each must give exactly
// the intended command.
func TestScheduleCarriesAwkwardPathsExactly(t *testing.T) {
	for i, name := range awkwardNames {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			dir := t.TempDir()
			s := Schedule{Binary: "/opt/" + name + "/fineract-installer", Dir: "/srv/" + name, Project: "bank", At: "02:05", Keep: 14,
				PassphraseFile: filepath.Join(dir, name), UnsealPassphraseFile: filepath.Join(dir, "unseal "+name)}
			for _, f := range []string{s.PassphraseFile, s.UnsealPassphraseFile} {
				if err := os.WriteFile(f, []byte("a long passphrase\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			want := s.Command()
			root := t.TempDir()
			if _, err := s.Install(root, true); err != nil {
				t.Fatalf("%q: %v", name, err)
			}
			if _, err := s.Install(root, false); err != nil {
				t.Fatalf("%q: %v", name, err)
			}

			unit, err := os.ReadFile(filepath.Join(root, "etc/systemd/system", s.Unit()+".service"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := execStart(string(unit))
			if err != nil || !equal(got, want) {
				t.Errorf("%q: ExecStart gives %q (%v), want %q\n%s", name, got, err, want, unit)
			}

			cron, err := os.ReadFile(filepath.Join(root, "etc/cron.d", s.Unit()))
			if err != nil {
				t.Fatal(err)
			}
			got, err = cronCommand(t, string(cron), "/var/log/"+s.Unit()+".log")
			if err != nil || !equal(got, want) {
				t.Errorf("%q: the cron line gives %q (%v), want %q\n%s", name, got, err, want, cron)
			}
		})
	}
}

// TestScheduleRefusesControlCharacters replays the injection: a path with
// a line break put a second ExecStart into the unit and a second job, run
// as root every minute, into the cron file.
func TestScheduleRefusesControlCharacters(t *testing.T) {
	dir := t.TempDir()
	injected := map[string]string{
		"cron job":       "p\n* * * * * root id >x #",
		"ExecStart":      "p\nExecStartPre=id",
		"carriage":       "p\rq",
		"tab":            "p\tq",
		"escape":         "p\x1b[2Jq",
		"delete":         "p\x7fq",
		"next line (C1)": "p\u0085q",
	}
	for what, name := range injected {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("a long passphrase\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for field, set := range map[string]func(*Schedule){
			"--passphrase-file":        func(s *Schedule) { s.PassphraseFile = path },
			"--unseal-passphrase-file": func(s *Schedule) { s.UnsealPassphraseFile = path },
			"--dir":                    func(s *Schedule) { s.Dir = "/srv/" + name },
			"the installer's path":     func(s *Schedule) { s.Binary = "/opt/" + name + "/fineract-installer" },
		} {
			s := testSchedule(t)
			set(&s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), field) || !strings.Contains(err.Error(), "control character") {
				t.Errorf("%s in %s: got %v, want a control character refused", what, field, err)
			}
			root := t.TempDir()
			for _, systemd := range []bool{true, false} {
				if changed, err := s.Install(root, systemd); err == nil || len(changed) != 0 {
					t.Errorf("%s in %s: installed %v (%v)", what, field, changed, err)
				}
			}
			if entries, _ := os.ReadDir(root); len(entries) != 0 {
				t.Errorf("%s in %s: a refused schedule wrote %v", what, field, entries)
			}
		}
	}
	s := testSchedule(t)
	s.Dir = "/srv/\xff\xfe"
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

func equal(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00") && len(a) == len(b)
}

// execStart returns the argv systemd runs for the unit's one ExecStart=,
// following systemd.service(5) "Command lines" and systemd.syntax(7)
// "Quoting": words are split on whitespace, single and double quotes
// group, C escapes are resolved, then %-specifiers (only %% is expected
// here: any other one is an error) and $-variables ($$ only) expand.
func execStart(unit string) ([]string, error) {
	var lines []string
	for _, l := range strings.Split(unit, "\n") {
		if strings.HasPrefix(l, "ExecStart") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "ExecStart=") {
		return nil, fmt.Errorf("want one ExecStart= line, found %q", lines)
	}
	words, err := systemdWords(strings.TrimPrefix(lines[0], "ExecStart="))
	if err != nil {
		return nil, err
	}
	for i, w := range words {
		if w == ";" {
			return nil, fmt.Errorf("word %d is a lone ';', which separates commands", i)
		}
		if w, err = expand(w, '%', "specifier"); err != nil {
			return nil, err
		}
		if words[i], err = expand(w, '$', "variable"); err != nil {
			return nil, err
		}
	}
	if len(words) > 0 && !strings.HasPrefix(words[0], "/") {
		return nil, fmt.Errorf("the command %q does not start with '/': systemd would read a prefix", words[0])
	}
	return words, nil
}

// expand replaces doubled c with c and refuses any other use of c.
func expand(w string, c byte, what string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		if w[i] != c {
			b.WriteByte(w[i])
			continue
		}
		if i+1 < len(w) && w[i+1] == c {
			b.WriteByte(c)
			i++
			continue
		}
		return "", fmt.Errorf("%q: an unexpected %s at byte %d", w, what, i)
	}
	return b.String(), nil
}

// systemdWords splits a command line as systemd's extract_first_word does
// with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE.
func systemdWords(line string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\':
			if i+1 == len(line) {
				return nil, fmt.Errorf("a backslash ends the line: systemd would join the next one")
			}
			n, r, err := cunescape(line[i+1:])
			if err != nil {
				return nil, err
			}
			word.WriteString(r)
			inWord = true
			i += n
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			word.WriteByte(c)
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("an unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// cunescape resolves the C escape at the start of s (after the backslash)
// and returns how many bytes it used.
func cunescape(s string) (int, string, error) {
	simple := map[byte]string{'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v",
		'\\': `\`, '"': `"`, '\'': "'", 's': " "}
	if r, ok := simple[s[0]]; ok {
		return 1, r, nil
	}
	switch {
	case s[0] == 'x' && len(s) >= 3:
		v, err := strconv.ParseUint(s[1:3], 16, 8)
		return 3, string(rune(v)), err
	case s[0] >= '0' && s[0] <= '7' && len(s) >= 3:
		v, err := strconv.ParseUint(s[:3], 8, 8)
		return 3, string(rune(v)), err
	}
	return 0, "", fmt.Errorf("an escape systemd does not know: \\%c", s[0])
}

// cronCommand returns the argv of the cron file's one job, as cron and
// /bin/sh make it: the command field is cut at the first % no backslash
// escapes, \% becomes %, and sh splits the rest into words. Both escape
// readings found in cron implementations (ISC/Vixie 4 and Debian, which
// also turn \\ into \, and cronie's older code, which does not) must give
// the same command with nothing cut off. The redirection is checked and
// left out, so sh only evaluates the words (set --), running nothing.
func cronCommand(t *testing.T, file, log string) ([]string, error) {
	var jobs []string
	for _, l := range strings.Split(strings.TrimSuffix(file, "\n"), "\n") {
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "SHELL=") || strings.HasPrefix(l, "PATH=") {
			continue
		}
		jobs = append(jobs, l)
	}
	if len(jobs) != 1 {
		return nil, fmt.Errorf("want one job line, found %d: %q", len(jobs), jobs)
	}
	fields := strings.Fields(jobs[0])
	if len(fields) < 7 || fields[5] != "root" {
		return nil, fmt.Errorf("job line %q has no user field", jobs[0])
	}
	// The command is what follows the sixth field and its blanks.
	rest := jobs[0]
	for range 6 {
		rest = strings.TrimLeft(rest, " \t")
		rest = rest[strings.IndexAny(rest, " \t"):]
	}
	rest = strings.TrimLeft(rest, " \t")
	cmd, input := cronPercent(rest, true)
	cmd2, input2 := cronPercent(rest, false)
	if input != "" || input2 != "" || cmd != cmd2 {
		return nil, fmt.Errorf("cron cuts the command at an unescaped %%: %q / %q, input %q / %q", cmd, cmd2, input, input2)
	}
	suffix := " >>" + log + " 2>&1"
	if !strings.HasSuffix(cmd, suffix) {
		return nil, fmt.Errorf("command %q does not end with %q", cmd, suffix)
	}
	cmd = strings.TrimSuffix(cmd, suffix)
	out, err := exec.Command("/bin/sh", "-c", "set -- "+cmd+`; printf '%s\0' "$@"`).Output()
	if err != nil {
		return nil, fmt.Errorf("sh: %w", err)
	}
	args := strings.Split(string(bytes.TrimSuffix(out, []byte{0})), "\x00")
	return args, nil
}

// cronPercent does what cron does to the command field before sh sees it
// (do_command.c): a backslash escapes the next character and is dropped
// before a % (and, with backslashToo, before a backslash); the first
// unescaped % ends the command. It returns the command and the input.
func cronPercent(field string, backslashToo bool) (cmd, input string) {
	var b strings.Builder
	escaped := false
	for i := 0; i < len(field); i++ {
		c := field[i]
		if escaped {
			if c == '%' || backslashToo && c == '\\' {
				s := b.String()
				b.Reset()
				b.WriteString(s[:len(s)-1])
			}
			b.WriteByte(c)
			escaped = false
			continue
		}
		if c == '\\' {
			escaped = true
		}
		if c == '%' {
			return b.String(), field[i+1:]
		}
		b.WriteByte(c)
	}
	return b.String(), ""
}

func TestScheduleInstallIsIdempotentAndRemovable(t *testing.T) {
	s := testSchedule(t)
	root := t.TempDir()
	changed, err := s.Install(root, true)
	if err != nil || len(changed) != 2 {
		t.Fatalf("first install: %v %v", changed, err)
	}
	fi, err := os.Stat(filepath.Join(root, "etc/systemd/system/fineract-backup-bank.timer"))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("timer unit: %v %v", fi, err)
	}
	if changed, err := s.Install(root, true); err != nil || len(changed) != 0 {
		t.Errorf("rerun changed %v (%v)", changed, err)
	}
	s.At = "03:00"
	if changed, err := s.Install(root, true); err != nil || len(changed) != 1 || !strings.HasSuffix(changed[0], ".timer") {
		t.Errorf("a new time changes only the timer: %v %v", changed, err)
	}
	if _, err := s.Install(root, false); err != nil {
		t.Fatal(err)
	}
	removed, err := s.Remove(root)
	if err != nil || len(removed) != 3 {
		t.Errorf("remove: %v %v", removed, err)
	}
	if removed, _ := s.Remove(root); len(removed) != 0 {
		t.Errorf("a second remove found %v", removed)
	}
}
