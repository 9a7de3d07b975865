package athena

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"glaux/internal/wire"
)

// PrimaryWorkGroup exists from the first start on and cannot be deleted.
const PrimaryWorkGroup = "primary"

// EnsurePrimary creates the primary workgroup (SQL, engine chosen automatically, which is
// Athena engine version 3) when it does not exist yet. Call it once at startup.
func (s *Service) EnsurePrimary(ctx context.Context) error {
	return s.store.Update(ctx, func(tx Tx) error {
		_, err := tx.GetWorkGroup(PrimaryWorkGroup)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return err
		}
		return tx.PutWorkGroup(&WorkGroup{
			Name:         PrimaryWorkGroup,
			State:        wire.WorkGroupStateEnabled,
			CreationTime: s.now(),
			Configuration: wire.WorkGroupConfiguration{
				EngineVersion: &wire.EngineVersion{SelectedEngineVersion: refOf(EngineVersionAuto)},
			},
		})
	})
}

// loadWorkGroup reads a workgroup; a missing one is InvalidRequestException, as in Athena.
func loadWorkGroup(tx Tx, name string) (*WorkGroup, error) {
	wg, err := tx.GetWorkGroup(name)
	if errors.Is(err, ErrNotFound) {
		return nil, invalid("WorkGroup %s is not found.", name)
	}
	if err != nil {
		return nil, err
	}
	return wg, nil
}

// CreateWorkGroup creates an SQL or (with the PySpark engine) a Spark workgroup.
func (s *Service) CreateWorkGroup(ctx context.Context, in *wire.CreateWorkGroupInput) (*wire.CreateWorkGroupOutput, error) {
	name := valOf(in.Name)
	var cfg wire.WorkGroupConfiguration
	if in.Configuration != nil {
		cfg = cloneJSON(*in.Configuration)
	}
	normalizeEngineVersion(&cfg)
	if err := checkWorkGroupConfig(&cfg); err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags, "Tags")
	if err != nil {
		return nil, err
	}
	if len(tags) > maxTagsPerResource {
		return nil, invalid("Tags has %d tags: a workgroup can have at most %d.", len(tags), maxTagsPerResource)
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		_, err := tx.GetWorkGroup(name)
		if err == nil {
			return invalid("WorkGroup %s is already created.", name)
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := tx.PutWorkGroup(&WorkGroup{
			Name:          name,
			State:         wire.WorkGroupStateEnabled,
			Description:   valOf(in.Description),
			CreationTime:  s.now(),
			Configuration: cfg,
		}); err != nil {
			return err
		}
		arn := s.workGroupARN(name)
		// A workgroup of this name may have been deleted by a store that kept its tags.
		if err := tx.DeleteTags(arn); err != nil {
			return err
		}
		if len(tags) > 0 {
			return tx.PutTags(arn, tags)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &wire.CreateWorkGroupOutput{}, nil
}

// GetWorkGroup returns a workgroup with its configuration and effective engine version.
func (s *Service) GetWorkGroup(ctx context.Context, in *wire.GetWorkGroupInput) (*wire.GetWorkGroupOutput, error) {
	var out *wire.WorkGroup
	err := s.store.View(ctx, func(tx Tx) error {
		wg, err := loadWorkGroup(tx, valOf(in.WorkGroup))
		if err != nil {
			return err
		}
		out = workGroupOut(wg)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &wire.GetWorkGroupOutput{WorkGroup: out}, nil
}

// UpdateWorkGroup changes a workgroup's description, state and configuration.
func (s *Service) UpdateWorkGroup(ctx context.Context, in *wire.UpdateWorkGroupInput) (*wire.UpdateWorkGroupOutput, error) {
	if err := checkConfigUpdates(in.ConfigurationUpdates); err != nil {
		return nil, err
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		wg, err := loadWorkGroup(tx, valOf(in.WorkGroup))
		if err != nil {
			return err
		}
		cfg := cloneJSON(wg.Configuration)
		if err := applyConfigUpdates(wg, &cfg, in.ConfigurationUpdates); err != nil {
			return err
		}
		if err := checkWorkGroupConfig(&cfg); err != nil {
			return err
		}
		wg.Configuration = cfg
		if in.Description != nil {
			wg.Description = *in.Description
		}
		if in.State != nil {
			wg.State = *in.State
		}
		return tx.PutWorkGroup(wg)
	})
	if err != nil {
		return nil, err
	}
	return &wire.UpdateWorkGroupOutput{}, nil
}

// ListWorkGroups lists workgroups by name.
func (s *Service) ListWorkGroups(ctx context.Context, in *wire.ListWorkGroupsInput) (*wire.ListWorkGroupsOutput, error) {
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.MaxResults, 50)
	out := &wire.ListWorkGroupsOutput{WorkGroups: []wire.WorkGroupSummary{}}
	err = s.store.View(ctx, func(tx Tx) error {
		wgs, err := tx.ListWorkGroups(after.Key, limit+1)
		if err != nil {
			return err
		}
		if len(wgs) > limit {
			wgs = wgs[:limit]
			out.NextToken = encodeToken(Cursor{Key: wgs[limit-1].Name})
		}
		for _, wg := range wgs {
			ev := wg.engineVersion()
			out.WorkGroups = append(out.WorkGroups, wire.WorkGroupSummary{
				Name:          refOf(wg.Name),
				State:         refOf(wg.State),
				Description:   nonEmpty(wg.Description),
				CreationTime:  wire.NewTime(wg.CreationTime),
				EngineVersion: &ev,
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteWorkGroup deletes a workgroup and its tags; its notebooks too with RecursiveDeleteOption.
// A workgroup whose sessions are still active is not deleted.
func (s *Service) DeleteWorkGroup(ctx context.Context, in *wire.DeleteWorkGroupInput) (*wire.DeleteWorkGroupOutput, error) {
	name := valOf(in.WorkGroup)
	if name == PrimaryWorkGroup {
		return nil, invalid("WorkGroup %s cannot be deleted: the primary workgroup always exists.", name)
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		if _, err := loadWorkGroup(tx, name); err != nil {
			return err
		}
		active, err := tx.ListSessions(SessionQuery{WorkGroup: name, States: activeSessionStates, Limit: 1})
		if err != nil {
			return err
		}
		if len(active) > 0 {
			return invalidState("WorkGroup %s has active sessions (session %s is %s): terminate them with TerminateSession before deleting the workgroup.",
				name, active[0].ID, active[0].State)
		}
		n, err := tx.CountNotebooks(name)
		if err != nil {
			return err
		}
		if n > 0 && !isTrue(in.RecursiveDeleteOption) {
			return invalid("WorkGroup %s is not empty: it has %d notebook(s). Delete them first, or set RecursiveDeleteOption to true to delete them with the workgroup.", name, n)
		}
		for {
			nbs, err := tx.ListNotebooks(name, "", Cursor{}, 100)
			if err != nil {
				return err
			}
			if len(nbs) == 0 {
				break
			}
			for _, nb := range nbs {
				if err := tx.DeleteNotebook(nb.ID); err != nil {
					return err
				}
			}
		}
		// Its ended sessions go with it: their calculations and tags.
		for {
			ended, err := tx.ListSessions(SessionQuery{WorkGroup: name, Limit: 100})
			if err != nil {
				return err
			}
			if len(ended) == 0 {
				break
			}
			for _, sess := range ended {
				if err := errors.Join(tx.DeleteTags(s.sessionARN(name, sess.ID)), tx.DeleteSession(sess.ID)); err != nil {
					return err
				}
			}
		}
		if err := tx.DeleteTags(s.workGroupARN(name)); err != nil {
			return err
		}
		return tx.DeleteWorkGroup(name)
	})
	if err != nil {
		return nil, err
	}
	return &wire.DeleteWorkGroupOutput{}, nil
}

// workGroupOut is a workgroup as GetWorkGroup answers it: the configuration the client set,
// with the engine version completed.
func workGroupOut(wg *WorkGroup) *wire.WorkGroup {
	cfg := cloneJSON(wg.Configuration)
	ev := wg.engineVersion()
	cfg.EngineVersion = &ev
	configDefaults(wg.Name, &cfg)
	return &wire.WorkGroup{
		Name:          refOf(wg.Name),
		State:         refOf(wg.State),
		Description:   nonEmpty(wg.Description),
		CreationTime:  wire.NewTime(wg.CreationTime),
		Configuration: &cfg,
	}
}

// configDefaults fills the members a client left unset with what Athena answers for them
// (clients' own tests compare against real AWS): an empty ResultConfiguration and false,
// except EnforceWorkGroupConfiguration, which Athena turns on for every workgroup created
// through CreateWorkGroup but not for primary, which it makes itself.
func configDefaults(name string, cfg *wire.WorkGroupConfiguration) {
	if cfg.ResultConfiguration == nil {
		cfg.ResultConfiguration = &wire.ResultConfiguration{}
	}
	for _, b := range []**bool{&cfg.PublishCloudWatchMetricsEnabled, &cfg.RequesterPaysEnabled, &cfg.EnableMinimumEncryptionConfiguration} {
		if *b == nil {
			*b = refOf(false)
		}
	}
	if cfg.EnforceWorkGroupConfiguration == nil {
		cfg.EnforceWorkGroupConfiguration = refOf(name != PrimaryWorkGroup)
	}
}

// normalizeEngineVersion keeps only the client's selection: the effective version is derived
// on every read, and an EngineVersion without a selection means AUTO.
func normalizeEngineVersion(cfg *wire.WorkGroupConfiguration) {
	if cfg.EngineVersion == nil {
		return
	}
	if valOf(cfg.EngineVersion.SelectedEngineVersion) == "" {
		cfg.EngineVersion = nil
		return
	}
	cfg.EngineVersion = &wire.EngineVersion{SelectedEngineVersion: cfg.EngineVersion.SelectedEngineVersion}
}

// checkWorkGroupConfig applies the cross-member rules to a whole configuration, as created or
// as it will be after an update.
func checkWorkGroupConfig(cfg *wire.WorkGroupConfiguration) error {
	var selected string
	if cfg.EngineVersion != nil {
		selected = valOf(cfg.EngineVersion.SelectedEngineVersion)
	}
	effective, err := effectiveEngineVersion(selected)
	if err != nil {
		return err
	}
	if rc := cfg.ResultConfiguration; rc != nil && rc.OutputLocation != nil {
		if err := checkS3Location("ResultConfiguration.OutputLocation", *rc.OutputLocation); err != nil {
			return err
		}
	}
	if !isSparkEngine(effective) {
		return nil
	}
	if valOf(cfg.ExecutionRole) == "" {
		return invalid("executionRole is null or empty")
	}
	if isTrue(cfg.EnableMinimumEncryptionConfiguration) {
		return invalid("EnableMinimumEncryptionConfiguration does not apply to Spark workgroups (engine %s): leave it unset or false.", effective)
	}
	if cfg.AdditionalConfiguration != nil {
		var obj map[string]any
		if err := json.Unmarshal([]byte(*cfg.AdditionalConfiguration), &obj); err != nil || obj == nil {
			return invalid("AdditionalConfiguration is not valid: it must be a JSON object such as {\"key\":\"value\"}, got %q.", *cfg.AdditionalConfiguration)
		}
	}
	return nil
}

// checkS3Location requires an s3://bucket/... URI, the only form glaux can write to.
func checkS3Location(member, loc string) error {
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok {
		return invalid("%s %q is not a valid S3 path: it must look like s3://bucket/prefix/.", member, loc)
	}
	bucket, _, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return invalid("%s %q is not a valid S3 path: it names no bucket.", member, loc)
	}
	return nil
}

// checkConfigUpdates refuses an update that both sets and removes the same member.
func checkConfigUpdates(u *wire.WorkGroupConfigurationUpdates) error {
	if u == nil {
		return nil
	}
	type pair struct {
		set    bool
		remove *bool
		member string
		flag   string
	}
	pairs := []pair{
		{u.BytesScannedCutoffPerQuery != nil, u.RemoveBytesScannedCutoffPerQuery, "BytesScannedCutoffPerQuery", "RemoveBytesScannedCutoffPerQuery"},
		{u.CustomerContentEncryptionConfiguration != nil, u.RemoveCustomerContentEncryptionConfiguration, "CustomerContentEncryptionConfiguration", "RemoveCustomerContentEncryptionConfiguration"},
	}
	if r := u.ResultConfigurationUpdates; r != nil {
		pairs = append(pairs,
			pair{r.OutputLocation != nil, r.RemoveOutputLocation, "ResultConfigurationUpdates.OutputLocation", "ResultConfigurationUpdates.RemoveOutputLocation"},
			pair{r.EncryptionConfiguration != nil, r.RemoveEncryptionConfiguration, "ResultConfigurationUpdates.EncryptionConfiguration", "ResultConfigurationUpdates.RemoveEncryptionConfiguration"},
			pair{r.ExpectedBucketOwner != nil, r.RemoveExpectedBucketOwner, "ResultConfigurationUpdates.ExpectedBucketOwner", "ResultConfigurationUpdates.RemoveExpectedBucketOwner"},
			pair{r.AclConfiguration != nil, r.RemoveAclConfiguration, "ResultConfigurationUpdates.AclConfiguration", "ResultConfigurationUpdates.RemoveAclConfiguration"},
		)
	}
	if m := u.ManagedQueryResultsConfigurationUpdates; m != nil {
		pairs = append(pairs, pair{m.EncryptionConfiguration != nil, m.RemoveEncryptionConfiguration,
			"ManagedQueryResultsConfigurationUpdates.EncryptionConfiguration", "ManagedQueryResultsConfigurationUpdates.RemoveEncryptionConfiguration"})
	}
	for _, p := range pairs {
		if p.set && isTrue(p.remove) {
			return invalid("ConfigurationUpdates.%s and ConfigurationUpdates.%s cannot be given together: set the member or remove it.", p.member, p.flag)
		}
	}
	return nil
}

// applyConfigUpdates applies every member of u to cfg (a copy of wg's configuration).
func applyConfigUpdates(wg *WorkGroup, cfg *wire.WorkGroupConfiguration, u *wire.WorkGroupConfigurationUpdates) error {
	if u == nil {
		return nil
	}
	if ev := u.EngineVersion; ev != nil && valOf(ev.SelectedEngineVersion) != "" {
		effective, err := effectiveEngineVersion(*ev.SelectedEngineVersion)
		if err != nil {
			return err
		}
		current := *wg.engineVersion().EffectiveEngineVersion
		if isSparkEngine(effective) != isSparkEngine(current) {
			return invalid("The engine type of a workgroup cannot be changed: WorkGroup %s runs %s and cannot switch to %s. Create another workgroup instead.",
				wg.Name, current, effective)
		}
		if isConnectEngine(effective) != isConnectEngine(current) {
			return invalid("A workgroup cannot be upgraded between Spark engines: WorkGroup %s runs %s and cannot switch to %s. Create another workgroup instead.",
				wg.Name, current, effective)
		}
		cfg.EngineVersion = &wire.EngineVersion{SelectedEngineVersion: refOf(*ev.SelectedEngineVersion)}
	}
	if u.EnforceWorkGroupConfiguration != nil {
		cfg.EnforceWorkGroupConfiguration = refOf(*u.EnforceWorkGroupConfiguration)
	}
	if u.PublishCloudWatchMetricsEnabled != nil {
		cfg.PublishCloudWatchMetricsEnabled = refOf(*u.PublishCloudWatchMetricsEnabled)
	}
	if u.RequesterPaysEnabled != nil {
		cfg.RequesterPaysEnabled = refOf(*u.RequesterPaysEnabled)
	}
	if u.EnableMinimumEncryptionConfiguration != nil {
		cfg.EnableMinimumEncryptionConfiguration = refOf(*u.EnableMinimumEncryptionConfiguration)
	}
	switch {
	case u.BytesScannedCutoffPerQuery != nil:
		cfg.BytesScannedCutoffPerQuery = refOf(*u.BytesScannedCutoffPerQuery)
	case isTrue(u.RemoveBytesScannedCutoffPerQuery):
		cfg.BytesScannedCutoffPerQuery = nil
	}
	if u.AdditionalConfiguration != nil {
		cfg.AdditionalConfiguration = refOf(*u.AdditionalConfiguration)
	}
	if u.ExecutionRole != nil {
		cfg.ExecutionRole = refOf(*u.ExecutionRole)
	}
	switch {
	case u.CustomerContentEncryptionConfiguration != nil:
		cfg.CustomerContentEncryptionConfiguration = cloneJSON(u.CustomerContentEncryptionConfiguration)
	case isTrue(u.RemoveCustomerContentEncryptionConfiguration):
		cfg.CustomerContentEncryptionConfiguration = nil
	}
	if u.QueryResultsS3AccessGrantsConfiguration != nil {
		cfg.QueryResultsS3AccessGrantsConfiguration = cloneJSON(u.QueryResultsS3AccessGrantsConfiguration)
	}
	if u.MonitoringConfiguration != nil {
		cfg.MonitoringConfiguration = cloneJSON(u.MonitoringConfiguration)
	}
	if u.EngineConfiguration != nil {
		cfg.EngineConfiguration = cloneJSON(u.EngineConfiguration)
	}
	if r := u.ResultConfigurationUpdates; r != nil {
		rc := &wire.ResultConfiguration{}
		if cfg.ResultConfiguration != nil {
			rc = cfg.ResultConfiguration
		}
		switch {
		case r.OutputLocation != nil:
			rc.OutputLocation = refOf(*r.OutputLocation)
		case isTrue(r.RemoveOutputLocation):
			rc.OutputLocation = nil
		}
		switch {
		case r.EncryptionConfiguration != nil:
			rc.EncryptionConfiguration = cloneJSON(r.EncryptionConfiguration)
		case isTrue(r.RemoveEncryptionConfiguration):
			rc.EncryptionConfiguration = nil
		}
		switch {
		case r.ExpectedBucketOwner != nil:
			rc.ExpectedBucketOwner = refOf(*r.ExpectedBucketOwner)
		case isTrue(r.RemoveExpectedBucketOwner):
			rc.ExpectedBucketOwner = nil
		}
		switch {
		case r.AclConfiguration != nil:
			rc.AclConfiguration = cloneJSON(r.AclConfiguration)
		case isTrue(r.RemoveAclConfiguration):
			rc.AclConfiguration = nil
		}
		cfg.ResultConfiguration = rc
		if *rc == (wire.ResultConfiguration{}) {
			cfg.ResultConfiguration = nil
		}
	}
	if m := u.ManagedQueryResultsConfigurationUpdates; m != nil {
		mq := &wire.ManagedQueryResultsConfiguration{Enabled: refOf(false)}
		if cfg.ManagedQueryResultsConfiguration != nil {
			mq = cfg.ManagedQueryResultsConfiguration
		}
		if m.Enabled != nil {
			mq.Enabled = refOf(*m.Enabled)
		}
		switch {
		case m.EncryptionConfiguration != nil:
			mq.EncryptionConfiguration = cloneJSON(m.EncryptionConfiguration)
		case isTrue(m.RemoveEncryptionConfiguration):
			mq.EncryptionConfiguration = nil
		}
		cfg.ManagedQueryResultsConfiguration = mq
	}
	return nil
}

// cloneJSON deep-copies a wire shape, so that stored records and requests never share memory.
func cloneJSON[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("athena: cannot copy %T: %v", v, err)) // wire shapes always marshal
	}
	var c T
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("athena: cannot copy %T: %v", v, err))
	}
	return c
}

// nonEmpty returns nil for "", so that empty optional members are omitted on the wire.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
