package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// The e2e clients' connections remember who closed them. A read that fails with
// net.ErrClosed ("use of closed network connection" in the middle of a 200 body, seen
// under load) means this process closed the socket under a reader: the retryer retries it
// as users' clients do (aws/aws-sdk-go-v2#2737, #2949), and prints the closer's stack so a
// flake names its cause instead of vanishing.

// tracedHTTPClient is the SDK's default HTTP client with every connection traced.
func tracedHTTPClient() aws.HTTPClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		dial := t.DialContext
		if dial == nil {
			dial = (&net.Dialer{}).DialContext
		}
		t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &tracedConn{Conn: c}, nil
		}
	})
}

type tracedConn struct {
	net.Conn
	mu       sync.Mutex
	closedBy []byte
}

func (c *tracedConn) Close() error {
	c.mu.Lock()
	if c.closedBy == nil {
		c.closedBy = debug.Stack()
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

func (c *tracedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if errors.Is(err, net.ErrClosed) {
		c.mu.Lock()
		stack := c.closedBy
		c.mu.Unlock()
		closes.add(c.LocalAddr().String(), stack)
	}
	return n, err
}

// closeLog keeps the last reads that failed on a locally closed connection, by local
// address (what the SDK's error names), with the stack of the Close.
type closeLog struct {
	mu      sync.Mutex
	entries []closeEntry
}

type closeEntry struct {
	at    time.Time
	local string
	stack []byte
}

var closes closeLog

func (l *closeLog) add(local string, stack []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, closeEntry{time.Now(), local, stack})
	if len(l.entries) > 32 {
		l.entries = l.entries[len(l.entries)-32:]
	}
}

// recent returns the entries of the last few seconds, formatted.
func (l *closeLog) recent(within time.Duration) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := ""
	for _, e := range l.entries {
		if time.Since(e.at) <= within {
			out += fmt.Sprintf("read on %s after a local Close by:\n%s\n", e.local, e.stack)
		}
	}
	if out == "" {
		return "no traced connection saw the close (not one of this client's connections)\n"
	}
	return out
}

// tracedRetryable is the standard connection-error check, printing what it retries.
type tracedRetryable struct{}

func (tracedRetryable) IsErrorRetryable(err error) aws.Ternary {
	v := retry.RetryableConnectionError{}.IsErrorRetryable(err)
	switch {
	case v == aws.TrueTernary && errors.Is(err, net.ErrClosed):
		fmt.Fprintf(os.Stderr, "glaux e2e client: retrying a read on a connection closed here: %v\n%s", err, closes.recent(5*time.Second))
	case v == aws.TrueTernary:
		fmt.Fprintf(os.Stderr, "glaux e2e client: retrying a broken connection: %v\n", err)
	}
	return v
}

// closeUnderRead closes c while a Read is blocked on it (what the flake looks like).
func closeUnderRead(c net.Conn) error {
	go func() { time.Sleep(50 * time.Millisecond); c.Close() }()
	_, err := c.Read(make([]byte, 1))
	return err
}
