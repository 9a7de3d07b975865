package main

import (
	"net"
	"strings"
	"testing"
	"time"
)

// A read that fails because this process closed the socket is logged with the closer's
// stack (the peer's reset or EOF leaves no entry: it is not this process's Close).
func TestTracedConnNamesItsCloser(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := &tracedConn{Conn: raw}
	if err := closeUnderRead(c); err == nil || !strings.Contains(err.Error(), "use of closed network connection") {
		t.Fatalf("read after a local close: %v", err)
	}
	got := closes.recent(time.Minute)
	if !strings.Contains(got, c.LocalAddr().String()) || !strings.Contains(got, "closeUnderRead") {
		t.Fatalf("the close log does not name the closer of %s:\n%s", c.LocalAddr(), got)
	}
}
