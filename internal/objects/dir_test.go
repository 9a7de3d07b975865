package objects

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestDirPutGetExists(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d := New(root)
	uri := "s3://results/sess-1/calc-1/result.json"

	if ok, err := d.Exists(ctx, uri); err != nil || ok {
		t.Fatalf("Exists before Put = %v, %v; want false, nil", ok, err)
	}
	if err := d.Put(ctx, uri, strings.NewReader(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "results", "sess-1", "calc-1", "result.json")); err != nil || string(b) != `{"a":1}` {
		t.Fatalf("file on disk = %q, %v", b, err)
	}
	if ok, err := d.Exists(ctx, uri); err != nil || !ok {
		t.Fatalf("Exists after Put = %v, %v; want true, nil", ok, err)
	}
	// Overwrite replaces, and upper-case scheme names the same object.
	if err := d.Put(ctx, "S3://results/sess-1/calc-1/result.json", strings.NewReader("second")); err != nil {
		t.Fatal(err)
	}
	if got := get(t, d, uri); got != "second" {
		t.Fatalf("Get = %q; want %q", got, "second")
	}
	// Empty objects exist (clients download empty stderr files).
	if err := d.Put(ctx, "s3://results/empty.txt", strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	if got := get(t, d, "s3://results/empty.txt"); got != "" {
		t.Fatalf("Get empty = %q", got)
	}
	// No temporary files left behind.
	entries, _ := os.ReadDir(filepath.Join(root, "results", "sess-1", "calc-1"))
	if len(entries) != 1 {
		t.Fatalf("calc dir holds %d entries; want 1", len(entries))
	}
}

func TestDirNotFound(t *testing.T) {
	ctx := context.Background()
	d := New(t.TempDir())
	if err := d.Put(ctx, "s3://bucket/dir/file", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{
		"s3://bucket/missing",
		"s3://other-bucket/missing",
		"s3://bucket/dir",            // a prefix, not an object
		"s3://bucket/dir/file/below", // below an object
	} {
		t.Run(uri, func(t *testing.T) {
			if _, err := d.Get(ctx, uri); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get = %v; want ErrNotFound", err)
			}
			if ok, err := d.Exists(ctx, uri); err != nil || ok {
				t.Fatalf("Exists = %v, %v; want false, nil", ok, err)
			}
		})
	}
}

func TestDirRejectsBadKeys(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d := New(filepath.Join(root, "store"))
	for _, uri := range []string{
		"s3://bucket/../../escape",
		"s3://bucket/a/../../../escape",
		"s3://bucket/..",
		"s3://bucket/./a",
		"s3://bucket/a//b",
		"s3://bucket//a",
		"s3://bucket/a/",
		"s3://bucket/",
		"s3://bucket",
		"s3:///key",
		"s3://BAD_bucket/key",
		"s3://bucket/a\x00b",
		"s3://bucket/a\\..\\..\\b",
		"s3://bucket/.glaux-put-123",
		"file:///etc/passwd",
	} {
		t.Run(uri, func(t *testing.T) {
			if err := d.Put(ctx, uri, strings.NewReader("x")); !errors.Is(err, ErrInvalidURI) {
				t.Fatalf("Put = %v; want ErrInvalidURI", err)
			}
			if _, err := d.Get(ctx, uri); !errors.Is(err, ErrInvalidURI) {
				t.Fatalf("Get = %v; want ErrInvalidURI", err)
			}
			if _, err := d.Exists(ctx, uri); !errors.Is(err, ErrInvalidURI) {
				t.Fatalf("Exists = %v; want ErrInvalidURI", err)
			}
		})
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Fatalf("rejected puts wrote %d entries under the root's parent", len(entries))
	}
}

// A failed or cancelled Put leaves neither a partial object nor a temporary file.
func TestDirPutFailureLeavesNothing(t *testing.T) {
	root := t.TempDir()
	d := New(root)
	uri := "s3://bucket/obj"
	if err := d.Put(context.Background(), uri, strings.NewReader("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := d.Put(context.Background(), uri, io.MultiReader(strings.NewReader("half"), errReader{boom})); !errors.Is(err, boom) {
		t.Fatalf("Put = %v; want %v", err, boom)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Put(ctx, uri, strings.NewReader("new")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with cancelled ctx = %v", err)
	}
	if got := get(t, d, uri); got != "old" {
		t.Fatalf("Get = %q; want the old object", got)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "bucket")); len(entries) != 1 {
		t.Fatalf("bucket dir holds %d entries; want 1", len(entries))
	}
}

// Readers racing a writer see the old or the new object, never a mix.
func TestDirPutIsAtomic(t *testing.T) {
	ctx := context.Background()
	d := New(t.TempDir())
	uri := "s3://bucket/obj"
	a, b := bytes.Repeat([]byte("a"), 1<<20), bytes.Repeat([]byte("b"), 1<<20)
	if err := d.Put(ctx, uri, bytes.NewReader(a)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 20 {
			if err := d.Put(ctx, uri, bytes.NewReader([][]byte{a, b}[i%2])); err != nil {
				t.Error(err)
			}
		}
	})
	for range 50 {
		got := get(t, d, uri)
		if got != string(a) && got != string(b) {
			t.Fatalf("read a torn object of %d bytes", len(got))
		}
	}
	wg.Wait()
}

func get(t *testing.T, d *Dir, uri string) string {
	t.Helper()
	rc, err := d.Get(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
