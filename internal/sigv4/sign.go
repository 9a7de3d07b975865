package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// Sign signs r in the header form, for tests and benchmarks: it sets
// X-Amz-Date and Authorization, signing host, x-amz-date, and content-type
// and x-amz-target when present. The payload hash is X-Amz-Content-Sha256
// when set (as botocore does), else hex sha256(body).
func Sign(r *http.Request, body []byte, accessKeyID, secret, region, service string, t time.Time) {
	amzDate := t.UTC().Format(amzDateLayout)
	r.Header.Set("X-Amz-Date", amzDate)
	r.Header.Del("Authorization")

	var signed strings.Builder // names are in sorted order by construction
	if _, ok := r.Header["Content-Type"]; ok {
		signed.WriteString("content-type;")
	}
	signed.WriteString("host;x-amz-date")
	if _, ok := r.Header["X-Amz-Target"]; ok {
		signed.WriteString(";x-amz-target")
	}

	sum := sha256.Sum256(body)
	payload := []byte(hex.EncodeToString(sum[:]))
	if cs := r.Header.Get("X-Amz-Content-Sha256"); cs != "" {
		payload = []byte(cs)
	}
	var cq string
	if q, ok := parseQuery(r.URL.RawQuery); ok && len(q) > 0 {
		cq = canonicalQuery(q, "")
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	path := r.URL.EscapedPath()
	s3 := service == "s3"
	if !s3 {
		path = normalizePath(path)
	}
	in := canonicalInput{
		r: r, method: r.Method, cq: cq, host: host,
		signedHeaders: signed.String(), payload: payload, s3: s3,
	}
	// Fails only without a host, which Verify refuses anyway.
	b, _ := in.append(nil, path)
	date := amzDate[:8]
	sig := finishSignature(&b, signingKey(secret, date, region, service), amzDate, date, region, service)

	r.Header.Set("Authorization", algorithm+" Credential="+accessKeyID+"/"+date+"/"+region+"/"+service+"/"+terminator+
		", SignedHeaders="+in.signedHeaders+", Signature="+hex.EncodeToString(sig[:]))
}
