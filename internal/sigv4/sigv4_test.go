package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testAKID   = "AKIDGLAUXTEST"
	testSecret = "glaux/secret+KEY"
	endpoint   = "https://athena.us-east-1.amazonaws.com"
	startBody  = `{"WorkGroup":"spark-wg","EngineConfiguration":{"CoordinatorDpuSize":1,"MaxConcurrentDpus":20}}`
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func verifierAt(now time.Time) *Verifier {
	return &Verifier{
		Creds:   StaticCredentials{testAKID: testSecret},
		Service: "athena",
		Now:     func() time.Time { return now },
	}
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// onWire sends a client request through its wire form and parses it the way
// net/http's server does (Host moved out of Header, keys canonicalised).
func onWire(t testing.TB, req *http.Request) (*http.Request, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	sr, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(sr.Body)
	if err != nil {
		t.Fatal(err)
	}
	return sr, body
}

type sdkReq struct {
	method, url, body string
	headers           map[string]string
	region, service   string
	token             string
	at                time.Time
}

// sdkSigned signs with the real aws-sdk-go-v2 signer, as the Go Athena client does.
func sdkSigned(t testing.TB, s sdkReq) (*http.Request, []byte) {
	t.Helper()
	if s.method == "" {
		s.method = http.MethodPost
	}
	if s.url == "" {
		s.url = endpoint + "/"
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.service == "" {
		s.service = "athena"
	}
	if s.at.IsZero() {
		s.at = t0
	}
	if s.headers == nil {
		s.headers = map[string]string{
			"Content-Type": "application/x-amz-json-1.1",
			"X-Amz-Target": "AmazonAthena.StartSession",
		}
	}
	req, err := http.NewRequest(s.method, s.url, strings.NewReader(s.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range s.headers {
		req.Header.Set(k, v)
	}
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: s.token}
	payload := hexSHA([]byte(s.body))
	if h := req.Header.Get("X-Amz-Content-Sha256"); h != "" {
		payload = h
	}
	err = v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, s.service, s.region, s.at)
	if err != nil {
		t.Fatal(err)
	}
	return onWire(t, req)
}

func mustVerify(t *testing.T, v *Verifier, r *http.Request, body []byte, wantRegion string) {
	t.Helper()
	id, err := v.Verify(r, body)
	if err != nil {
		t.Fatalf("Verify: %v\nAuthorization: %s", err, r.Header.Get("Authorization"))
	}
	if id.AccessKeyID != testAKID || id.Region != wantRegion {
		t.Fatalf("identity = %+v, want %s/%s", id, testAKID, wantRegion)
	}
}

func TestVerifySDKSigned(t *testing.T) {
	cases := []struct {
		name   string
		req    sdkReq
		region string
	}{
		{"root", sdkReq{body: startBody}, "us-east-1"},
		{"prefix path", sdkReq{url: endpoint + "/athena/", body: startBody}, "us-east-1"},
		{"other region", sdkReq{body: startBody, region: "eu-west-1"}, "eu-west-1"},
		{"empty body", sdkReq{body: ""}, "us-east-1"},
		{"session token", sdkReq{body: startBody, token: "FQoGZXIvYXdzEJr//////////"}, "us-east-1"},
		{"escaped path", sdkReq{url: endpoint + "/a%20b/c:d/%E1%88%B4", body: startBody}, "us-east-1"},
		{"query", sdkReq{url: endpoint + "/?b=2&a=1&a=0&sp=x%20y&e=", body: startBody}, "us-east-1"},
		{"non-default port", sdkReq{url: "http://localhost:8080/", body: startBody}, "us-east-1"},
		{"retry headers", sdkReq{body: startBody, headers: map[string]string{
			"Content-Type":          "application/x-amz-json-1.1",
			"X-Amz-Target":          "AmazonAthena.GetSession",
			"Amz-Sdk-Invocation-Id": "8a5e0f4c-0000-4000-8000-000000000000",
			"Amz-Sdk-Request":       "attempt=1; max=3",
		}}, "us-east-1"},
		{"content sha256 header", sdkReq{body: startBody, headers: map[string]string{
			"Content-Type":         "application/x-amz-json-1.1",
			"X-Amz-Content-Sha256": hexSHA([]byte(startBody)),
		}}, "us-east-1"},
		{"spaces in value", sdkReq{body: startBody, headers: map[string]string{
			"Content-Type": "application/x-amz-json-1.1",
			"X-Custom":     "a   b    c",
		}}, "us-east-1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, body := sdkSigned(t, tc.req)
			mustVerify(t, verifierAt(t0.Add(3*time.Minute)), r, body, tc.region)
		})
	}
}

// TestSDKUnsignedHeaderIgnored: headers added after signing (proxies, the
// User-Agent net/http adds) do not matter.
func TestSDKUnsignedHeaderIgnored(t *testing.T) {
	r, body := sdkSigned(t, sdkReq{body: startBody})
	r.Header.Set("X-Forwarded-For", "10.0.0.1")
	r.Header.Set("User-Agent", "something else")
	mustVerify(t, verifierAt(t0), r, body, "us-east-1")
}

// TestAWSTestSuite checks vectors published in the AWS SigV4 test suite
// (credentials AKIDEXAMPLE, 20150830T123600Z, us-east-1, service "service").
func TestAWSTestSuite(t *testing.T) {
	const (
		prefix = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders="
		date   = "20150830T123600Z"
	)
	cases := []struct {
		name, method, url, body string
		headers                 map[string][]string
		auth                    string
	}{
		{"get-vanilla", "GET", "/", "", nil,
			"host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-vanilla-query-order-key-case", "GET", "/?Param2=value2&Param1=value1", "", nil,
			"host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
		{"get-vanilla-empty-query-key", "GET", "/?Param1=value1", "", nil,
			"host;x-amz-date, Signature=a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
		{"get-vanilla-utf8-query", "GET", "/?%E1%88%B4=bar", "", nil,
			"host;x-amz-date, Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
		{"get-slashes-unnormalized", "GET", "//example//", "", nil,
			"host;x-amz-date, Signature=87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5"},
		{"get-header-value-trim", "GET", "/", "",
			map[string][]string{"My-Header1": {" value1"}, "My-Header2": {` "a   b   c"`}},
			"host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
		{"post-vanilla", "POST", "/", "", nil,
			"host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{"post-x-www-form-urlencoded", "POST", "/", "Param1=value1",
			map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}},
			"content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
	}
	v := &Verifier{
		Creds:   StaticCredentials{"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
		Service: "service",
		Now:     func() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) },
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := http.NewRequest(tc.method, "https://example.amazonaws.com"+tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range tc.headers {
				r.Header[k] = vs
			}
			r.Header.Set("X-Amz-Date", date)
			r.Header.Set("Authorization", prefix+tc.auth)
			id, err := v.Verify(r, []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if id != (Identity{"AKIDEXAMPLE", "us-east-1"}) {
				t.Fatalf("identity %+v", id)
			}
			// One bit off must fail.
			r.Header.Set("Authorization", prefix+tc.auth[:len(tc.auth)-1]+"0")
			if strings.HasSuffix(tc.auth, "0") {
				r.Header.Set("Authorization", prefix+tc.auth[:len(tc.auth)-1]+"1")
			}
			if _, err := v.Verify(r, []byte(tc.body)); err == nil {
				t.Fatal("altered signature accepted")
			}
		})
	}
}

func TestSignVerifies(t *testing.T) {
	for _, path := range []string{"/", "/athena/", "/a%20b/", "/?x=1&a=b%2Fc", "/a/./b/../c//d"} {
		t.Run(path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, endpoint+path, strings.NewReader(startBody))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AmazonAthena.StartSession")
			Sign(req, []byte(startBody), testAKID, testSecret, "ap-south-1", "athena", t0)
			if got := req.Header.Get("Authorization"); !strings.Contains(got, "SignedHeaders=content-type;host;x-amz-date;x-amz-target,") {
				t.Fatalf("Authorization %q", got)
			}
			r, body := onWire(t, req)
			mustVerify(t, verifierAt(t0), r, body, "ap-south-1")
		})
	}
}

// TestSignMatchesSDK pins Sign to the SDK signer byte for byte.
func TestSignMatchesSDK(t *testing.T) {
	hdr := map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonAthena.ListSessions"}
	sdk, _ := sdkSigned(t, sdkReq{url: endpoint + "/athena/", headers: hdr, body: ""}) // empty body: no content-length signed
	req, _ := http.NewRequest(http.MethodPost, endpoint+"/athena/", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	Sign(req, nil, testAKID, testSecret, "us-east-1", "athena", t0)
	if got, want := req.Header.Get("Authorization"), sdk.Header.Get("Authorization"); got != want {
		t.Fatalf("Sign:\n%s\nSDK:\n%s", got, want)
	}
}

func TestRefusals(t *testing.T) {
	replaceAuth := func(old, new string) func(*http.Request, *[]byte) {
		return func(r *http.Request, _ *[]byte) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
		}
	}
	setAuth := func(v string) func(*http.Request, *[]byte) {
		return func(r *http.Request, _ *[]byte) { r.Header.Set("Authorization", v) }
	}
	const scope = "Credential=" + testAKID + "/20240101/us-east-1/athena/aws4_request"
	const sh = "SignedHeaders=content-type;host;x-amz-date;x-amz-target"
	const sig = "Signature=0000000000000000000000000000000000000000000000000000000000000000"
	cases := []struct {
		name    string
		mutate  func(r *http.Request, body *[]byte)
		v       func(v *Verifier)
		code    string
		status  int
		message string // substring
	}{
		{name: "no authorization", mutate: func(r *http.Request, _ *[]byte) { r.Header.Del("Authorization") },
			code: CodeMissingAuthenticationToken, status: 403},
		{name: "empty authorization", mutate: setAuth(""), code: CodeIncompleteSignature, status: 400},
		{name: "algorithm only", mutate: setAuth("AWS4-HMAC-SHA256"), code: CodeIncompleteSignature, status: 400,
			message: "requires 'Credential'"},
		{name: "bearer", mutate: setAuth("Bearer abc"), code: CodeIncompleteSignature, status: 400},
		{name: "wrong algorithm", mutate: replaceAuth("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"), code: CodeIncompleteSignature, status: 400},
		{name: "missing credential", mutate: setAuth("AWS4-HMAC-SHA256 " + sh + ", " + sig), code: CodeIncompleteSignature, status: 400,
			message: "'Credential'"},
		{name: "missing signed headers", mutate: setAuth("AWS4-HMAC-SHA256 " + scope + ", " + sig), code: CodeIncompleteSignature, status: 400,
			message: "'SignedHeaders'"},
		{name: "missing signature", mutate: setAuth("AWS4-HMAC-SHA256 " + scope + ", " + sh), code: CodeIncompleteSignature, status: 400,
			message: "'Signature'"},
		{name: "empty signature", mutate: setAuth("AWS4-HMAC-SHA256 " + scope + ", " + sh + ", Signature="), code: CodeIncompleteSignature, status: 400},
		{name: "duplicate parameter", mutate: setAuth("AWS4-HMAC-SHA256 " + scope + ", " + scope + ", " + sh + ", " + sig), code: CodeIncompleteSignature, status: 400},
		{name: "no key=value", mutate: setAuth("AWS4-HMAC-SHA256 " + scope + " " + sh + " " + sig), code: CodeIncompleteSignature, status: 400},
		{name: "short scope", mutate: replaceAuth("/us-east-1/athena/aws4_request", "/us-east-1/athena"), code: CodeIncompleteSignature, status: 400},
		{name: "long scope", mutate: replaceAuth("/aws4_request", "/aws4_request/x"), code: CodeIncompleteSignature, status: 400},
		{name: "bad terminator", mutate: replaceAuth("/aws4_request", "/aws5_request"), code: CodeIncompleteSignature, status: 400},
		{name: "scope service", mutate: replaceAuth("/athena/", "/s3/"), code: CodeIncompleteSignature, status: 400,
			message: "correct service: 'athena'"},
		{name: "scope date", mutate: replaceAuth("/20240101/", "/20231231/"), code: CodeIncompleteSignature, status: 400,
			message: "'20231231' != '20240101'"},
		{name: "missing x-amz-date", mutate: func(r *http.Request, _ *[]byte) { r.Header.Del("X-Amz-Date") },
			code: CodeIncompleteSignature, status: 400},
		{name: "bad x-amz-date", mutate: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Date", "20240101T250000Z") },
			code: CodeIncompleteSignature, status: 400, message: "ISO-8601"},
		{name: "signed header missing", mutate: func(r *http.Request, _ *[]byte) { r.Header.Del("X-Amz-Target") },
			code: CodeIncompleteSignature, status: 400, message: "'x-amz-target'"},
		{name: "host not signed", mutate: replaceAuth("content-type;host;", "content-type;"), code: CodeIncompleteSignature, status: 400,
			message: "'Host'"},
		{name: "x-amz-date not signed", mutate: replaceAuth(";x-amz-date;", ";"), code: CodeIncompleteSignature, status: 400},
		{name: "unsorted signed headers", mutate: replaceAuth("content-type;host;", "host;content-type;"), code: CodeIncompleteSignature, status: 400},
		{name: "duplicate signed header", mutate: replaceAuth("content-type;host;", "content-type;content-type;host;"), code: CodeIncompleteSignature, status: 400},
		{name: "upper-case signed header", mutate: replaceAuth("content-type;host;", "Content-Type;host;"), code: CodeIncompleteSignature, status: 400},
		{name: "empty signed header name", mutate: replaceAuth("host;", "host;;"), code: CodeIncompleteSignature, status: 400},
		{name: "two authorization headers", mutate: func(r *http.Request, _ *[]byte) { r.Header.Add("Authorization", "x") },
			code: CodeIncompleteSignature, status: 400},
		{name: "header and query auth", mutate: func(r *http.Request, _ *[]byte) { r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256" },
			code: CodeIncompleteSignature, status: 400},
		{name: "malformed query", mutate: func(r *http.Request, _ *[]byte) { r.URL.RawQuery = "a=%zz" },
			code: CodeIncompleteSignature, status: 400},
		{name: "unknown key", mutate: replaceAuth("Credential="+testAKID, "Credential=AKIDUNKNOWN"),
			code: CodeUnrecognizedClient, status: 403, message: "security token included in the request is invalid"},
		{name: "no credentials configured", v: func(v *Verifier) { v.Creds = nil },
			code: CodeUnrecognizedClient, status: 403},
		{name: "wrong secret", v: func(v *Verifier) { v.Creds = StaticCredentials{testAKID: "other"} },
			code: CodeInvalidSignature, status: 403, message: "does not match"},
		{name: "tampered body", mutate: func(_ *http.Request, b *[]byte) { *b = []byte(strings.Replace(string(*b), "20", "99", 1)) },
			code: CodeInvalidSignature, status: 403},
		{name: "tampered signed header", mutate: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Target", "AmazonAthena.TerminateSession") },
			code: CodeInvalidSignature, status: 403},
		{name: "tampered host", mutate: func(r *http.Request, _ *[]byte) { r.Host = "evil.example" },
			code: CodeInvalidSignature, status: 403},
		{name: "tampered path", mutate: func(r *http.Request, _ *[]byte) { r.URL.Path, r.URL.RawPath = "/admin", "" },
			code: CodeInvalidSignature, status: 403},
		{name: "added query", mutate: func(r *http.Request, _ *[]byte) { r.URL.RawQuery = "a=1" },
			code: CodeInvalidSignature, status: 403},
		{name: "tampered method", mutate: func(r *http.Request, _ *[]byte) { r.Method = http.MethodPut },
			code: CodeInvalidSignature, status: 403},
		{name: "signature not hex", mutate: func(r *http.Request, _ *[]byte) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-1]+"g")
		}, code: CodeInvalidSignature, status: 403},
		{name: "signature short", mutate: func(r *http.Request, _ *[]byte) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-2])
		}, code: CodeInvalidSignature, status: 403},
		{name: "content sha256 mismatch", mutate: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Content-Sha256", hexSHA([]byte("x"))) },
			code: CodeInvalidSignature, status: 403, message: "x-amz-content-sha256"},
		{name: "unsigned payload refused for athena", mutate: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD") },
			code: CodeInvalidSignature, status: 403},
		{name: "16 minutes late", v: func(v *Verifier) { v.Now = func() time.Time { return t0.Add(16 * time.Minute) } },
			code: CodeInvalidSignature, status: 403,
			message: "Signature expired: 20240101T000000Z is now earlier than 20240101T000100Z (20240101T001600Z - 15 min.)"},
		{name: "16 minutes early", v: func(v *Verifier) { v.Now = func() time.Time { return t0.Add(-16 * time.Minute) } },
			code: CodeInvalidSignature, status: 403,
			message: "Signature not yet current: 20240101T000000Z is still later than 20231231T235900Z (20231231T234400Z + 15 min.)"},
		{name: "custom skew", v: func(v *Verifier) {
			v.MaxSkew = time.Minute
			v.Now = func() time.Time { return t0.Add(2 * time.Minute) }
		},
			code: CodeInvalidSignature, status: 403, message: "- 1 min.)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, body := sdkSigned(t, sdkReq{body: startBody})
			if tc.mutate != nil {
				tc.mutate(r, &body)
			}
			v := verifierAt(t0)
			if tc.v != nil {
				tc.v(v)
			}
			_, err := v.Verify(r, body)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %#v, want *Error", err)
			}
			if e.Code != tc.code || e.Status != tc.status || !strings.Contains(e.Message, tc.message) {
				t.Fatalf("got %s %d %q, want %s %d containing %q", e.Code, e.Status, e.Message, tc.code, tc.status, tc.message)
			}
		})
	}
}

func TestSkewWindow(t *testing.T) {
	r, body := sdkSigned(t, sdkReq{body: startBody})
	for _, tc := range []struct {
		offset time.Duration
		ok     bool
	}{
		{0, true}, {14 * time.Minute, true}, {-14 * time.Minute, true},
		{15 * time.Minute, true}, {-15 * time.Minute, true},
		{15*time.Minute + time.Second, false}, {-15*time.Minute - time.Second, false},
		{16 * time.Minute, false}, {-16 * time.Minute, false}, {24 * time.Hour, false},
	} {
		_, err := verifierAt(t0.Add(tc.offset)).Verify(r, body)
		if (err == nil) != tc.ok {
			t.Errorf("now = signing time %+v: err = %v, want ok=%v", tc.offset, err, tc.ok)
		}
	}
}

// TestHeaderWhitespace: signed values are compared after trimming and
// folding whitespace, so reformatting by a proxy does not break signatures.
func TestHeaderWhitespace(t *testing.T) {
	for _, tc := range []struct {
		name   string
		signed string
		sent   []string
		ok     bool
	}{
		{"same", "a b c", []string{"a b c"}, true},
		{"inner runs", "a b c", []string{"a    b  c"}, true},
		{"outer spaces", "a b c", []string{"  a b c\t"}, true},
		{"tabs folded", "a b c", []string{"a\t\tb c"}, true},
		{"signed with runs", "a   b   c", []string{"a b c"}, true},
		{"split values", "a,b", []string{"a", " b "}, true},
		{"different", "a b c", []string{"abc"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, body := sdkSigned(t, sdkReq{body: startBody, headers: map[string]string{
				"Content-Type": "application/x-amz-json-1.1", "X-Custom": tc.signed}})
			r.Header["X-Custom"] = tc.sent
			_, err := verifierAt(t0).Verify(r, body)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestS3UnsignedPayload(t *testing.T) {
	r, body := sdkSigned(t, sdkReq{method: http.MethodPut, url: "https://s3.local/bucket/key", service: "s3", body: "anything",
		headers: map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"}})
	v := verifierAt(t0)
	v.Service = "s3"
	mustVerify(t, v, r, body, "us-east-1")
}

func TestPresigned(t *testing.T) {
	presign := func(t *testing.T, service, url string, expires string, opt func(*v4.SignerOptions)) *http.Request {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if expires != "" {
			q := req.URL.Query()
			q.Set("X-Amz-Expires", expires)
			req.URL.RawQuery = q.Encode()
		}
		creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
		var opts []func(*v4.SignerOptions)
		if opt != nil {
			opts = append(opts, opt)
		}
		u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", service, "us-west-2", t0, opts...)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := http.NewRequest(http.MethodGet, u, nil)
		for k, v := range hdr {
			out.Header[k] = v
		}
		r, _ := onWire(t, out)
		return r
	}
	s3opt := func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }
	s3 := func(v *Verifier) { v.Service = "s3" }
	cases := []struct {
		name    string
		service string
		url     string
		expires string
		opt     func(*v4.SignerOptions)
		now     time.Duration
		mutate  func(*http.Request)
		code    string
	}{
		{name: "s3 ok", service: "s3", url: "https://s3.local/bucket/a%20key.txt?versionId=3", expires: "300", opt: s3opt, now: 4 * time.Minute},
		{name: "athena ok", service: "athena", url: endpoint + "/athena/", now: 10 * time.Minute},
		{name: "s3 expired", service: "s3", url: "https://s3.local/bucket/k", expires: "300", opt: s3opt, now: 6 * time.Minute, code: CodeInvalidSignature},
		{name: "s3 not yet valid", service: "s3", url: "https://s3.local/bucket/k", expires: "300", opt: s3opt, now: -16 * time.Minute, code: CodeInvalidSignature},
		{name: "tampered query", service: "s3", url: "https://s3.local/bucket/k?versionId=3", expires: "300", opt: s3opt,
			mutate: func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "versionId=3", "versionId=4", 1)
			}, code: CodeInvalidSignature},
		{name: "missing signature", service: "s3", url: "https://s3.local/bucket/k", expires: "300", opt: s3opt,
			mutate: func(r *http.Request) {
				q := r.URL.Query()
				q.Del("X-Amz-Signature")
				r.URL.RawQuery = q.Encode()
			}, code: CodeIncompleteSignature},
		{name: "bad expires", service: "s3", url: "https://s3.local/bucket/k", expires: "999999999", opt: s3opt, code: CodeIncompleteSignature},
		{name: "unknown key", service: "s3", url: "https://s3.local/bucket/k", expires: "300", opt: s3opt,
			mutate: func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, testAKID, "NOPE", 1) }, code: CodeUnrecognizedClient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := presign(t, tc.service, tc.url, tc.expires, tc.opt)
			if tc.mutate != nil {
				tc.mutate(r)
			}
			v := verifierAt(t0.Add(tc.now))
			if tc.service == "s3" {
				s3(v)
			}
			id, err := v.Verify(r, nil)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Verify: %v (%s)", err, r.URL)
				}
				if id.Region != "us-west-2" {
					t.Fatalf("identity %+v", id)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
		})
	}
}

func TestParseAmzDate(t *testing.T) {
	for s, ok := range map[string]bool{
		"20240101T000000Z": true, "20240229T235959Z": true,
		"20230229T000000Z": false, "20240101T000060Z": false, "2024010T000000Z": false,
		"20240101 000000Z": false, "20240101T000000z": false, "+2024101T000000Z": false, "": false,
	} {
		if _, got := parseAmzDate(s); got != ok {
			t.Errorf("parseAmzDate(%q) = %v", s, got)
		}
	}
}

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "/": "/", "/athena/": "/athena/", "//": "/", "/./": "/", "/example/..": "/",
		"//example//": "/example/", "/a/./b/../c": "/a/c", "/../a": "/a", "/.hidden": "/.hidden",
	} {
		if got := normalizePath(in); got != want {
			t.Errorf("normalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// benchRequest is a StartSession call as it arrives at the server.
func benchRequest(tb testing.TB) (*http.Request, []byte) {
	req, _ := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(startBody))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonAthena.StartSession")
	Sign(req, []byte(startBody), testAKID, testSecret, "us-east-1", "athena", t0)
	return onWire(tb, req)
}

func TestVerifyDoesNotAllocate(t *testing.T) {
	r, body := benchRequest(t)
	v := verifierAt(t0)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := v.Verify(r, body); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Fatalf("Verify allocates %.1f times per call", allocs)
	}
}

func BenchmarkVerify(b *testing.B) {
	r, body := benchRequest(b)
	v := verifierAt(t0)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	r, body := benchRequest(f)
	f.Add(r.Header.Get("Authorization"), body)
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDGLAUXTEST/20240101/us-east-1/athena/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", []byte("{}"))
	f.Add("AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;, Signature=zz", []byte(nil))
	f.Add("AWS4-HMAC-SHA256 ,,,==,", []byte(nil))
	f.Add("Bearer token", []byte("{}"))
	v := verifierAt(t0)
	f.Fuzz(func(t *testing.T, auth string, body []byte) {
		req := r.Clone(context.Background())
		req.Header.Set("Authorization", auth)
		id, err := v.Verify(req, body)
		if err == nil {
			if id.AccessKeyID != testAKID {
				t.Fatalf("accepted with identity %+v", id)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %T is not *Error", err)
		}
		if e.Code == "" || e.Message == "" || (e.Status != 400 && e.Status != 403) {
			t.Fatalf("bad error %+v", e)
		}
	})
}

func TestScopeService(t *testing.T) {
	tests := []struct {
		name, auth, url, want string
	}{
		{"header", "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00", "/b/k", "s3"},
		{"header athena", "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/athena/aws4_request,SignedHeaders=host,Signature=00", "/", "athena"},
		{"presigned", "", "/b/k?X-Amz-Credential=test%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00", "s3"},
		{"malformed scope", "AWS4-HMAC-SHA256 Credential=test/s3, SignedHeaders=host, Signature=00", "/", ""},
		{"unsigned", "", "/b/k", ""},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", tc.url, nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		if got := ScopeService(r); got != tc.want {
			t.Errorf("%s: ScopeService = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestBotocoreRESTVectors verifies restJson1 requests exactly as botocore 1.44 serialised and
// signed them (testdata/botocore_rest.py wrote them): labels percent-encoded once on the wire
// and again in the canonical URI, query strings with lists and escapes. Reordering the query
// keeps the signature valid; changing a label or a value breaks it.
func TestBotocoreRESTVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/botocore_rest.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Requests []struct {
			Method, URL, Body string
			Headers           map[string]string
		}
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Requests) < 5 {
		t.Fatalf("%d vectors", len(file.Requests))
	}
	for _, vec := range file.Requests {
		when, err := time.Parse("20060102T150405Z", vec.Headers["X-Amz-Date"])
		if err != nil {
			t.Fatal(err)
		}
		v := &Verifier{Creds: StaticCredentials{"test": "test"}, Now: func() time.Time { return when }}
		try := func(url string) error {
			r, err := http.NewRequest(vec.Method, url, strings.NewReader(vec.Body))
			if err != nil {
				t.Fatal(err)
			}
			for k, val := range vec.Headers {
				r.Header.Set(k, val)
			}
			_, err = v.Verify(r, []byte(vec.Body))
			return err
		}
		if err := try(vec.URL); err != nil {
			t.Errorf("%s %s: %v", vec.Method, vec.URL, err)
		}
		if base, q, ok := strings.Cut(vec.URL, "?"); ok {
			parts := strings.Split(q, "&")
			slices.Reverse(parts)
			if err := try(base + "?" + strings.Join(parts, "&")); err != nil {
				t.Errorf("%s %s with the query reordered: %v", vec.Method, vec.URL, err)
			}
			if err := try(base + "?" + strings.Replace(q, "=", "=x", 1)); err == nil {
				t.Errorf("%s %s: a changed query value verified", vec.Method, vec.URL)
			}
		}
		changed := strings.Replace(vec.URL, "%3A", ":", 1) // same label decoded, other bytes on the wire
		if changed == vec.URL {
			changed = strings.Replace(vec.URL, "/workgroups/", "/workgroups/x", 1)
		}
		if err := try(changed); err == nil {
			t.Errorf("%s %s: the changed path %s verified", vec.Method, vec.URL, changed)
		}
	}
}
