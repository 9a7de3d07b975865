package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"glaux/internal/objects"
)

// TestS3OnTheAPIPort reads result objects through the Athena endpoint with the S3 client
// (path style, SigV4 scope s3), as PyAthena does with its one endpoint_url, while Athena
// keeps answering on the same port; writes are refused.
func TestS3OnTheAPIPort(t *testing.T) {
	cfg := newConfig(t, "")
	cfg.S3Addr = "127.0.0.1:0"
	s := startServer(t, cfg)
	ctx := context.Background()
	dir := objects.New(filepath.Join(cfg.DataDir, "objects"))
	for uri, body := range map[string]string{"s3://results/wg/a.txt": "alpha", "s3://results/wg/b.txt": "beta"} {
		if err := dir.Put(ctx, uri, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	c := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), Retryer: aws.NopRetryer{},
	})
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("results"), Key: aws.String("wg/a.txt")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	b, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(b) != "alpha" {
		t.Errorf("GetObject body %q", b)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("results"), Key: aws.String("wg/b.txt")})
	if err != nil || aws.ToInt64(head.ContentLength) != 4 {
		t.Errorf("HeadObject: %v, length %d", err, aws.ToInt64(head.ContentLength))
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("results"), Prefix: aws.String("wg/")})
	if err != nil || len(list.Contents) != 2 {
		t.Fatalf("ListObjectsV2: %v, %d objects", err, len(list.Contents))
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("results"), Key: aws.String("x"), Body: strings.NewReader("x")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" {
		t.Errorf("PutObject: %v, want AccessDenied", err)
	}
	// The same port still serves Athena, through both protocols.
	if _, err := s.Client.ListWorkGroups(ctx, &athena.ListWorkGroupsInput{}); err != nil {
		t.Errorf("AWS JSON 1.1 beside S3: %v", err)
	}
	restOK(t, restCall(t, s.Endpoint, "GET", "/workgroups", nil, true), "restJson1 beside S3")
}

// TestS3OnTheAPIPortClosed: --s3-addr ” closes the object server on the API port too; an
// s3-signed request is then an Athena request, refused.
func TestS3OnTheAPIPortClosed(t *testing.T) {
	s := startServer(t, newConfig(t, "")) // S3Addr ""
	c := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), Retryer: aws.NopRetryer{},
	})
	if _, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("results")}); err == nil {
		t.Fatal("ListObjectsV2 on the API port succeeded with --s3-addr ''")
	}
}
