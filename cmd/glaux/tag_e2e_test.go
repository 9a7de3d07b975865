package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
)

func workGroupARN(name string) string {
	return "arn:aws:athena:us-east-1:123456789012:workgroup/" + name
}

// listTags reads all of a resource's tags with the SDK paginator, as "key=value".
func listTags(t testing.TB, c *athena.Client, arn string, pageSize int32) (tags []string, pages int) {
	t.Helper()
	p := athena.NewListTagsForResourcePaginator(c, &athena.ListTagsForResourceInput{ResourceARN: aws.String(arn), MaxResults: aws.Int32(pageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListTagsForResource: %v", err)
		}
		pages++
		if len(page.Tags) > int(pageSize) || pages > 10 {
			t.Fatalf("page %d has %d tags, MaxResults %d", pages, len(page.Tags), pageSize)
		}
		for _, tag := range page.Tags {
			tags = append(tags, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
		}
	}
	return tags, pages
}

// TestTagLifecycle: tags given at CreateWorkGroup are listed; TagResource adds and
// overwrites; UntagResource removes; deleting the workgroup drops its tags.
func TestTagLifecycle(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("tagged"), Tags: []types.Tag{
		{Key: aws.String("team"), Value: aws.String("data")},
		{Key: aws.String("env"), Value: aws.String("dev")},
		{Key: aws.String("empty")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	arn := workGroupARN("tagged")
	if got, _ := listTags(t, c, arn, 75); !slices.Equal(got, []string{"empty=", "env=dev", "team=data"}) {
		t.Errorf("tags after create %v", got)
	}
	if _, err := c.TagResource(ctx, &athena.TagResourceInput{ResourceARN: aws.String(arn), Tags: []types.Tag{
		{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("cost"), Value: aws.String("42")},
	}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := listTags(t, c, arn, 75); !slices.Equal(got, []string{"cost=42", "empty=", "env=prod", "team=data"}) {
		t.Errorf("tags after TagResource %v", got)
	}
	// Keys it does not have are ignored.
	if _, err := c.UntagResource(ctx, &athena.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"team", "empty", "never-set"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := listTags(t, c, arn, 75); !slices.Equal(got, []string{"cost=42", "env=prod"}) {
		t.Errorf("tags after UntagResource %v", got)
	}
	// Other workgroups have their own tags.
	createSparkWorkGroup(t, c, "untagged")
	if got, _ := listTags(t, c, workGroupARN("untagged"), 75); len(got) != 0 {
		t.Errorf("untagged workgroup has %v", got)
	}
	// A workgroup made again under a deleted one's name starts without tags.
	if _, err := c.DeleteWorkGroup(ctx, &athena.DeleteWorkGroupInput{WorkGroup: aws.String("tagged")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListTagsForResource(ctx, &athena.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	wantNotFound(t, err, arn)
	if _, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("tagged")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := listTags(t, c, arn, 75); len(got) != 0 {
		t.Errorf("the new workgroup inherited tags %v", got)
	}
}

func wantNotFound(t testing.TB, err error, resource string) {
	t.Helper()
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("got %T %v, want *types.ResourceNotFoundException", err, err)
	}
	if aws.ToString(rnf.ResourceName) != resource {
		t.Errorf("ResourceName %q, want %q", aws.ToString(rnf.ResourceName), resource)
	}
}

// TestTagErrors: malformed ARNs and tags are InvalidRequestException; a well-formed ARN of
// nothing here is ResourceNotFoundException.
func TestTagErrors(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	if _, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("wg")}); err != nil {
		t.Fatal(err)
	}
	arn := workGroupARN("wg")
	tag := func(k, v string) []types.Tag { return []types.Tag{{Key: aws.String(k), Value: aws.String(v)}} }
	invalidCases := []struct {
		name string
		arn  string
		tags []types.Tag
		msg  string
	}{
		{"not an ARN", "workgroup/wg", tag("k", "v"), "not a valid ARN"},
		{"another service", "arn:aws:s3:us-east-1:123456789012:workgroup/wg", tag("k", "v"), "not an Athena resource"},
		{"no resource name", "arn:aws:athena:us-east-1:123456789012:workgroup", tag("k", "v"), "does not name a resource"},
		{"reserved aws: prefix", arn, tag("aws:owner", "v"), "reserved"},
		{"reserved AWS: prefix in capitals", arn, tag("AWS:owner", "v"), "reserved"},
		{"key too long", arn, tag(strings.Repeat("k", 129), "v"), "key"},
		{"value too long", arn, tag("k", strings.Repeat("v", 257)), "value"},
		{"duplicate key", arn, append(tag("k", "1"), tag("k", "2")...), "more than once"},
	}
	for _, tc := range invalidCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.TagResource(ctx, &athena.TagResourceInput{ResourceARN: aws.String(tc.arn), Tags: tc.tags})
			wantInvalid(t, err, "INVALID_INPUT", tc.msg)
		})
	}
	notFound := []string{
		workGroupARN("missing"),
		"arn:aws:athena:eu-west-1:123456789012:workgroup/wg", // another region
		"arn:aws:athena:us-east-1:210987654321:workgroup/wg", // another account
		"arn:aws:athena:us-east-1:123456789012:datacatalog/wg",
	}
	for _, a := range notFound {
		t.Run("not found "+a, func(t *testing.T) {
			_, err := c.TagResource(ctx, &athena.TagResourceInput{ResourceARN: aws.String(a), Tags: tag("k", "v")})
			wantNotFound(t, err, a)
			_, err = c.UntagResource(ctx, &athena.UntagResourceInput{ResourceARN: aws.String(a), TagKeys: []string{"k"}})
			wantNotFound(t, err, a)
			_, err = c.ListTagsForResource(ctx, &athena.ListTagsForResourceInput{ResourceARN: aws.String(a)})
			wantNotFound(t, err, a)
		})
	}
	// ListTagsForResource pages hold at least 75 tags (the model's minimum).
	_, err := c.ListTagsForResource(ctx, &athena.ListTagsForResourceInput{ResourceARN: aws.String(arn), MaxResults: aws.Int32(10)})
	wantInvalid(t, err, "INVALID_INPUT", "maxResults", "75")
	// CreateWorkGroup checks its tags the same way, and creates nothing when they are refused.
	_, err = c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("badtags"), Tags: tag("aws:x", "v")})
	wantInvalid(t, err, "INVALID_INPUT", "reserved")
	_, err = c.GetWorkGroup(ctx, &athena.GetWorkGroupInput{WorkGroup: aws.String("badtags")})
	wantInvalid(t, err, "", "badtags")
	if got, _ := listTags(t, c, arn, 75); len(got) != 0 {
		t.Errorf("refused requests left tags %v", got)
	}
}

// TestTagQuotaAndPaging: a workgroup has at most 50 tags. Since a ListTagsForResource page
// holds at least 75, a full tag set always comes in one page; the paginator must end there.
func TestTagQuotaAndPaging(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	tags := func(from, n int) []types.Tag {
		var out []types.Tag
		for i := from; i < from+n; i++ {
			out = append(out, types.Tag{Key: aws.String(fmt.Sprintf("key-%03d", i)), Value: aws.String(fmt.Sprint(i))})
		}
		return out
	}
	_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("toomany"), Tags: tags(0, 51)})
	wantInvalid(t, err, "INVALID_INPUT", "50")
	if _, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("full"), Tags: tags(0, 30)}); err != nil {
		t.Fatal(err)
	}
	arn := workGroupARN("full")
	if _, err := c.TagResource(ctx, &athena.TagResourceInput{ResourceARN: aws.String(arn), Tags: tags(30, 20)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.TagResource(ctx, &athena.TagResourceInput{ResourceARN: aws.String(arn), Tags: tags(50, 1)})
	wantInvalid(t, err, "INVALID_INPUT", "50")
	// Overwriting existing keys does not count against the quota.
	if _, err := c.TagResource(ctx, &athena.TagResourceInput{ResourceARN: aws.String(arn), Tags: tags(0, 50)}); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int32{75, 1000} {
		got, pages := listTags(t, c, arn, size)
		if pages != 1 || len(got) != 50 || got[0] != "key-000=0" || got[49] != "key-049=49" || !slices.IsSorted(got) {
			t.Errorf("MaxResults %d: %d pages, %d tags %v", size, pages, len(got), got)
		}
	}
	_, err = c.ListTagsForResource(ctx, &athena.ListTagsForResourceInput{ResourceARN: aws.String(arn), NextToken: aws.String("garbage")})
	wantInvalid(t, err, "", "NextToken")
}
