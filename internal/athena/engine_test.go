package athena

import (
	"testing"

	"glaux/internal/wire"
)

func TestEffectiveEngineVersion(t *testing.T) {
	cases := []struct {
		selected, want string
		spark, fails   bool
	}{
		{selected: "", want: EngineVersionSQL3},
		{selected: "AUTO", want: EngineVersionSQL3},
		{selected: "Athena engine version 3", want: EngineVersionSQL3},
		{selected: "PySpark engine version 3", want: EngineVersionSpark3, spark: true},
		{selected: "Apache Spark version 3.5", want: EngineVersionSpark35, spark: true},
		{selected: "Athena engine version 2", fails: true},
		{selected: "pyspark engine version 3", fails: true},
		{selected: "auto", fails: true},
	}
	for _, tc := range cases {
		got, err := effectiveEngineVersion(tc.selected)
		if tc.fails {
			wantErr(t, err, CodeInvalidRequest, tc.selected)
			continue
		}
		if err != nil || got != tc.want || isSparkEngine(got) != tc.spark {
			t.Errorf("effectiveEngineVersion(%q) = %q, %v; want %q", tc.selected, got, err, tc.want)
		}
	}
}

func TestListEngineVersions(t *testing.T) {
	e := newTestEnv(t)
	out, err := e.svc.ListEngineVersions(e.ctx, valid(t, &wire.ListEngineVersionsInput{}))
	mustOK(t, err)
	if out.NextToken != nil || len(out.EngineVersions) != 3 {
		t.Fatalf("out = %s", jsonOf(t, out))
	}
	for i, want := range []string{"Athena engine version 3", "PySpark engine version 3", "Apache Spark version 3.5"} {
		v := out.EngineVersions[i]
		if *v.SelectedEngineVersion != want || *v.EffectiveEngineVersion != want {
			t.Errorf("version %d = %s, want %s", i, jsonOf(t, v), want)
		}
	}

	p1, err := e.svc.ListEngineVersions(e.ctx, valid(t, &wire.ListEngineVersionsInput{MaxResults: refOf(int32(1))}))
	mustOK(t, err)
	if len(p1.EngineVersions) != 1 || *p1.EngineVersions[0].SelectedEngineVersion != EngineVersionSQL3 || p1.NextToken == nil {
		t.Fatalf("page 1 = %s", jsonOf(t, p1))
	}
	p2, err := e.svc.ListEngineVersions(e.ctx, valid(t, &wire.ListEngineVersionsInput{MaxResults: refOf(int32(1)), NextToken: p1.NextToken}))
	mustOK(t, err)
	if len(p2.EngineVersions) != 1 || *p2.EngineVersions[0].SelectedEngineVersion != EngineVersionSpark3 || p2.NextToken == nil {
		t.Fatalf("page 2 = %s", jsonOf(t, p2))
	}
	p3, err := e.svc.ListEngineVersions(e.ctx, valid(t, &wire.ListEngineVersionsInput{MaxResults: refOf(int32(1)), NextToken: p2.NextToken}))
	mustOK(t, err)
	if len(p3.EngineVersions) != 1 || *p3.EngineVersions[0].SelectedEngineVersion != EngineVersionSpark35 || p3.NextToken != nil {
		t.Fatalf("page 3 = %s", jsonOf(t, p3))
	}

	_, err = e.svc.ListEngineVersions(e.ctx, valid(t, &wire.ListEngineVersionsInput{NextToken: refOf("garbage!")}))
	wantErr(t, err, CodeInvalidRequest, "NextToken")
}

func TestListApplicationDPUSizes(t *testing.T) {
	e := newTestEnv(t)
	out, err := e.svc.ListApplicationDPUSizes(e.ctx, valid(t, &wire.ListApplicationDPUSizesInput{}))
	mustOK(t, err)
	if got := jsonOf(t, out); got != `{"ApplicationDPUSizes":[{"ApplicationRuntimeId":"Athena notebook version 1","SupportedDPUSizes":[1]}]}` {
		t.Errorf("out = %s", got)
	}

	e.svc.cfg.NotebookVersion = "Custom runtime"
	e.svc.cfg.DPUSizes = []int32{1, 2, 4}
	out, err = e.svc.ListApplicationDPUSizes(e.ctx, valid(t, &wire.ListApplicationDPUSizesInput{MaxResults: refOf(int32(1))}))
	mustOK(t, err)
	if got := jsonOf(t, out); got != `{"ApplicationDPUSizes":[{"ApplicationRuntimeId":"Custom runtime","SupportedDPUSizes":[1,2,4]}]}` {
		t.Errorf("out = %s", got)
	}

	// Unconfigured, the documented runtime with DPU size 1.
	e.svc.cfg.NotebookVersion, e.svc.cfg.DPUSizes = "", nil
	out, err = e.svc.ListApplicationDPUSizes(e.ctx, valid(t, &wire.ListApplicationDPUSizesInput{}))
	mustOK(t, err)
	if got := jsonOf(t, out); got != `{"ApplicationDPUSizes":[{"ApplicationRuntimeId":"Athena notebook version 1","SupportedDPUSizes":[1]}]}` {
		t.Errorf("out = %s", got)
	}

	_, err = e.svc.ListApplicationDPUSizes(e.ctx, valid(t, &wire.ListApplicationDPUSizesInput{NextToken: refOf("?")}))
	wantErr(t, err, CodeInvalidRequest, "NextToken")
}

func TestPageStrings(t *testing.T) {
	all := []string{"a", "b", "c"}
	cases := []struct {
		after     string
		limit     int
		want      string
		wantToken bool
	}{
		{"", 10, "abc", false},
		{"", 2, "ab", true},
		{"b", 2, "c", false},
		{"c", 2, "", false},
		{"zzz", 2, "", false},
	}
	for _, tc := range cases {
		page, next := pageStrings(all, tc.after, tc.limit)
		got := ""
		for _, p := range page {
			got += p
		}
		if got != tc.want || (next != nil) != tc.wantToken {
			t.Errorf("pageStrings(after %q, %d) = %q, token %v", tc.after, tc.limit, got, next)
		}
	}
}
