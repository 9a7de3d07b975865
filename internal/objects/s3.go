package objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Config says how to reach an S3-compatible object store.
type S3Config struct {
	// Endpoint is the store's base URL, e.g. http://127.0.0.1:7070; empty means AWS S3 itself.
	Endpoint string
	// Region signs the requests (most S3-compatible stores accept any, often us-east-1).
	Region string
	// PathStyle addresses objects as <endpoint>/<bucket>/<key> instead of
	// <bucket>.<endpoint>/<key>; most self-hosted stores need it.
	PathStyle bool
	// AccessKey, SecretKey (and SessionToken, if any) sign the requests.
	AccessKey, SecretKey, SessionToken string
}

// S3 keeps objects in an S3-compatible store: s3://bucket/key is that bucket's key. It is
// the backend for glaux installations whose Spark runs on a cluster, where every executor
// must reach the same objects.
type S3 struct {
	client *s3.Client
}

// NewS3 returns the backend for cfg. It does not contact the store.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("objects: the S3 backend needs an access key and a secret key")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	opts := s3.Options{
		Region:       cfg.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
		UsePathStyle: cfg.PathStyle,
		// Many S3-compatible stores do not understand the flexible-checksum trailers that
		// the SDK now sends by default; checksums only where the operation requires them.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if cfg.Endpoint != "" {
		if !strings.HasPrefix(cfg.Endpoint, "http://") && !strings.HasPrefix(cfg.Endpoint, "https://") {
			return nil, fmt.Errorf("objects: S3 endpoint %q must start with http:// or https://", cfg.Endpoint)
		}
		opts.BaseEndpoint = aws.String(strings.TrimRight(cfg.Endpoint, "/"))
	}
	return &S3{client: s3.New(opts)}, nil
}

// Put stores r's content as the object at uri, replacing any previous one. S3 makes the
// object visible only once it is complete.
func (b *S3) Put(ctx context.Context, uri string, r io.Reader) error {
	bucket, key, err := objectKey(uri)
	if err != nil {
		return err
	}
	// The SDK needs a body it can rewind (to sign it and to retry); spool anything else to
	// a temporary file rather than into memory, since results can be large.
	body, ok := r.(io.ReadSeeker)
	if !ok {
		f, err := spool(ctx, r)
		if err != nil {
			return fmt.Errorf("objects: put %s: %w", uri, err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		body = f
	}
	_, err = b.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: body})
	if err != nil {
		return fmt.Errorf("objects: put %s: %w", uri, err)
	}
	return nil
}

// Get opens the object at uri; a missing object (or bucket) gives an error matching
// ErrNotFound.
func (b *S3) Get(ctx context.Context, uri string) (io.ReadCloser, error) {
	bucket, key, err := objectKey(uri)
	if err != nil {
		return nil, err
	}
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("objects: get %s: %w", uri, errors.Join(ErrNotFound, fs.ErrNotExist))
		}
		return nil, fmt.Errorf("objects: get %s: %w", uri, err)
	}
	return out.Body, nil
}

// Exists reports whether an object is stored at uri.
func (b *S3) Exists(ctx context.Context, uri string) (bool, error) {
	bucket, key, err := objectKey(uri)
	if err != nil {
		return false, err
	}
	_, err = b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("objects: head %s: %w", uri, err)
}

// EnsureBucket creates the bucket unless it exists (for tests and first runs against an
// empty store).
func (b *S3) EnsureBucket(ctx context.Context, bucket string) error {
	if err := validBucket(bucket); err != nil {
		return fmt.Errorf("%w: %q: %v", ErrInvalidURI, bucket, err)
	}
	if _, err := b.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		return nil
	}
	_, err := b.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("objects: create bucket %s: %w", bucket, err)
	}
	return nil
}

func objectKey(uri string) (bucket, key string, err error) {
	bucket, key, err = ParseURI(uri)
	if err != nil {
		return "", "", err
	}
	if key == "" {
		return "", "", fmt.Errorf("%w: %q: no object key", ErrInvalidURI, uri)
	}
	return bucket, key, nil
}

// isNotFound tells a missing object or bucket from every other failure.
func isNotFound(err error) bool {
	var noKey *types.NoSuchKey
	var notFound *types.NotFound
	var noBucket *types.NoSuchBucket
	if errors.As(err, &noKey) || errors.As(err, &notFound) || errors.As(err, &noBucket) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchBucket":
			return true
		}
	}
	var status interface{ HTTPStatusCode() int }
	return errors.As(err, &status) && status.HTTPStatusCode() == http.StatusNotFound
}

// spool copies r into a temporary file, positioned at its start; the caller closes and
// removes it.
func spool(ctx context.Context, r io.Reader) (*os.File, error) {
	f, err := os.CreateTemp("", "glaux-s3-put-*")
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// S3AJars lists the jars that put Hadoop's S3A connector on a Spark session's classpath:
// every *.jar in dir (scripts/cluster-deps.sh fills it with hadoop-aws and the AWS SDK
// bundle matching pyspark's Hadoop), sorted. A missing directory gives no jars and no error.
func S3AJars(dir string) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var jars []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".jar") {
			abs, err := filepath.Abs(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			jars = append(jars, abs)
		}
	}
	sort.Strings(jars)
	return jars, nil
}
