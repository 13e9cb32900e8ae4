package hostfacts

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// A long command line is shortened without splitting a character: a path
// in another script cut at a byte count printed an invalid byte before.
func TestCommandLineKeepsCharactersWhole(t *testing.T) {
	dir := t.TempDir()
	// Byte 117, where the cut fell, is inside an "é".
	args := []string{"/usr/bin/python3", "xxxx" + strings.Repeat("/données", 30), "--flag"}
	if err := os.WriteFile(filepath.Join(dir, "cmdline"), []byte(strings.Join(args, "\x00")+"\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := commandLine(dir)
	if !utf8.ValidString(got) || utf8.RuneCountInString(got) > 120 || !strings.HasPrefix(got, "/usr/bin/python3 xxxx/données") || !strings.HasSuffix(got, "…") {
		t.Errorf("commandLine = %q, want at most 120 whole characters ending in …", got)
	}
	short := t.TempDir()
	if err := os.WriteFile(filepath.Join(short, "comm"), []byte("kworker/0:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := commandLine(short); got != "kworker/0:1" {
		t.Errorf("without a command line: %q, want the process name", got)
	}
}

// PortOwner finds this test process behind a port it listens on.
func TestPortOwnerFindsThisProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	owner, ok := PortOwner(ln.Addr().(*net.TCPAddr).Port)
	if !ok || owner.PID != os.Getpid() {
		t.Errorf("PortOwner = %+v, %v; want pid %d", owner, ok, os.Getpid())
	}
}
