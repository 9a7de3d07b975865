package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
)

// ipynb is a small valid notebook whose one code cell holds src.
func ipynb(src string) string {
	b, _ := json.Marshal(map[string]any{
		"nbformat": 4, "nbformat_minor": 5, "metadata": map[string]any{},
		"cells": []any{map[string]any{"cell_type": "code", "source": src, "metadata": map[string]any{}, "outputs": []any{}, "execution_count": nil}},
	})
	return string(b)
}

func createNotebook(t testing.TB, c *athena.Client, wg, name string) string {
	t.Helper()
	out, err := c.CreateNotebook(context.Background(), &athena.CreateNotebookInput{WorkGroup: aws.String(wg), Name: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateNotebook %s: %v", name, err)
	}
	return *out.NotebookId
}

func notebookMeta(t testing.TB, c *athena.Client, id string) *types.NotebookMetadata {
	t.Helper()
	out, err := c.GetNotebookMetadata(context.Background(), &athena.GetNotebookMetadataInput{NotebookId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetNotebookMetadata %s: %v", id, err)
	}
	return out.NotebookMetadata
}

func listNotebookNames(t testing.TB, c *athena.Client, wg string, filter *types.FilterDefinition) []string {
	t.Helper()
	out, err := c.ListNotebookMetadata(context.Background(), &athena.ListNotebookMetadataInput{WorkGroup: aws.String(wg), Filters: filter})
	if err != nil {
		t.Fatalf("ListNotebookMetadata: %v", err)
	}
	var names []string
	for _, m := range out.NotebookMetadataList {
		names = append(names, aws.ToString(m.Name))
	}
	return names
}

// TestNotebookLifecycle: create, read, export, update, rename, delete, with honest times.
func TestNotebookLifecycle(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	createSparkWorkGroup(t, c, "nbwg")
	before := time.Now().Add(-time.Second)
	id := createNotebook(t, c, "nbwg", "first notebook")
	afterCreate := time.Now().Add(time.Second)

	m := notebookMeta(t, c, id)
	if aws.ToString(m.Name) != "first notebook" || aws.ToString(m.WorkGroup) != "nbwg" || m.Type != types.NotebookTypeIpynb || aws.ToString(m.NotebookId) != id {
		t.Errorf("metadata %+v", m)
	}
	if m.CreationTime == nil || m.CreationTime.Before(before) || m.CreationTime.After(afterCreate) || m.LastModifiedTime == nil || !m.LastModifiedTime.Equal(*m.CreationTime) {
		t.Errorf("CreationTime %v LastModifiedTime %v: want both the creation time, between %s and %s", m.CreationTime, m.LastModifiedTime, before, afterCreate)
	}
	created := *m.CreationTime
	// A notebook nobody opened has no sessions.
	sessions, err := c.ListNotebookSessions(ctx, &athena.ListNotebookSessionsInput{NotebookId: aws.String(id)})
	if err != nil || len(sessions.NotebookSessionsList) != 0 || sessions.NextToken != nil {
		t.Errorf("ListNotebookSessions of a new notebook: %v %+v", err, sessions)
	}

	// A new notebook exports as a valid, empty ipynb document.
	exp, err := c.ExportNotebook(ctx, &athena.ExportNotebookInput{NotebookId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cells    []any `json:"cells"`
		NBFormat int   `json:"nbformat"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(exp.Payload)), &doc); err != nil || doc.NBFormat != 4 || doc.Cells == nil || len(doc.Cells) != 0 {
		t.Errorf("a new notebook exports %q (%v)", aws.ToString(exp.Payload), err)
	}
	if aws.ToString(exp.NotebookMetadata.Name) != "first notebook" {
		t.Errorf("export metadata %+v", exp.NotebookMetadata)
	}

	// UpdateNotebook replaces the content; Export returns it unchanged, byte for byte.
	time.Sleep(20 * time.Millisecond) // timestamps have millisecond precision
	payload := ipynb("print('updated')\n# ünïcode ✓")
	if _, err := c.UpdateNotebook(ctx, &athena.UpdateNotebookInput{NotebookId: aws.String(id), Payload: aws.String(payload), Type: types.NotebookTypeIpynb}); err != nil {
		t.Fatal(err)
	}
	exp, err = c.ExportNotebook(ctx, &athena.ExportNotebookInput{NotebookId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(exp.Payload) != payload {
		t.Errorf("Export after Update = %q, want %q", aws.ToString(exp.Payload), payload)
	}
	m = notebookMeta(t, c, id)
	if !m.CreationTime.Equal(created) || !m.LastModifiedTime.After(created) || m.LastModifiedTime.After(time.Now().Add(time.Second)) {
		t.Errorf("after update: CreationTime %v (was %v), LastModifiedTime %v: want creation kept and modification later", m.CreationTime, created, m.LastModifiedTime)
	}
	updated := *m.LastModifiedTime

	// Invalid content is refused and changes nothing.
	for _, bad := range []string{"not json", `{"cells":[]}`, `{"nbformat":4}`, `{"nbformat":4,"cells":[1]}`, `[]`} {
		_, err := c.UpdateNotebook(ctx, &athena.UpdateNotebookInput{NotebookId: aws.String(id), Payload: aws.String(bad), Type: types.NotebookTypeIpynb})
		wantInvalid(t, err, "INVALID_INPUT")
	}
	exp, _ = c.ExportNotebook(ctx, &athena.ExportNotebookInput{NotebookId: aws.String(id)})
	if aws.ToString(exp.Payload) != payload {
		t.Error("a refused update changed the notebook")
	}

	// Rename.
	time.Sleep(20 * time.Millisecond)
	if _, err := c.UpdateNotebookMetadata(ctx, &athena.UpdateNotebookMetadataInput{NotebookId: aws.String(id), Name: aws.String("renamed")}); err != nil {
		t.Fatal(err)
	}
	m = notebookMeta(t, c, id)
	if aws.ToString(m.Name) != "renamed" || !m.CreationTime.Equal(created) || !m.LastModifiedTime.After(updated) {
		t.Errorf("after rename %+v", m)
	}
	if names := listNotebookNames(t, c, "nbwg", nil); !slices.Equal(names, []string{"renamed"}) {
		t.Errorf("list after rename %v", names)
	}
	// The old name is free again.
	createNotebook(t, c, "nbwg", "first notebook")

	// Delete.
	if _, err := c.DeleteNotebook(ctx, &athena.DeleteNotebookInput{NotebookId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetNotebookMetadata(ctx, &athena.GetNotebookMetadataInput{NotebookId: aws.String(id)})
	wantInvalid(t, err, "", id)
	// ListNotebookSessions, unlike the notebook operations, lists ResourceNotFoundException.
	_, err = c.ListNotebookSessions(ctx, &athena.ListNotebookSessionsInput{NotebookId: aws.String(id)})
	wantNotFound(t, err, id)
	if names := listNotebookNames(t, c, "nbwg", nil); !slices.Equal(names, []string{"first notebook"}) {
		t.Errorf("list after delete %v", names)
	}
}

// TestNotebookUnknownID: every notebook operation answers an unknown id with
// InvalidRequestException, never ResourceNotFoundException (which they do not list).
func TestNotebookUnknownID(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	const id = "0f0f0f0f-1111-2222-3333-444444444444"
	calls := map[string]func() error{
		"GetNotebookMetadata": func() error {
			_, err := c.GetNotebookMetadata(ctx, &athena.GetNotebookMetadataInput{NotebookId: aws.String(id)})
			return err
		},
		"ExportNotebook": func() error {
			_, err := c.ExportNotebook(ctx, &athena.ExportNotebookInput{NotebookId: aws.String(id)})
			return err
		},
		"UpdateNotebook": func() error {
			_, err := c.UpdateNotebook(ctx, &athena.UpdateNotebookInput{NotebookId: aws.String(id), Payload: aws.String(ipynb("x")), Type: types.NotebookTypeIpynb})
			return err
		},
		"UpdateNotebookMetadata": func() error {
			_, err := c.UpdateNotebookMetadata(ctx, &athena.UpdateNotebookMetadataInput{NotebookId: aws.String(id), Name: aws.String("n")})
			return err
		},
		"DeleteNotebook": func() error {
			_, err := c.DeleteNotebook(ctx, &athena.DeleteNotebookInput{NotebookId: aws.String(id)})
			return err
		},
	}
	for op, call := range calls {
		t.Run(op, func(t *testing.T) { wantInvalid(t, call(), "", id) })
	}
	// An id that is not a UUID at all is a pattern violation.
	_, err := c.GetNotebookMetadata(ctx, &athena.GetNotebookMetadataInput{NotebookId: aws.String("not-a-uuid")})
	wantInvalid(t, err, "INVALID_INPUT", "notebookId")
}

// TestNotebookWorkGroups: notebooks live only in existing Spark workgroups.
func TestNotebookWorkGroups(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	if _, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("sqlwg")}); err != nil {
		t.Fatal(err)
	}
	for _, wg := range []string{"primary", "sqlwg", "missing"} {
		_, err := c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String(wg), Name: aws.String("n")})
		wantInvalid(t, err, "", wg)
		_, err = c.ImportNotebook(ctx, &athena.ImportNotebookInput{WorkGroup: aws.String(wg), Name: aws.String("n"), Payload: aws.String(ipynb("1")), Type: types.NotebookTypeIpynb})
		wantInvalid(t, err, "", wg)
		_, err = c.ListNotebookMetadata(ctx, &athena.ListNotebookMetadataInput{WorkGroup: aws.String(wg)})
		wantInvalid(t, err, "", wg)
	}
	// Names are unique per workgroup, not globally.
	createSparkWorkGroup(t, c, "spark-a")
	createSparkWorkGroup(t, c, "spark-b")
	a := createNotebook(t, c, "spark-a", "same")
	b := createNotebook(t, c, "spark-b", "same")
	if a == b {
		t.Error("two notebooks got one id")
	}
	// A disabled workgroup's notebooks can be read but not changed.
	if _, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("spark-a"), State: types.WorkGroupStateDisabled}); err != nil {
		t.Fatal(err)
	}
	notebookMeta(t, c, a)
	_, err := c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("spark-a"), Name: aws.String("other")})
	wantInvalid(t, err, "", "DISABLED")
}

// TestNotebookNames: the model's name rules and per-workgroup uniqueness.
func TestNotebookNames(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	createSparkWorkGroup(t, c, "names")
	taken := createNotebook(t, c, "names", "taken")
	other := createNotebook(t, c, "names", "other")
	tests := []struct {
		name string
		ok   bool
		msg  string
	}{
		{"a/b", false, "pattern"},
		{"a:b", false, "pattern"},
		{`a\b`, false, "pattern"},
		{"tab\there", true, ""},
		{"bell\a", false, "pattern"},
		{strings.Repeat("n", 255), true, ""},
		{strings.Repeat("n", 256), false, "255"},
		{"ünïcödé ✓ 𝄞", true, ""},
		{"taken", false, "already exists"},
	}
	// Each op answers the id it named a notebook with.
	ops := []struct {
		op   string
		call func(name string) (string, error)
	}{
		{"CreateNotebook", func(name string) (string, error) {
			out, err := c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("names"), Name: aws.String(name)})
			if err != nil {
				return "", err
			}
			return *out.NotebookId, nil
		}},
		{"ImportNotebook", func(name string) (string, error) {
			out, err := c.ImportNotebook(ctx, &athena.ImportNotebookInput{WorkGroup: aws.String("names"), Name: aws.String(name), Payload: aws.String(ipynb("1")), Type: types.NotebookTypeIpynb})
			if err != nil {
				return "", err
			}
			return *out.NotebookId, nil
		}},
		{"UpdateNotebookMetadata", func(name string) (string, error) {
			_, err := c.UpdateNotebookMetadata(ctx, &athena.UpdateNotebookMetadataInput{NotebookId: aws.String(other), Name: aws.String(name)})
			return other, err
		}},
	}
	for _, tc := range tests {
		for _, op := range ops {
			t.Run(fmt.Sprintf("%s %q", op.op, tc.name), func(t *testing.T) {
				id, err := op.call(tc.name)
				if !tc.ok {
					wantInvalid(t, err, "INVALID_INPUT", tc.msg)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := aws.ToString(notebookMeta(t, c, id).Name); got != tc.name {
					t.Errorf("name %q, want %q", got, tc.name)
				}
				// Free the name for the next op.
				if id == other {
					_, err = c.UpdateNotebookMetadata(ctx, &athena.UpdateNotebookMetadataInput{NotebookId: aws.String(other), Name: aws.String("other")})
				} else {
					_, err = c.DeleteNotebook(ctx, &athena.DeleteNotebookInput{NotebookId: aws.String(id)})
				}
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	}
	// Renaming to the name it already has is allowed.
	if _, err := c.UpdateNotebookMetadata(ctx, &athena.UpdateNotebookMetadataInput{NotebookId: aws.String(taken), Name: aws.String("taken")}); err != nil {
		t.Fatal(err)
	}
}

// TestNotebookImport: Payload or NotebookS3LocationUri, exactly one, with valid ipynb content.
func TestNotebookImport(t *testing.T) {
	cfg := newConfig(t, "")
	s := startServer(t, cfg)
	ctx := context.Background()
	c := s.Client
	createSparkWorkGroup(t, c, "imp")
	fromS3 := ipynb("print('from s3')")
	put := func(bucket, key, content string) {
		p := filepath.Join(cfg.DataDir, "objects", bucket, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	put("nbs", "dir/good.ipynb", fromS3)
	put("nbs", "bad.ipynb", "{not json")
	put("nbs", "v3.ipynb", `{"nbformat":3,"worksheets":[]}`)
	tests := []struct {
		name    string
		payload *string
		uri     *string
		want    string // exported payload; "" means refused
		msg     string
	}{
		{"payload", aws.String(ipynb("print(1)")), nil, ipynb("print(1)"), ""},
		{"s3 object", nil, aws.String("s3://nbs/dir/good.ipynb"), fromS3, ""},
		{"S3 scheme in capitals", nil, aws.String("S3://nbs/dir/good.ipynb"), fromS3, ""},
		{"both", aws.String(ipynb("x")), aws.String("s3://nbs/dir/good.ipynb"), "", "Exactly one"},
		{"neither", nil, nil, "", "Exactly one"},
		{"missing object", nil, aws.String("s3://nbs/nothing.ipynb"), "", "does not exist"},
		{"object not JSON", nil, aws.String("s3://nbs/bad.ipynb"), "", "not a valid ipynb"},
		{"object of nbformat 3", nil, aws.String("s3://nbs/v3.ipynb"), "", "nbformat"},
		{"payload not JSON", aws.String("{"), nil, "", "not a valid ipynb"},
		{"payload without cells", aws.String(`{"nbformat":4,"metadata":{}}`), nil, "", "cells"},
		{"uri of another scheme", nil, aws.String("https://example.com/x.ipynb"), "", "s3://"},
		{"uri not matching the pattern", nil, aws.String("/local/file.ipynb"), "", "notebookS3LocationUri"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("import-%d", i)
			out, err := c.ImportNotebook(ctx, &athena.ImportNotebookInput{WorkGroup: aws.String("imp"), Name: aws.String(name),
				Payload: tc.payload, NotebookS3LocationUri: tc.uri, Type: types.NotebookTypeIpynb})
			if tc.want == "" {
				wantInvalid(t, err, "INVALID_INPUT", tc.msg)
				if names := listNotebookNames(t, c, "imp", &types.FilterDefinition{Name: aws.String(name)}); len(names) != 0 {
					t.Errorf("a refused import created %v", names)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			exp, err := c.ExportNotebook(ctx, &athena.ExportNotebookInput{NotebookId: out.NotebookId})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(exp.Payload) != tc.want || aws.ToString(exp.NotebookMetadata.Name) != name {
				t.Errorf("exported %q named %q, want %q named %q", aws.ToString(exp.Payload), aws.ToString(exp.NotebookMetadata.Name), tc.want, name)
			}
		})
	}
}

// TestNotebookIdempotency: the same ClientRequestToken with the same parameters answers like
// the first call and creates nothing; with other parameters it is refused.
func TestNotebookIdempotency(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	createSparkWorkGroup(t, c, "idem")
	count := func() int { return len(listNotebookNames(t, c, "idem", nil)) }

	const tok1 = "11111111-aaaa-4bbb-8ccc-000000000001"
	in := &athena.CreateNotebookInput{WorkGroup: aws.String("idem"), Name: aws.String("created"), ClientRequestToken: aws.String(tok1)}
	first, err := c.CreateNotebook(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateNotebook(ctx, in)
	if err != nil {
		t.Fatalf("retry with the same token: %v", err)
	}
	if *again.NotebookId != *first.NotebookId || count() != 1 {
		t.Errorf("retry gave %s (first %s), %d notebooks", *again.NotebookId, *first.NotebookId, count())
	}
	_, err = c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("idem"), Name: aws.String("other"), ClientRequestToken: aws.String(tok1)})
	wantInvalid(t, err, "IDEMPOTENT_PARAMETER_MISMATCH")
	// Without a token, a second create of the name is a duplicate.
	_, err = c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("idem"), Name: aws.String("created")})
	wantInvalid(t, err, "", "already exists")

	const tok2 = "22222222-aaaa-4bbb-8ccc-000000000002"
	imp := &athena.ImportNotebookInput{WorkGroup: aws.String("idem"), Name: aws.String("imported"), Payload: aws.String(ipynb("1")),
		Type: types.NotebookTypeIpynb, ClientRequestToken: aws.String(tok2)}
	i1, err := c.ImportNotebook(ctx, imp)
	if err != nil {
		t.Fatal(err)
	}
	i2, err := c.ImportNotebook(ctx, imp)
	if err != nil || *i2.NotebookId != *i1.NotebookId || count() != 2 {
		t.Fatalf("import retry: %v, %v vs %v, %d notebooks", err, i2, *i1.NotebookId, count())
	}
	imp.Payload = aws.String(ipynb("2"))
	_, err = c.ImportNotebook(ctx, imp)
	wantInvalid(t, err, "IDEMPOTENT_PARAMETER_MISMATCH")

	// Tokens are remembered per operation: the same token on UpdateNotebook is a new request.
	upd := &athena.UpdateNotebookInput{NotebookId: first.NotebookId, Payload: aws.String(ipynb("v2")), Type: types.NotebookTypeIpynb, ClientRequestToken: aws.String(tok1)}
	if _, err := c.UpdateNotebook(ctx, upd); err != nil {
		t.Fatal(err)
	}
	// Someone else changes the notebook; a retry of the first update must not undo that.
	if _, err := c.UpdateNotebook(ctx, &athena.UpdateNotebookInput{NotebookId: first.NotebookId, Payload: aws.String(ipynb("v3")), Type: types.NotebookTypeIpynb}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateNotebook(ctx, upd); err != nil {
		t.Fatalf("update retry: %v", err)
	}
	exp, _ := c.ExportNotebook(ctx, &athena.ExportNotebookInput{NotebookId: first.NotebookId})
	if aws.ToString(exp.Payload) != ipynb("v3") {
		t.Errorf("a retried update was applied again: %s", aws.ToString(exp.Payload))
	}
	upd.Payload = aws.String(ipynb("v4"))
	_, err = c.UpdateNotebook(ctx, upd)
	wantInvalid(t, err, "IDEMPOTENT_PARAMETER_MISMATCH")

	ren := &athena.UpdateNotebookMetadataInput{NotebookId: first.NotebookId, Name: aws.String("renamed"), ClientRequestToken: aws.String(tok2)}
	if _, err := c.UpdateNotebookMetadata(ctx, ren); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateNotebookMetadata(ctx, ren); err != nil {
		t.Fatalf("rename retry: %v", err)
	}
	ren.Name = aws.String("renamed again")
	_, err = c.UpdateNotebookMetadata(ctx, ren)
	wantInvalid(t, err, "IDEMPOTENT_PARAMETER_MISMATCH")
	if got := aws.ToString(notebookMeta(t, c, *first.NotebookId).Name); got != "renamed" {
		t.Errorf("name %q", got)
	}

	// The token has the model's shape: a lowercase UUID.
	_, err = c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("idem"), Name: aws.String("x"), ClientRequestToken: aws.String("NOT-A-UUID")})
	wantInvalid(t, err, "INVALID_INPUT", "clientRequestToken")
}

// TestNotebookListPagination pages ListNotebookMetadata by hand (the SDK has no paginator for
// it) and filters by name.
func TestNotebookListPagination(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	createSparkWorkGroup(t, c, "pages")
	var want []string
	for i := range 8 {
		name := fmt.Sprintf("page-%02d", 7-i) // created out of name order
		if i%3 == 0 {
			name = fmt.Sprintf("other-%02d", i)
		}
		createNotebook(t, c, "pages", name)
		want = append(want, name)
	}
	slices.Sort(want)
	var got []string
	var token *string
	pages := 0
	for {
		out, err := c.ListNotebookMetadata(ctx, &athena.ListNotebookMetadataInput{WorkGroup: aws.String("pages"), MaxResults: aws.Int32(3), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.NotebookMetadataList) > 3 {
			t.Errorf("page of %d", len(out.NotebookMetadataList))
		}
		for _, m := range out.NotebookMetadataList {
			got = append(got, aws.ToString(m.Name))
		}
		if out.NextToken == nil {
			break
		}
		if *out.NextToken == "" || pages > 10 {
			t.Fatalf("NextToken %q after %d pages", *out.NextToken, pages)
		}
		token = out.NextToken
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Errorf("%d pages %v, want 3 pages %v", pages, got, want)
	}
	if names := listNotebookNames(t, c, "pages", &types.FilterDefinition{Name: aws.String("other")}); !slices.Equal(names, []string{"other-00", "other-03", "other-06"}) {
		t.Errorf("filtered %v", names)
	}
	_, err := c.ListNotebookMetadata(ctx, &athena.ListNotebookMetadataInput{WorkGroup: aws.String("pages"), MaxResults: aws.Int32(51)})
	wantInvalid(t, err, "INVALID_INPUT", "maxResults")
	_, err = c.ListNotebookMetadata(ctx, &athena.ListNotebookMetadataInput{WorkGroup: aws.String("pages"), NextToken: aws.String("garbage")})
	wantInvalid(t, err, "", "NextToken")
}

// TestNotebookConcurrent: 20 goroutines create notebooks at once; distinct names all succeed
// with distinct ids, one shared name succeeds exactly once.
func TestNotebookConcurrent(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	createSparkWorkGroup(t, c, "busy")
	const n = 20
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			out, err := c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("busy"), Name: aws.String(fmt.Sprintf("nb-%02d", i))})
			if err == nil {
				ids[i] = *out.NotebookId
			}
			errs[i] = err
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("notebook %d: %v", i, errs[i])
			continue
		}
		if seen[ids[i]] {
			t.Errorf("id %s given twice", ids[i])
		}
		seen[ids[i]] = true
	}
	if got := listNotebookNames(t, c, "busy", &types.FilterDefinition{Name: aws.String("nb-")}); len(got) != n {
		t.Errorf("%d notebooks listed, want %d", len(got), n)
	}

	var okCount int
	var mu sync.Mutex
	for range n {
		wg.Go(func() {
			_, err := c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("busy"), Name: aws.String("contested")})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				okCount++
				return
			}
			wantInvalid(t, err, "", "already exists")
		})
	}
	wg.Wait()
	if okCount != 1 {
		t.Errorf("%d creates of one name succeeded, want 1", okCount)
	}
	if got := listNotebookNames(t, c, "busy", &types.FilterDefinition{Name: aws.String("contested")}); len(got) != 1 {
		t.Errorf("contested name listed %d times", len(got))
	}
}
