package assets

import (
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// jvmOptionVars are the environment variables through which the stack's
// images take JVM options.
var jvmOptionVars = []string{"LS_JAVA_OPTS", "ES_JAVA_OPTS", "JAVA_OPTS", "JAVA_TOOL_OPTIONS", "JAVA_OPTS_APPEND"}

// tmpfsCovering returns the options of the tmpfs mount that holds dir (the
// deepest one), and whether there is one.
func tmpfsCovering(s types.ServiceConfig, dir string) (string, bool) {
	best, opts, found := "", "", false
	consider := func(target, o string) {
		if (dir == target || strings.HasPrefix(dir, strings.TrimSuffix(target, "/")+"/")) && len(target) > len(best) {
			best, opts, found = target, o, true
		}
	}
	for _, t := range s.Tmpfs {
		target, o, _ := strings.Cut(t, ":")
		consider(path.Clean(target), o)
	}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeTmpfs {
			// The mount API's tmpfs has no exec option: always noexec.
			consider(path.Clean(v.Target), "")
		}
	}
	return opts, found
}

// checkJVMTempDirs reports services whose JVM temporary directory is on a
// tmpfs mounted noexec (Docker's default for tmpfs): JRuby (Logstash) and
// JNA (Elasticsearch) extract native libraries there and map them
// executable, so the JVM fails at start.
func checkJVMTempDirs(s types.ServiceConfig) []string {
	var bad []string
	for _, name := range jvmOptionVars {
		v := s.Environment[name]
		if v == nil {
			continue
		}
		for _, opt := range strings.Fields(*v) {
			for _, prop := range []string{"-Djava.io.tmpdir=", "-Djna.tmpdir=", "-Djffi.extract.dir="} {
				dir, ok := strings.CutPrefix(opt, prop)
				if !ok {
					continue
				}
				opts, onTmpfs := tmpfsCovering(s, path.Clean(dir))
				if onTmpfs && !slices.Contains(strings.Split(opts, ","), "exec") {
					bad = append(bad, s.Name+": "+strings.TrimSuffix(prop, "=")+"="+dir+" is on a noexec tmpfs ("+opts+")")
				}
			}
		}
	}
	return bad
}

// Logstash's JVM extracted JRuby's FFI library into /tmp, a tmpfs Docker
// mounts noexec, and stopped with "Could not load FFI Provider"
// (elastic/logstash#9288). Every JVM temporary directory on a tmpfs must
// allow exec.
func TestJVMTempDirsAllowExec(t *testing.T) {
	for _, c := range allCombos() {
		if !slices.Contains(c.groups, answers.GroupLogging) {
			continue
		}
		p, _ := loadBundle(t, mustRender(t, answersFor(c)))
		seen := false
		for _, s := range p.Services {
			if s.Environment["LS_JAVA_OPTS"] != nil {
				seen = true
			}
			for _, msg := range checkJVMTempDirs(s) {
				t.Errorf("%s: %s", c, msg)
			}
		}
		if !seen {
			t.Errorf("%s: no service sets LS_JAVA_OPTS; the check saw nothing", c)
		}
	}
}

func TestJVMTempDirCheckerCatchesNoexec(t *testing.T) {
	opts := "-Xmx1g -Djava.io.tmpdir=/tmp"
	s := types.ServiceConfig{Name: "logstash"}
	s.Environment = types.MappingWithEquals{"LS_JAVA_OPTS": &opts}
	s.Tmpfs = types.StringList{"/tmp:size=128m,mode=1777"}
	if got := checkJVMTempDirs(s); len(got) != 1 {
		t.Errorf("a tmpdir on a noexec tmpfs: got %v, want one problem", got)
	}
	s.Tmpfs = types.StringList{"/tmp:size=128m,mode=1777,exec"}
	if got := checkJVMTempDirs(s); len(got) != 0 {
		t.Errorf("a tmpdir on an exec tmpfs: got %v, want none", got)
	}
}
