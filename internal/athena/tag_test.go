package athena

import (
	"fmt"
	"strings"
	"testing"

	"glaux/internal/wire"
)

const wgARN = "arn:aws:athena:us-east-1:123456789012:workgroup/wg"

func (e *testEnv) listTags(arn string) string {
	e.t.Helper()
	out, err := e.svc.ListTagsForResource(e.ctx, valid(e.t, &wire.ListTagsForResourceInput{ResourceARN: refOf(arn)}))
	mustOK(e.t, err)
	var kv []string
	for _, t := range out.Tags {
		kv = append(kv, *t.Key+"="+*t.Value)
	}
	return strings.Join(kv, ",")
}

func TestTagResource(t *testing.T) {
	e := newTestEnv(t)
	e.createWorkGroup("wg", nil, tag("team", "a"))
	_, err := e.svc.TagResource(e.ctx, valid(t, &wire.TagResourceInput{ResourceARN: refOf(wgARN), Tags: []wire.Tag{tag("team", "b"), tag("cost", "1"), {Key: refOf("empty")}}}))
	mustOK(t, err)
	if got := e.listTags(wgARN); got != "cost=1,empty=,team=b" {
		t.Errorf("tags = %s", got)
	}
	_, err = e.svc.UntagResource(e.ctx, valid(t, &wire.UntagResourceInput{ResourceARN: refOf(wgARN), TagKeys: []string{"team", "never-set"}}))
	mustOK(t, err)
	if got := e.listTags(wgARN); got != "cost=1,empty=" {
		t.Errorf("tags after untag = %s", got)
	}
	_, err = e.svc.UntagResource(e.ctx, valid(t, &wire.UntagResourceInput{ResourceARN: refOf(wgARN), TagKeys: []string{"cost", "empty"}}))
	mustOK(t, err)
	if got := e.listTags(wgARN); got != "" {
		t.Errorf("tags after removing all = %s", got)
	}
	// Tags are per workgroup.
	e.createWorkGroup("wg2", nil, tag("x", "y"))
	if got := e.listTags(wgARN); got != "" {
		t.Errorf("wg tags = %s", got)
	}
}

func TestTagResourceLimits(t *testing.T) {
	e := newTestEnv(t)
	var tags []wire.Tag
	for i := range 49 {
		tags = append(tags, tag(fmt.Sprintf("k%02d", i), "v"))
	}
	e.createWorkGroup("wg", nil, tags...)
	// Overwriting existing keys does not count against the quota.
	_, err := e.svc.TagResource(e.ctx, valid(t, &wire.TagResourceInput{ResourceARN: refOf(wgARN), Tags: []wire.Tag{tag("k00", "w"), tag("new", "1")}}))
	mustOK(t, err)
	before := e.listTags(wgARN)
	_, err = e.svc.TagResource(e.ctx, valid(t, &wire.TagResourceInput{ResourceARN: refOf(wgARN), Tags: []wire.Tag{tag("k01", "changed"), tag("one-too-many", "1")}}))
	wantErr(t, err, CodeInvalidRequest, "51", "at most 50", wgARN)
	if after := e.listTags(wgARN); after != before {
		t.Error("a refused TagResource wrote tags")
	}
}

func TestTagResourceRefusals(t *testing.T) {
	cases := []struct {
		name     string
		arn      string
		tags     []wire.Tag
		code     Code
		want     []string
		resource string
	}{
		{"reserved key", wgARN, []wire.Tag{tag("aws:cloudformation:stack", "x")}, CodeInvalidRequest, []string{"aws:cloudformation:stack", "reserved"}, ""},
		{"duplicate key", wgARN, []wire.Tag{tag("a", "1"), tag("a", "2")}, CodeInvalidRequest, []string{`"a"`}, ""},
		{"no key", wgARN, []wire.Tag{{Value: refOf("v")}}, CodeInvalidRequest, []string{"Tags.1.Key"}, ""},
		{"not an ARN", "wg", []wire.Tag{tag("a", "1")}, CodeInvalidRequest, []string{`"wg"`, "not a valid ARN"}, ""},
		{"other service", "arn:aws:s3:us-east-1:123456789012:workgroup/wg", []wire.Tag{tag("a", "1")}, CodeInvalidRequest, []string{"not an Athena resource"}, ""},
		{"no resource name", "arn:aws:athena:us-east-1:123456789012:workgroup", []wire.Tag{tag("a", "1")}, CodeInvalidRequest, []string{"does not name a resource"}, ""},
		{"unknown workgroup", "arn:aws:athena:us-east-1:123456789012:workgroup/ghost", []wire.Tag{tag("a", "1")}, CodeResourceNotFound,
			[]string{"ghost"}, "arn:aws:athena:us-east-1:123456789012:workgroup/ghost"},
		{"other region", "arn:aws:athena:eu-west-1:123456789012:workgroup/wg", []wire.Tag{tag("a", "1")}, CodeResourceNotFound,
			[]string{"eu-west-1", "us-east-1"}, "arn:aws:athena:eu-west-1:123456789012:workgroup/wg"},
		{"other account", "arn:aws:athena:us-east-1:999999999999:workgroup/wg", []wire.Tag{tag("a", "1")}, CodeResourceNotFound,
			[]string{"123456789012"}, "arn:aws:athena:us-east-1:999999999999:workgroup/wg"},
		{"data catalog", "arn:aws:athena:us-east-1:123456789012:datacatalog/AwsDataCatalog", []wire.Tag{tag("a", "1")}, CodeResourceNotFound,
			[]string{"only workgroups"}, "arn:aws:athena:us-east-1:123456789012:datacatalog/AwsDataCatalog"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.createWorkGroup("wg", nil, tag("keep", "1"))
			_, err := e.svc.TagResource(e.ctx, valid(t, &wire.TagResourceInput{ResourceARN: refOf(tc.arn), Tags: tc.tags}))
			de := wantErr(t, err, tc.code, tc.want...)
			if de.ResourceName != tc.resource {
				t.Errorf("ResourceName = %q, want %q", de.ResourceName, tc.resource)
			}
			if got := e.listTags(wgARN); got != "keep=1" {
				t.Errorf("tags = %s", got)
			}
			if tc.code == CodeInvalidRequest && strings.Contains(tc.name, "key") {
				return
			}
			// The other tag operations resolve the ARN the same way.
			_, err = e.svc.UntagResource(e.ctx, valid(t, &wire.UntagResourceInput{ResourceARN: refOf(tc.arn), TagKeys: []string{"keep"}}))
			wantErr(t, err, tc.code, tc.want...)
			_, err = e.svc.ListTagsForResource(e.ctx, valid(t, &wire.ListTagsForResourceInput{ResourceARN: refOf(tc.arn)}))
			wantErr(t, err, tc.code, tc.want...)
		})
	}
}

func TestUntagResourceReservedKey(t *testing.T) {
	e := newTestEnv(t)
	e.createWorkGroup("wg", nil)
	_, err := e.svc.UntagResource(e.ctx, valid(t, &wire.UntagResourceInput{ResourceARN: refOf(wgARN), TagKeys: []string{"aws:x"}}))
	wantErr(t, err, CodeInvalidRequest, "aws:x")
}

func TestListTagsForResourcePages(t *testing.T) {
	e := newTestEnv(t)
	e.createWorkGroup("wg", nil)
	// More tags than one page holds can only be put in the store directly (the quota is 50).
	var want []string
	mustOK(t, e.store.Update(e.ctx, func(tx Tx) error {
		var tags []wire.Tag
		for i := range 160 {
			k := fmt.Sprintf("k%03d", i)
			want = append(want, k)
			tags = append(tags, tag(k, "v"))
		}
		return tx.PutTags(wgARN, tags)
	}))
	var got []string
	var token *string
	pages := 0
	for range 10 {
		out, err := e.svc.ListTagsForResource(e.ctx, valid(t, &wire.ListTagsForResourceInput{ResourceARN: refOf(wgARN), MaxResults: refOf(int32(75)), NextToken: token}))
		mustOK(t, err)
		pages++
		if len(out.Tags) > 75 {
			t.Fatalf("page of %d", len(out.Tags))
		}
		for _, tg := range out.Tags {
			got = append(got, *tg.Key)
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
		t.Errorf("%d pages of %v", pages, got)
	}
	out, err := e.svc.ListTagsForResource(e.ctx, valid(t, &wire.ListTagsForResourceInput{ResourceARN: refOf(wgARN)}))
	mustOK(t, err)
	if len(out.Tags) != 100 || out.NextToken == nil {
		t.Errorf("default page = %d tags, token %v", len(out.Tags), out.NextToken)
	}
	_, err = e.svc.ListTagsForResource(e.ctx, valid(t, &wire.ListTagsForResourceInput{ResourceARN: refOf(wgARN), NextToken: refOf("%%%")}))
	wantErr(t, err, CodeInvalidRequest, "NextToken")
}
