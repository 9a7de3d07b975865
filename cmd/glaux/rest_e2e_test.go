package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"glaux/internal/wire"
)

// restEscape percent-encodes a path label as botocore does: every byte but the unreserved
// ones, so an ARN's ':' and '/' travel as %3A and %2F.
func restEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// restCall sends one restJson1 request (pathAndQuery already escaped), signed with the
// SDK's SigV4 signer unless sign is false; body nil sends no body.
func restCall(t testing.TB, endpoint, method, pathAndQuery string, body any, sign bool) rawResponse {
	t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, endpoint+pathAndQuery, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if sign {
		signRaw(t, req, raw, "test", "test", time.Now())
	}
	return doRaw(t, req)
}

// restOK asserts a 200 with the restJson1 content type and returns the body.
func restOK(t testing.TB, r rawResponse, what string) map[string]any {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s: status %d: %s", what, r.Status, r.Raw)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	return r.Body
}

func str(t testing.TB, v any, path ...string) string {
	t.Helper()
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v: no object at %s", v, p)
		}
		v = m[p]
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%v at %v is not a string", v, path)
	}
	return s
}

// TestRESTEveryServedRoute drives every operation glaux serves through its restJson1 request
// line (fake Spark: no PySpark needed), with path labels, query strings (lists, integers,
// booleans), bodies and empty bodies, then checks the errors.
func TestRESTEveryServedRoute(t *testing.T) {
	cfg := newConfig(t, "")
	cfg.FakeSpark = true
	s := startServer(t, cfg)
	e := s.Endpoint
	call := func(method, path string, body any) map[string]any {
		t.Helper()
		return restOK(t, restCall(t, e, method, path, body, true), method+" "+path)
	}
	seen := map[string]bool{}
	op := func(name string) { seen[name] = true }

	op("CreateWorkGroup")
	call("POST", "/workgroups", map[string]any{"Name": "rest-wg", "Configuration": map[string]any{
		"EngineVersion": map[string]any{"SelectedEngineVersion": "PySpark engine version 3"},
		"ExecutionRole": "arn:aws:iam::123456789012:role/glaux-spark"},
		"Tags": []map[string]string{{"Key": "team", "Value": "data"}}})
	op("GetWorkGroup")
	wg := call("GET", "/workgroups/rest-wg", nil)
	if got := str(t, wg, "WorkGroup", "Name"); got != "rest-wg" {
		t.Errorf("GetWorkGroup name %q", got)
	}
	op("UpdateWorkGroup")
	call("PATCH", "/workgroups/rest-wg", map[string]any{"Description": "through REST"})
	if got := str(t, call("GET", "/workgroups/rest-wg", nil), "WorkGroup", "Description"); got != "through REST" {
		t.Errorf("description after UpdateWorkGroup %q", got)
	}
	op("ListWorkGroups")
	page := call("GET", "/workgroups?MaxResults=1", nil)
	if n := len(page["WorkGroups"].([]any)); n != 1 {
		t.Errorf("ListWorkGroups MaxResults=1 gave %d", n)
	}
	next := str(t, page, "NextToken")
	page2 := call("GET", "/workgroups?MaxResults=1&NextToken="+restEscape(next), nil)
	if str(t, page2["WorkGroups"].([]any)[0], "Name") == str(t, page["WorkGroups"].([]any)[0], "Name") {
		t.Error("the second page repeats the first")
	}
	op("ListEngineVersions")
	call("GET", "/engine-versions", nil)
	op("ListApplicationDPUSizes")
	call("GET", "/application-dpu-sizes?MaxResults=10", nil)

	arn := "arn:aws:athena:us-east-1:123456789012:workgroup/rest-wg"
	tags := "/tags/" + restEscape(arn)
	op("TagResource")
	call("POST", tags, map[string]any{"Tags": []map[string]string{{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}}})
	op("ListTagsForResource")
	if n := len(call("GET", tags, nil)["Tags"].([]any)); n != 3 {
		t.Errorf("ListTagsForResource: %d tags, want 3", n)
	}
	op("UntagResource")
	call("DELETE", tags+"?TagKeys=a&TagKeys=b", nil)
	if got := call("GET", tags+"?MaxResults=75", nil)["Tags"].([]any); len(got) != 1 || str(t, got[0], "Key") != "team" {
		t.Errorf("tags after untagging a and b: %v", got)
	}

	op("CreateNotebook")
	nb := str(t, call("POST", "/workgroups/rest-wg/notebooks", map[string]any{"WorkGroup": "ignored", "Name": "n1"}), "NotebookId")
	op("ImportNotebook")
	ipynb := `{"cells":[],"metadata":{},"nbformat":4,"nbformat_minor":5}`
	nb2 := str(t, call("POST", "/workgroups/rest-wg/notebooks/import", map[string]any{"Name": "n2", "Payload": ipynb, "Type": "IPYNB"}), "NotebookId")
	op("ExportNotebook")
	call("GET", "/notebooks/"+nb2+"/export", nil)
	op("UpdateNotebook")
	call("PATCH", "/notebooks/"+nb2, map[string]any{"Payload": ipynb, "Type": "IPYNB"})
	op("UpdateNotebookMetadata")
	call("PATCH", "/notebooks/"+nb2+"/metadata", map[string]any{"Name": "n2-renamed"})
	op("GetNotebookMetadata")
	if got := str(t, call("GET", "/notebooks/"+nb2+"/metadata", nil), "NotebookMetadata", "Name"); got != "n2-renamed" {
		t.Errorf("notebook name %q", got)
	}
	op("ListNotebookMetadata")
	if n := len(call("POST", "/workgroups/rest-wg/notebooks/list", map[string]any{})["NotebookMetadataList"].([]any)); n != 2 {
		t.Errorf("ListNotebookMetadata: %d notebooks, want 2", n)
	}

	op("StartSession")
	sess := str(t, call("POST", "/workgroups/rest-wg/sessions", map[string]any{"NotebookVersion": "Athena notebook version 1",
		"EngineConfiguration": map[string]any{"MaxConcurrentDpus": 2, "AdditionalConfigs": map[string]string{"NotebookId": nb}}}), "SessionId")
	op("GetSessionStatus")
	deadline := time.Now().Add(60 * time.Second)
	for str(t, call("GET", "/sessions/"+sess+"/status", nil), "Status", "State") != "IDLE" {
		if time.Now().After(deadline) {
			t.Fatal("session not IDLE within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	op("GetSession")
	call("GET", "/sessions/"+sess, nil)
	op("ListSessions")
	if n := len(call("GET", "/workgroups/rest-wg/sessions?StateFilter=IDLE&MaxResults=5", nil)["Sessions"].([]any)); n != 1 {
		t.Errorf("ListSessions StateFilter=IDLE: %d", n)
	}
	op("ListExecutors")
	call("GET", "/sessions/"+sess+"/executors?ExecutorStateFilter=CREATED", nil)
	op("GetResourceDashboard") // fake Spark has no UI: routed and decoded, then refused (dashboard_e2e_test.go opens one)
	if r := restCall(t, e, "GET", "/resource-dashboard/"+restEscape("arn:aws:athena:us-east-1:123456789012:workgroup/rest-wg/session/"+sess), nil, true); r.Status != 400 || !strings.Contains(string(r.Raw), "has no Spark UI") {
		t.Errorf("GetResourceDashboard of a fake-Spark session: %d %s", r.Status, r.Raw)
	}
	op("GetSessionEndpoint") // a PySpark-3 session has no Spark Connect server: routed, decoded, refused (TestConnect gets one)
	if r := restCall(t, e, "GET", "/sessions/"+sess+"/endpoint", nil, true); r.Status != 400 || r.Body["__type"] != "InvalidRequestException" || !strings.Contains(string(r.Raw), "Apache Spark version 3.5") {
		t.Errorf("GetSessionEndpoint of a PySpark-3 session: %d %s", r.Status, r.Raw)
	}
	op("ListNotebookSessions")
	if n := len(call("GET", "/notebooks/"+nb+"/sessions?MaxResults=10", nil)["NotebookSessionsList"].([]any)); n != 1 {
		t.Errorf("ListNotebookSessions: %d", n)
	}
	op("CreatePresignedNotebookUrl")
	call("POST", "/sessions/"+sess+"/presigned-notebook-url", map[string]any{})
	op("StartCalculationExecution")
	calc := str(t, call("POST", "/sessions/"+sess+"/calculations", map[string]any{"CodeBlock": "print(6 * 7)"}), "CalculationExecutionId")
	op("GetCalculationExecutionStatus")
	deadline = time.Now().Add(60 * time.Second)
	for st := ""; st != "COMPLETED"; st = str(t, call("GET", "/calculations/"+calc+"/status", nil), "Status", "State") {
		if st == "FAILED" || time.Now().After(deadline) {
			t.Fatalf("calculation state %q", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	op("GetCalculationExecution")
	call("GET", "/calculations/"+calc, nil)
	op("GetCalculationExecutionCode")
	if got := str(t, call("GET", "/calculations/"+calc+"/code", nil), "CodeBlock"); got != "print(6 * 7)" {
		t.Errorf("code %q", got)
	}
	op("ListCalculationExecutions")
	if n := len(call("GET", "/sessions/"+sess+"/calculations?StateFilter=COMPLETED", nil)["Calculations"].([]any)); n != 1 {
		t.Errorf("ListCalculationExecutions COMPLETED: %d", n)
	}
	op("StopCalculationExecution")
	call("POST", "/calculations/"+calc+"/stop", nil)
	op("TerminateSession")
	call("POST", "/sessions/"+sess+"/terminate", nil)
	op("DeleteNotebook")
	call("DELETE", "/notebooks/"+nb, nil)
	call("DELETE", "/notebooks/"+nb2, nil)
	op("DeleteWorkGroup")
	call("DELETE", "/workgroups/rest-wg?RecursiveDeleteOption=true", nil)

	// Athena SQL needs the shared catalog, which fake Spark has not (docs/dbt.md; TestDBT runs
	// it for real): its routes are still matched, bound and answered.
	qid := "0b9f8a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	for _, q := range []struct {
		op, method, path string
		body             any
		msg              string
	}{
		{"StartQueryExecution", "POST", "/query-executions", map[string]any{"QueryString": "SELECT 1"}, "shared table catalog"},
		{"GetQueryExecution", "GET", "/query-executions/" + qid, nil, qid},
		{"GetQueryResults", "GET", "/query-executions/" + qid + "/results?MaxResults=10", nil, qid},
		{"StopQueryExecution", "POST", "/query-executions/" + qid + "/stop", nil, qid},
	} {
		op(q.op)
		r := restCall(t, e, q.method, q.path, q.body, true)
		if msg, _ := r.Body["Message"].(string); r.Status != 400 || r.Body["__type"] != "InvalidRequestException" || !strings.Contains(msg, q.msg) {
			t.Errorf("%s: %d %s", q.op, r.Status, r.Raw)
		}
	}

	for o := range wire.Errors {
		if !seen[o] {
			t.Errorf("%s was not called through restJson1", o)
		}
	}

	errs := []struct {
		name, method, path string
		body               any
		sign               bool
		status             int
		typ, code, msg     string
	}{
		{"tags of an unknown workgroup", "GET", "/tags/" + restEscape("arn:aws:athena:us-east-1:123456789012:workgroup/nope"), nil, true, 400, "ResourceNotFoundException", "", "nope"},
		{"unknown session", "GET", "/sessions/no-such-session", nil, true, 400, "InvalidRequestException", "RESOURCE_NOT_FOUND", "no-such-session"},
		{"validation", "GET", "/workgroups?MaxResults=0", nil, true, 400, "InvalidRequestException", "INVALID_INPUT", "maxResults"},
		{"deleted workgroup", "GET", "/workgroups/rest-wg", nil, true, 400, "InvalidRequestException", "", "rest-wg"},
		{"integer not a number", "GET", "/workgroups?MaxResults=ten", nil, true, 400, "SerializationException", "", "MaxResults"},
		{"boolean not a boolean", "DELETE", "/workgroups/x?RecursiveDeleteOption=yes", nil, true, 400, "SerializationException", "", "RecursiveDeleteOption"},
		{"unserved operation", "GET", "/named-queries", nil, true, 400, "InvalidRequestException", "UNSUPPORTED_OPERATION", "ListNamedQueries"},
		{"no route", "GET", "/no/such/route", nil, true, 404, "UnknownOperationException", "", "/no/such/route"},
		{"wrong method", "PUT", "/workgroups", map[string]any{}, true, 405, "UnknownOperationException", "", "PUT /workgroups"},
		{"unsigned", "GET", "/workgroups", nil, false, 403, "MissingAuthenticationTokenException", "", ""},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			r := restCall(t, e, tc.method, tc.path, tc.body, tc.sign)
			if r.Status != tc.status || r.Body["__type"] != tc.typ || r.Header.Get("x-amzn-ErrorType") != tc.typ {
				t.Errorf("status %d, x-amzn-ErrorType %q, body %s; want %d %s", r.Status, r.Header.Get("x-amzn-ErrorType"), r.Raw, tc.status, tc.typ)
			}
			if tc.code != "" && r.Body["AthenaErrorCode"] != tc.code {
				t.Errorf("AthenaErrorCode %v, want %s", r.Body["AthenaErrorCode"], tc.code)
			}
			if msg, _ := r.Body["Message"].(string); !strings.Contains(msg, tc.msg) {
				t.Errorf("Message %q does not contain %q", msg, tc.msg)
			}
		})
	}
}

// TestRESTSignatureCoversPathAndQuery signs restJson1 requests with the SDK's signer (path
// labels double-encoded in the canonical URI, as botocore signs them too) and checks that
// changing the path or the query string after signing is refused.
func TestRESTSignatureCoversPathAndQuery(t *testing.T) {
	cfg := newConfig(t, "")
	cfg.FakeSpark = true
	s := startServer(t, cfg)
	tags := "/tags/" + restEscape("arn:aws:athena:us-east-1:123456789012:workgroup/primary")
	tests := []struct {
		name   string
		tamper func(r *http.Request)
		status int
	}{
		{"as signed", func(*http.Request) {}, 200},
		{"query changed", func(r *http.Request) { r.URL.RawQuery = "MaxResults=76" }, 403},
		{"query added", func(r *http.Request) { r.URL.RawQuery += "&NextToken=x" }, 403},
		{"label changed", func(r *http.Request) {
			p := strings.Replace(tags, "primary", "other", 1)
			r.URL.Path, r.URL.RawPath = strings.ReplaceAll(p, "%2F", "/"), p
		}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", s.Endpoint+tags+"?MaxResults=75", nil)
			if err != nil {
				t.Fatal(err)
			}
			signRaw(t, req, nil, "test", "test", time.Now())
			tc.tamper(req)
			r := doRaw(t, req)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
			}
			if tc.status == 403 && r.Header.Get("x-amzn-ErrorType") != "InvalidSignatureException" {
				t.Errorf("x-amzn-ErrorType %q: %s", r.Header.Get("x-amzn-ErrorType"), r.Raw)
			}
		})
	}
}

// TestRESTAuthorizesPathLabels: with a policy file, a restJson1 call is authorized on the
// resource its path names (the label, not a body member), as the same call over AWS JSON 1.1.
func TestRESTAuthorizesPathLabels(t *testing.T) {
	s, c := authzServer(t)
	for _, wg := range []string{"team-b", "protected"} {
		createSparkWorkGroup(t, c["admin"], wg)
	}
	get := func(wg string, body any) rawResponse {
		var raw []byte
		if body != nil {
			raw, _ = json.Marshal(body)
		}
		req, err := http.NewRequest("GET", s.Endpoint+"/workgroups/"+wg, bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		signRaw(t, req, raw, "AKIAALICE", "secret-of-AKIAALICE", time.Now())
		return doRaw(t, req)
	}
	if r := get("team-b", nil); r.Status != 200 {
		t.Fatalf("alice GET /workgroups/team-b: %d %s", r.Status, r.Raw)
	}
	// A body naming an allowed workgroup does not stand in for the path.
	r := get("protected", map[string]string{"WorkGroup": "team-b"})
	if r.Status != 400 || r.Header.Get("x-amzn-ErrorType") != "AccessDeniedException" ||
		!strings.Contains(string(r.Raw), "workgroup/protected") {
		t.Fatalf("alice GET /workgroups/protected: %d %s %s", r.Status, r.Header.Get("x-amzn-ErrorType"), r.Raw)
	}
}
