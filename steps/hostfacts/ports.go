package hostfacts

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Owner is the process holding a listening socket.
type Owner struct {
	PID     int
	Command string
}

func (o Owner) String() string { return fmt.Sprintf("%s (pid %d)", o.Command, o.PID) }

// PortOwner finds the process listening on a TCP port from /proc: the
// socket's inode from /proc/net/tcp{,6}, then the process holding a file
// descriptor to it. Processes in other PID namespaces are not visible.
func PortOwner(port int) (Owner, bool) {
	inodes := map[string]bool{}
	for _, f := range []string{netFile("", "tcp"), netFile("", "tcp6")} {
		for _, ino := range listeningInodes(f, port) {
			inodes[ino] = true
		}
	}
	if len(inodes) == 0 {
		return Owner{}, false
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		fds, _ := os.ReadDir(filepath.Join(p, "fd"))
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(p, "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				pid, _ := strconv.Atoi(filepath.Base(p))
				return Owner{PID: pid, Command: commandLine(p)}, true
			}
		}
	}
	return Owner{}, false
}

// listeningInodes parses /proc/net/tcp: "sl local_address rem_address st ... inode".
func listeningInodes(file string, port int) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" { // 0A = LISTEN
			continue
		}
		_, hexPort, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		b, err := hex.DecodeString(hexPort)
		if err != nil || len(b) != 2 || int(b[0])<<8|int(b[1]) != port {
			continue
		}
		out = append(out, fields[9])
	}
	return out
}

// commandLine is a process's command line, or its name when the command
// line is empty (a kernel thread), at most 120 characters.
func commandLine(procDir string) string {
	raw, err := os.ReadFile(filepath.Join(procDir, "cmdline"))
	if err == nil && len(raw) > 0 {
		return clip(strings.TrimSpace(strings.ReplaceAll(string(raw), "\x00", " ")), 120)
	}
	comm, _ := os.ReadFile(filepath.Join(procDir, "comm"))
	return strings.TrimSpace(string(comm))
}

// clip cuts s to at most n characters, the last of them "…" when cut; it
// never splits a character.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}
