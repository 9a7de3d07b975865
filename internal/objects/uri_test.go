package objects

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		uri, bucket, key string
		ok               bool
	}{
		{"s3://bucket/key", "bucket", "key", true},
		{"S3://bucket/a/b/c.json", "bucket", "a/b/c.json", true},
		{"s3://my.bucket-1/", "my.bucket-1", "", true},
		{"s3://bucket", "bucket", "", true},
		{"s3://bucket/with space/é", "bucket", "with space/é", true},
		{"s3://123/x", "123", "x", true},
		{"", "", "", false},
		{"bucket/key", "", "", false},
		{"https://bucket/key", "", "", false},
		{"s3:/bucket/key", "", "", false},
		{"s3:///key", "", "", false},
		{"s3://ab/key", "", "", false},
		{"s3://" + strings.Repeat("a", 64) + "/key", "", "", false},
		{"s3://Bucket/key", "", "", false},
		{"s3://bu_cket/key", "", "", false},
		{"s3://-bucket/key", "", "", false},
		{"s3://bucket-/key", "", "", false},
		{"s3://bu..cket/key", "", "", false},
		{"s3://../key", "", "", false},
		{"s3://192.168.1.1/key", "", "", false},
		{"s3://bucket/" + strings.Repeat("k", 1025), "", "", false},
		{"s3://bucket/\xff", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.uri, func(t *testing.T) {
			bucket, key, err := ParseURI(tc.uri)
			if !tc.ok {
				if !errors.Is(err, ErrInvalidURI) {
					t.Fatalf("ParseURI(%q) = %q, %q, %v; want ErrInvalidURI", tc.uri, bucket, key, err)
				}
				return
			}
			if err != nil || bucket != tc.bucket || key != tc.key {
				t.Fatalf("ParseURI(%q) = %q, %q, %v; want %q, %q", tc.uri, bucket, key, err, tc.bucket, tc.key)
			}
		})
	}
}
