package objects

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"glaux/internal/testenv"
)

// versitygw finds the S3-compatible server the S3 tests run against (scripts/cluster-deps.sh
// builds it); without it they fail, unless GLAUX_SKIP=s3.
func versitygw(t testing.TB) string {
	testenv.Need(t, testenv.S3)
	if p := os.Getenv("GLAUX_VERSITYGW"); p != "" {
		return p
	}
	cache := os.Getenv("GLAUX_CACHE_DIR")
	if cache == "" && os.Geteuid() == 0 {
		cache = "/var/cache/glaux" // as scripts/cluster-deps.sh
	} else if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "glaux")
	}
	if p := filepath.Join(cache, "bin", "versitygw"); fileExists(p) {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	testenv.Missing(t, testenv.S3, "versitygw not found (run scripts/cluster-deps.sh, or set GLAUX_VERSITYGW)")
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// startS3Server runs a real versitygw (posix backend on a temp dir) on a free loopback port
// until the test ends, and returns its endpoint.
func startS3Server(t *testing.T, access, secret string) string {
	t.Helper()
	bin := versitygw(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--access", access, "--secret", secret, "--port", addr, "--quiet", "posix", t.TempDir())
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s: %v\n%s", addr, err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newTestS3(t *testing.T) *S3 {
	endpoint := startS3Server(t, "glaux", "glaux-secret")
	b, err := NewS3(S3Config{Endpoint: endpoint, Region: "us-east-1", PathStyle: true, AccessKey: "glaux", SecretKey: "glaux-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureBucket(context.Background(), "results"); err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureBucket(context.Background(), "results"); err != nil {
		t.Fatalf("EnsureBucket of an existing bucket: %v", err)
	}
	return b
}

func getS3(t *testing.T, b *S3, uri string) string {
	t.Helper()
	rc, err := b.Get(context.Background(), uri)
	if err != nil {
		t.Fatalf("Get %s: %v", uri, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestS3PutGetExists(t *testing.T) {
	ctx := context.Background()
	b := newTestS3(t)
	uri := "s3://results/sess-1/calc-1/result.json"

	if ok, err := b.Exists(ctx, uri); err != nil || ok {
		t.Fatalf("Exists before Put = %v, %v; want false, nil", ok, err)
	}
	if err := b.Put(ctx, uri, strings.NewReader(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Exists(ctx, uri); err != nil || !ok {
		t.Fatalf("Exists after Put = %v, %v; want true, nil", ok, err)
	}
	if got := getS3(t, b, uri); got != `{"a":1}` {
		t.Fatalf("Get = %q", got)
	}
	// Overwrite replaces; the upper-case scheme names the same object.
	if err := b.Put(ctx, "S3://results/sess-1/calc-1/result.json", strings.NewReader("second")); err != nil {
		t.Fatal(err)
	}
	if got := getS3(t, b, uri); got != "second" {
		t.Fatalf("Get after overwrite = %q", got)
	}
	// Empty objects exist (clients download empty stderr files).
	if err := b.Put(ctx, "s3://results/empty.txt", strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	if got := getS3(t, b, "s3://results/empty.txt"); got != "" {
		t.Fatalf("Get empty = %q", got)
	}
	// A reader that cannot seek (a pipe) is spooled, not refused; 3 MiB crosses buffers.
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<16)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeAll(pw, big)) }()
	if err := b.Put(ctx, "s3://results/big.bin", pr); err != nil {
		t.Fatal(err)
	}
	if got := getS3(t, b, "s3://results/big.bin"); got != string(big) {
		t.Fatalf("Get big: %d bytes, want %d", len(got), len(big))
	}
	// A file, as result uploads pass.
	p := filepath.Join(t.TempDir(), "stdout.txt")
	os.WriteFile(p, []byte("hello\n"), 0o600)
	f, _ := os.Open(p)
	defer f.Close()
	if err := b.Put(ctx, "s3://results/sess-1/calc-1/stdout.txt", f); err != nil {
		t.Fatal(err)
	}
	if got := getS3(t, b, "s3://results/sess-1/calc-1/stdout.txt"); got != "hello\n" {
		t.Fatalf("Get stdout = %q", got)
	}
}

func writeAll(w io.Writer, b []byte) error {
	for len(b) > 0 {
		n := min(len(b), 4096)
		if _, err := w.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func TestS3NotFoundAndInvalid(t *testing.T) {
	ctx := context.Background()
	b := newTestS3(t)
	for _, uri := range []string{"s3://results/missing.txt", "s3://no-such-bucket/x.txt"} {
		_, err := b.Get(ctx, uri)
		if !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Get %s = %v; want ErrNotFound and fs.ErrNotExist", uri, err)
		}
		if ok, err := b.Exists(ctx, uri); ok || err != nil {
			t.Errorf("Exists %s = %v, %v; want false, nil", uri, ok, err)
		}
	}
	for _, uri := range []string{"s3://results/", "s3://results", "http://results/x", "s3://UPPER/x"} {
		if err := b.Put(ctx, uri, strings.NewReader("x")); !errors.Is(err, ErrInvalidURI) {
			t.Errorf("Put %s = %v; want ErrInvalidURI", uri, err)
		}
		if _, err := b.Get(ctx, uri); !errors.Is(err, ErrInvalidURI) {
			t.Errorf("Get %s = %v; want ErrInvalidURI", uri, err)
		}
	}
}

func TestS3WrongCredentials(t *testing.T) {
	ctx := context.Background()
	endpoint := startS3Server(t, "glaux", "glaux-secret")
	good, _ := NewS3(S3Config{Endpoint: endpoint, PathStyle: true, AccessKey: "glaux", SecretKey: "glaux-secret"})
	if err := good.EnsureBucket(ctx, "results"); err != nil {
		t.Fatal(err)
	}
	bad, _ := NewS3(S3Config{Endpoint: endpoint, PathStyle: true, AccessKey: "glaux", SecretKey: "wrong"})
	err := bad.Put(ctx, "s3://results/x.txt", strings.NewReader("x"))
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("Put with a wrong secret = %v; want a refusal", err)
	}
	if !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("Put with a wrong secret = %v; want SignatureDoesNotMatch", err)
	}
	if _, err := bad.Exists(ctx, "s3://results/x.txt"); err == nil {
		t.Error("Exists with a wrong secret succeeded")
	}
}

func TestNewS3Config(t *testing.T) {
	if _, err := NewS3(S3Config{Endpoint: "http://x"}); err == nil {
		t.Error("NewS3 without credentials succeeded")
	}
	if _, err := NewS3(S3Config{Endpoint: "127.0.0.1:7070", AccessKey: "a", SecretKey: "b"}); err == nil {
		t.Error("NewS3 with an endpoint without scheme succeeded")
	}
	if _, err := NewS3(S3Config{AccessKey: "a", SecretKey: "b"}); err != nil {
		t.Errorf("NewS3 for AWS itself: %v", err)
	}
}

func TestS3AJars(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"hadoop-aws-3.4.1.jar", "bundle-2.24.6.jar", "README", ".hadoop-3.4.1"} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o644)
	}
	os.Mkdir(filepath.Join(dir, "sub.jar"), 0o755)
	jars, err := S3AJars(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]string{filepath.Join(dir, "bundle-2.24.6.jar"), filepath.Join(dir, "hadoop-aws-3.4.1.jar")})
	if fmt.Sprint(jars) != want {
		t.Errorf("S3AJars = %v; want %v", jars, want)
	}
	if jars, err := S3AJars(filepath.Join(dir, "missing")); err != nil || jars != nil {
		t.Errorf("S3AJars(missing) = %v, %v", jars, err)
	}
}
