package objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Dir keeps objects as files: s3://bucket/key is <Root>/<bucket>/<key>.
type Dir struct {
	Root string
}

// New returns a Dir rooted at root (created on first Put).
func New(root string) *Dir { return &Dir{Root: root} }

// Put stores r's content as the object at uri, replacing any previous one. It writes a
// temporary file beside the target and renames it, so readers never see half an object.
func (d *Dir) Put(ctx context.Context, uri string, r io.Reader) error {
	path, err := d.path(uri)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("objects: put %s: %w", uri, err)
	}
	tmp, err := os.CreateTemp(dir, ".glaux-put-*")
	if err != nil {
		return fmt.Errorf("objects: put %s: %w", uri, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, ctxReader{ctx, r}); err != nil {
		return fmt.Errorf("objects: put %s: %w", uri, err)
	}
	// Results must survive a crash once the client was told they exist.
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("objects: put %s: %w", uri, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("objects: put %s: %w", uri, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("objects: put %s: %w", uri, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("objects: put %s: %w", uri, err)
	}
	done = true
	return nil
}

// Get opens the object at uri; a missing object gives an error matching ErrNotFound.
func (d *Dir) Get(ctx context.Context, uri string) (io.ReadCloser, error) {
	path, err := d.path(uri)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, d.notFound(uri, err)
	}
	// A directory is a key prefix, not an object.
	if fi, err := f.Stat(); err != nil || fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("objects: get %s: %w", uri, errors.Join(ErrNotFound, fs.ErrNotExist))
	}
	return f, nil
}

// Exists reports whether an object (not merely a key prefix) is stored at uri.
func (d *Dir) Exists(ctx context.Context, uri string) (bool, error) {
	path, err := d.path(uri)
	if err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		return fi.Mode().IsRegular(), nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return false, nil
	}
	return false, fmt.Errorf("objects: stat %s: %w", uri, err)
}

func (d *Dir) notFound(uri string, err error) error {
	// fs.ErrNotExist too, as the S3 backend does: the domain (which cannot import this
	// package) tells a missing object by it.
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("objects: get %s: %w", uri, errors.Join(ErrNotFound, fs.ErrNotExist))
	}
	return fmt.Errorf("objects: get %s: %w", uri, err)
}

// path maps uri to its file. Keys whose segments a file system would reinterpret (".",
// "..", empty) are refused: they could escape the root or alias another key.
func (d *Dir) path(uri string) (string, error) {
	bucket, key, err := ParseURI(uri)
	if err != nil {
		return "", err
	}
	if key == "" {
		return "", fmt.Errorf("%w: %q: no object key", ErrInvalidURI, uri)
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return "", fmt.Errorf("%w: %q: empty key segment (leading, trailing or double '/')", ErrInvalidURI, uri)
		case seg == "." || seg == "..":
			return "", fmt.Errorf("%w: %q: key segment %q", ErrInvalidURI, uri, seg)
		case strings.ContainsAny(seg, "\x00\\"):
			return "", fmt.Errorf("%w: %q: key holds a NUL or backslash", ErrInvalidURI, uri)
		case strings.HasPrefix(seg, ".glaux-put-"):
			return "", fmt.Errorf("%w: %q: key segment reserved for temporary files", ErrInvalidURI, uri)
		}
	}
	return filepath.Join(d.Root, bucket, filepath.FromSlash(key)), nil
}

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
