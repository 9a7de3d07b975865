package athena

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"glaux/internal/wire"
)

const (
	token1 = "11111111-2222-4333-8444-555555555555"
	token2 = "99999999-2222-4333-8444-555555555555"
)

func notebookJSON(cells ...string) string {
	return `{"cells":[` + strings.Join(cells, ",") + `],"metadata":{},"nbformat":4,"nbformat_minor":5}`
}

const codeCell = `{"cell_type":"code","source":"print(1)","metadata":{},"outputs":[],"execution_count":null}`

// notebookEnv has a Spark workgroup "spark" and an SQL workgroup "sql".
func notebookEnv(t *testing.T) *testEnv {
	e := newTestEnv(t)
	e.createWorkGroup("spark", sparkConfig())
	e.createWorkGroup("sql", nil)
	return e
}

func (e *testEnv) createNotebook(wg, name string) string {
	e.t.Helper()
	out, err := e.svc.CreateNotebook(e.ctx, valid(e.t, &wire.CreateNotebookInput{WorkGroup: refOf(wg), Name: refOf(name)}))
	mustOK(e.t, err)
	return *out.NotebookId
}

func (e *testEnv) notebookMeta(id string) *wire.NotebookMetadata {
	e.t.Helper()
	out, err := e.svc.GetNotebookMetadata(e.ctx, valid(e.t, &wire.GetNotebookMetadataInput{NotebookId: refOf(id)}))
	mustOK(e.t, err)
	return out.NotebookMetadata
}

func (e *testEnv) export(id string) string {
	e.t.Helper()
	out, err := e.svc.ExportNotebook(e.ctx, valid(e.t, &wire.ExportNotebookInput{NotebookId: refOf(id)}))
	mustOK(e.t, err)
	return *out.Payload
}

func (e *testEnv) countNotebooks(wg string) int {
	e.t.Helper()
	var n int
	mustOK(e.t, e.store.View(e.ctx, func(tx Tx) (err error) { n, err = tx.CountNotebooks(wg); return err }))
	return n
}

func TestCreateNotebook(t *testing.T) {
	e := notebookEnv(t)
	id := e.createNotebook("spark", "My notebook")
	md := e.notebookMeta(id)
	want := fmt.Sprintf(`{"CreationTime":%[1]s,"LastModifiedTime":%[1]s,"Name":"My notebook","NotebookId":"%[2]s","Type":"IPYNB","WorkGroup":"spark"}`, jsonOf(t, wire.Time{Time: t0}), id)
	if got := jsonOf(t, md); got != want {
		t.Errorf("metadata\n got %s\nwant %s", got, want)
	}
	payload := e.export(id)
	mustOK(t, checkNotebookPayload("created", payload))
	if payload != emptyNotebook {
		t.Errorf("payload = %s", payload)
	}
	// The same name in another Spark workgroup is fine.
	e.createWorkGroup("spark2", sparkConfig())
	e.createNotebook("spark2", "My notebook")
}

func TestCreateNotebookRefusals(t *testing.T) {
	cases := []struct {
		name, wg, nb string
		code         Code
		athenaCode   string
		want         []string
	}{
		{"sql workgroup", "sql", "n", CodeInvalidRequest, ErrCodeInvalidInput, []string{"sql", "not Spark"}},
		{"primary", "primary", "n", CodeInvalidRequest, ErrCodeInvalidInput, []string{"primary", "not Spark"}},
		{"unknown workgroup", "ghost", "n", CodeInvalidRequest, ErrCodeInvalidInput, []string{"WorkGroup ghost is not found."}},
		{"disabled workgroup", "off", "n", CodeInvalidRequest, ErrCodeInvalidState, []string{"off", "DISABLED"}},
		{"taken name", "spark", "taken", CodeInvalidRequest, ErrCodeInvalidInput, []string{"A notebook with the name taken already exists in workgroup spark"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := notebookEnv(t)
			e.createNotebook("spark", "taken")
			e.createWorkGroup("off", sparkConfig())
			_, err := e.svc.UpdateWorkGroup(e.ctx, valid(t, &wire.UpdateWorkGroupInput{WorkGroup: refOf("off"), State: refOf("DISABLED")}))
			mustOK(t, err)
			_, err = e.svc.CreateNotebook(e.ctx, valid(t, &wire.CreateNotebookInput{WorkGroup: refOf(tc.wg), Name: refOf(tc.nb)}))
			if de := wantErr(t, err, tc.code, tc.want...); de.AthenaErrorCode != tc.athenaCode {
				t.Errorf("AthenaErrorCode = %q, want %q", de.AthenaErrorCode, tc.athenaCode)
			}
			_, err = e.svc.ImportNotebook(e.ctx, valid(t, &wire.ImportNotebookInput{WorkGroup: refOf(tc.wg), Name: refOf(tc.nb), Type: refOf("IPYNB"), Payload: refOf(notebookJSON())}))
			wantErr(t, err, tc.code, tc.want...)
			if n := e.countNotebooks(tc.wg); tc.wg != "spark" && n != 0 || tc.wg == "spark" && n != 1 {
				t.Errorf("%d notebooks in %s", n, tc.wg)
			}
		})
	}
}

func TestCheckNotebookPayload(t *testing.T) {
	cases := []struct {
		name, payload string
		ok            bool
		want          string
	}{
		{"empty notebook", emptyNotebook, true, ""},
		{"cells", notebookJSON(codeCell, `{"cell_type":"markdown","source":["# t"],"metadata":{}}`), true, ""},
		{"nbformat 4.0", `{"cells":[],"nbformat":4.0}`, false, "nbformat"},
		{"not JSON", `print("hello")`, false, "not a JSON object"},
		{"trailing garbage", emptyNotebook + "x", false, "not a JSON object"},
		{"array", `[{"cells":[]}]`, false, "not a JSON object"},
		{"null", `null`, false, "not a JSON object"},
		{"nbformat 3", `{"cells":[],"nbformat":3}`, false, "nbformat"},
		{"nbformat string", `{"cells":[],"nbformat":"4"}`, false, "nbformat"},
		{"no nbformat", `{"cells":[]}`, false, "nbformat"},
		{"no cells", `{"nbformat":4}`, false, "cells"},
		{"cells null", `{"cells":null,"nbformat":4}`, false, "cells"},
		{"cells object", `{"cells":{},"nbformat":4}`, false, "cells"},
		{"cell not object", `{"cells":["x"],"nbformat":4}`, false, "cell 0"},
		{"too large", `{"cells":[],"nbformat":4,"x":"` + strings.Repeat("a", maxNotebookBytes) + `"}`, false, "10 MiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkNotebookPayload("payload", tc.payload)
			if tc.ok {
				mustOK(t, err)
				return
			}
			wantErr(t, err, CodeInvalidRequest, "The notebook payload is not a valid ipynb notebook", tc.want)
		})
	}
}

func TestImportNotebookPayload(t *testing.T) {
	e := notebookEnv(t)
	payload := notebookJSON(codeCell)
	out, err := e.svc.ImportNotebook(e.ctx, valid(t, &wire.ImportNotebookInput{WorkGroup: refOf("spark"), Name: refOf("imported"), Type: refOf("IPYNB"), Payload: refOf(payload)}))
	mustOK(t, err)
	if got := e.export(*out.NotebookId); got != payload {
		t.Errorf("exported %s, want %s", got, payload)
	}
	md := e.notebookMeta(*out.NotebookId)
	if *md.Name != "imported" || *md.WorkGroup != "spark" || *md.Type != "IPYNB" {
		t.Errorf("metadata = %s", jsonOf(t, md))
	}
}

func TestImportNotebookRefusals(t *testing.T) {
	cases := []struct {
		name    string
		payload *string
		uri     *string
		want    []string
	}{
		{"neither", nil, nil, []string{"Exactly one of Payload and NotebookS3LocationUri"}},
		{"both", refOf(notebookJSON()), refOf("s3://bucket/nb.ipynb"), []string{"Exactly one of Payload and NotebookS3LocationUri"}},
		{"payload not a notebook", refOf(`{"hello":"world"}`), nil, []string{"The notebook payload is not a valid ipynb notebook"}},
		{"object missing", nil, refOf("s3://bucket/missing.ipynb"), []string{"s3://bucket/missing.ipynb", "does not exist"}},
		{"object not a notebook", nil, refOf("s3://bucket/text.txt"), []string{"s3://bucket/text.txt", "not a valid ipynb notebook"}},
		{"object too large", nil, refOf("s3://bucket/huge.ipynb"), []string{"s3://bucket/huge.ipynb", "10 MiB"}},
		{"https", nil, refOf("https://example.com/nb.ipynb"), []string{"https://example.com/nb.ipynb", "s3://"}},
		{"object unreadable", nil, refOf("s3://b/nb.ipynb"), []string{"s3://b/nb.ipynb", "cannot be read", "bucket name must be 3 to 63 characters"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := notebookEnv(t)
			e.objs.objs["s3://bucket/text.txt"] = []byte("just text")
			e.objs.errs["s3://b/nb.ipynb"] = errors.New("invalid object URI: bucket name must be 3 to 63 characters")
			e.objs.objs["s3://bucket/huge.ipynb"] = []byte(`{"cells":[],"nbformat":4,"x":"` + strings.Repeat("a", maxNotebookBytes) + `"}`)
			_, err := e.svc.ImportNotebook(e.ctx, valid(t, &wire.ImportNotebookInput{WorkGroup: refOf("spark"), Name: refOf("n"), Type: refOf("IPYNB"), Payload: tc.payload, NotebookS3LocationUri: tc.uri}))
			wantErr(t, err, CodeInvalidRequest, tc.want...)
			if n := e.countNotebooks("spark"); n != 0 {
				t.Errorf("%d notebooks after a refused import", n)
			}
		})
	}
}

func TestImportNotebookFromObject(t *testing.T) {
	e := notebookEnv(t)
	payload := notebookJSON(codeCell)
	e.objs.objs["s3://bucket/dir/nb.ipynb"] = []byte(payload)
	for i, uri := range []string{"s3://bucket/dir/nb.ipynb", "S3://bucket/dir/nb.ipynb"} {
		out, err := e.svc.ImportNotebook(e.ctx, valid(t, &wire.ImportNotebookInput{WorkGroup: refOf("spark"), Name: refOf(fmt.Sprint("nb ", i)), Type: refOf("IPYNB"), NotebookS3LocationUri: refOf(uri)}))
		mustOK(t, err)
		if got := e.export(*out.NotebookId); got != payload {
			t.Errorf("%s: exported %s", uri, got)
		}
	}
}

func TestNotebookIdempotency(t *testing.T) {
	e := notebookEnv(t)
	e.objs.objs["s3://bucket/nb.ipynb"] = []byte(notebookJSON())

	t.Run("CreateNotebook", func(t *testing.T) {
		in := &wire.CreateNotebookInput{WorkGroup: refOf("spark"), Name: refOf("c"), ClientRequestToken: refOf(token1)}
		a, err := e.svc.CreateNotebook(e.ctx, valid(t, in))
		mustOK(t, err)
		b, err := e.svc.CreateNotebook(e.ctx, valid(t, in))
		mustOK(t, err)
		if *a.NotebookId != *b.NotebookId {
			t.Errorf("retry created %s, first %s", *b.NotebookId, *a.NotebookId)
		}
		_, err = e.svc.CreateNotebook(e.ctx, valid(t, &wire.CreateNotebookInput{WorkGroup: refOf("spark"), Name: refOf("other"), ClientRequestToken: refOf(token1)}))
		if de := wantErr(t, err, CodeInvalidRequest); de.AthenaErrorCode != ErrCodeIdempotentMismatch {
			t.Errorf("AthenaErrorCode = %q", de.AthenaErrorCode)
		}
		// Without a token the same request is a new one: the name is taken.
		_, err = e.svc.CreateNotebook(e.ctx, valid(t, &wire.CreateNotebookInput{WorkGroup: refOf("spark"), Name: refOf("c")}))
		wantErr(t, err, CodeInvalidRequest, "already exists")
	})
	t.Run("ImportNotebook payload", func(t *testing.T) {
		in := &wire.ImportNotebookInput{WorkGroup: refOf("spark"), Name: refOf("i"), Type: refOf("IPYNB"), Payload: refOf(notebookJSON()), ClientRequestToken: refOf(token1)}
		a, err := e.svc.ImportNotebook(e.ctx, valid(t, in))
		mustOK(t, err)
		b, err := e.svc.ImportNotebook(e.ctx, valid(t, in))
		mustOK(t, err)
		if *a.NotebookId != *b.NotebookId {
			t.Errorf("retry created %s, first %s", *b.NotebookId, *a.NotebookId)
		}
		in2 := *in
		in2.Payload = refOf(notebookJSON(codeCell))
		_, err = e.svc.ImportNotebook(e.ctx, valid(t, &in2))
		if de := wantErr(t, err, CodeInvalidRequest); de.AthenaErrorCode != ErrCodeIdempotentMismatch {
			t.Errorf("AthenaErrorCode = %q", de.AthenaErrorCode)
		}
	})
	t.Run("ImportNotebook object", func(t *testing.T) {
		in := &wire.ImportNotebookInput{WorkGroup: refOf("spark"), Name: refOf("o"), Type: refOf("IPYNB"), NotebookS3LocationUri: refOf("s3://bucket/nb.ipynb"), ClientRequestToken: refOf(token2)}
		a, err := e.svc.ImportNotebook(e.ctx, valid(t, in))
		mustOK(t, err)
		delete(e.objs.objs, "s3://bucket/nb.ipynb") // the retry does not need the object any more
		b, err := e.svc.ImportNotebook(e.ctx, valid(t, in))
		mustOK(t, err)
		if *a.NotebookId != *b.NotebookId {
			t.Errorf("retry created %s, first %s", *b.NotebookId, *a.NotebookId)
		}
	})
	t.Run("UpdateNotebook", func(t *testing.T) {
		id := e.createNotebook("spark", "u")
		e.clock.Advance(time.Minute)
		in := &wire.UpdateNotebookInput{NotebookId: refOf(id), Payload: refOf(notebookJSON(codeCell)), Type: refOf("IPYNB"), ClientRequestToken: refOf(token1)}
		_, err := e.svc.UpdateNotebook(e.ctx, valid(t, in))
		mustOK(t, err)
		first := e.notebookMeta(id).LastModifiedTime.Time
		e.clock.Advance(time.Minute)
		_, err = e.svc.UpdateNotebook(e.ctx, valid(t, in))
		mustOK(t, err)
		if again := e.notebookMeta(id).LastModifiedTime.Time; !again.Equal(first) {
			t.Errorf("a retried update changed LastModifiedTime %v -> %v", first, again)
		}
		in2 := *in
		in2.Payload = refOf(notebookJSON())
		_, err = e.svc.UpdateNotebook(e.ctx, valid(t, &in2))
		if de := wantErr(t, err, CodeInvalidRequest); de.AthenaErrorCode != ErrCodeIdempotentMismatch {
			t.Errorf("AthenaErrorCode = %q", de.AthenaErrorCode)
		}
		if e.export(id) != notebookJSON(codeCell) {
			t.Error("a mismatched retry changed the notebook")
		}
	})
	t.Run("UpdateNotebookMetadata", func(t *testing.T) {
		id := e.createNotebook("spark", "m")
		in := &wire.UpdateNotebookMetadataInput{NotebookId: refOf(id), Name: refOf("m2"), ClientRequestToken: refOf(token1)}
		_, err := e.svc.UpdateNotebookMetadata(e.ctx, valid(t, in))
		mustOK(t, err)
		// Another notebook takes the old name; the retry still answers like the first call.
		e.createNotebook("spark", "m")
		_, err = e.svc.UpdateNotebookMetadata(e.ctx, valid(t, in))
		mustOK(t, err)
		if got := *e.notebookMeta(id).Name; got != "m2" {
			t.Errorf("name = %q", got)
		}
		_, err = e.svc.UpdateNotebookMetadata(e.ctx, valid(t, &wire.UpdateNotebookMetadataInput{NotebookId: refOf(id), Name: refOf("m3"), ClientRequestToken: refOf(token1)}))
		if de := wantErr(t, err, CodeInvalidRequest); de.AthenaErrorCode != ErrCodeIdempotentMismatch {
			t.Errorf("AthenaErrorCode = %q", de.AthenaErrorCode)
		}
	})
}

func TestExportAndGetUnknownNotebook(t *testing.T) {
	e := notebookEnv(t)
	const ghost = "00000000-0000-4000-8000-999999999999"
	_, err := e.svc.ExportNotebook(e.ctx, valid(t, &wire.ExportNotebookInput{NotebookId: refOf(ghost)}))
	wantErr(t, err, CodeInvalidRequest, "Notebook "+ghost+" is not found.")
	_, err = e.svc.GetNotebookMetadata(e.ctx, valid(t, &wire.GetNotebookMetadataInput{NotebookId: refOf(ghost)}))
	wantErr(t, err, CodeInvalidRequest, ghost)
	_, err = e.svc.DeleteNotebook(e.ctx, valid(t, &wire.DeleteNotebookInput{NotebookId: refOf(ghost)}))
	wantErr(t, err, CodeInvalidRequest, ghost)
	_, err = e.svc.UpdateNotebook(e.ctx, valid(t, &wire.UpdateNotebookInput{NotebookId: refOf(ghost), Payload: refOf(emptyNotebook), Type: refOf("IPYNB")}))
	wantErr(t, err, CodeInvalidRequest, ghost)
	_, err = e.svc.UpdateNotebookMetadata(e.ctx, valid(t, &wire.UpdateNotebookMetadataInput{NotebookId: refOf(ghost), Name: refOf("x")}))
	wantErr(t, err, CodeInvalidRequest, ghost)
}

func TestExportNotebook(t *testing.T) {
	e := notebookEnv(t)
	id := e.createNotebook("spark", "n")
	out, err := e.svc.ExportNotebook(e.ctx, valid(t, &wire.ExportNotebookInput{NotebookId: refOf(id)}))
	mustOK(t, err)
	if *out.NotebookMetadata.NotebookId != id || *out.NotebookMetadata.Name != "n" || *out.Payload != emptyNotebook {
		t.Errorf("export = %s", jsonOf(t, out))
	}
}

func TestUpdateNotebook(t *testing.T) {
	e := notebookEnv(t)
	id := e.createNotebook("spark", "n")
	other := e.createNotebook("spark", "other")
	e.putSession(&Session{ID: "s-mine", WorkGroup: "spark", NotebookID: id, State: "TERMINATED", StartTime: t0})
	e.putSession(&Session{ID: "s-other", WorkGroup: "spark", NotebookID: other, State: "IDLE", StartTime: t0})
	e.clock.Advance(time.Hour)
	payload := notebookJSON(codeCell)

	update := func(session *string, payload string) error {
		_, err := e.svc.UpdateNotebook(e.ctx, valid(t, &wire.UpdateNotebookInput{NotebookId: refOf(id), Payload: refOf(payload), Type: refOf("IPYNB"), SessionId: session}))
		return err
	}
	wantErr(t, update(nil, `{"cells":"no"}`), CodeInvalidRequest, "The notebook payload is not a valid ipynb notebook")
	wantErr(t, update(refOf("s-ghost"), payload), CodeInvalidRequest, "Session s-ghost is not found.")
	wantErr(t, update(refOf("s-other"), payload), CodeInvalidRequest, "s-other", id)
	if e.export(id) != emptyNotebook {
		t.Fatal("a refused update wrote")
	}

	mustOK(t, update(refOf("s-mine"), payload))
	md := e.notebookMeta(id)
	if e.export(id) != payload || !md.CreationTime.Equal(t0) || !md.LastModifiedTime.Equal(t0.Add(time.Hour)) {
		t.Errorf("after update: %s", jsonOf(t, md))
	}
	mustOK(t, update(nil, emptyNotebook)) // no active session: SessionId is optional

	// With an active session the caller must say which one it is.
	e.putSession(&Session{ID: "s-live", WorkGroup: "spark", NotebookID: id, State: "BUSY", StartTime: t0.Add(time.Minute)})
	wantErr(t, update(nil, payload), CodeInvalidRequest, "SessionId", "s-live")
	mustOK(t, update(refOf("s-live"), payload))

	// A disabled workgroup's notebooks do not change.
	_, err := e.svc.UpdateWorkGroup(e.ctx, valid(t, &wire.UpdateWorkGroupInput{WorkGroup: refOf("spark"), State: refOf("DISABLED")}))
	mustOK(t, err)
	wantErr(t, update(refOf("s-live"), emptyNotebook), CodeInvalidRequest, "spark", "DISABLED")
	e.export(id) // reading still works
}

func TestUpdateNotebookMetadata(t *testing.T) {
	e := notebookEnv(t)
	id := e.createNotebook("spark", "old")
	e.createNotebook("spark", "taken")
	e.clock.Advance(time.Hour)
	rename := func(name string) error {
		_, err := e.svc.UpdateNotebookMetadata(e.ctx, valid(t, &wire.UpdateNotebookMetadataInput{NotebookId: refOf(id), Name: refOf(name)}))
		return err
	}
	wantErr(t, rename("taken"), CodeInvalidRequest, "A notebook with the name taken already exists in workgroup spark")
	mustOK(t, rename("old")) // its own name: nothing to do
	if md := e.notebookMeta(id); !md.LastModifiedTime.Equal(t0) {
		t.Errorf("a no-op rename changed LastModifiedTime: %s", jsonOf(t, md))
	}
	mustOK(t, rename("new"))
	md := e.notebookMeta(id)
	if *md.Name != "new" || !md.LastModifiedTime.Equal(t0.Add(time.Hour)) || !md.CreationTime.Equal(t0) {
		t.Errorf("after rename: %s", jsonOf(t, md))
	}
	e.createNotebook("spark", "old") // the old name is free again

	e.putSession(&Session{ID: "s-live", WorkGroup: "spark", NotebookID: id, State: "IDLE", StartTime: t0})
	de := wantErr(t, rename("newer"), CodeInvalidRequest, id, "s-live", "terminate")
	if de.AthenaErrorCode != ErrCodeInvalidState {
		t.Errorf("AthenaErrorCode = %q", de.AthenaErrorCode)
	}
}

func TestDeleteNotebook(t *testing.T) {
	e := notebookEnv(t)
	id := e.createNotebook("spark", "n")
	e.putSession(&Session{ID: "s-live", WorkGroup: "spark", NotebookID: id, State: "CREATING", StartTime: t0})
	_, err := e.svc.DeleteNotebook(e.ctx, valid(t, &wire.DeleteNotebookInput{NotebookId: refOf(id)}))
	wantErr(t, err, CodeInvalidRequest, id, "s-live")
	e.notebookMeta(id)

	e.putSession(&Session{ID: "s-live", WorkGroup: "spark", NotebookID: id, State: "TERMINATED", StartTime: t0})
	_, err = e.svc.DeleteNotebook(e.ctx, valid(t, &wire.DeleteNotebookInput{NotebookId: refOf(id)}))
	mustOK(t, err)
	_, err = e.svc.GetNotebookMetadata(e.ctx, valid(t, &wire.GetNotebookMetadataInput{NotebookId: refOf(id)}))
	wantErr(t, err, CodeInvalidRequest, id)
	e.createNotebook("spark", "n") // the name is free again
}

func TestListNotebookMetadata(t *testing.T) {
	e := notebookEnv(t)
	names := []string{"beta", "alpha", "gamma report", "alpha report", "delta", "epsilon report"}
	for _, n := range names {
		e.createNotebook("spark", n)
	}
	e.createWorkGroup("spark2", sparkConfig())
	e.createNotebook("spark2", "zeta report")

	list := func(filter *wire.FilterDefinition, max int32) []string {
		t.Helper()
		var got []string
		var token *string
		for range 20 {
			in := &wire.ListNotebookMetadataInput{WorkGroup: refOf("spark"), Filters: filter, NextToken: token}
			if max > 0 {
				in.MaxResults = refOf(max)
			}
			out, err := e.svc.ListNotebookMetadata(e.ctx, valid(t, in))
			mustOK(t, err)
			if max > 0 && len(out.NotebookMetadataList) > int(max) {
				t.Fatalf("page of %d", len(out.NotebookMetadataList))
			}
			for _, md := range out.NotebookMetadataList {
				if *md.WorkGroup != "spark" || md.CreationTime == nil {
					t.Errorf("metadata = %s", jsonOf(t, md))
				}
				got = append(got, *md.Name)
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
		return got
	}
	all := "alpha,alpha report,beta,delta,epsilon report,gamma report"
	if got := strings.Join(list(nil, 0), ","); got != all {
		t.Errorf("all = %s", got)
	}
	if got := strings.Join(list(nil, 2), ","); got != all {
		t.Errorf("paged = %s", got)
	}
	if got := strings.Join(list(&wire.FilterDefinition{Name: refOf("report")}, 1), ","); got != "alpha report,epsilon report,gamma report" {
		t.Errorf("filtered = %s", got)
	}
	if got := list(&wire.FilterDefinition{Name: refOf("nothing")}, 0); len(got) != 0 {
		t.Errorf("filtered = %v", got)
	}

	for _, tc := range []struct{ wg, want string }{{"sql", "not Spark"}, {"ghost", "WorkGroup ghost is not found."}} {
		_, err := e.svc.ListNotebookMetadata(e.ctx, valid(t, &wire.ListNotebookMetadataInput{WorkGroup: refOf(tc.wg)}))
		wantErr(t, err, CodeInvalidRequest, tc.want)
	}
	_, err := e.svc.ListNotebookMetadata(e.ctx, valid(t, &wire.ListNotebookMetadataInput{WorkGroup: refOf("spark"), NextToken: refOf("bad token")}))
	wantErr(t, err, CodeInvalidRequest, "NextToken")

	// A disabled workgroup's notebooks can still be listed.
	_, err = e.svc.UpdateWorkGroup(e.ctx, valid(t, &wire.UpdateWorkGroupInput{WorkGroup: refOf("spark"), State: refOf("DISABLED")}))
	mustOK(t, err)
	if got := strings.Join(list(nil, 0), ","); got != all {
		t.Errorf("disabled = %s", got)
	}
}
