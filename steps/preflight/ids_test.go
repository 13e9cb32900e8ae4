package preflight

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/system"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/hostfacts"
)

// stockDebian is the /etc/passwd and /etc/group of an ordinary Debian host
// with one person's account: the ids the images use by default are all
// taken (messagebus 100, postgres 101, systemd 999, the user 1000, nobody).
const (
	stockPasswd = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
messagebus:x:100:107::/nonexistent:/usr/sbin/nologin
postgres:x:101:109:PostgreSQL administrator:/var/lib/postgresql:/bin/bash
systemd-network:x:999:999:systemd Network Management:/:/usr/sbin/nologin
student:x:1000:1000:Student,,,:/home/student:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`
	stockGroup = `root:x:0:
users:x:100:student
systemd-network:x:999:
student:x:1000:
nogroup:x:65534:
`
)

// fakeRoot makes a host root with the given passwd and group files and a
// /proc holding process 1 and the given processes (pid -> status, in the
// host's pid namespace unless the pid is listed in containers).
func fakeRoot(t *testing.T, passwd, group string, procs map[string]string, containers ...string) string {
	t.Helper()
	root := t.TempDir()
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(p, target string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/passwd", passwd)
	write("etc/group", group)
	procs["1"] = "Name:\tinit\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
	for pid, status := range procs {
		write("proc/"+pid+"/status", status)
		ns := "pid:[4026531836]"
		for _, c := range containers {
			if c == pid {
				ns = "pid:[4026532999]"
			}
		}
		link("proc/"+pid+"/ns/pid", ns)
	}
	return root
}

func renderServices(t *testing.T, from int) []assets.Service {
	t.Helper()
	a := answers.Defaults(answers.Production)
	a.Groups = answers.Groups
	a.ServiceIDsFrom = from
	b, err := assets.Render(a, assets.Options{Project: "fineract", SecretsDir: "/run/fineract-stack/fineract/secrets"})
	if err != nil {
		t.Fatal(err)
	}
	return b.Services
}

func TestReadHostIDs(t *testing.T) {
	root := fakeRoot(t, stockPasswd, stockGroup, map[string]string{
		"812":  "Name:\tsshd\nUid:\t70003\t70003\t70003\t70003\nGid:\t0\t0\t0\t0\n",
		"9001": "Name:\tjava\nUid:\t70006\t70006\t70006\t70006\nGid:\t70006\t70006\t70006\t70006\n",
	}, "9001")
	ids, err := hostfacts.ReadHostIDs(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids.UIDs[65534], ","); got != "account nobody" {
		t.Errorf("uid 65534: %q", got)
	}
	if got := strings.Join(ids.GIDs[100], ","); got != "group users" {
		t.Errorf("gid 100: %q", got)
	}
	if got := strings.Join(ids.GIDs[107], ","); got != "account messagebus's group" {
		t.Errorf("gid 107 (messagebus' primary group): %q", got)
	}
	if got := strings.Join(ids.UIDs[70003], ","); got != "process 812 (sshd)" {
		t.Errorf("uid 70003: %q", got)
	}
	if len(ids.UIDs[70006]) != 0 {
		t.Errorf("a container's process (another pid namespace) was counted: %v", ids.UIDs[70006])
	}
}

// On a stock host every service's own ids are free; with the images' old
// defaults nearly all of them would clash.
func TestServiceIDsOnAStockHost(t *testing.T) {
	ids, err := hostfacts.ReadHostIDs(fakeRoot(t, stockPasswd, stockGroup, map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	r := IDsResult(Result{}, ids, renderServices(t, answers.DefaultServiceIDsFrom), answers.DefaultServiceIDsFrom)
	// Kafka keeps the image's uid 1000, the student's: a warning saying so.
	if r.Status != Warn || !strings.Contains(r.Observed, "uid of kafka (1000, the image's own) is used by account student") || strings.Contains(r.Observed, "of vault") {
		t.Errorf("stock host: %s: %s", r.Status, r.Observed)
	}
}

func TestServiceIDsClash(t *testing.T) {
	passwd := stockPasswd + "ldapuser:x:70002:70002::/home/ldapuser:/bin/bash\n"
	ids, err := hostfacts.ReadHostIDs(fakeRoot(t, passwd, stockGroup, map[string]string{
		"4242": "Name:\tbackup-agent\nUid:\t5000\t5000\t5000\t5000\nGid:\t70005\t70005\t70005\t70005\n",
	}))
	if err != nil {
		t.Fatal(err)
	}
	r := IDsResult(Result{}, ids, renderServices(t, answers.DefaultServiceIDsFrom), answers.DefaultServiceIDsFrom)
	for _, want := range []string{"uid of postgres (70002) is used by account ldapuser", "gid of postgres (70002) is used by account ldapuser's group", "gid of gateway (70005) is used by process 4242 (backup-agent)"} {
		if r.Status != Fail || !strings.Contains(r.Observed, want) {
			t.Errorf("want a failure saying %q, got %s: %s", want, r.Status, r.Observed)
		}
	}
	if !strings.Contains(r.Fix, "service_ids_from") || !strings.Contains(r.Fix, "70100 is free") {
		t.Errorf("fix: %s", r.Fix)
	}
	// The suggested block is free indeed.
	r = IDsResult(Result{}, ids, renderServices(t, 70100), 70100)
	if r.Status == Fail {
		t.Errorf("the suggested block clashes too: %s", r.Observed)
	}
}

func TestServiceIDsRefuseUsernsRemap(t *testing.T) {
	rs := checkServiceIDs(context.Background(), Input{Services: renderServices(t, answers.DefaultServiceIDsFrom)},
		&system.Info{SecurityOptions: []string{"name=seccomp,profile=default", "name=userns"}})
	if len(rs) != 1 || rs[0].Status != Fail || !strings.Contains(rs[0].Observed, "userns-remap") {
		t.Errorf("an engine with userns-remap: %+v", rs)
	}
}
