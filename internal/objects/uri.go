// Package objects stores the objects that Athena names by s3://bucket/key URIs: calculation
// results, notebooks. Dir keeps them in a local directory, the default backend.
package objects

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
)

var (
	// ErrNotFound is returned (wrapped) for an object that does not exist.
	ErrNotFound = errors.New("object not found")
	// ErrInvalidURI is returned (wrapped) for a URI that names no valid object location.
	ErrInvalidURI = errors.New("invalid object URI")
)

// maxKeyBytes is S3's limit on key length.
const maxKeyBytes = 1024

// ParseURI splits s3://bucket/key (scheme in either case, as Athena accepts) into its bucket
// and key. The key may be empty ("s3://bucket/" names a location, not an object).
func ParseURI(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		rest, ok = strings.CutPrefix(uri, "S3://")
	}
	if !ok {
		return "", "", fmt.Errorf("%w: %q: want s3://bucket/key", ErrInvalidURI, uri)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if err := validBucket(bucket); err != nil {
		return "", "", fmt.Errorf("%w: %q: %v", ErrInvalidURI, uri, err)
	}
	if len(key) > maxKeyBytes {
		return "", "", fmt.Errorf("%w: %q: key longer than %d bytes", ErrInvalidURI, uri, maxKeyBytes)
	}
	if !utf8.ValidString(key) {
		return "", "", fmt.Errorf("%w: %q: key is not UTF-8", ErrInvalidURI, uri)
	}
	return bucket, key, nil
}

// validBucket applies S3's general-purpose bucket naming rules, which also keep a bucket
// name safe as a single directory name.
func validBucket(b string) error {
	switch {
	case b == "":
		return errors.New("empty bucket name")
	case len(b) < 3 || len(b) > 63:
		return errors.New("bucket name must be 3 to 63 characters")
	case !isAlnum(b[0]) || !isAlnum(b[len(b)-1]):
		return errors.New("bucket name must start and end with a letter or digit")
	case strings.Contains(b, ".."):
		return errors.New("bucket name must not contain two adjacent periods")
	}
	for i := 0; i < len(b); i++ {
		if c := b[i]; !isAlnum(c) && c != '.' && c != '-' {
			return fmt.Errorf("bucket name may hold only lowercase letters, digits, '.' and '-', not %q", c)
		}
	}
	if _, err := netip.ParseAddr(b); err == nil {
		return errors.New("bucket name must not be an IP address")
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
