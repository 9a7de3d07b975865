package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"glaux/internal/api"
)

// rawResponse is one hand-made request's answer, its JSON body decoded with UseNumber so
// that tests can tell numbers from strings.
type rawResponse struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// rawCall POSTs body to endpoint+path with X-Amz-Target AmazonAthena.<op>, signed with
// test/test at the current time unless sign is false (op "" sends no target header).
func rawCall(t testing.TB, endpoint, path, op string, body []byte, sign bool) rawResponse {
	t.Helper()
	req := newRawRequest(t, endpoint, path, op, body)
	if sign {
		signRaw(t, req, body, "test", "test", time.Now())
	}
	return doRaw(t, req)
}

func newRawRequest(t testing.TB, endpoint, path, op string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if op != "" {
		req.Header.Set("X-Amz-Target", "AmazonAthena."+op)
	}
	return req
}

// signRaw signs req with the SDK's own SigV4 signer, as if the request were made at when.
func signRaw(t testing.TB, req *http.Request, body []byte, akid, secret string, when time.Time) {
	t.Helper()
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "athena", "us-east-1", when)
	if err != nil {
		t.Fatal(err)
	}
}

func doRaw(t testing.TB, req *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := rawResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&out.Body); err != nil {
		t.Fatalf("response body is not a JSON object (status %d): %q", resp.StatusCode, raw)
	}
	return out
}

// wantInvalid asserts err is an InvalidRequestException with the AthenaErrorCode code (any
// when "") and a message containing every part of msg.
func wantInvalid(t testing.TB, err error, code string, msg ...string) {
	t.Helper()
	var ire *types.InvalidRequestException
	if !errors.As(err, &ire) {
		t.Fatalf("got %T %v, want *types.InvalidRequestException", err, err)
	}
	if code != "" && aws.ToString(ire.AthenaErrorCode) != code {
		t.Errorf("AthenaErrorCode = %q, want %q (message %q)", aws.ToString(ire.AthenaErrorCode), code, ire.ErrorMessage())
	}
	for _, m := range msg {
		if !strings.Contains(ire.ErrorMessage(), m) {
			t.Errorf("message %q does not contain %q", ire.ErrorMessage(), m)
		}
	}
}

// wantStillServing fails the test when the server no longer answers a plain request.
func wantStillServing(t testing.TB, c *athena.Client) {
	t.Helper()
	if _, err := c.ListWorkGroups(context.Background(), &athena.ListWorkGroupsInput{}); err != nil {
		t.Fatalf("the server stopped serving: %v", err)
	}
}

// TestProtocolErrors sends requests no SDK would build and checks that each gets a typed 4xx
// in the awsJson shape (__type, Message, x-amzn-RequestId) and leaves the server serving.
func TestProtocolErrors(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	big := bytes.Repeat([]byte(" "), api.MaxBodyBytes+1)
	big[0] = '{'
	tests := []struct {
		name   string
		op     string
		body   []byte
		sign   bool
		status int
		typ    string
		msg    string // part of Message
	}{
		{"malformed JSON", "ListWorkGroups", []byte(`{"MaxResults": 5`), true, 400, "SerializationException", "not valid JSON"},
		{"not an object", "ListWorkGroups", []byte(`[1, 2]`), true, 400, "SerializationException", "JSON object"},
		{"string for an integer", "ListWorkGroups", []byte(`{"MaxResults": "5"}`), true, 400, "SerializationException", "MaxResults"},
		{"number for a string", "CreateWorkGroup", []byte(`{"Name": 5}`), true, 400, "SerializationException", "Name"},
		{"object for a list", "CreateWorkGroup", []byte(`{"Name": "x", "Tags": {"Key": "a"}}`), true, 400, "SerializationException", "Tags must be of type list"},
		{"number for a list item", "CreateWorkGroup", []byte(`{"Name": "x", "Tags": [1]}`), true, 400, "SerializationException", "Tags must be of type object"},
		{"array for a map", "CreateWorkGroup", []byte(`{"Name": "x", "Configuration": {"EngineConfiguration": {"SparkProperties": [1]}}}`), true, 400, "SerializationException", "SparkProperties must be of type map"},
		{"fraction for an integer", "ListWorkGroups", []byte(`{"MaxResults": 5.5}`), true, 400, "SerializationException", "MaxResults must be of type integer"},
		{"string for a boolean", "DeleteWorkGroup", []byte(`{"WorkGroup": "x", "RecursiveDeleteOption": "true"}`), true, 400, "SerializationException", "RecursiveDeleteOption must be of type boolean"},
		{"trailing garbage", "ListWorkGroups", []byte(`{} {}`), true, 400, "SerializationException", "not valid JSON"},
		{"unknown target", "NoSuchOperation", []byte(`{}`), true, 400, "UnknownOperationException", "NoSuchOperation"},
		{"no target", "", []byte(`{}`), true, 400, "UnknownOperationException", "X-Amz-Target"},
		{"SQL operation not served", "ListNamedQueries", []byte(`{}`), true, 400, "InvalidRequestException", "not supported"},
		{"required member missing", "CreateWorkGroup", []byte(`{}`), true, 400, "InvalidRequestException", "Member must not be null"},
		{"oversize body", "ListWorkGroups", big, false, 413, "RequestEntityTooLargeException", strconv.Itoa(api.MaxBodyBytes)},
		{"missing signature", "ListWorkGroups", []byte(`{}`), false, 403, "MissingAuthenticationTokenException", "Missing Authentication Token"},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rawCall(t, s.Endpoint, "/", tc.op, tc.body, tc.sign)
			if r.Status != tc.status {
				t.Errorf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
			}
			if r.Body["__type"] != tc.typ {
				t.Errorf("__type %v, want %s: %s", r.Body["__type"], tc.typ, r.Raw)
			}
			msg, _ := r.Body["Message"].(string)
			if msg == "" || !strings.Contains(msg, tc.msg) {
				t.Errorf("Message %q, want one containing %q", msg, tc.msg)
			}
			id := r.Header.Get("x-amzn-RequestId")
			if id == "" || seen[id] {
				t.Errorf("x-amzn-RequestId %q: want a fresh id", id)
			}
			seen[id] = true
			if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type %q", ct)
			}
			wantStillServing(t, s.Client)
		})
	}
	// The unserved operation is refused the same way through the SDK, as a typed error.
	_, err := s.Client.ListNamedQueries(context.Background(), &athena.ListNamedQueriesInput{})
	wantInvalid(t, err, "UNSUPPORTED_OPERATION", "ListNamedQueries", "not supported")
}

// TestProtocolTimestampsAreNumbers reads timestamps off the wire: epoch seconds as JSON
// numbers (aws-sdk-go-v2 fails on strings), close to the time the resource was made.
func TestProtocolTimestampsAreNumbers(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	createSparkWorkGroup(t, s.Client, "ts-wg")
	nb, err := s.Client.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("ts-wg"), Name: aws.String("ts")})
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().Add(time.Second)
	wantTime := func(t *testing.T, where string, v any) {
		t.Helper()
		n, ok := v.(json.Number)
		if !ok {
			t.Fatalf("%s = %#v: want a JSON number", where, v)
		}
		f, err := n.Float64()
		if err != nil {
			t.Fatalf("%s = %s: %v", where, n, err)
		}
		got := time.UnixMilli(int64(f * 1000))
		if got.Before(before) || got.After(after) {
			t.Errorf("%s = %s (%s): want between %s and %s (epoch seconds)", where, n, got, before, after)
		}
	}
	obj := func(v any) map[string]any { m, _ := v.(map[string]any); return m }
	first := func(v any) map[string]any {
		l, _ := v.([]any)
		if len(l) == 0 {
			return nil
		}
		return obj(l[0])
	}
	nbBody := []byte(`{"NotebookId":"` + *nb.NotebookId + `"}`)
	tests := []struct {
		op    string
		body  []byte
		times func(map[string]any) map[string]any // the object holding the timestamps
		names []string
	}{
		{"GetWorkGroup", []byte(`{"WorkGroup":"ts-wg"}`), func(b map[string]any) map[string]any { return obj(b["WorkGroup"]) }, []string{"CreationTime"}},
		{"ListWorkGroups", []byte(`{"MaxResults":50}`), func(b map[string]any) map[string]any {
			for _, w := range b["WorkGroups"].([]any) {
				if obj(w)["Name"] == "ts-wg" {
					return obj(w)
				}
			}
			return nil
		}, []string{"CreationTime"}},
		{"GetNotebookMetadata", nbBody, func(b map[string]any) map[string]any { return obj(b["NotebookMetadata"]) }, []string{"CreationTime", "LastModifiedTime"}},
		{"ExportNotebook", nbBody, func(b map[string]any) map[string]any { return obj(b["NotebookMetadata"]) }, []string{"CreationTime", "LastModifiedTime"}},
		{"ListNotebookMetadata", []byte(`{"WorkGroup":"ts-wg"}`), func(b map[string]any) map[string]any { return first(b["NotebookMetadataList"]) }, []string{"CreationTime", "LastModifiedTime"}},
	}
	for _, tc := range tests {
		t.Run(tc.op, func(t *testing.T) {
			r := rawCall(t, s.Endpoint, "/", tc.op, tc.body, true)
			if r.Status != 200 {
				t.Fatalf("status %d: %s", r.Status, r.Raw)
			}
			holder := tc.times(r.Body)
			if holder == nil {
				t.Fatalf("no object with timestamps in %s", r.Raw)
			}
			for _, n := range tc.names {
				wantTime(t, n, holder[n])
			}
		})
	}
}

// TestProtocolEmptyBody: the awsJson protocol says an empty body means {}.
func TestProtocolEmptyBody(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	for _, op := range []string{"ListWorkGroups", "ListEngineVersions", "ListApplicationDPUSizes"} {
		r := rawCall(t, s.Endpoint, "/", op, nil, true)
		if r.Status != 200 {
			t.Errorf("%s with an empty body: status %d: %s", op, r.Status, r.Raw)
		}
		if r.Header.Get("x-amzn-RequestId") == "" {
			t.Errorf("%s: no x-amzn-RequestId", op)
		}
	}
	// An empty body is {} for an operation with required members too: a validation error,
	// not a serialization one.
	r := rawCall(t, s.Endpoint, "/", "GetWorkGroup", nil, true)
	if r.Status != 400 || r.Body["__type"] != "InvalidRequestException" {
		t.Errorf("GetWorkGroup with an empty body: %d %s", r.Status, r.Raw)
	}
	// An operation with an empty output answers {}.
	r = rawCall(t, s.Endpoint, "/", "CreateWorkGroup", []byte(`{"Name":"empty-out"}`), true)
	if r.Status != 200 || len(r.Body) != 0 {
		t.Errorf("CreateWorkGroup: %d %s, want 200 {}", r.Status, r.Raw)
	}
}

// TestProtocolPathPrefix: an endpoint URL with a path works; Go sends POST /athena/, botocore
// POST /athena.
func TestProtocolPathPrefix(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	c := newClient(s.Endpoint+"/athena", "test", "test")
	out, err := c.GetWorkGroup(context.Background(), &athena.GetWorkGroupInput{WorkGroup: aws.String("primary")})
	if err != nil {
		t.Fatalf("SDK through /athena/: %v", err)
	}
	if aws.ToString(out.WorkGroup.Name) != "primary" {
		t.Errorf("got workgroup %v", out.WorkGroup.Name)
	}
	for _, path := range []string{"/athena", "/athena/", "/"} {
		r := rawCall(t, s.Endpoint, path, "GetWorkGroup", []byte(`{"WorkGroup":"primary"}`), true)
		if r.Status != 200 {
			t.Errorf("POST %s: %d %s", path, r.Status, r.Raw)
		}
	}
}
