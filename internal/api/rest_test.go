package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestMatchRoute(t *testing.T) {
	tests := []struct {
		method, path string
		op           string // "" = no route
		labels       map[string]string
		mismatch     bool
	}{
		{"GET", "/workgroups", "ListWorkGroups", nil, false},
		{"GET", "/workgroups/primary", "GetWorkGroup", map[string]string{"WorkGroup": "primary"}, false},
		{"PATCH", "/workgroups/primary", "UpdateWorkGroup", map[string]string{"WorkGroup": "primary"}, false},
		// A literal segment beats a label in its place.
		{"POST", "/workgroups/wg/notebooks/list", "ListNotebookMetadata", map[string]string{"WorkGroup": "wg"}, false},
		{"POST", "/workgroups/wg/notebooks/import", "ImportNotebook", map[string]string{"WorkGroup": "wg"}, false},
		// Labels are percent-decoded once: an ARN's ':' and '/' (and a literal "%2F" stays one).
		{"GET", "/tags/arn%3Aaws%3Aathena%3Aus-east-1%3A1%3Aworkgroup%2Fa%20b%252F", "ListTagsForResource",
			map[string]string{"ResourceARN": "arn:aws:athena:us-east-1:1:workgroup/a b%2F"}, false},
		{"GET", "/workgroups/", "", nil, false},    // empty label
		{"GET", "/workgroups/a/b", "", nil, false}, // one segment too many
		{"GET", "/workgroups/%zz", "", nil, false}, // malformed escape
		{"PUT", "/workgroups", "", nil, true},      // the path exists with other methods
		{"GET", "/no-such-thing", "", nil, false},
	}
	for _, tc := range tests {
		rt, labels, mismatch := matchRoute(tc.method, tc.path)
		op := ""
		if rt != nil {
			op = rt.op
		}
		if op != tc.op || fmt.Sprint(labels) != fmt.Sprint(tc.labels) || mismatch != tc.mismatch {
			t.Errorf("%s %s: %q %v mismatch=%v, want %q %v mismatch=%v", tc.method, tc.path, op, labels, mismatch, tc.op, tc.labels, tc.mismatch)
		}
	}
}

func TestRESTBindings(t *testing.T) {
	rr := &restRequest{
		labels: map[string]string{"SessionId": "s-1"},
		query:  url.Values{"MaxResults": {"5"}, "TagKeys": {"a", "b c"}, "Flag": {"true"}, "Bad": {"x"}},
		header: http.Header{"X-Amz-Thing": {"v1, v2", "v3"}},
	}
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	tests := []struct{ got, want string }{
		{str(rr.value("uri", "SessionId")), "s-1"},
		{str(rr.value("uri", "Other")), "<nil>"},
		{str(rr.value("querystring", "MaxResults")), "5"},
		{str(rr.value("querystring", "NextToken")), "<nil>"},
		{str(rr.value("header", "x-amz-thing")), "v1, v2,v3"},
		{fmt.Sprint(rr.values("querystring", "TagKeys")), "[a b c]"},
		{fmt.Sprint(rr.values("header", "X-Amz-Thing")), "[v1 v2 v3]"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%d: %q, want %q", i, tc.got, tc.want)
		}
	}
	var n *int32
	if err := setInt32(&n, "MaxResults", rr.value("querystring", "MaxResults")); err != nil || *n != 5 {
		t.Errorf("setInt32: %v %v", n, err)
	}
	if err := setInt32(&n, "MaxResults", nil); err != nil || n != nil {
		t.Errorf("setInt32(nil) left %v, %v", n, err)
	}
	var f *bool
	if err := setBool(&f, "Flag", rr.value("querystring", "Flag")); err != nil || !*f {
		t.Errorf("setBool: %v %v", f, err)
	}
	var l *int64
	for _, bad := range []func() error{
		func() error { return setInt32(&n, "Bad", rr.value("querystring", "Bad")) },
		func() error { return setInt64(&l, "Bad", rr.value("querystring", "Bad")) },
		func() error { return setBool(&f, "Bad", rr.value("querystring", "Bad")) },
		func() error { v := "99999999999"; return setInt32(&n, "Big", &v) },
	} {
		var ae *apiError
		if err := bad(); !errors.As(err, &ae) || ae.Type != "SerializationException" || ae.status != 400 {
			t.Errorf("bad binding: %v, want a SerializationException", err)
		}
	}
}

// FuzzMatchRoute: any method and path either matches no route or a route of that method whose
// every label is bound and non-empty.
func FuzzMatchRoute(f *testing.F) {
	for _, s := range []string{"/workgroups/primary", "/tags/arn%3Aaws%3Aathena%3A%3A1%3Aworkgroup%2Fx", "/workgroups/a/notebooks/list", "//", "/%zz", ""} {
		f.Add("GET", s)
		f.Add("POST", s)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		rt, labels, mismatch := matchRoute(method, path)
		if rt == nil {
			return
		}
		if mismatch || rt.method != method {
			t.Fatalf("%s %s matched %s %s (mismatch=%v)", method, path, rt.method, rt.path, mismatch)
		}
		for _, seg := range strings.Split(rt.path, "/") {
			if isLabel(seg) {
				name := strings.TrimSuffix(strings.Trim(seg, "{}"), "+")
				if labels[name] == "" {
					t.Fatalf("%s %s: label %s unbound (%v)", method, path, name, labels)
				}
			}
		}
	})
}
