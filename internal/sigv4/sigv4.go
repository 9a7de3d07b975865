// Package sigv4 verifies AWS Signature Version 4 requests, in the header form
// sent by botocore and aws-sdk-go-v2 to AWS JSON 1.1 services (Athena) and in
// the presigned-query form used by S3-style endpoints.
//
// Refusals are *Error values carrying the AWS error name and the HTTP status
// the server must answer with, so the HTTP layer can serialise them directly.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// AWS error names returned in Error.Code.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeInvalidSignature           = "InvalidSignatureException"
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	terminator      = "aws4_request"
	amzDateLayout   = "20060102T150405Z"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	defaultService  = "athena"
	defaultMaxSkew  = 15 * time.Minute
	// maxPresignExpires is S3's limit for X-Amz-Expires (7 days).
	maxPresignExpires = 7 * 24 * 60 * 60

	msgMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Credentials looks up the secret for an access key id; ok=false when unknown.
type Credentials interface {
	Secret(accessKeyID string) (secret string, ok bool)
}

// StaticCredentials maps access key id -> secret.
type StaticCredentials map[string]string

// Secret implements Credentials.
func (c StaticCredentials) Secret(accessKeyID string) (string, bool) {
	s, ok := c[accessKeyID]
	return s, ok
}

// Verifier checks SigV4 signatures. The zero value of every optional field is
// usable; a Verifier is safe for concurrent use.
type Verifier struct {
	Creds   Credentials
	Service string           // scope service; "" = "athena"
	Now     func() time.Time // injected clock; nil = time.Now
	MaxSkew time.Duration    // allowed clock difference; <= 0 = 15 minutes
}

// Identity is the authenticated caller.
type Identity struct {
	AccessKeyID, Region string
}

// Error is returned for every refusal; Code is the AWS error name and Status
// the HTTP status the server must send.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func incomplete(msg string) *Error {
	return &Error{Code: CodeIncompleteSignature, Message: msg, Status: http.StatusBadRequest}
}

func invalid(msg string) *Error {
	return &Error{Code: CodeInvalidSignature, Message: msg, Status: http.StatusForbidden}
}

func missingToken() *Error {
	return &Error{Code: CodeMissingAuthenticationToken, Message: "Missing Authentication Token", Status: http.StatusForbidden}
}

// authParams is the parsed signature, borrowed from the request's strings.
type authParams struct {
	accessKeyID, scopeDate, region, service, term string
	signedHeaders, signature, amzDate             string
}

func (v *Verifier) service() string {
	if v.Service == "" {
		return defaultService
	}
	return v.Service
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew <= 0 {
		return defaultMaxSkew
	}
	return v.MaxSkew
}

// Verify checks r's signature over body (the exact request body bytes, already
// read). On success it returns the access key id and the region from the
// credential scope; on failure the error is always an *Error.
func (v *Verifier) Verify(r *http.Request, body []byte) (Identity, error) {
	id, e := v.verify(r, body)
	if e != nil {
		return Identity{}, e
	}
	return id, nil // not `id, e`: a nil *Error is a non-nil error
}

func (v *Verifier) verify(r *http.Request, body []byte) (Identity, *Error) {
	auth, hasAuth := r.Header["Authorization"]
	var query []queryPair
	if r.URL != nil && r.URL.RawQuery != "" {
		var ok bool
		if query, ok = parseQuery(r.URL.RawQuery); !ok {
			if !hasAuth {
				return Identity{}, missingToken()
			}
			return Identity{}, incomplete("The query string is malformed.")
		}
	}
	presigned := isPresigned(query)
	switch {
	case hasAuth && presigned:
		return Identity{}, incomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case presigned:
		return v.verifyPresigned(r, query)
	case !hasAuth:
		return Identity{}, missingToken()
	case len(auth) != 1:
		return Identity{}, incomplete("Only one Authorization header is allowed.")
	}

	p, e := parseAuthorization(auth[0])
	if e != nil {
		return Identity{}, e
	}
	dates := r.Header["X-Amz-Date"]
	switch len(dates) {
	case 0:
		return Identity{}, incomplete("Authorization header requires existence of an 'X-Amz-Date' header.")
	case 1:
		p.amzDate = dates[0]
	default:
		return Identity{}, incomplete("Only one X-Amz-Date header is allowed.")
	}

	// Non-S3 services always sign the body hash; an X-Amz-Content-Sha256 header
	// is only a claim about the body, and a wrong claim means the body is not
	// the one that was signed, hence InvalidSignature (403), not a 400.
	sum := sha256.Sum256(body)
	var sumHex [64]byte
	hex.Encode(sumHex[:], sum[:])
	payload := sumHex[:]
	if cs := r.Header["X-Amz-Content-Sha256"]; len(cs) > 0 {
		switch {
		case len(cs) != 1:
			return Identity{}, incomplete("Only one X-Amz-Content-Sha256 header is allowed.")
		case cs[0] == unsignedPayload && v.service() == "s3":
			payload = unsignedPayloadBytes
		case cs[0] == unsignedPayload:
			return Identity{}, invalid("UNSIGNED-PAYLOAD is not accepted by this service.")
		case cs[0] != string(sumHex[:]):
			return Identity{}, invalid("The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
	}
	var cq string
	if len(query) > 0 {
		cq = canonicalQuery(query, "")
	}
	return v.check(r, &p, cq, payload, false, 0)
}

var unsignedPayloadBytes = []byte(unsignedPayload)

// parseAuthorization parses "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
// Parameters may come in any order; whitespace around them is ignored.
func parseAuthorization(h string) (authParams, *Error) {
	var p authParams
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != algorithm {
		return p, incomplete("Unsupported Authorization algorithm; expected 'AWS4-HMAC-SHA256'.")
	}
	var cred string
	var haveCred, haveSH, haveSig bool
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return p, incomplete("Authorization header parameters must be key=value pairs separated by commas.")
		}
		var seen *bool
		switch k {
		case "Credential":
			seen, cred = &haveCred, val
		case "SignedHeaders":
			seen, p.signedHeaders = &haveSH, val
		case "Signature":
			seen, p.signature = &haveSig, val
		default:
			return p, incomplete("Unknown Authorization header parameter.")
		}
		if *seen {
			return p, incomplete("Duplicate Authorization header parameter '" + k + "'.")
		}
		*seen = true
	}
	if !haveCred || !haveSH || !haveSig || cred == "" || p.signedHeaders == "" || p.signature == "" {
		var msg strings.Builder
		if !haveCred || cred == "" {
			msg.WriteString("Authorization header requires 'Credential' parameter. ")
		}
		if !haveSH || p.signedHeaders == "" {
			msg.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
		}
		if !haveSig || p.signature == "" {
			msg.WriteString("Authorization header requires 'Signature' parameter. ")
		}
		return p, incomplete(strings.TrimSpace(msg.String()))
	}
	return p, parseCredential(cred, &p)
}

// parseCredential splits AKID/YYYYMMDD/region/service/aws4_request.
func parseCredential(c string, p *authParams) *Error {
	var parts [5]string
	rest := c
	for i := range parts {
		var ok bool
		parts[i], rest, ok = strings.Cut(rest, "/")
		if ok != (i < 4) || parts[i] == "" {
			return incomplete("Credential must have the form <AccessKeyId>/<YYYYMMDD>/<region>/<service>/aws4_request.")
		}
	}
	p.accessKeyID, p.scopeDate, p.region, p.service, p.term = parts[0], parts[1], parts[2], parts[3], parts[4]
	return nil
}

// check runs the checks shared by the header and presigned forms; cq is the
// canonical query string, payload the payload hash to put in the canonical
// request, expires the presigned lifetime in seconds (0 = header form rules).
func (v *Verifier) check(r *http.Request, p *authParams, cq string, payload []byte, presigned bool, expires int64) (Identity, *Error) {
	svc := v.service()
	if p.term != terminator {
		return Identity{}, incomplete("Credential should be scoped with a valid terminator: 'aws4_request'.")
	}
	if p.service != svc {
		return Identity{}, incomplete("Credential should be scoped to correct service: '" + svc + "'.")
	}
	t, ok := parseAmzDate(p.amzDate)
	if !ok {
		return Identity{}, incomplete(fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", p.amzDate))
	}
	if p.scopeDate != p.amzDate[:8] {
		return Identity{}, incomplete(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", p.scopeDate, p.amzDate[:8], p.amzDate))
	}
	if e := checkSignedHeaders(p.signedHeaders, presigned); e != nil {
		return Identity{}, e
	}
	if r.URL == nil {
		return Identity{}, incomplete("The request has no URL.")
	}

	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	path := r.URL.EscapedPath()
	s3 := svc == "s3"
	// AWS normalises the path (dot segments, repeated slashes) for every
	// service but S3; botocore does too, aws-sdk-go-v2 does not. Sign-check the
	// normalised form first and fall back to the path as sent.
	primary, alt := path, ""
	if !s3 {
		if n := normalizePath(path); n != path {
			primary, alt = n, path
		}
	}
	in := canonicalInput{
		r: r, method: r.Method, cq: cq, host: host,
		signedHeaders: p.signedHeaders, payload: payload, s3: s3,
	}

	bp := bufPool.Get().(*[]byte)
	defer putBuf(bp)
	b, e := in.append((*bp)[:0], primary)
	if e != nil {
		*bp = b
		return Identity{}, e
	}

	secret, known := v.credentials(p.accessKeyID)
	if !known {
		*bp = b
		return Identity{}, &Error{Code: CodeUnrecognizedClient, Message: "The security token included in the request is invalid.", Status: http.StatusForbidden}
	}

	now := v.now().UTC()
	skew := v.maxSkew()
	if e := checkTime(t, now, skew, expires); e != nil {
		*bp = b
		return Identity{}, e
	}

	var want [32]byte
	if !decodeHex(want[:], p.signature) {
		*bp = b
		return Identity{}, invalid(msgMismatch)
	}
	key := signingKey(secret, p.scopeDate, p.region, p.service)
	got := finishSignature(&b, key, p.amzDate, p.scopeDate, p.region, p.service)
	match := hmac.Equal(got[:], want[:])
	if !match && alt != "" {
		// Cannot fail: the same headers were found for the primary path.
		b, _ = in.append(b[:0], alt)
		got = finishSignature(&b, key, p.amzDate, p.scopeDate, p.region, p.service)
		match = hmac.Equal(got[:], want[:])
	}
	*bp = b
	if !match {
		return Identity{}, invalid(msgMismatch)
	}
	return Identity{AccessKeyID: p.accessKeyID, Region: p.region}, nil
}

func (v *Verifier) credentials(akid string) (string, bool) {
	if v.Creds == nil {
		return "", false
	}
	return v.Creds.Secret(akid)
}

// checkSignedHeaders enforces the AWS rules on the SignedHeaders list:
// lower-case names, sorted without duplicates (every SDK sends that; it also
// means each header is copied into the canonical request at most once, so a
// list repeating one large header cannot blow up the work), host always
// signed, and x-amz-date signed in the header form.
func checkSignedHeaders(list string, presigned bool) *Error {
	var host, date bool
	prev := ""
	for rest := list; ; {
		name, more, found := strings.Cut(rest, ";")
		if name == "" || name <= prev && prev != "" {
			return incomplete("SignedHeaders must be a sorted, ';'-separated list of distinct lower-case header names.")
		}
		for i := 0; i < len(name); i++ {
			if 'A' <= name[i] && name[i] <= 'Z' {
				return incomplete("SignedHeaders must be a sorted, ';'-separated list of distinct lower-case header names.")
			}
		}
		switch name {
		case "host":
			host = true
		case "x-amz-date":
			date = true
		}
		if !found {
			break
		}
		prev, rest = name, more
	}
	if !host {
		return incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if !presigned && !date {
		return incomplete("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

// checkTime refuses requests signed too far from now. With expires > 0
// (presigned URLs) the validity window is [t-skew, t+expires] instead.
func checkTime(t, now time.Time, skew time.Duration, expires int64) *Error {
	if expires > 0 {
		if now.After(t.Add(time.Duration(expires) * time.Second)) {
			return invalid("Request has expired.")
		}
	} else if earliest := now.Add(-skew); t.Before(earliest) {
		return invalid(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			t.Format(amzDateLayout), earliest.Format(amzDateLayout), now.Format(amzDateLayout), skewText(skew)))
	}
	if latest := now.Add(skew); t.After(latest) {
		return invalid(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
			t.Format(amzDateLayout), latest.Format(amzDateLayout), now.Format(amzDateLayout), skewText(skew)))
	}
	return nil
}

func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	}
	return d.String()
}

// parseAmzDate parses YYYYMMDDTHHMMSSZ strictly and without allocating.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != 16 || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d := num(0, 4), num(4, 2), num(6, 2)
	h, mi, sec := num(9, 2), num(11, 2), num(13, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
	if t.Day() != d { // e.g. 20240230 normalised into March
		return time.Time{}, false
	}
	return t, true
}

func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// isPresigned reports whether the query carries SigV4 query authentication.
func isPresigned(q []queryPair) bool {
	for _, p := range q {
		switch p.key {
		case "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature":
			return true
		}
	}
	return false
}

// verifyPresigned handles the query form. The payload is always
// UNSIGNED-PAYLOAD (the signer cannot know the body), and X-Amz-Date need not
// be a signed header since it is part of the signed query string.
func (v *Verifier) verifyPresigned(r *http.Request, q []queryPair) (Identity, *Error) {
	var alg, cred, expiresStr string
	var p authParams
	seen := map[string]bool{}
	for _, kv := range q {
		var dst *string
		switch kv.key {
		case "X-Amz-Algorithm":
			dst = &alg
		case "X-Amz-Credential":
			dst = &cred
		case "X-Amz-Date":
			dst = &p.amzDate
		case "X-Amz-SignedHeaders":
			dst = &p.signedHeaders
		case "X-Amz-Signature":
			dst = &p.signature
		case "X-Amz-Expires":
			dst = &expiresStr
		default:
			continue
		}
		if seen[kv.key] {
			return Identity{}, incomplete("Duplicate query parameter '" + kv.key + "'.")
		}
		seen[kv.key] = true
		*dst = kv.value
	}
	if alg != algorithm {
		return Identity{}, incomplete("X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256'.")
	}
	for _, need := range [...]struct{ name, val string }{
		{"X-Amz-Credential", cred}, {"X-Amz-Date", p.amzDate},
		{"X-Amz-SignedHeaders", p.signedHeaders}, {"X-Amz-Signature", p.signature},
	} {
		if need.val == "" {
			return Identity{}, incomplete("Query-string authentication requires the " + need.name + " parameter.")
		}
	}
	if e := parseCredential(cred, &p); e != nil {
		return Identity{}, e
	}
	var expires int64
	if seen["X-Amz-Expires"] {
		n, err := strconv.ParseInt(expiresStr, 10, 64)
		if err != nil || n < 1 || n > maxPresignExpires {
			return Identity{}, incomplete("X-Amz-Expires must be an integer number of seconds between 1 and 604800.")
		}
		expires = n
	}
	cq := canonicalQuery(q, "X-Amz-Signature")
	return v.check(r, &p, cq, unsignedPayloadBytes, true, expires)
}

// ScopeService is the service named in a request's credential scope (Authorization header or
// presigned X-Amz-Credential), "" when it has none; unverified: it only tells apart requests
// meant for different services on one port, each then verified by its own Verifier.
func ScopeService(r *http.Request) string {
	cred := ""
	if h := r.Header.Get("Authorization"); h != "" {
		_, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
		for _, part := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential="); ok {
				cred = v
			}
		}
	} else if r.URL != nil {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	// AKID/date/region/service/aws4_request
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}
