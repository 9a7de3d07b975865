package athena

import (
	"context"
	"errors"
	"slices"
	"strings"

	"glaux/internal/wire"
)

// maxTagsPerResource is Athena's quota of tags on one workgroup.
const maxTagsPerResource = 50

// taggableARN resolves a client's ResourceARN to the ARN of an existing workgroup, the only
// taggable resource glaux has. A malformed ARN is InvalidRequestException; a well-formed one
// that names nothing here is ResourceNotFoundException.
func (s *Service) taggableARN(tx Tx, arn string) (string, error) {
	const form = "arn:aws:athena:<region>:<account id>:workgroup/<name>"
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return "", invalid("ResourceARN %q is not a valid ARN: expected %s.", arn, form)
	}
	if parts[2] != "athena" {
		return "", invalid("ResourceARN %q is not an Athena resource (service %q): expected %s.", arn, parts[2], form)
	}
	typ, name, ok := strings.Cut(parts[5], "/")
	if !ok || typ == "" || name == "" {
		return "", invalid("ResourceARN %q does not name a resource: expected %s.", arn, form)
	}
	if parts[1] != "aws" || parts[3] != s.cfg.Region || parts[4] != s.cfg.AccountID {
		return "", notFound(arn, "Resource %s is not found: this server serves partition aws, region %s, account %s.", arn, s.cfg.Region, s.cfg.AccountID)
	}
	if typ != "workgroup" {
		return "", notFound(arn, "Resource %s is not found: only workgroups can be tagged here.", arn)
	}
	if _, err := tx.GetWorkGroup(name); errors.Is(err, ErrNotFound) {
		return "", notFound(arn, "Resource %s is not found: WorkGroup %s does not exist.", arn, name)
	} else if err != nil {
		return "", err
	}
	return s.workGroupARN(name), nil
}

// checkTags validates tags a client asks to set and returns them sorted by key, values filled.
func checkTags(tags []wire.Tag, member string) ([]wire.Tag, error) {
	out := make([]wire.Tag, 0, len(tags))
	seen := map[string]bool{}
	for i, t := range tags {
		if t.Key == nil {
			return nil, invalid("%s.%d.Key is required: every tag needs a key.", member, i+1)
		}
		key := *t.Key
		if err := checkTagKey(key); err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, invalid("Tag key %q appears more than once in %s.", key, member)
		}
		seen[key] = true
		out = append(out, wire.Tag{Key: refOf(key), Value: refOf(valOf(t.Value))})
	}
	sortTags(out)
	return out, nil
}

func checkTagKey(key string) error {
	if len(key) >= 4 && strings.EqualFold(key[:4], "aws:") {
		return invalid("Tag key %q is not allowed: keys starting with aws: are reserved for AWS use.", key)
	}
	return nil
}

func sortTags(tags []wire.Tag) {
	slices.SortFunc(tags, func(a, b wire.Tag) int { return strings.Compare(valOf(a.Key), valOf(b.Key)) })
}

// TagResource adds tags to a workgroup, overwriting the values of keys it already has.
func (s *Service) TagResource(ctx context.Context, in *wire.TagResourceInput) (*wire.TagResourceOutput, error) {
	tags, err := checkTags(in.Tags, "Tags")
	if err != nil {
		return nil, err
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		arn, err := s.taggableARN(tx, valOf(in.ResourceARN))
		if err != nil {
			return err
		}
		current, err := tx.GetTags(arn)
		if err != nil {
			return err
		}
		merged := map[string]string{}
		for _, t := range current {
			merged[valOf(t.Key)] = valOf(t.Value)
		}
		for _, t := range tags {
			merged[*t.Key] = *t.Value
		}
		if len(merged) > maxTagsPerResource {
			return invalid("Resource %s would have %d tags: a resource can have at most %d.", valOf(in.ResourceARN), len(merged), maxTagsPerResource)
		}
		return putTags(tx, arn, merged)
	})
	if err != nil {
		return nil, err
	}
	return &wire.TagResourceOutput{}, nil
}

// UntagResource removes tags from a workgroup; keys it does not have are ignored.
func (s *Service) UntagResource(ctx context.Context, in *wire.UntagResourceInput) (*wire.UntagResourceOutput, error) {
	for _, k := range in.TagKeys {
		if err := checkTagKey(k); err != nil {
			return nil, err
		}
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		arn, err := s.taggableARN(tx, valOf(in.ResourceARN))
		if err != nil {
			return err
		}
		current, err := tx.GetTags(arn)
		if err != nil {
			return err
		}
		kept := map[string]string{}
		for _, t := range current {
			kept[valOf(t.Key)] = valOf(t.Value)
		}
		n := len(kept)
		for _, k := range in.TagKeys {
			delete(kept, k)
		}
		if len(kept) == n {
			return nil
		}
		return putTags(tx, arn, kept)
	})
	if err != nil {
		return nil, err
	}
	return &wire.UntagResourceOutput{}, nil
}

// putTags makes tags the resource's whole tag set.
func putTags(tx Tx, arn string, tags map[string]string) error {
	if err := tx.DeleteTags(arn); err != nil {
		return err
	}
	if len(tags) == 0 {
		return nil
	}
	list := make([]wire.Tag, 0, len(tags))
	for k, v := range tags {
		list = append(list, wire.Tag{Key: refOf(k), Value: refOf(v)})
	}
	sortTags(list)
	return tx.PutTags(arn, list)
}

// ListTagsForResource lists a workgroup's tags in key order.
func (s *Service) ListTagsForResource(ctx context.Context, in *wire.ListTagsForResourceInput) (*wire.ListTagsForResourceOutput, error) {
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.MaxResults, 100)
	out := &wire.ListTagsForResourceOutput{Tags: []wire.Tag{}}
	err = s.store.View(ctx, func(tx Tx) error {
		arn, err := s.taggableARN(tx, valOf(in.ResourceARN))
		if err != nil {
			return err
		}
		tags, err := tx.GetTags(arn)
		if err != nil {
			return err
		}
		sortTags(tags)
		for _, t := range tags {
			if after.Key != "" && valOf(t.Key) <= after.Key {
				continue
			}
			if len(out.Tags) == limit {
				out.NextToken = encodeToken(Cursor{Key: valOf(out.Tags[limit-1].Key)})
				break
			}
			out.Tags = append(out.Tags, wire.Tag{Key: refOf(valOf(t.Key)), Value: refOf(valOf(t.Value))})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
