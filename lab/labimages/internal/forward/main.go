// Command forward is a test helper of the lab image tests. The stack's
// internal networks give the host no address, so tests cannot reach the
// services on them; this program runs in a container attached to those
// networks and to a plain bridge the host can reach. It accepts TCP
// connections on :7000; each connection starts with one line naming the
// host:port to connect to (resolved by Docker's DNS inside the container),
// and everything after that line is relayed unchanged both ways, so TLS and
// protocol handshakes stay end to end.
package main

import (
	"bufio"
	"io"
	"log"
	"net"
	"strings"
	"time"
)

func main() {
	ln, err := net.Listen("tcp", ":7000")
	if err != nil {
		log.Fatal(err)
	}
	log.Print("forwarding on :7000")
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go relay(c)
	}
}

func relay(c net.Conn) {
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	target := strings.TrimSpace(line)
	u, err := net.DialTimeout("tcp", target, 10*time.Second)
	if err != nil {
		log.Printf("dial %s: %v", target, err)
		return
	}
	defer u.Close()
	done := make(chan struct{}, 2)
	go func() {
		// Bytes the reader already buffered go first.
		_, _ = io.Copy(u, r)
		if tc, ok := u.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(c, u)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}()
	<-done
	<-done
}
