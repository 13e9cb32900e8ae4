// Package nsdial opens TCP connections from inside a running container's
// network namespace, as a process in that container would.
//
// The stack's Vault and PostgreSQL sit on internal networks that the host
// cannot reach (their bridges have no host address, so nothing on them can
// reach the host either). Publishing their ports would break that
// isolation; instead the installer, running as root on the same host,
// enters the container's network namespace for the one system call that
// creates a socket. The socket stays in that namespace, while the rest of
// the program, and every other thread, stay in the host's.
package nsdial

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// PIDFunc returns the host PID of a process inside the target container.
// It is called for every connection, so a restarted container is followed.
type PIDFunc func(ctx context.Context) (int, error)

// Dialer returns a DialContext-compatible function whose connections start
// inside the network namespace of pid's process.
func Dialer(pid PIDFunc) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		p, err := pid(ctx)
		if err != nil {
			return nil, err
		}
		return DialInNamespace(ctx, fmt.Sprintf("/proc/%d/ns/net", p), network, addr)
	}
}

// DialInNamespace connects to addr from inside the network namespace at
// nsPath. It needs CAP_SYS_ADMIN (root).
func DialInNamespace(ctx context.Context, nsPath, network, addr string) (net.Conn, error) {
	return DialInNamespaceWith(ctx, &net.Dialer{}, nsPath, network, addr)
}

// DialInNamespaceWith is DialInNamespace with a dialer of the caller's,
// for a timeout or socket options (its Control runs inside the namespace).
func DialInNamespaceWith(ctx context.Context, d *net.Dialer, nsPath, network, addr string) (net.Conn, error) {
	target, err := os.Open(nsPath)
	if err != nil {
		return nil, fmt.Errorf("open network namespace %s: %w", nsPath, err)
	}
	defer target.Close()

	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// The namespace switch affects only this OS thread, which no other
		// goroutine may use meanwhile. Since Go 1.10 the runtime never
		// starts new threads from a locked one, so none inherit it.
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("open own network namespace: %w", err)}
			return
		}
		defer home.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("enter network namespace %s (the installer must run as root): %w", nsPath, err)}
			return
		}
		conn, dialErr := d.DialContext(ctx, network, addr)
		if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
			// The thread cannot go home: keep it locked so it ends with
			// this goroutine instead of serving others in the wrong namespace.
			if conn != nil {
				conn.Close()
			}
			done <- result{err: fmt.Errorf("leave network namespace %s: %w", nsPath, err)}
			return
		}
		runtime.UnlockOSThread()
		if dialErr != nil {
			dialErr = fmt.Errorf("connect to %s inside %s: %w", addr, nsPath, dialErr)
		}
		done <- result{conn, dialErr}
	}()
	select {
	case r := <-done:
		return r.conn, r.err
	case <-ctx.Done():
		go func() { // close a connection that arrives after we gave up
			if r := <-done; r.conn != nil {
				r.conn.Close()
			}
		}()
		return nil, ctx.Err()
	}
}
