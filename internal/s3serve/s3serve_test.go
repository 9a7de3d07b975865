package s3serve

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"glaux/internal/objects"
	"glaux/internal/sigv4"
)

// serve starts the S3 server over a fresh objects directory holding files, on loopback.
func serve(t *testing.T, files map[string]string) (endpoint, root string) {
	t.Helper()
	root = t.TempDir()
	dir := objects.New(root)
	for uri, body := range files {
		if err := dir.Put(context.Background(), uri, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	v := &sigv4.Verifier{Creds: sigv4.StaticCredentials{"test": "test"}, Service: "s3"}
	srv := httptest.NewServer(New(root, v, nil))
	t.Cleanup(srv.Close)
	return srv.URL, root
}

func client(endpoint, akid, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, ""),
		Retryer:     aws.NopRetryer{},
	})
}

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

var files = map[string]string{
	"s3://results/wg/sess-1/calc-1/stdout.txt":  "hello\n",
	"s3://results/wg/sess-1/calc-1/stderr.txt":  "",
	"s3://results/wg/sess-1/calc-1/result.json": `{"a":1}`,
	"s3://results/wg/sess-1/calc-2/stdout.txt":  "0123456789",
	"s3://results/wg/sess-2/calc-3/stdout.txt":  "x",
	"s3://other/top.txt":                        "top",
}

func TestGetHeadList(t *testing.T) {
	ctx := context.Background()
	endpoint, root := serve(t, files)
	// An object being written is not listed.
	os.WriteFile(filepath.Join(root, "results", "wg", "sess-1", ".glaux-put-123"), []byte("partial"), 0o600)
	c := client(endpoint, "test", "test")

	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("results"), Key: aws.String("wg/sess-1/calc-1/stdout.txt")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(body) != "hello\n" || aws.ToString(got.ContentType) != "text/plain; charset=utf-8" || aws.ToString(got.ETag) != `"b1946ac92492d2347c6235b4d2611184"` {
		t.Errorf("GetObject = %q, type %q, etag %q", body, aws.ToString(got.ContentType), aws.ToString(got.ETag))
	}

	// A range.
	rng, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("results"), Key: aws.String("wg/sess-1/calc-2/stdout.txt"), Range: aws.String("bytes=2-4")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(rng.Body)
	rng.Body.Close()
	if string(body) != "234" || aws.ToString(rng.ContentRange) != "bytes 2-4/10" {
		t.Errorf("ranged GetObject = %q, %q", body, aws.ToString(rng.ContentRange))
	}

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("results"), Key: aws.String("wg/sess-1/calc-1/result.json")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != 7 || aws.ToString(head.ContentType) != "application/json" || head.LastModified == nil {
		t.Errorf("HeadObject = length %d, type %q, modified %v", aws.ToInt64(head.ContentLength), aws.ToString(head.ContentType), head.LastModified)
	}
	// Empty objects exist.
	empty, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("results"), Key: aws.String("wg/sess-1/calc-1/stderr.txt")})
	if err != nil {
		t.Fatalf("GetObject of an empty object: %v", err)
	}
	empty.Body.Close()

	for _, key := range []string{"wg/missing.txt", "wg/sess-1", "../other/top.txt", "wg/sess-1/.glaux-put-123"} {
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("results"), Key: aws.String(key)})
		if apiCode(err) != "NoSuchKey" {
			t.Errorf("GetObject %q = %v; want NoSuchKey", key, err)
		}
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("x")}); apiCode(err) != "NoSuchBucket" {
		t.Errorf("GetObject in a missing bucket = %v; want NoSuchBucket", err)
	}

	// Listing: delimiter roll-up.
	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("results"), Prefix: aws.String("wg/sess-1/"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	for _, p := range l.CommonPrefixes {
		prefixes = append(prefixes, aws.ToString(p.Prefix))
	}
	if strings.Join(prefixes, ",") != "wg/sess-1/calc-1/,wg/sess-1/calc-2/" || len(l.Contents) != 0 {
		t.Errorf("ListObjectsV2 with delimiter: prefixes %v, %d contents", prefixes, len(l.Contents))
	}
	// Listing: paging through every key, two at a time.
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("results"), MaxKeys: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	want := "wg/sess-1/calc-1/result.json,wg/sess-1/calc-1/stderr.txt,wg/sess-1/calc-1/stdout.txt,wg/sess-1/calc-2/stdout.txt,wg/sess-2/calc-3/stdout.txt"
	if strings.Join(keys, ",") != want || pages != 3 {
		t.Errorf("paged listing (%d pages) = %v; want %s", pages, keys, want)
	}

	buckets, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(buckets.Buckets) != 2 {
		t.Errorf("ListBuckets = %d buckets; want 2", len(buckets.Buckets))
	}

	// A presigned URL works without headers.
	ps, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("other"), Key: aws.String("top.txt")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(ps.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "top" {
		t.Errorf("presigned GET = %d %q", resp.StatusCode, body)
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	endpoint, root := serve(t, files)
	in := &s3.GetObjectInput{Bucket: aws.String("other"), Key: aws.String("top.txt")}

	if _, err := client(endpoint, "test", "wrong").GetObject(ctx, in); apiCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v; want SignatureDoesNotMatch", err)
	}
	if _, err := client(endpoint, "nobody", "test").GetObject(ctx, in); apiCode(err) != "InvalidAccessKeyId" {
		t.Errorf("unknown key: %v; want InvalidAccessKeyId", err)
	}
	resp, err := http.Get(endpoint + "/other/top.txt")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
		t.Errorf("anonymous GET = %d %s; want 403 AccessDenied", resp.StatusCode, body)
	}

	// Writes are refused and change nothing, however well signed.
	c := client(endpoint, "test", "test")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("other"), Key: aws.String("top.txt"), Body: strings.NewReader("changed")})
	if apiCode(err) != "AccessDenied" {
		t.Errorf("PutObject = %v; want AccessDenied", err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("other"), Key: aws.String("new.txt"), Body: strings.NewReader("new")})
	if apiCode(err) != "AccessDenied" {
		t.Errorf("PutObject of a new key = %v; want AccessDenied", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("other"), Key: aws.String("top.txt")}); apiCode(err) != "AccessDenied" {
		t.Errorf("DeleteObject = %v; want AccessDenied", err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("newbucket")}); apiCode(err) != "AccessDenied" {
		t.Errorf("CreateBucket = %v; want AccessDenied", err)
	}
	if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("other"), Key: aws.String("mp")}); apiCode(err) != "AccessDenied" {
		t.Errorf("CreateMultipartUpload = %v; want AccessDenied", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "other", "top.txt")); string(b) != "top" {
		t.Errorf("top.txt = %q after refused writes", b)
	}
	for _, p := range []string{"other/new.txt", "newbucket"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			t.Errorf("%s exists after a refused write", p)
		}
	}
}
