package hostfacts

import (
	"os"
	"reflect"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// The main goroutine keeps the process's first thread, so a test can move
// that thread into another network namespace through onFirstThread, as
// nsdial does when the scheduler hands it the first thread.
func init() { runtime.LockOSThread() }

var onFirstThread = make(chan func())

func TestMain(m *testing.M) {
	done := make(chan int)
	go func() { done <- m.Run() }()
	for {
		select {
		case f := <-onFirstThread:
			f()
		case code := <-done:
			os.Exit(code)
		}
	}
}

// A validation probe enters a container's network namespace on whichever
// thread runs it. While the first thread is there, /proc/net (that is,
// /proc/self/net) shows the container's routes: a data network's subnet
// then looked routed from the host, and validate failed the
// network-internal check at random.
func TestRoutesStayTheHostsWhileTheFirstThreadIsInAnotherNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("entering a network namespace needs root")
	}
	host := Routes("")
	if len(host) == 0 {
		t.Skip("this host has no route other than the default one to compare")
	}
	entered, leave, left := make(chan error), make(chan struct{}), make(chan error)
	onFirstThread <- func() {
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			entered <- err
			left <- nil
			return
		}
		defer home.Close()
		entered <- unix.Unshare(unix.CLONE_NEWNET)
		<-leave
		left <- unix.Setns(int(home.Fd()), unix.CLONE_NEWNET)
	}
	if err := <-entered; err != nil {
		<-left
		t.Fatalf("move the first thread into a new network namespace: %v", err)
	}
	first, err := os.ReadFile("/proc/self/net/route")
	got := Routes("")
	close(leave)
	if err := <-left; err != nil {
		t.Fatalf("the first thread could not return to the host's namespace: %v", err)
	}
	// The setup is what the failure needs: /proc/self/net is now the new
	// namespace's, whose table is empty (without a main table the kernel
	// prints not even the header).
	if err != nil {
		t.Fatalf("read /proc/self/net/route: %v", err)
	}
	if r := parseRouteTable(t, first); len(r) != 0 {
		t.Fatalf("/proc/self/net/route still shows routes %v: the first thread did not move", r)
	}
	if !reflect.DeepEqual(got, host) {
		t.Errorf("Routes while the first thread is elsewhere = %v, want the host's %v", got, host)
	}
}

// parseRouteTable reads a /proc/net/route text through Routes.
func parseRouteTable(t *testing.T, table []byte) []Route {
	t.Helper()
	return Routes(hostRoot(t, map[string]string{"thread-self/net/route": string(table)}))
}
