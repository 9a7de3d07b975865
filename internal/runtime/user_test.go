//go:build linux

package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSubIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "subuid")
	os.WriteFile(path, []byte("alice:100000:65536\n# comment\n999:300000:10\nglaux-runner:200000:65536\nglaux-runner:900000:5\nbroken:x:1\n"), 0o600)
	for _, tc := range []struct {
		name, uid string
		want      idRange
		err       string
	}{
		{"glaux-runner", "999", idRange{300000, 10}, ""}, // by uid, first entry wins
		{"glaux-runner", "998", idRange{200000, 65536}, ""},
		{"alice", "1000", idRange{100000, 65536}, ""},
		{"bob", "1001", idRange{}, "no range for bob"},
		{"broken", "1002", idRange{}, "bad entry"},
	} {
		got, err := subIDs(path, tc.name, tc.uid)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("subIDs(%s) = %v, %v; want error %q", tc.name, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("subIDs(%s) = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestWithin(t *testing.T) {
	for _, tc := range []struct {
		path, dir string
		want      bool
	}{
		{"/d/s/warehouse", "/d/s", true},
		{"/d/s", "/d/s", true},
		{"/d/warehouse/wg", "/d/s", false},
		{"/d/s/../x", "/d/s", false},
		{"/d/s2", "/d/s", false},
		{"/d/s/..x", "/d/s", true},
		{"relative", "/d/s", false},
	} {
		if got := within(tc.path, tc.dir); got != tc.want {
			t.Errorf("within(%q, %q) = %v, want %v", tc.path, tc.dir, got, tc.want)
		}
	}
}
