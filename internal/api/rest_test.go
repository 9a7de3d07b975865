package api

import (
	"fmt"
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
