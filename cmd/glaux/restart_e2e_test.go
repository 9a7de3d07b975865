package main

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
)

// snapshot is everything a client can read about the workgroups, tags and notebooks of a
// server, as JSON so that two snapshots compare member by member.
func snapshot(t *testing.T, c *athena.Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	put := func(key string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[key] = string(b)
	}
	p := athena.NewListWorkGroupsPaginator(c, &athena.ListWorkGroupsInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, sum := range page.WorkGroups {
			name := aws.ToString(sum.Name)
			put("summary "+name, sum)
			put("workgroup "+name, getWorkGroup(t, c, name))
			tags, _ := listTags(t, c, workGroupARN(name), 75)
			put("tags "+name, tags)
			if aws.ToString(sum.EngineVersion.EffectiveEngineVersion) != sparkEngine {
				continue
			}
			nbs, err := c.ListNotebookMetadata(ctx, &athena.ListNotebookMetadataInput{WorkGroup: sum.Name})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range nbs.NotebookMetadataList {
				exp, err := c.ExportNotebook(ctx, &athena.ExportNotebookInput{NotebookId: m.NotebookId})
				if err != nil {
					t.Fatal(err)
				}
				put("notebook "+aws.ToString(m.NotebookId), exp)
			}
		}
	}
	return out
}

// TestRestartPersistence stops the server and starts a new one on the same data dir:
// workgroups, configurations, tags, notebooks and idempotency tokens are all still there.
func TestRestartPersistence(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, newConfig(t, dir))
	ctx := context.Background()
	c := s.Client

	cfg := sparkConfig()
	cfg.AdditionalConfiguration = aws.String(`{"x":"y"}`)
	cfg.ResultConfiguration = &types.ResultConfiguration{OutputLocation: aws.String("s3://results/persist/"), ExpectedBucketOwner: aws.String("111122223333")}
	cfg.EngineConfiguration = &types.EngineConfiguration{MaxConcurrentDpus: aws.Int32(3), SparkProperties: map[string]string{"spark.a": "b"}}
	if _, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("spark-p"), Description: aws.String("kept"), Configuration: cfg,
		Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("me")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("sql-p"), Configuration: &types.WorkGroupConfiguration{
		BytesScannedCutoffPerQuery: aws.Int64(12_345_678_901), RequesterPaysEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("sql-p"), State: types.WorkGroupStateDisabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(ctx, &athena.TagResourceInput{ResourceARN: aws.String(workGroupARN("sql-p")), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	const token = "33333333-aaaa-4bbb-8ccc-000000000003"
	created, err := c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("spark-p"), Name: aws.String("made"), ClientRequestToken: aws.String(token)})
	if err != nil {
		t.Fatal(err)
	}
	imported, err := c.ImportNotebook(ctx, &athena.ImportNotebookInput{WorkGroup: aws.String("spark-p"), Name: aws.String("imported"), Payload: aws.String(ipynb("x = 1")), Type: types.NotebookTypeIpynb})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateNotebook(ctx, &athena.UpdateNotebookInput{NotebookId: imported.NotebookId, Payload: aws.String(ipynb("x = 2")), Type: types.NotebookTypeIpynb}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateNotebookMetadata(ctx, &athena.UpdateNotebookMetadataInput{NotebookId: imported.NotebookId, Name: aws.String("imported and renamed")}); err != nil {
		t.Fatal(err)
	}
	// Deleted things must stay deleted.
	if _, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteWorkGroup(ctx, &athena.DeleteWorkGroupInput{WorkGroup: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, c)
	if len(before) < 10 {
		t.Fatalf("snapshot too small to mean anything: %v", before)
	}
	s.stop()

	s2 := startServer(t, newConfig(t, dir))
	c = s2.Client
	after := snapshot(t, c)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed across the restart:\nbefore %s\nafter  %s", k, v, after[k])
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s appeared across the restart: %s", k, after[k])
		}
	}
	exp, err := c.ExportNotebook(ctx, &athena.ExportNotebookInput{NotebookId: imported.NotebookId})
	if err != nil || aws.ToString(exp.Payload) != ipynb("x = 2") || aws.ToString(exp.NotebookMetadata.Name) != "imported and renamed" {
		t.Errorf("imported notebook after restart: %v %+v", err, exp)
	}
	// The token is remembered: a retry answers the first id, other parameters are refused.
	again, err := c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("spark-p"), Name: aws.String("made"), ClientRequestToken: aws.String(token)})
	if err != nil || *again.NotebookId != *created.NotebookId {
		t.Errorf("retry after restart: %v %v, want id %s", err, again, *created.NotebookId)
	}
	_, err = c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("spark-p"), Name: aws.String("other"), ClientRequestToken: aws.String(token)})
	wantInvalid(t, err, "IDEMPOTENT_PARAMETER_MISMATCH")
	// One primary, not a second one made at the second start; the deleted workgroup stays gone.
	out, err := c.ListWorkGroups(ctx, &athena.ListWorkGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range out.WorkGroups {
		names = append(names, aws.ToString(w.Name))
	}
	if want := []string{"primary", "spark-p", "sql-p"}; !slices.Equal(names, want) {
		t.Errorf("workgroups after restart %v, want %v", names, want)
	}
	// And the new server accepts writes.
	createNotebook(t, c, "spark-p", "after restart")
}
