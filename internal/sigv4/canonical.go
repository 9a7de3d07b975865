package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// canonicalInput is everything of a request that goes into the canonical
// request except the path, which Verify may try in two forms.
type canonicalInput struct {
	r             *http.Request // headers and ContentLength
	method        string
	cq            string // canonical query string
	host          string
	signedHeaders string // the SignedHeaders list exactly as sent
	payload       []byte // payload hash (hex or UNSIGNED-PAYLOAD)
	s3            bool   // S3 signs the path as sent; every other service double-encodes
}

// append appends the canonical request for path (an escaped path) to b:
// method, URI, query, headers, signed header list, payload hash.
func (in *canonicalInput) append(b []byte, path string) ([]byte, *Error) {
	method := in.method
	if method == "" {
		method = http.MethodGet
	}
	b = append(b, method...)
	b = append(b, '\n')
	b = appendURI(b, path, in.s3)
	b = append(b, '\n')
	b = append(b, in.cq...)
	b = append(b, '\n')
	// Headers in the order of SignedHeaders (checked sorted and distinct).
	for rest := in.signedHeaders; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		b = append(b, name...)
		b = append(b, ':')
		switch {
		case name == "host":
			if in.host == "" {
				return b, missingHeader(name)
			}
			b = appendTrimmed(b, in.host)
		case name == "content-length" && in.r.ContentLength >= 0:
			// Go moves the length out of band; the header may be absent.
			b = strconv.AppendInt(b, in.r.ContentLength, 10)
		default:
			vals, ok := lookupHeader(in.r.Header, name)
			if !ok {
				return b, missingHeader(name)
			}
			for i, v := range vals {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendTrimmed(b, v)
			}
		}
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = append(b, in.signedHeaders...)
	b = append(b, '\n')
	b = append(b, in.payload...)
	return b, nil
}

func missingHeader(name string) *Error {
	return incomplete("Header '" + name + "' is listed in SignedHeaders but missing from the request.")
}

// lookupHeader finds a header by its lower-case SigV4 name without
// allocating: the canonical MIME form is built on the stack (the compiler
// does not allocate for m[string(bytes)]), with a case-insensitive scan as
// fallback for keys Go did not canonicalise.
func lookupHeader(h http.Header, name string) ([]string, bool) {
	var kb [64]byte
	if len(name) <= len(kb) {
		k := kb[:len(name)]
		upper := true
		for i := 0; i < len(name); i++ {
			c := name[i]
			if upper && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			} else if !upper && 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			k[i] = c
			upper = c == '-'
		}
		if v, ok := h[string(k)]; ok {
			return v, true
		}
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// appendTrimmed appends v with surrounding whitespace removed and inner runs
// folded to one space, as botocore does (' '.join(v.split())). aws-sdk-go-v2
// folds only spaces; the two differ only for tabs inside a value.
func appendTrimmed(b []byte, v string) []byte {
	i, j := 0, len(v)
	for i < j && isSpace(v[i]) {
		i++
	}
	for j > i && isSpace(v[j-1]) {
		j--
	}
	space := false
	for ; i < j; i++ {
		c := v[i]
		if isSpace(c) {
			space = true
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, c)
	}
	return b
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// appendURI appends the canonical URI. For S3 it is the escaped path as
// sent; for every other service each byte that is not unreserved (or '/') is
// percent-encoded once more, so "%20" on the wire signs as "%2520" — what
// botocore and aws-sdk-go-v2 both do.
func appendURI(b []byte, path string, s3 bool) []byte {
	if path == "" {
		return append(b, '/')
	}
	if s3 {
		return append(b, path...)
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '/' || unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}

const upperHex = "0123456789ABCDEF"

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// normalizePath removes "." and ".." segments and empty segments (repeated
// slashes), keeping a leading and trailing slash: botocore's
// remove_dot_segments. Paths without "//" or "/." are returned unchanged
// without allocating.
func normalizePath(p string) string {
	if p == "" || !strings.Contains(p, "//") && !strings.Contains(p, "/.") {
		return p
	}
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var sb strings.Builder
	if p[0] == '/' {
		sb.WriteByte('/')
	}
	sb.WriteString(strings.Join(out, "/"))
	if p[len(p)-1] == '/' && len(out) > 0 {
		sb.WriteByte('/')
	}
	if sb.Len() == 0 {
		return "/"
	}
	return sb.String()
}

// queryPair is one decoded query parameter.
type queryPair struct{ key, value string }

// parseQuery decodes a raw query string, keeping every pair in order. It
// fails on malformed escapes rather than dropping the pair (as url.ParseQuery
// does), so no unsigned parameter can slip past the signature.
func parseQuery(raw string) ([]queryPair, bool) {
	var out []queryPair
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, false
		}
		out = append(out, queryPair{k, v})
	}
	return out, true
}

// canonicalQuery encodes every pair except those named skip (RFC 3986, %20
// for space) and sorts by encoded key then value, as the spec requires
// sorting after encoding.
func canonicalQuery(q []queryPair, skip string) string {
	enc := make([]queryPair, 0, len(q))
	for _, p := range q {
		if skip != "" && p.key == skip {
			continue
		}
		enc = append(enc, queryPair{encodeQueryComponent(p.key), encodeQueryComponent(p.value)})
	}
	slices.SortFunc(enc, func(a, b queryPair) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var sb strings.Builder
	for i, p := range enc {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(p.key)
		sb.WriteByte('=')
		sb.WriteString(p.value)
	}
	return sb.String()
}

func encodeQueryComponent(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, len(s)+16), s[:i]...)
		}
		b = append(b, '%', upperHex[c>>4], upperHex[c&15])
	}
	if b == nil {
		return s
	}
	return string(b)
}

// finishSignature hashes the canonical request held in *buf, then reuses the
// buffer for the HMAC input (key^ipad || string to sign) so that computing
// the signature does not allocate. HMAC is spelled out over sha256.Sum256
// because crypto/hmac allocates per use.
func finishSignature(buf *[]byte, key *[32]byte, amzDate, scopeDate, region, service string) [32]byte {
	crHash := sha256.Sum256(*buf)
	var crHex [64]byte
	hex.Encode(crHex[:], crHash[:])

	b := (*buf)[:0]
	for i := 0; i < sha256.BlockSize; i++ {
		k := byte(0)
		if i < len(key) {
			k = key[i]
		}
		b = append(b, k^0x36)
	}
	b = append(b, algorithm+"\n"...)
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = append(b, scopeDate...)
	b = append(b, '/')
	b = append(b, region...)
	b = append(b, '/')
	b = append(b, service...)
	b = append(b, "/"+terminator+"\n"...)
	b = append(b, crHex[:]...)
	inner := sha256.Sum256(b)
	*buf = b

	var outer [sha256.BlockSize + sha256.Size]byte
	for i := 0; i < sha256.BlockSize; i++ {
		k := byte(0)
		if i < len(key) {
			k = key[i]
		}
		outer[i] = k ^ 0x5c
	}
	copy(outer[sha256.BlockSize:], inner[:])
	return sha256.Sum256(outer[:])
}

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

func putBuf(bp *[]byte) {
	if cap(*bp) > 64<<10 { // do not pin buffers grown by huge headers
		return
	}
	bufPool.Put(bp)
}

// Derived signing keys change once a day per (secret, region, service), so
// they are cached; a full HMAC chain costs four HMACs and several allocations.
// The cache is shared by all Verifiers (the key includes the secret) and is
// simply cleared when it grows past keyCacheMax entries, which bounds memory
// even if a valid client cycles through many regions.
type keyCacheID struct{ secret, date, region, service string }

const keyCacheMax = 256

var (
	keyCache    sync.Map // keyCacheID -> *[32]byte
	keyCacheLen atomic.Int64
)

func signingKey(secret, date, region, service string) *[32]byte {
	id := keyCacheID{secret, date, region, service}
	if k, ok := keyCache.Load(id); ok {
		return k.(*[32]byte)
	}
	k := deriveKey(secret, date, region, service)
	if keyCacheLen.Add(1) > keyCacheMax {
		keyCache.Clear()
		keyCacheLen.Store(1)
	}
	// Clone: the parts may be substrings of a request header we must not pin.
	keyCache.Store(keyCacheID{secret, strings.Clone(date), strings.Clone(region), strings.Clone(service)}, k)
	return k
}

func deriveKey(secret, date, region, service string) *[32]byte {
	mac := func(key []byte, data string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(data))
		return h.Sum(nil)
	}
	k := mac([]byte("AWS4"+secret), date)
	k = mac(k, region)
	k = mac(k, service)
	k = mac(k, terminator)
	var out [32]byte
	copy(out[:], k)
	return &out
}
