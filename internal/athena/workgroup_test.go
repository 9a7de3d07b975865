package athena

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"glaux/internal/wire"
)

// testEnv is a Service on an in-memory store, with a hand-moved clock and predictable ids.
type testEnv struct {
	t     *testing.T
	ctx   context.Context
	svc   *Service
	store *memStore
	objs  *memObjects
	clock *fakeClock
	ids   *seqIDs
}

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testRole    = "arn:aws:iam::123456789012:role/AWSAthenaSparkExecutionRole-test"
)

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	e := &testEnv{
		t: t, ctx: context.Background(), store: newMemStore(), objs: newMemObjects(),
		clock: &fakeClock{t: t0}, ids: &seqIDs{},
	}
	e.svc = NewService(Config{
		Region: testRegion, AccountID: testAccount,
		DefaultOutputLocation: "s3://glaux-results/",
		DPUSizes:              []int32{1}, NotebookVersion: "Athena notebook version 1",
	}, Deps{
		Store: e.store, Objects: e.objs, Now: e.clock.Now, NewID: e.ids.Next,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err := e.svc.EnsurePrimary(e.ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// valid checks a request against the model first, as the API layer does before the Service.
func valid[T interface{ Validate() error }](t *testing.T, in T) T {
	t.Helper()
	if err := in.Validate(); err != nil {
		t.Fatalf("test request breaks the model: %v", err)
	}
	return in
}

// wantErr asserts err is the domain's error with code, and that its message has every part.
func wantErr(t *testing.T, err error, code Code, parts ...string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *athena.Error with code %d", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("error code = %d (%q), want %d", e.Code, e.Message, code)
	}
	for _, p := range parts {
		if !strings.Contains(e.Message, p) {
			t.Errorf("message %q does not contain %q", e.Message, p)
		}
	}
	return e
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func sparkConfig() *wire.WorkGroupConfiguration {
	return &wire.WorkGroupConfiguration{
		EngineVersion: &wire.EngineVersion{SelectedEngineVersion: refOf(EngineVersionSpark3)},
		ExecutionRole: refOf(testRole),
		ResultConfiguration: &wire.ResultConfiguration{
			OutputLocation: refOf("s3://bucket/spark/"),
		},
	}
}

func (e *testEnv) createWorkGroup(name string, cfg *wire.WorkGroupConfiguration, tags ...wire.Tag) {
	e.t.Helper()
	_, err := e.svc.CreateWorkGroup(e.ctx, valid(e.t, &wire.CreateWorkGroupInput{Name: refOf(name), Configuration: cfg, Tags: tags}))
	mustOK(e.t, err)
}

func (e *testEnv) getWorkGroup(name string) *wire.WorkGroup {
	e.t.Helper()
	out, err := e.svc.GetWorkGroup(e.ctx, valid(e.t, &wire.GetWorkGroupInput{WorkGroup: refOf(name)}))
	mustOK(e.t, err)
	return out.WorkGroup
}

func (e *testEnv) putSession(s *Session) {
	e.t.Helper()
	mustOK(e.t, e.store.Update(e.ctx, func(tx Tx) error { return tx.PutSession(s) }))
}

func tag(k, v string) wire.Tag { return wire.Tag{Key: refOf(k), Value: refOf(v)} }

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEnsurePrimary(t *testing.T) {
	e := newTestEnv(t)
	e.clock.Advance(time.Hour)
	mustOK(t, e.svc.EnsurePrimary(e.ctx)) // a second start keeps the first primary
	wg := e.getWorkGroup(PrimaryWorkGroup)
	if *wg.State != "ENABLED" || !wg.CreationTime.Equal(t0) {
		t.Errorf("primary = state %s, created %v; want ENABLED at %v", *wg.State, wg.CreationTime, t0)
	}
	ev := wg.Configuration.EngineVersion
	if *ev.SelectedEngineVersion != "AUTO" || *ev.EffectiveEngineVersion != "Athena engine version 3" {
		t.Errorf("primary engine = %s", jsonOf(t, ev))
	}
}

func TestCreateWorkGroupRules(t *testing.T) {
	spark := func(change func(*wire.WorkGroupConfiguration)) *wire.WorkGroupConfiguration {
		c := sparkConfig()
		change(c)
		return c
	}
	sql := func(version string) *wire.WorkGroupConfiguration {
		return &wire.WorkGroupConfiguration{EngineVersion: &wire.EngineVersion{SelectedEngineVersion: refOf(version)}}
	}
	manyTags := make([]wire.Tag, 51)
	for i := range manyTags {
		manyTags[i] = tag(fmt.Sprintf("k%02d", i), "v")
	}
	cases := []struct {
		name    string
		wg      string
		cfg     *wire.WorkGroupConfiguration
		tags    []wire.Tag
		wantErr []string // message parts; nil: success
		wantEff string
	}{
		{name: "sql without configuration", wg: "a", wantEff: EngineVersionSQL3},
		{name: "sql AUTO", wg: "a", cfg: sql("AUTO"), wantEff: EngineVersionSQL3},
		{name: "sql named version", wg: "a", cfg: sql(EngineVersionSQL3), wantEff: EngineVersionSQL3},
		{name: "spark", wg: "a", cfg: sparkConfig(), wantEff: EngineVersionSpark3},
		{name: "unknown engine", wg: "a", cfg: sql("Athena engine version 2"), wantErr: []string{"Athena engine version 2", "SelectedEngineVersion"}},
		{name: "spark without execution role", wg: "a", cfg: spark(func(c *wire.WorkGroupConfiguration) { c.ExecutionRole = nil }), wantErr: []string{"executionRole is null or empty"}},
		{name: "spark additional configuration JSON", wg: "a", cfg: spark(func(c *wire.WorkGroupConfiguration) { c.AdditionalConfiguration = refOf(`{"NotebookVersion":"1"}`) }), wantEff: EngineVersionSpark3},
		{name: "spark additional configuration not JSON", wg: "a", cfg: spark(func(c *wire.WorkGroupConfiguration) { c.AdditionalConfiguration = refOf(`spark.x=1`) }), wantErr: []string{"AdditionalConfiguration", "JSON"}},
		{name: "spark additional configuration not an object", wg: "a", cfg: spark(func(c *wire.WorkGroupConfiguration) { c.AdditionalConfiguration = refOf(`[1,2]`) }), wantErr: []string{"AdditionalConfiguration"}},
		{name: "spark minimum encryption", wg: "a", cfg: spark(func(c *wire.WorkGroupConfiguration) { c.EnableMinimumEncryptionConfiguration = refOf(true) }), wantErr: []string{"EnableMinimumEncryptionConfiguration", "Spark"}},
		{name: "spark minimum encryption false", wg: "a", cfg: spark(func(c *wire.WorkGroupConfiguration) { c.EnableMinimumEncryptionConfiguration = refOf(false) }), wantEff: EngineVersionSpark3},
		{name: "sql minimum encryption", wg: "a", cfg: &wire.WorkGroupConfiguration{EnableMinimumEncryptionConfiguration: refOf(true)}, wantEff: EngineVersionSQL3},
		{name: "output location not s3", wg: "a", cfg: &wire.WorkGroupConfiguration{ResultConfiguration: &wire.ResultConfiguration{OutputLocation: refOf("/tmp/results")}}, wantErr: []string{"ResultConfiguration.OutputLocation", "/tmp/results"}},
		{name: "output location without bucket", wg: "a", cfg: &wire.WorkGroupConfiguration{ResultConfiguration: &wire.ResultConfiguration{OutputLocation: refOf("s3:///x")}}, wantErr: []string{"ResultConfiguration.OutputLocation"}},
		{name: "tags", wg: "a", tags: []wire.Tag{tag("team", "data"), tag("env", "")}, wantEff: EngineVersionSQL3},
		{name: "reserved tag key", wg: "a", tags: []wire.Tag{tag("AWS:owner", "x")}, wantErr: []string{"AWS:owner", "reserved"}},
		{name: "duplicate tag key", wg: "a", tags: []wire.Tag{tag("k", "1"), tag("k", "2")}, wantErr: []string{`"k"`, "more than once"}},
		{name: "tag without key", wg: "a", tags: []wire.Tag{{Value: refOf("v")}}, wantErr: []string{"Tags.1.Key"}},
		{name: "51 tags", wg: "a", tags: manyTags, wantErr: []string{"51", "at most 50"}},
		{name: "name taken", wg: PrimaryWorkGroup, wantErr: []string{"WorkGroup primary is already created"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			in := valid(t, &wire.CreateWorkGroupInput{Name: refOf(tc.wg), Configuration: tc.cfg, Tags: tc.tags, Description: refOf("d")})
			_, err := e.svc.CreateWorkGroup(e.ctx, in)
			if tc.wantErr != nil {
				wantErr(t, err, CodeInvalidRequest, tc.wantErr...)
				if tc.wg != PrimaryWorkGroup {
					_, err := e.svc.GetWorkGroup(e.ctx, &wire.GetWorkGroupInput{WorkGroup: refOf(tc.wg)})
					wantErr(t, err, CodeInvalidRequest, "WorkGroup a is not found.")
				}
				return
			}
			mustOK(t, err)
			wg := e.getWorkGroup(tc.wg)
			if got := *wg.Configuration.EngineVersion.EffectiveEngineVersion; got != tc.wantEff {
				t.Errorf("EffectiveEngineVersion = %q, want %q", got, tc.wantEff)
			}
			if *wg.State != "ENABLED" || !wg.CreationTime.Equal(t0) || *wg.Description != "d" {
				t.Errorf("workgroup = %s", jsonOf(t, wg))
			}
			tags, err := e.svc.ListTagsForResource(e.ctx, valid(t, &wire.ListTagsForResourceInput{ResourceARN: refOf("arn:aws:athena:us-east-1:123456789012:workgroup/" + tc.wg)}))
			mustOK(t, err)
			if len(tags.Tags) != len(tc.tags) {
				t.Errorf("tags = %s, want %d", jsonOf(t, tags.Tags), len(tc.tags))
			}
		})
	}
}

// Every member the client set comes back from GetWorkGroup, with the effective engine added.
func TestGetWorkGroupReturnsEveryMember(t *testing.T) {
	e := newTestEnv(t)
	cfg := &wire.WorkGroupConfiguration{
		AdditionalConfiguration:                refOf(`{"a":"b"}`),
		BytesScannedCutoffPerQuery:             refOf(int64(10000000)),
		CustomerContentEncryptionConfiguration: &wire.CustomerContentEncryptionConfiguration{KmsKey: refOf("alias/notebooks")},
		EnforceWorkGroupConfiguration:          refOf(true),
		EngineConfiguration: &wire.EngineConfiguration{
			MaxConcurrentDpus: refOf(int32(20)), CoordinatorDpuSize: refOf(int32(1)), DefaultExecutorDpuSize: refOf(int32(1)),
			SparkProperties: map[string]string{"spark.sql.shuffle.partitions": "8"},
		},
		EngineVersion:                    &wire.EngineVersion{SelectedEngineVersion: refOf(EngineVersionSpark3), EffectiveEngineVersion: refOf("ignored")},
		ExecutionRole:                    refOf(testRole),
		IdentityCenterConfiguration:      &wire.IdentityCenterConfiguration{EnableIdentityCenter: refOf(false)},
		ManagedQueryResultsConfiguration: &wire.ManagedQueryResultsConfiguration{Enabled: refOf(false)},
		MonitoringConfiguration: &wire.MonitoringConfiguration{
			S3LoggingConfiguration: &wire.S3LoggingConfiguration{Enabled: refOf(true), LogLocation: refOf("s3://logs/x/")},
		},
		PublishCloudWatchMetricsEnabled: refOf(true),
		QueryResultsS3AccessGrantsConfiguration: &wire.QueryResultsS3AccessGrantsConfiguration{
			EnableS3AccessGrants: refOf(false), AuthenticationType: refOf("DIRECTORY_IDENTITY"),
		},
		RequesterPaysEnabled: refOf(false),
		ResultConfiguration: &wire.ResultConfiguration{
			OutputLocation:          refOf("s3://bucket/out/"),
			EncryptionConfiguration: &wire.EncryptionConfiguration{EncryptionOption: refOf("SSE_S3")},
			ExpectedBucketOwner:     refOf("123456789012"),
			AclConfiguration:        &wire.AclConfiguration{S3AclOption: refOf("BUCKET_OWNER_FULL_CONTROL")},
		},
	}
	e.createWorkGroup("full", cfg)
	got := e.getWorkGroup("full").Configuration
	want := cloneJSON(cfg)
	want.EngineVersion.EffectiveEngineVersion = refOf(EngineVersionSpark3)
	want.EnableMinimumEncryptionConfiguration = refOf(false) // Athena's default, answered when unset
	if jsonOf(t, got) != jsonOf(t, want) {
		t.Errorf("configuration\n got %s\nwant %s", jsonOf(t, got), jsonOf(t, want))
	}
	// The stored record is not shared with the request.
	*cfg.ExecutionRole = "changed"
	if *e.getWorkGroup("full").Configuration.ExecutionRole != testRole {
		t.Error("the stored configuration aliases the request")
	}
}

func TestGetWorkGroupUnknown(t *testing.T) {
	e := newTestEnv(t)
	_, err := e.svc.GetWorkGroup(e.ctx, valid(t, &wire.GetWorkGroupInput{WorkGroup: refOf("nope")}))
	wantErr(t, err, CodeInvalidRequest, "WorkGroup nope is not found.")
}

func TestUpdateWorkGroupMembers(t *testing.T) {
	base := func() *wire.WorkGroupConfiguration {
		c := sparkConfig()
		c.BytesScannedCutoffPerQuery = refOf(int64(20000000))
		c.CustomerContentEncryptionConfiguration = &wire.CustomerContentEncryptionConfiguration{KmsKey: refOf("alias/a")}
		c.ResultConfiguration.EncryptionConfiguration = &wire.EncryptionConfiguration{EncryptionOption: refOf("SSE_S3")}
		c.ResultConfiguration.ExpectedBucketOwner = refOf("123456789012")
		c.ResultConfiguration.AclConfiguration = &wire.AclConfiguration{S3AclOption: refOf("BUCKET_OWNER_FULL_CONTROL")}
		c.ManagedQueryResultsConfiguration = &wire.ManagedQueryResultsConfiguration{Enabled: refOf(false), EncryptionConfiguration: &wire.ManagedQueryResultsEncryptionConfiguration{KmsKey: refOf("alias/m")}}
		return c
	}
	cases := []struct {
		name  string
		u     wire.WorkGroupConfigurationUpdates
		check func(c *wire.WorkGroupConfiguration) bool
	}{
		{"EnforceWorkGroupConfiguration", wire.WorkGroupConfigurationUpdates{EnforceWorkGroupConfiguration: refOf(true)},
			func(c *wire.WorkGroupConfiguration) bool { return isTrue(c.EnforceWorkGroupConfiguration) }},
		{"PublishCloudWatchMetricsEnabled", wire.WorkGroupConfigurationUpdates{PublishCloudWatchMetricsEnabled: refOf(true)},
			func(c *wire.WorkGroupConfiguration) bool { return isTrue(c.PublishCloudWatchMetricsEnabled) }},
		{"RequesterPaysEnabled", wire.WorkGroupConfigurationUpdates{RequesterPaysEnabled: refOf(true)},
			func(c *wire.WorkGroupConfiguration) bool { return isTrue(c.RequesterPaysEnabled) }},
		{"EnableMinimumEncryptionConfiguration false", wire.WorkGroupConfigurationUpdates{EnableMinimumEncryptionConfiguration: refOf(false)},
			func(c *wire.WorkGroupConfiguration) bool {
				return c.EnableMinimumEncryptionConfiguration != nil && !*c.EnableMinimumEncryptionConfiguration
			}},
		{"BytesScannedCutoffPerQuery", wire.WorkGroupConfigurationUpdates{BytesScannedCutoffPerQuery: refOf(int64(30000000))},
			func(c *wire.WorkGroupConfiguration) bool { return valOf(c.BytesScannedCutoffPerQuery) == 30000000 }},
		{"RemoveBytesScannedCutoffPerQuery", wire.WorkGroupConfigurationUpdates{RemoveBytesScannedCutoffPerQuery: refOf(true)},
			func(c *wire.WorkGroupConfiguration) bool { return c.BytesScannedCutoffPerQuery == nil }},
		{"RemoveBytesScannedCutoffPerQuery false keeps", wire.WorkGroupConfigurationUpdates{RemoveBytesScannedCutoffPerQuery: refOf(false)},
			func(c *wire.WorkGroupConfiguration) bool { return valOf(c.BytesScannedCutoffPerQuery) == 20000000 }},
		{"EngineVersion same type", wire.WorkGroupConfigurationUpdates{EngineVersion: &wire.EngineVersion{SelectedEngineVersion: refOf(EngineVersionSpark3)}},
			func(c *wire.WorkGroupConfiguration) bool {
				return *c.EngineVersion.EffectiveEngineVersion == EngineVersionSpark3
			}},
		{"AdditionalConfiguration", wire.WorkGroupConfigurationUpdates{AdditionalConfiguration: refOf(`{"x":1}`)},
			func(c *wire.WorkGroupConfiguration) bool { return valOf(c.AdditionalConfiguration) == `{"x":1}` }},
		{"ExecutionRole", wire.WorkGroupConfigurationUpdates{ExecutionRole: refOf("arn:aws:iam::123456789012:role/other")},
			func(c *wire.WorkGroupConfiguration) bool {
				return valOf(c.ExecutionRole) == "arn:aws:iam::123456789012:role/other"
			}},
		{"CustomerContentEncryptionConfiguration", wire.WorkGroupConfigurationUpdates{CustomerContentEncryptionConfiguration: &wire.CustomerContentEncryptionConfiguration{KmsKey: refOf("alias/b")}},
			func(c *wire.WorkGroupConfiguration) bool {
				return valOf(c.CustomerContentEncryptionConfiguration.KmsKey) == "alias/b"
			}},
		{"RemoveCustomerContentEncryptionConfiguration", wire.WorkGroupConfigurationUpdates{RemoveCustomerContentEncryptionConfiguration: refOf(true)},
			func(c *wire.WorkGroupConfiguration) bool { return c.CustomerContentEncryptionConfiguration == nil }},
		{"QueryResultsS3AccessGrantsConfiguration", wire.WorkGroupConfigurationUpdates{QueryResultsS3AccessGrantsConfiguration: &wire.QueryResultsS3AccessGrantsConfiguration{EnableS3AccessGrants: refOf(true), AuthenticationType: refOf("DIRECTORY_IDENTITY")}},
			func(c *wire.WorkGroupConfiguration) bool {
				return isTrue(c.QueryResultsS3AccessGrantsConfiguration.EnableS3AccessGrants)
			}},
		{"MonitoringConfiguration", wire.WorkGroupConfigurationUpdates{MonitoringConfiguration: &wire.MonitoringConfiguration{ManagedLoggingConfiguration: &wire.ManagedLoggingConfiguration{Enabled: refOf(true)}}},
			func(c *wire.WorkGroupConfiguration) bool {
				return isTrue(c.MonitoringConfiguration.ManagedLoggingConfiguration.Enabled)
			}},
		{"EngineConfiguration", wire.WorkGroupConfigurationUpdates{EngineConfiguration: &wire.EngineConfiguration{MaxConcurrentDpus: refOf(int32(60))}},
			func(c *wire.WorkGroupConfiguration) bool { return valOf(c.EngineConfiguration.MaxConcurrentDpus) == 60 }},
		{"OutputLocation", wire.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &wire.ResultConfigurationUpdates{OutputLocation: refOf("s3://other/")}},
			func(c *wire.WorkGroupConfiguration) bool {
				return valOf(c.ResultConfiguration.OutputLocation) == "s3://other/" && c.ResultConfiguration.AclConfiguration != nil
			}},
		{"RemoveOutputLocation", wire.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &wire.ResultConfigurationUpdates{RemoveOutputLocation: refOf(true)}},
			func(c *wire.WorkGroupConfiguration) bool { return c.ResultConfiguration.OutputLocation == nil }},
		{"EncryptionConfiguration", wire.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &wire.ResultConfigurationUpdates{EncryptionConfiguration: &wire.EncryptionConfiguration{EncryptionOption: refOf("SSE_KMS"), KmsKey: refOf("alias/k")}}},
			func(c *wire.WorkGroupConfiguration) bool {
				return valOf(c.ResultConfiguration.EncryptionConfiguration.EncryptionOption) == "SSE_KMS"
			}},
		{"RemoveEncryptionConfiguration", wire.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &wire.ResultConfigurationUpdates{RemoveEncryptionConfiguration: refOf(true)}},
			func(c *wire.WorkGroupConfiguration) bool { return c.ResultConfiguration.EncryptionConfiguration == nil }},
		{"ExpectedBucketOwner", wire.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &wire.ResultConfigurationUpdates{ExpectedBucketOwner: refOf("210987654321")}},
			func(c *wire.WorkGroupConfiguration) bool {
				return valOf(c.ResultConfiguration.ExpectedBucketOwner) == "210987654321"
			}},
		{"RemoveExpectedBucketOwner", wire.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &wire.ResultConfigurationUpdates{RemoveExpectedBucketOwner: refOf(true)}},
			func(c *wire.WorkGroupConfiguration) bool { return c.ResultConfiguration.ExpectedBucketOwner == nil }},
		{"AclConfiguration", wire.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &wire.ResultConfigurationUpdates{AclConfiguration: &wire.AclConfiguration{S3AclOption: refOf("BUCKET_OWNER_FULL_CONTROL")}}},
			func(c *wire.WorkGroupConfiguration) bool { return c.ResultConfiguration.AclConfiguration != nil }},
		{"RemoveAclConfiguration", wire.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &wire.ResultConfigurationUpdates{RemoveAclConfiguration: refOf(true)}},
			func(c *wire.WorkGroupConfiguration) bool { return c.ResultConfiguration.AclConfiguration == nil }},
		{"remove the whole result configuration", wire.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &wire.ResultConfigurationUpdates{
			RemoveOutputLocation: refOf(true), RemoveEncryptionConfiguration: refOf(true), RemoveExpectedBucketOwner: refOf(true), RemoveAclConfiguration: refOf(true)}},
			func(c *wire.WorkGroupConfiguration) bool {
				r := c.ResultConfiguration // answered as {}, as Athena does
				return r != nil && r.OutputLocation == nil && r.EncryptionConfiguration == nil && r.ExpectedBucketOwner == nil && r.AclConfiguration == nil
			}},
		{"ManagedQueryResults Enabled", wire.WorkGroupConfigurationUpdates{ManagedQueryResultsConfigurationUpdates: &wire.ManagedQueryResultsConfigurationUpdates{Enabled: refOf(true)}},
			func(c *wire.WorkGroupConfiguration) bool {
				m := c.ManagedQueryResultsConfiguration
				return isTrue(m.Enabled) && valOf(m.EncryptionConfiguration.KmsKey) == "alias/m"
			}},
		{"ManagedQueryResults EncryptionConfiguration", wire.WorkGroupConfigurationUpdates{ManagedQueryResultsConfigurationUpdates: &wire.ManagedQueryResultsConfigurationUpdates{EncryptionConfiguration: &wire.ManagedQueryResultsEncryptionConfiguration{KmsKey: refOf("alias/n")}}},
			func(c *wire.WorkGroupConfiguration) bool {
				return valOf(c.ManagedQueryResultsConfiguration.EncryptionConfiguration.KmsKey) == "alias/n"
			}},
		{"ManagedQueryResults RemoveEncryptionConfiguration", wire.WorkGroupConfigurationUpdates{ManagedQueryResultsConfigurationUpdates: &wire.ManagedQueryResultsConfigurationUpdates{RemoveEncryptionConfiguration: refOf(true)}},
			func(c *wire.WorkGroupConfiguration) bool {
				m := c.ManagedQueryResultsConfiguration
				return m.EncryptionConfiguration == nil && m.Enabled != nil && !*m.Enabled
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.createWorkGroup("wg", base())
			_, err := e.svc.UpdateWorkGroup(e.ctx, valid(t, &wire.UpdateWorkGroupInput{WorkGroup: refOf("wg"), ConfigurationUpdates: &tc.u}))
			mustOK(t, err)
			got := e.getWorkGroup("wg")
			if !tc.check(got.Configuration) {
				t.Errorf("configuration after update: %s", jsonOf(t, got.Configuration))
			}
			// Members the update did not name stay as they were.
			if valOf(got.Configuration.ExecutionRole) == "" || got.Configuration.EngineVersion == nil {
				t.Errorf("update lost other members: %s", jsonOf(t, got.Configuration))
			}
		})
	}
}

func TestUpdateWorkGroupManagedResultsFromNothing(t *testing.T) {
	e := newTestEnv(t)
	e.createWorkGroup("wg", nil)
	_, err := e.svc.UpdateWorkGroup(e.ctx, valid(t, &wire.UpdateWorkGroupInput{WorkGroup: refOf("wg"), ConfigurationUpdates: &wire.WorkGroupConfigurationUpdates{
		ManagedQueryResultsConfigurationUpdates: &wire.ManagedQueryResultsConfigurationUpdates{EncryptionConfiguration: &wire.ManagedQueryResultsEncryptionConfiguration{KmsKey: refOf("alias/m")}},
		ResultConfigurationUpdates:              &wire.ResultConfigurationUpdates{OutputLocation: refOf("s3://b/p/")},
	}}))
	mustOK(t, err)
	c := e.getWorkGroup("wg").Configuration
	if m := c.ManagedQueryResultsConfiguration; m == nil || m.Enabled == nil || *m.Enabled || valOf(m.EncryptionConfiguration.KmsKey) != "alias/m" {
		t.Errorf("managed results = %s", jsonOf(t, c.ManagedQueryResultsConfiguration))
	}
	if valOf(c.ResultConfiguration.OutputLocation) != "s3://b/p/" {
		t.Errorf("result configuration = %s", jsonOf(t, c.ResultConfiguration))
	}
}

func TestUpdateWorkGroupDescriptionAndState(t *testing.T) {
	e := newTestEnv(t)
	e.createWorkGroup("wg", nil)
	_, err := e.svc.UpdateWorkGroup(e.ctx, valid(t, &wire.UpdateWorkGroupInput{WorkGroup: refOf("wg"), Description: refOf("new"), State: refOf("DISABLED")}))
	mustOK(t, err)
	wg := e.getWorkGroup("wg")
	if valOf(wg.Description) != "new" || *wg.State != "DISABLED" || !wg.CreationTime.Equal(t0) {
		t.Errorf("workgroup = %s", jsonOf(t, wg))
	}
	_, err = e.svc.UpdateWorkGroup(e.ctx, valid(t, &wire.UpdateWorkGroupInput{WorkGroup: refOf("wg"), Description: refOf(""), State: refOf("ENABLED")}))
	mustOK(t, err)
	wg = e.getWorkGroup("wg")
	if wg.Description != nil || *wg.State != "ENABLED" {
		t.Errorf("workgroup = %s", jsonOf(t, wg))
	}
}

func TestUpdateWorkGroupRefusals(t *testing.T) {
	cases := []struct {
		name string
		wg   string
		u    wire.WorkGroupConfigurationUpdates
		want []string
	}{
		{"set and remove cutoff", "spark", wire.WorkGroupConfigurationUpdates{BytesScannedCutoffPerQuery: refOf(int64(10000000)), RemoveBytesScannedCutoffPerQuery: refOf(true)},
			[]string{"BytesScannedCutoffPerQuery", "RemoveBytesScannedCutoffPerQuery"}},
		{"set and remove customer content encryption", "spark", wire.WorkGroupConfigurationUpdates{CustomerContentEncryptionConfiguration: &wire.CustomerContentEncryptionConfiguration{KmsKey: refOf("alias/x")}, RemoveCustomerContentEncryptionConfiguration: refOf(true)},
			[]string{"RemoveCustomerContentEncryptionConfiguration"}},
		{"set and remove output location", "spark", wire.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &wire.ResultConfigurationUpdates{OutputLocation: refOf("s3://b/"), RemoveOutputLocation: refOf(true)}},
			[]string{"ResultConfigurationUpdates.OutputLocation", "ResultConfigurationUpdates.RemoveOutputLocation"}},
		{"set and remove encryption", "spark", wire.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &wire.ResultConfigurationUpdates{EncryptionConfiguration: &wire.EncryptionConfiguration{EncryptionOption: refOf("SSE_S3")}, RemoveEncryptionConfiguration: refOf(true)}},
			[]string{"ResultConfigurationUpdates.RemoveEncryptionConfiguration"}},
		{"set and remove bucket owner", "spark", wire.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &wire.ResultConfigurationUpdates{ExpectedBucketOwner: refOf("123456789012"), RemoveExpectedBucketOwner: refOf(true)}},
			[]string{"RemoveExpectedBucketOwner"}},
		{"set and remove acl", "spark", wire.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &wire.ResultConfigurationUpdates{AclConfiguration: &wire.AclConfiguration{S3AclOption: refOf("BUCKET_OWNER_FULL_CONTROL")}, RemoveAclConfiguration: refOf(true)}},
			[]string{"RemoveAclConfiguration"}},
		{"set and remove managed encryption", "spark", wire.WorkGroupConfigurationUpdates{ManagedQueryResultsConfigurationUpdates: &wire.ManagedQueryResultsConfigurationUpdates{EncryptionConfiguration: &wire.ManagedQueryResultsEncryptionConfiguration{KmsKey: refOf("alias/x")}, RemoveEncryptionConfiguration: refOf(true)}},
			[]string{"ManagedQueryResultsConfigurationUpdates.RemoveEncryptionConfiguration"}},
		{"spark to sql", "spark", wire.WorkGroupConfigurationUpdates{EngineVersion: &wire.EngineVersion{SelectedEngineVersion: refOf(EngineVersionSQL3)}},
			[]string{"The engine type of a workgroup cannot be changed", "spark"}},
		{"spark to AUTO", "spark", wire.WorkGroupConfigurationUpdates{EngineVersion: &wire.EngineVersion{SelectedEngineVersion: refOf("AUTO")}},
			[]string{"The engine type of a workgroup cannot be changed"}},
		{"sql to spark", "sql", wire.WorkGroupConfigurationUpdates{EngineVersion: &wire.EngineVersion{SelectedEngineVersion: refOf(EngineVersionSpark3)}, ExecutionRole: refOf(testRole)},
			[]string{"The engine type of a workgroup cannot be changed", "sql"}},
		{"unknown engine", "sql", wire.WorkGroupConfigurationUpdates{EngineVersion: &wire.EngineVersion{SelectedEngineVersion: refOf("Athena engine version 9")}},
			[]string{"Athena engine version 9"}},
		{"spark additional configuration not JSON", "spark", wire.WorkGroupConfigurationUpdates{AdditionalConfiguration: refOf("{broken")},
			[]string{"AdditionalConfiguration"}},
		{"spark minimum encryption", "spark", wire.WorkGroupConfigurationUpdates{EnableMinimumEncryptionConfiguration: refOf(true)},
			[]string{"EnableMinimumEncryptionConfiguration"}},
		{"output location not s3", "sql", wire.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &wire.ResultConfigurationUpdates{OutputLocation: refOf("file:///tmp")}},
			[]string{"ResultConfiguration.OutputLocation"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.createWorkGroup("spark", sparkConfig())
			e.createWorkGroup("sql", nil)
			before := jsonOf(t, e.getWorkGroup(tc.wg))
			_, err := e.svc.UpdateWorkGroup(e.ctx, valid(t, &wire.UpdateWorkGroupInput{WorkGroup: refOf(tc.wg), Description: refOf("changed"), ConfigurationUpdates: &tc.u}))
			wantErr(t, err, CodeInvalidRequest, tc.want...)
			if after := jsonOf(t, e.getWorkGroup(tc.wg)); after != before {
				t.Errorf("a refused update wrote:\nbefore %s\n after %s", before, after)
			}
		})
	}
}

func TestUpdateWorkGroupSQLVersions(t *testing.T) {
	e := newTestEnv(t)
	e.createWorkGroup("sql", nil)
	for _, v := range []string{EngineVersionSQL3, "AUTO"} {
		_, err := e.svc.UpdateWorkGroup(e.ctx, valid(t, &wire.UpdateWorkGroupInput{WorkGroup: refOf("sql"), ConfigurationUpdates: &wire.WorkGroupConfigurationUpdates{
			EngineVersion: &wire.EngineVersion{SelectedEngineVersion: refOf(v)}}}))
		mustOK(t, err)
		ev := e.getWorkGroup("sql").Configuration.EngineVersion
		if *ev.SelectedEngineVersion != v || *ev.EffectiveEngineVersion != EngineVersionSQL3 {
			t.Errorf("after selecting %s: %s", v, jsonOf(t, ev))
		}
	}
}

func TestUpdateWorkGroupUnknown(t *testing.T) {
	e := newTestEnv(t)
	_, err := e.svc.UpdateWorkGroup(e.ctx, valid(t, &wire.UpdateWorkGroupInput{WorkGroup: refOf("ghost"), State: refOf("DISABLED")}))
	wantErr(t, err, CodeInvalidRequest, "WorkGroup ghost is not found.")
}

func TestListWorkGroups(t *testing.T) {
	e := newTestEnv(t)
	for _, n := range []string{"d", "b", "e", "a", "c"} {
		e.clock.Advance(time.Second)
		e.createWorkGroup(n, nil)
	}
	e.createWorkGroup("spark", sparkConfig())
	all, err := e.svc.ListWorkGroups(e.ctx, valid(t, &wire.ListWorkGroupsInput{}))
	mustOK(t, err)
	var names []string
	for _, w := range all.WorkGroups {
		names = append(names, *w.Name)
	}
	if strings.Join(names, ",") != "a,b,c,d,e,primary,spark" || all.NextToken != nil {
		t.Fatalf("names = %v, token %v", names, all.NextToken)
	}
	last := all.WorkGroups[6]
	if *last.EngineVersion.EffectiveEngineVersion != EngineVersionSpark3 || *last.State != "ENABLED" || last.CreationTime == nil {
		t.Errorf("summary = %s", jsonOf(t, last))
	}

	var paged []string
	var token *string
	for range 10 {
		out, err := e.svc.ListWorkGroups(e.ctx, valid(t, &wire.ListWorkGroupsInput{MaxResults: refOf(int32(3)), NextToken: token}))
		mustOK(t, err)
		if len(out.WorkGroups) > 3 {
			t.Fatalf("page of %d", len(out.WorkGroups))
		}
		for _, w := range out.WorkGroups {
			paged = append(paged, *w.Name)
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if strings.Join(paged, ",") != strings.Join(names, ",") {
		t.Errorf("paged = %v, want %v", paged, names)
	}

	_, err = e.svc.ListWorkGroups(e.ctx, valid(t, &wire.ListWorkGroupsInput{NextToken: refOf("!!not a token!!")}))
	wantErr(t, err, CodeInvalidRequest, "NextToken")
}

func TestDeleteWorkGroup(t *testing.T) {
	arn := "arn:aws:athena:us-east-1:123456789012:workgroup/spark"
	setup := func(t *testing.T) *testEnv {
		e := newTestEnv(t)
		e.createWorkGroup("spark", sparkConfig(), tag("team", "x"))
		return e
	}
	addNotebook := func(e *testEnv, name string) string {
		out, err := e.svc.CreateNotebook(e.ctx, valid(e.t, &wire.CreateNotebookInput{WorkGroup: refOf("spark"), Name: refOf(name)}))
		mustOK(e.t, err)
		return *out.NotebookId
	}
	gone := func(t *testing.T, e *testEnv) {
		t.Helper()
		_, err := e.svc.GetWorkGroup(e.ctx, &wire.GetWorkGroupInput{WorkGroup: refOf("spark")})
		wantErr(t, err, CodeInvalidRequest, "is not found")
	}

	t.Run("empty", func(t *testing.T) {
		e := setup(t)
		_, err := e.svc.DeleteWorkGroup(e.ctx, valid(t, &wire.DeleteWorkGroupInput{WorkGroup: refOf("spark")}))
		mustOK(t, err)
		gone(t, e)
		// Its tags went with it: a new workgroup of the same name starts untagged.
		e.createWorkGroup("spark", sparkConfig())
		tags, err := e.svc.ListTagsForResource(e.ctx, valid(t, &wire.ListTagsForResourceInput{ResourceARN: refOf(arn)}))
		mustOK(t, err)
		if len(tags.Tags) != 0 {
			t.Errorf("tags survived: %s", jsonOf(t, tags.Tags))
		}
	})
	t.Run("primary", func(t *testing.T) {
		e := setup(t)
		_, err := e.svc.DeleteWorkGroup(e.ctx, valid(t, &wire.DeleteWorkGroupInput{WorkGroup: refOf("primary"), RecursiveDeleteOption: refOf(true)}))
		wantErr(t, err, CodeInvalidRequest, "primary")
		e.getWorkGroup("primary")
	})
	t.Run("unknown", func(t *testing.T) {
		e := setup(t)
		_, err := e.svc.DeleteWorkGroup(e.ctx, valid(t, &wire.DeleteWorkGroupInput{WorkGroup: refOf("ghost")}))
		wantErr(t, err, CodeInvalidRequest, "WorkGroup ghost is not found.")
	})
	t.Run("notebooks without recursive", func(t *testing.T) {
		e := setup(t)
		addNotebook(e, "n1")
		_, err := e.svc.DeleteWorkGroup(e.ctx, valid(t, &wire.DeleteWorkGroupInput{WorkGroup: refOf("spark"), RecursiveDeleteOption: refOf(false)}))
		wantErr(t, err, CodeInvalidRequest, "spark", "RecursiveDeleteOption")
		e.getWorkGroup("spark")
	})
	t.Run("notebooks with recursive", func(t *testing.T) {
		e := setup(t)
		var ids []string
		for i := range 130 { // more than one batch of the delete loop
			ids = append(ids, addNotebook(e, fmt.Sprintf("n%03d", i)))
		}
		e.createWorkGroup("other", sparkConfig())
		out, err := e.svc.CreateNotebook(e.ctx, valid(t, &wire.CreateNotebookInput{WorkGroup: refOf("other"), Name: refOf("n001")}))
		mustOK(t, err)
		_, err = e.svc.DeleteWorkGroup(e.ctx, valid(t, &wire.DeleteWorkGroupInput{WorkGroup: refOf("spark"), RecursiveDeleteOption: refOf(true)}))
		mustOK(t, err)
		gone(t, e)
		for _, id := range ids[:3] {
			_, err := e.svc.GetNotebookMetadata(e.ctx, valid(t, &wire.GetNotebookMetadataInput{NotebookId: refOf(id)}))
			wantErr(t, err, CodeInvalidRequest, id)
		}
		if _, err := e.svc.GetNotebookMetadata(e.ctx, valid(t, &wire.GetNotebookMetadataInput{NotebookId: out.NotebookId})); err != nil {
			t.Errorf("another workgroup's notebook went too: %v", err)
		}
	})
	for _, state := range []string{"CREATING", "CREATED", "IDLE", "BUSY", "DEGRADED"} {
		t.Run("active session "+state, func(t *testing.T) {
			e := setup(t)
			e.putSession(&Session{ID: "s-1", WorkGroup: "spark", State: state, StartTime: t0})
			_, err := e.svc.DeleteWorkGroup(e.ctx, valid(t, &wire.DeleteWorkGroupInput{WorkGroup: refOf("spark"), RecursiveDeleteOption: refOf(true)}))
			wantErr(t, err, CodeInvalidRequest, "spark", "s-1", state)
			e.getWorkGroup("spark")
		})
	}
	for _, state := range []string{"TERMINATED", "FAILED"} {
		t.Run("ended session "+state, func(t *testing.T) {
			e := setup(t)
			e.putSession(&Session{ID: "s-1", WorkGroup: "spark", State: state, StartTime: t0})
			_, err := e.svc.DeleteWorkGroup(e.ctx, valid(t, &wire.DeleteWorkGroupInput{WorkGroup: refOf("spark")}))
			mustOK(t, err)
			gone(t, e)
		})
	}
}

// A store failure is returned as a plain error (the API answers InternalServerException), and
// a request that fails half-way writes nothing.
func TestStoreFailure(t *testing.T) {
	e := newTestEnv(t)
	broken := errors.New("disk on fire")
	e.store.failPuts = broken
	_, err := e.svc.CreateWorkGroup(e.ctx, valid(t, &wire.CreateWorkGroupInput{Name: refOf("wg"), Tags: []wire.Tag{tag("a", "b")}}))
	var de *Error
	if !errors.Is(err, broken) || errors.As(err, &de) {
		t.Fatalf("error = %v, want the store's own error", err)
	}
	e.store.failPuts = nil
	_, err = e.svc.GetWorkGroup(e.ctx, &wire.GetWorkGroupInput{WorkGroup: refOf("wg")})
	wantErr(t, err, CodeInvalidRequest, "not found")
}

func TestCreateWorkGroupAtomic(t *testing.T) {
	e := newTestEnv(t)
	// PutTags fails after PutWorkGroup succeeded: the workgroup must not be left behind.
	e.store.failPuts = nil
	st := &failingTagsStore{memStore: e.store}
	e.svc.store = st
	_, err := e.svc.CreateWorkGroup(e.ctx, valid(t, &wire.CreateWorkGroupInput{Name: refOf("wg"), Tags: []wire.Tag{tag("a", "b")}}))
	if err == nil {
		t.Fatal("CreateWorkGroup succeeded with a failing tag write")
	}
	_, err = e.svc.GetWorkGroup(e.ctx, &wire.GetWorkGroupInput{WorkGroup: refOf("wg")})
	wantErr(t, err, CodeInvalidRequest, "not found")
}

// failingTagsStore is a memStore whose PutTags fails.
type failingTagsStore struct{ *memStore }

func (s *failingTagsStore) Update(ctx context.Context, fn func(Tx) error) error {
	return s.memStore.Update(ctx, func(tx Tx) error { return fn(failingTagsTx{tx}) })
}

type failingTagsTx struct{ Tx }

func (failingTagsTx) PutTags(string, []wire.Tag) error { return errors.New("tags table locked") }

// GetWorkGroup answers Athena's defaults for members the client left unset: primary does
// not enforce its configuration, a workgroup created through CreateWorkGroup does.
func TestGetWorkGroupDefaults(t *testing.T) {
	e := newTestEnv(t)
	e.createWorkGroup("out-only", &wire.WorkGroupConfiguration{ResultConfiguration: &wire.ResultConfiguration{OutputLocation: refOf("s3://bucket/out/")}})
	tests := []struct{ name, want string }{
		{PrimaryWorkGroup, `{"EnableMinimumEncryptionConfiguration":false,"EnforceWorkGroupConfiguration":false,"EngineVersion":{"EffectiveEngineVersion":"Athena engine version 3","SelectedEngineVersion":"AUTO"},"PublishCloudWatchMetricsEnabled":false,"RequesterPaysEnabled":false,"ResultConfiguration":{}}`},
		{"out-only", `{"EnableMinimumEncryptionConfiguration":false,"EnforceWorkGroupConfiguration":true,"EngineVersion":{"EffectiveEngineVersion":"Athena engine version 3","SelectedEngineVersion":"AUTO"},"PublishCloudWatchMetricsEnabled":false,"RequesterPaysEnabled":false,"ResultConfiguration":{"OutputLocation":"s3://bucket/out/"}}`},
	}
	for _, tc := range tests {
		if got := jsonOf(t, e.getWorkGroup(tc.name).Configuration); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}
