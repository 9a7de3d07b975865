// Package s3serve answers S3 reads of glaux's local object store (objects.Dir: an object
// s3://bucket/key is the file <root>/<bucket>/<key>), so that the AWS CLI, boto3 and every
// other S3 client can fetch calculation results from an installation without an object
// store of its own:
//
//	aws s3 cp s3://bucket/key - --endpoint-url http://127.0.0.1:4479
//
// The S3 REST protocol (routing, XML, ranges, conditional GETs, ListObjects v1 and v2
// paging) comes from github.com/johannesboyne/gofakes3, over a read-only backend on the
// directory. In front of it, every request must carry a valid SigV4 signature (service
// "s3") by one of glaux's own credentials, and only reads pass: GetObject, HeadObject,
// ListObjects(V2), ListBuckets, HeadBucket, GetBucketLocation. Writes are refused with
// AccessDenied.
package s3serve

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/johannesboyne/gofakes3"

	"glaux/internal/objects"
	"glaux/internal/sigv4"
)

// maxBody is how much of a request body is read for signature checks; reads have none.
const maxBody = 1 << 20

// Server is an http.Handler serving a directory of objects over S3, read-only.
type Server struct {
	verifier *sigv4.Verifier
	log      *slog.Logger
	s3       http.Handler
}

// New serves the objects under root (objects.Dir's layout). verifier checks every request;
// its Service should be "s3".
func New(root string, verifier *sigv4.Verifier, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	be := &backend{dir: objects.New(root), root: root, hashes: map[hashKey][]byte{}}
	fake := gofakes3.New(be,
		gofakes3.WithTimeSkewLimit(0), // the SigV4 check bounds the clock skew
		gofakes3.WithLogger(slogLogger{log}),
	)
	return &Server{verifier: verifier, log: log, s3: fake.Server()}
}

// ServeHTTP authenticates the request, refuses anything but reads, and serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeError(w, r, http.StatusBadRequest, "MaxMessageLengthExceeded", "Your request was too big.")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	id, err := s.verifier.Verify(r, body)
	if err != nil {
		var se *sigv4.Error
		if !errors.As(err, &se) {
			se = &sigv4.Error{Code: sigv4.CodeInvalidSignature, Message: err.Error(), Status: http.StatusForbidden}
		}
		status, code := s3Code(se)
		s.log.Debug("s3: request refused", "method", r.Method, "path", r.URL.Path, "code", code, "reason", se.Message)
		writeError(w, r, status, code, se.Message)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.log.Debug("s3: write refused", "method", r.Method, "path", r.URL.Path, "access_key", id.AccessKeyID)
		writeError(w, r, http.StatusForbidden, "AccessDenied", "Access Denied: glaux serves its object store read-only.")
		return
	}
	s.s3.ServeHTTP(w, r)
}

// s3Code maps a SigV4 refusal to the status and error code S3 itself answers with.
func s3Code(e *sigv4.Error) (int, string) {
	switch e.Code {
	case sigv4.CodeMissingAuthenticationToken:
		return http.StatusForbidden, "AccessDenied"
	case sigv4.CodeUnrecognizedClient:
		return http.StatusForbidden, "InvalidAccessKeyId"
	case sigv4.CodeIncompleteSignature:
		return http.StatusBadRequest, "AuthorizationHeaderMalformed"
	}
	switch {
	case strings.HasPrefix(e.Message, "Signature expired") || strings.HasPrefix(e.Message, "Signature not yet current"):
		return http.StatusForbidden, "RequestTimeTooSkewed"
	case strings.HasPrefix(e.Message, "Request has expired"):
		return http.StatusForbidden, "AccessDenied"
	}
	return http.StatusForbidden, "SignatureDoesNotMatch"
}

type errorBody struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`
	// Resource is the path asked for, as S3 reports it.
	Resource string `xml:"Resource"`
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	io.WriteString(w, xml.Header)
	xml.NewEncoder(w).Encode(errorBody{Code: code, Message: msg, Resource: r.URL.Path})
}

// backend is gofakes3's view of the objects directory: reads only.
type backend struct {
	dir  *objects.Dir
	root string

	mu     sync.Mutex
	hashes map[hashKey][]byte // MD5s (ETags) of files, by path, size and modification time
}

type hashKey struct {
	path  string
	size  int64
	mtime int64
}

// maxHashes bounds the ETag cache; past it the cache starts over.
const maxHashes = 100_000

var errReadOnly = gofakes3.ErrorMessage("AccessDenied", "glaux serves its object store read-only")

var _ gofakes3.Backend = (*backend)(nil)

func (b *backend) ListBuckets() ([]gofakes3.BucketInfo, error) {
	entries, err := os.ReadDir(b.root)
	if errors.Is(err, fs.ErrNotExist) {
		return []gofakes3.BucketInfo{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []gofakes3.BucketInfo{}
	for _, e := range entries {
		if !e.IsDir() || !validBucket(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, gofakes3.BucketInfo{Name: e.Name(), CreationDate: gofakes3.NewContentTime(info.ModTime().UTC())})
	}
	return out, nil
}

func validBucket(name string) bool {
	_, _, err := objects.ParseURI("s3://" + name + "/")
	return err == nil
}

func (b *backend) BucketExists(name string) (bool, error) {
	if !validBucket(name) {
		return false, nil
	}
	fi, err := os.Stat(filepath.Join(b.root, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return fi.IsDir(), nil
}

// ListBucket lists the objects under prefix in key order, with delimiter roll-up and
// marker/max-keys paging.
func (b *backend) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	if prefix == nil {
		prefix = &gofakes3.Prefix{}
	}
	bucketDir := filepath.Join(b.root, name)
	// Walk only the directory the prefix's complete segments name.
	start := bucketDir
	if prefix.HasPrefix {
		if i := strings.LastIndexByte(prefix.Prefix, '/'); i > 0 {
			start = filepath.Join(bucketDir, filepath.FromSlash(path.Clean(prefix.Prefix[:i])))
			if rel, err := filepath.Rel(bucketDir, start); err != nil || strings.HasPrefix(rel, "..") {
				return gofakes3.NewObjectList(), nil
			}
		}
	}
	type file struct {
		key  string
		path string
		info fs.FileInfo
	}
	var files []file
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if strings.HasPrefix(d.Name(), ".glaux-put-") {
			return nil // an object being written
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(bucketDir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if prefix.HasPrefix && !strings.HasPrefix(key, prefix.Prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		files = append(files, file{key: key, path: p, info: info})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].key < files[j].key })

	list := gofakes3.NewObjectList()
	var count int64
	var last string
	for _, f := range files {
		var m gofakes3.PrefixMatch
		if !prefix.Match(f.key, &m) {
			continue
		}
		item := f.key
		if m.CommonPrefix {
			item = m.MatchedPart
		}
		if page.HasMarker && item <= page.Marker {
			continue
		}
		if item == last {
			continue // the same common prefix again
		}
		if page.MaxKeys > 0 && count == page.MaxKeys {
			list.IsTruncated = true
			list.NextMarker = last
			break
		}
		count++
		last = item
		if m.CommonPrefix {
			list.AddPrefix(item)
			continue
		}
		hash, err := b.hash(f.path, f.info)
		if err != nil {
			continue // removed meanwhile
		}
		list.Add(&gofakes3.Content{
			Key: f.key, LastModified: gofakes3.NewContentTime(f.info.ModTime().UTC()),
			ETag: gofakes3.FormatETag(hash), Size: f.info.Size(), StorageClass: gofakes3.StorageStandard,
		})
	}
	return list, nil
}

func (b *backend) GetObject(bucket, key string, rangeRequest *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	f, info, err := b.open(bucket, key)
	if err != nil {
		return nil, err
	}
	hash, err := b.hash(f.Name(), info)
	if err != nil {
		f.Close()
		return nil, err
	}
	rnge, err := rangeRequest.Range(info.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	var body io.ReadCloser = f
	if rnge != nil {
		if _, err := f.Seek(rnge.Start, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
		body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(f, rnge.Length), f}
	}
	return &gofakes3.Object{
		Name: key, Metadata: metadata(key, info), Size: info.Size(),
		Contents: body, Hash: hash, Range: rnge,
	}, nil
}

func (b *backend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	f, info, err := b.open(bucket, key)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hash, err := b.hash(f.Name(), info)
	if err != nil {
		return nil, err
	}
	return &gofakes3.Object{
		Name: key, Metadata: metadata(key, info), Size: info.Size(),
		Contents: io.NopCloser(strings.NewReader("")), Hash: hash,
	}, nil
}

// open opens an object's file through objects.Dir, which refuses keys that could leave
// the root or name temporary files.
func (b *backend) open(bucket, key string) (*os.File, fs.FileInfo, error) {
	rc, err := b.dir.Get(context.Background(), "s3://"+bucket+"/"+key)
	if err != nil {
		if errors.Is(err, objects.ErrNotFound) || errors.Is(err, objects.ErrInvalidURI) {
			return nil, nil, gofakes3.KeyNotFound(key)
		}
		return nil, nil, err
	}
	f, ok := rc.(*os.File)
	if !ok {
		rc.Close()
		return nil, nil, fmt.Errorf("s3serve: unexpected object reader %T", rc)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// hash is the file's MD5 (its ETag, as S3 gives single-part uploads), cached while the
// file's size and modification time stay the same.
func (b *backend) hash(p string, info fs.FileInfo) ([]byte, error) {
	k := hashKey{path: p, size: info.Size(), mtime: info.ModTime().UnixNano()}
	b.mu.Lock()
	h, ok := b.hashes[k]
	b.mu.Unlock()
	if ok {
		return h, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sum := md5.New()
	if _, err := io.Copy(sum, f); err != nil {
		return nil, err
	}
	h = sum.Sum(nil)
	b.mu.Lock()
	if len(b.hashes) >= maxHashes {
		b.hashes = map[hashKey][]byte{}
	}
	b.hashes[k] = h
	b.mu.Unlock()
	return h, nil
}

func metadata(key string, info fs.FileInfo) map[string]string {
	ctype := mime.TypeByExtension(path.Ext(key))
	if ctype == "" {
		ctype = "binary/octet-stream" // what S3 reports for objects stored without a type
	}
	return map[string]string{
		"Content-Type":  ctype,
		"Last-Modified": info.ModTime().UTC().Format(http.TimeFormat),
	}
}

// Writes never reach the backend (the Server refuses them first); these keep it read-only
// even so.

func (b *backend) CreateBucket(string) error      { return errReadOnly }
func (b *backend) DeleteBucket(string) error      { return errReadOnly }
func (b *backend) ForceDeleteBucket(string) error { return errReadOnly }
func (b *backend) DeleteObject(string, string) (gofakes3.ObjectDeleteResult, error) {
	return gofakes3.ObjectDeleteResult{}, errReadOnly
}
func (b *backend) PutObject(string, string, map[string]string, io.Reader, int64, *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	return gofakes3.PutObjectResult{}, errReadOnly
}
func (b *backend) DeleteMulti(string, ...string) (gofakes3.MultiDeleteResult, error) {
	return gofakes3.MultiDeleteResult{}, errReadOnly
}

// slogLogger sends gofakes3's own log lines to glaux's log: its errors as warnings (a
// client's bad request is not glaux's error), the rest at debug.
type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Print(level gofakes3.LogLevel, v ...interface{}) {
	msg := strings.TrimSpace(fmt.Sprintln(v...))
	if level == gofakes3.LogErr {
		l.log.Warn("s3: " + msg)
		return
	}
	l.log.Log(context.Background(), slog.LevelDebug-4, "s3: "+msg)
}

func (b *backend) CopyObject(string, string, string, string, map[string]string) (gofakes3.CopyObjectResult, error) {
	return gofakes3.CopyObjectResult{}, errReadOnly
}
