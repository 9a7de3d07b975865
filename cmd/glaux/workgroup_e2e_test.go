package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
)

const (
	sparkEngine = "PySpark engine version 3"
	sqlEngine   = "Athena engine version 3"
	testRole    = "arn:aws:iam::123456789012:role/glaux-spark"
)

func sparkConfig() *types.WorkGroupConfiguration {
	return &types.WorkGroupConfiguration{
		EngineVersion: &types.EngineVersion{SelectedEngineVersion: aws.String(sparkEngine)},
		ExecutionRole: aws.String(testRole),
	}
}

func getWorkGroup(t testing.TB, c *athena.Client, name string) *types.WorkGroup {
	t.Helper()
	out, err := c.GetWorkGroup(context.Background(), &athena.GetWorkGroupInput{WorkGroup: aws.String(name)})
	if err != nil {
		t.Fatalf("GetWorkGroup %s: %v", name, err)
	}
	return out.WorkGroup
}

// TestWorkGroupPrimary: primary exists on the first start, is an SQL workgroup, and cannot
// be deleted.
func TestWorkGroupPrimary(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	wg := getWorkGroup(t, s.Client, "primary")
	if wg.State != types.WorkGroupStateEnabled {
		t.Errorf("primary is %s", wg.State)
	}
	ev := wg.Configuration.EngineVersion
	if aws.ToString(ev.SelectedEngineVersion) != "AUTO" || aws.ToString(ev.EffectiveEngineVersion) != sqlEngine {
		t.Errorf("primary engine %s/%s, want AUTO/%s", aws.ToString(ev.SelectedEngineVersion), aws.ToString(ev.EffectiveEngineVersion), sqlEngine)
	}
	if wg.CreationTime == nil || time.Since(*wg.CreationTime) > time.Minute {
		t.Errorf("primary CreationTime %v", wg.CreationTime)
	}
	for _, recursive := range []bool{false, true} {
		_, err := s.Client.DeleteWorkGroup(ctx, &athena.DeleteWorkGroupInput{WorkGroup: aws.String("primary"), RecursiveDeleteOption: aws.Bool(recursive)})
		wantInvalid(t, err, "INVALID_INPUT", "primary")
	}
	getWorkGroup(t, s.Client, "primary")
	// Notebooks need a Spark workgroup, which primary is not.
	_, err := s.Client.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("primary"), Name: aws.String("n")})
	wantInvalid(t, err, "", "not Spark")
	// Creating it again is refused: it already exists.
	_, err = s.Client.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("primary")})
	wantInvalid(t, err, "", "already")
}

// TestWorkGroupConstraints covers each class of constraint through the SDK (which checks
// only required members itself) and as raw requests (which reach the server unchecked).
func TestWorkGroupConstraints(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	createSparkWorkGroup(t, c, "spark-c")
	if _, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("sql-c")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		class string
		call  func() error
		code  string
		msg   []string
	}{
		{"pattern: workgroup name", func() error {
			_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("bad name!")})
			return err
		}, "INVALID_INPUT", []string{"name", "pattern"}},
		{"pattern: workgroup name too long", func() error {
			_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String(strings.Repeat("a", 129))})
			return err
		}, "INVALID_INPUT", []string{"name"}},
		{"pattern: execution role", func() error {
			cfg := sparkConfig()
			cfg.ExecutionRole = aws.String("not-an-arn-of-a-role-at-all")
			_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("x"), Configuration: cfg})
			return err
		}, "INVALID_INPUT", []string{"executionRole", "pattern"}},
		{"length: description", func() error {
			_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("x"), Description: aws.String(strings.Repeat("d", 1025))})
			return err
		}, "INVALID_INPUT", []string{"description", "less than or equal to 1024"}},
		{"length: AdditionalConfiguration over 128 on create", func() error {
			cfg := sparkConfig()
			cfg.AdditionalConfiguration = aws.String(`{"k":"` + strings.Repeat("v", 130) + `"}`)
			_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("x"), Configuration: cfg})
			return err
		}, "INVALID_INPUT", []string{"additionalConfiguration", "128"}},
		{"length: AdditionalConfiguration over 128 on update", func() error {
			_, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("spark-c"),
				ConfigurationUpdates: &types.WorkGroupConfigurationUpdates{AdditionalConfiguration: aws.String(strings.Repeat("x", 129))}})
			return err
		}, "INVALID_INPUT", []string{"additionalConfiguration", "128"}},
		{"length: expected bucket owner", func() error {
			_, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("sql-c"),
				ConfigurationUpdates: &types.WorkGroupConfigurationUpdates{ResultConfigurationUpdates: &types.ResultConfigurationUpdates{ExpectedBucketOwner: aws.String("123")}}})
			return err
		}, "INVALID_INPUT", []string{"expectedBucketOwner"}},
		{"range: ListWorkGroups MaxResults over 50", func() error {
			_, err := c.ListWorkGroups(ctx, &athena.ListWorkGroupsInput{MaxResults: aws.Int32(51)})
			return err
		}, "INVALID_INPUT", []string{"maxResults", "less than or equal to 50"}},
		{"range: ListWorkGroups MaxResults 0", func() error {
			_, err := c.ListWorkGroups(ctx, &athena.ListWorkGroupsInput{MaxResults: aws.Int32(0)})
			return err
		}, "INVALID_INPUT", []string{"maxResults", "greater than or equal to 1"}},
		{"range: ListEngineVersions MaxResults over 10", func() error {
			_, err := c.ListEngineVersions(ctx, &athena.ListEngineVersionsInput{MaxResults: aws.Int32(11)})
			return err
		}, "INVALID_INPUT", []string{"maxResults"}},
		{"range: ListApplicationDPUSizes MaxResults over 100", func() error {
			_, err := c.ListApplicationDPUSizes(ctx, &athena.ListApplicationDPUSizesInput{MaxResults: aws.Int32(101)})
			return err
		}, "INVALID_INPUT", []string{"maxResults"}},
		{"range: BytesScannedCutoffPerQuery under 10 MB", func() error {
			_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("x"),
				Configuration: &types.WorkGroupConfiguration{BytesScannedCutoffPerQuery: aws.Int64(1000)}})
			return err
		}, "INVALID_INPUT", []string{"bytesScannedCutoffPerQuery"}},
		{"enum: state", func() error {
			_, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("sql-c"), State: types.WorkGroupState("PAUSED")})
			return err
		}, "INVALID_INPUT", []string{"state", "ENABLED, DISABLED"}},
		{"enum: encryption option", func() error {
			_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("x"), Configuration: &types.WorkGroupConfiguration{
				ResultConfiguration: &types.ResultConfiguration{EncryptionConfiguration: &types.EncryptionConfiguration{EncryptionOption: "ROT13"}}}})
			return err
		}, "INVALID_INPUT", []string{"encryptionOption"}},
		{"cross-field: Spark workgroup without ExecutionRole", func() error {
			cfg := sparkConfig()
			cfg.ExecutionRole = nil
			_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("x"), Configuration: cfg})
			return err
		}, "INVALID_INPUT", []string{"executionRole is null or empty"}},
		{"cross-field: engine type SQL to Spark", func() error {
			_, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("sql-c"), ConfigurationUpdates: &types.WorkGroupConfigurationUpdates{
				EngineVersion: &types.EngineVersion{SelectedEngineVersion: aws.String(sparkEngine)}, ExecutionRole: aws.String(testRole)}})
			return err
		}, "INVALID_INPUT", []string{"engine type", "cannot be changed"}},
		{"cross-field: engine type Spark to SQL", func() error {
			_, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("spark-c"), ConfigurationUpdates: &types.WorkGroupConfigurationUpdates{
				EngineVersion: &types.EngineVersion{SelectedEngineVersion: aws.String("AUTO")}}})
			return err
		}, "INVALID_INPUT", []string{"engine type", "cannot be changed"}},
		{"cross-field: set and remove the same member", func() error {
			_, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("sql-c"), ConfigurationUpdates: &types.WorkGroupConfigurationUpdates{
				ResultConfigurationUpdates: &types.ResultConfigurationUpdates{OutputLocation: aws.String("s3://b/p/"), RemoveOutputLocation: aws.Bool(true)}}})
			return err
		}, "INVALID_INPUT", []string{"OutputLocation", "RemoveOutputLocation"}},
		{"cross-field: minimum encryption on a Spark workgroup", func() error {
			cfg := sparkConfig()
			cfg.EnableMinimumEncryptionConfiguration = aws.Bool(true)
			_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("x"), Configuration: cfg})
			return err
		}, "INVALID_INPUT", []string{"EnableMinimumEncryptionConfiguration"}},
		{"value: unknown engine version", func() error {
			_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("x"), Configuration: &types.WorkGroupConfiguration{
				EngineVersion: &types.EngineVersion{SelectedEngineVersion: aws.String("Athena engine version 9")}}})
			return err
		}, "INVALID_INPUT", []string{"Athena engine version 9"}},
		{"value: output location not s3", func() error {
			_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("x"), Configuration: &types.WorkGroupConfiguration{
				ResultConfiguration: &types.ResultConfiguration{OutputLocation: aws.String("/tmp/results")}}})
			return err
		}, "INVALID_INPUT", []string{"/tmp/results"}},
		{"value: unknown workgroup", func() error {
			_, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("nope"), Description: aws.String("d")})
			return err
		}, "", []string{"nope"}},
		{"value: duplicate workgroup", func() error {
			_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("sql-c")})
			return err
		}, "", []string{"sql-c", "already"}},
		{"value: bad NextToken", func() error {
			_, err := c.ListWorkGroups(ctx, &athena.ListWorkGroupsInput{NextToken: aws.String("!!not a token!!")})
			return err
		}, "", []string{"NextToken"}},
	}
	for _, tc := range tests {
		t.Run(tc.class, func(t *testing.T) {
			wantInvalid(t, tc.call(), tc.code, tc.msg...)
		})
	}
	// The refused creates made nothing.
	if _, err := c.GetWorkGroup(ctx, &athena.GetWorkGroupInput{WorkGroup: aws.String("x")}); err == nil {
		t.Error(`a refused CreateWorkGroup created "x"`)
	}
	if wg := getWorkGroup(t, c, "sql-c"); aws.ToString(wg.Configuration.EngineVersion.EffectiveEngineVersion) != sqlEngine {
		t.Errorf("sql-c engine changed to %s", aws.ToString(wg.Configuration.EngineVersion.EffectiveEngineVersion))
	}

	// Required members: the SDK refuses a missing one itself, so send raw requests.
	required := []struct{ op, body, member string }{
		{"CreateWorkGroup", `{"Description":"d"}`, "'name'"},
		{"GetWorkGroup", `{}`, "'workGroup'"},
		{"DeleteWorkGroup", `{}`, "'workGroup'"},
		{"UpdateWorkGroup", `{"State":"ENABLED"}`, "'workGroup'"},
		{"CreateWorkGroup", `{"Name":"r","Configuration":{"ResultConfiguration":{"EncryptionConfiguration":{}}}}`, "encryptionOption"},
		{"TagResource", `{"ResourceARN":"arn:aws:athena:us-east-1:123456789012:workgroup/sql-c"}`, "'tags'"},
		{"CreateNotebook", `{"WorkGroup":"spark-c"}`, "'name'"},
		{"ImportNotebook", `{"WorkGroup":"spark-c","Name":"n","Payload":"{}"}`, "'type'"},
	}
	for _, tc := range required {
		t.Run("required: "+tc.op+" "+tc.member, func(t *testing.T) {
			r := rawCall(t, s.Endpoint, "/", tc.op, []byte(tc.body), true)
			msg, _ := r.Body["Message"].(string)
			if r.Status != 400 || r.Body["__type"] != "InvalidRequestException" || !strings.Contains(msg, tc.member) || !strings.Contains(msg, "must not be null") {
				t.Errorf("%s %s: %d %s", tc.op, tc.body, r.Status, r.Raw)
			}
		})
	}
}

// TestWorkGroupSparkRules: ExecutionRole is required for Spark, the engine type is fixed at
// creation, AdditionalConfiguration is a JSON object of at most 128 characters.
func TestWorkGroupSparkRules(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	createSparkWorkGroup(t, c, "spark")
	// Removing the role of a Spark workgroup is refused like leaving it out.
	_, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("spark"),
		ConfigurationUpdates: &types.WorkGroupConfigurationUpdates{ExecutionRole: aws.String("")}})
	if err == nil {
		t.Error("UpdateWorkGroup removed the ExecutionRole of a Spark workgroup")
	}
	// Selecting the engine the workgroup already has is an allowed no-op.
	if _, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("spark"),
		ConfigurationUpdates: &types.WorkGroupConfigurationUpdates{EngineVersion: &types.EngineVersion{SelectedEngineVersion: aws.String(sparkEngine)}}}); err != nil {
		t.Fatal(err)
	}
	// SQL workgroups may switch between AUTO and the explicit SQL version.
	if _, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("sql")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("sql"),
		ConfigurationUpdates: &types.WorkGroupConfigurationUpdates{EngineVersion: &types.EngineVersion{SelectedEngineVersion: aws.String(sqlEngine)}}}); err != nil {
		t.Fatal(err)
	}
	if ev := getWorkGroup(t, c, "sql").Configuration.EngineVersion; aws.ToString(ev.SelectedEngineVersion) != sqlEngine {
		t.Errorf("selected %s", aws.ToString(ev.SelectedEngineVersion))
	}
	tests := []struct {
		name  string
		value string
		ok    bool
	}{
		{"128 characters", `{"k":"` + strings.Repeat("v", 128-len(`{"k":""}`)) + `"}`, true},
		{"129 characters", `{"k":"` + strings.Repeat("v", 129-len(`{"k":""}`)) + `"}`, false},
		{"not JSON", `not json`, false},
		{"a JSON array", `[1,2]`, false},
	}
	for _, tc := range tests {
		t.Run("AdditionalConfiguration "+tc.name, func(t *testing.T) {
			_, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("spark"),
				ConfigurationUpdates: &types.WorkGroupConfigurationUpdates{AdditionalConfiguration: aws.String(tc.value)}})
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if got := aws.ToString(getWorkGroup(t, c, "spark").Configuration.AdditionalConfiguration); got != tc.value {
					t.Errorf("AdditionalConfiguration %q, want %q", got, tc.value)
				}
				return
			}
			wantInvalid(t, err, "INVALID_INPUT")
		})
	}
}

// TestWorkGroupConfigurationUpdates sets every member of ConfigurationUpdates, then every
// Remove* flag, reading the result back with GetWorkGroup each time.
func TestWorkGroupConfigurationUpdates(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	const kms1 = "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111"
	const kms2 = "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222"
	const role2 = "arn:aws:iam::123456789012:role/other-role"
	cfg := sparkConfig()
	cfg.ResultConfiguration = &types.ResultConfiguration{
		OutputLocation:          aws.String("s3://results/a/"),
		EncryptionConfiguration: &types.EncryptionConfiguration{EncryptionOption: types.EncryptionOptionSseKms, KmsKey: aws.String(kms1)},
		ExpectedBucketOwner:     aws.String("111122223333"),
		AclConfiguration:        &types.AclConfiguration{S3AclOption: types.S3AclOptionBucketOwnerFullControl},
	}
	cfg.BytesScannedCutoffPerQuery = aws.Int64(10_000_000)
	cfg.CustomerContentEncryptionConfiguration = &types.CustomerContentEncryptionConfiguration{KmsKey: aws.String(kms1)}
	cfg.AdditionalConfiguration = aws.String(`{"a":"b"}`)
	cfg.PublishCloudWatchMetricsEnabled = aws.Bool(true)
	cfg.EnforceWorkGroupConfiguration = aws.Bool(true)
	cfg.RequesterPaysEnabled = aws.Bool(false)
	if _, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("rt"), Description: aws.String("first"), Configuration: cfg}); err != nil {
		t.Fatal(err)
	}
	got := getWorkGroup(t, c, "rt")
	if aws.ToString(got.Description) != "first" || aws.ToString(got.Configuration.ResultConfiguration.ExpectedBucketOwner) != "111122223333" ||
		aws.ToString(got.Configuration.CustomerContentEncryptionConfiguration.KmsKey) != kms1 {
		t.Fatalf("created configuration not read back: %+v", got.Configuration)
	}

	_, err := c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{
		WorkGroup:   aws.String("rt"),
		Description: aws.String("second"),
		State:       types.WorkGroupStateDisabled,
		ConfigurationUpdates: &types.WorkGroupConfigurationUpdates{
			AdditionalConfiguration:                aws.String(`{"c":"d"}`),
			BytesScannedCutoffPerQuery:             aws.Int64(20_000_000),
			CustomerContentEncryptionConfiguration: &types.CustomerContentEncryptionConfiguration{KmsKey: aws.String(kms2)},
			EnableMinimumEncryptionConfiguration:   aws.Bool(false),
			EnforceWorkGroupConfiguration:          aws.Bool(false),
			EngineConfiguration: &types.EngineConfiguration{MaxConcurrentDpus: aws.Int32(4),
				SparkProperties: map[string]string{"spark.sql.shuffle.partitions": "8"}},
			EngineVersion: &types.EngineVersion{SelectedEngineVersion: aws.String(sparkEngine)},
			ExecutionRole: aws.String(role2),
			ManagedQueryResultsConfigurationUpdates: &types.ManagedQueryResultsConfigurationUpdates{
				Enabled: aws.Bool(true), EncryptionConfiguration: &types.ManagedQueryResultsEncryptionConfiguration{KmsKey: aws.String(kms2)}},
			MonitoringConfiguration: &types.MonitoringConfiguration{CloudWatchLoggingConfiguration: &types.CloudWatchLoggingConfiguration{
				Enabled: aws.Bool(true), LogGroup: aws.String("/aws-athena/rt")}},
			PublishCloudWatchMetricsEnabled: aws.Bool(false),
			QueryResultsS3AccessGrantsConfiguration: &types.QueryResultsS3AccessGrantsConfiguration{
				AuthenticationType: types.AuthenticationTypeDirectoryIdentity, EnableS3AccessGrants: aws.Bool(true), CreateUserLevelPrefix: aws.Bool(true)},
			RequesterPaysEnabled: aws.Bool(true),
			ResultConfigurationUpdates: &types.ResultConfigurationUpdates{
				OutputLocation:          aws.String("s3://results/b/"),
				EncryptionConfiguration: &types.EncryptionConfiguration{EncryptionOption: types.EncryptionOptionSseS3},
				ExpectedBucketOwner:     aws.String("444455556666"),
				AclConfiguration:        &types.AclConfiguration{S3AclOption: types.S3AclOptionBucketOwnerFullControl},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got = getWorkGroup(t, c, "rt")
	gc := got.Configuration
	rc := gc.ResultConfiguration
	checks := []struct {
		member string
		got    any
		want   any
	}{
		{"Description", aws.ToString(got.Description), "second"},
		{"State", got.State, types.WorkGroupStateDisabled},
		{"AdditionalConfiguration", aws.ToString(gc.AdditionalConfiguration), `{"c":"d"}`},
		{"BytesScannedCutoffPerQuery", aws.ToInt64(gc.BytesScannedCutoffPerQuery), int64(20_000_000)},
		{"CustomerContentEncryptionConfiguration", gc.CustomerContentEncryptionConfiguration != nil && aws.ToString(gc.CustomerContentEncryptionConfiguration.KmsKey) == kms2, true},
		{"EnableMinimumEncryptionConfiguration", aws.ToBool(gc.EnableMinimumEncryptionConfiguration), false},
		{"EnforceWorkGroupConfiguration", gc.EnforceWorkGroupConfiguration != nil && !*gc.EnforceWorkGroupConfiguration, true},
		{"EngineConfiguration.MaxConcurrentDpus", gc.EngineConfiguration != nil && aws.ToInt32(gc.EngineConfiguration.MaxConcurrentDpus) == 4, true},
		{"EngineConfiguration.SparkProperties", gc.EngineConfiguration != nil && gc.EngineConfiguration.SparkProperties["spark.sql.shuffle.partitions"] == "8", true},
		{"EngineVersion", aws.ToString(gc.EngineVersion.SelectedEngineVersion) + "/" + aws.ToString(gc.EngineVersion.EffectiveEngineVersion), sparkEngine + "/" + sparkEngine},
		{"ExecutionRole", aws.ToString(gc.ExecutionRole), role2},
		{"ManagedQueryResultsConfiguration", gc.ManagedQueryResultsConfiguration != nil && gc.ManagedQueryResultsConfiguration.Enabled &&
			gc.ManagedQueryResultsConfiguration.EncryptionConfiguration != nil && aws.ToString(gc.ManagedQueryResultsConfiguration.EncryptionConfiguration.KmsKey) == kms2, true},
		{"MonitoringConfiguration", gc.MonitoringConfiguration != nil && gc.MonitoringConfiguration.CloudWatchLoggingConfiguration != nil &&
			aws.ToString(gc.MonitoringConfiguration.CloudWatchLoggingConfiguration.LogGroup) == "/aws-athena/rt", true},
		{"PublishCloudWatchMetricsEnabled", gc.PublishCloudWatchMetricsEnabled != nil && !*gc.PublishCloudWatchMetricsEnabled, true},
		{"QueryResultsS3AccessGrantsConfiguration", gc.QueryResultsS3AccessGrantsConfiguration != nil && aws.ToBool(gc.QueryResultsS3AccessGrantsConfiguration.EnableS3AccessGrants) &&
			aws.ToBool(gc.QueryResultsS3AccessGrantsConfiguration.CreateUserLevelPrefix), true},
		{"RequesterPaysEnabled", aws.ToBool(gc.RequesterPaysEnabled), true},
		{"ResultConfiguration.OutputLocation", rc != nil && aws.ToString(rc.OutputLocation) == "s3://results/b/", true},
		{"ResultConfiguration.EncryptionConfiguration", rc != nil && rc.EncryptionConfiguration != nil && rc.EncryptionConfiguration.EncryptionOption == types.EncryptionOptionSseS3 && rc.EncryptionConfiguration.KmsKey == nil, true},
		{"ResultConfiguration.ExpectedBucketOwner", rc != nil && aws.ToString(rc.ExpectedBucketOwner) == "444455556666", true},
		{"ResultConfiguration.AclConfiguration", rc != nil && rc.AclConfiguration != nil && rc.AclConfiguration.S3AclOption == types.S3AclOptionBucketOwnerFullControl, true},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("after setting: %s = %v, want %v", ck.member, ck.got, ck.want)
		}
	}

	// Every Remove* flag; members not mentioned keep their values.
	_, err = c.UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{
		WorkGroup: aws.String("rt"),
		ConfigurationUpdates: &types.WorkGroupConfigurationUpdates{
			RemoveBytesScannedCutoffPerQuery:             aws.Bool(true),
			RemoveCustomerContentEncryptionConfiguration: aws.Bool(true),
			ManagedQueryResultsConfigurationUpdates:      &types.ManagedQueryResultsConfigurationUpdates{RemoveEncryptionConfiguration: aws.Bool(true)},
			ResultConfigurationUpdates: &types.ResultConfigurationUpdates{
				RemoveOutputLocation: aws.Bool(true), RemoveEncryptionConfiguration: aws.Bool(true),
				RemoveExpectedBucketOwner: aws.Bool(true), RemoveAclConfiguration: aws.Bool(true),
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got = getWorkGroup(t, c, "rt")
	gc = got.Configuration
	if gc.BytesScannedCutoffPerQuery != nil {
		t.Errorf("BytesScannedCutoffPerQuery %d survived its Remove flag", *gc.BytesScannedCutoffPerQuery)
	}
	if gc.CustomerContentEncryptionConfiguration != nil {
		t.Error("CustomerContentEncryptionConfiguration survived its Remove flag")
	}
	if rc := gc.ResultConfiguration; rc != nil && (rc.OutputLocation != nil || rc.EncryptionConfiguration != nil || rc.ExpectedBucketOwner != nil || rc.AclConfiguration != nil) {
		t.Errorf("ResultConfiguration %+v survived its Remove flags", *rc)
	}
	if mq := gc.ManagedQueryResultsConfiguration; mq == nil || !mq.Enabled || mq.EncryptionConfiguration != nil {
		t.Errorf("ManagedQueryResultsConfiguration %+v: want Enabled kept and the encryption removed", mq)
	}
	if aws.ToString(gc.ExecutionRole) != role2 || aws.ToString(gc.AdditionalConfiguration) != `{"c":"d"}` || !aws.ToBool(gc.RequesterPaysEnabled) ||
		aws.ToString(got.Description) != "second" || got.State != types.WorkGroupStateDisabled {
		t.Errorf("members the update did not mention changed: %+v", got)
	}
	// ListWorkGroups shows the same state and description.
	out, err := c.ListWorkGroups(ctx, &athena.ListWorkGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(out.WorkGroups, func(w types.WorkGroupSummary) bool { return aws.ToString(w.Name) == "rt" })
	if i < 0 || out.WorkGroups[i].State != types.WorkGroupStateDisabled || aws.ToString(out.WorkGroups[i].Description) != "second" ||
		aws.ToString(out.WorkGroups[i].EngineVersion.EffectiveEngineVersion) != sparkEngine {
		t.Errorf("ListWorkGroups summary: %+v", out.WorkGroups)
	}
}

// TestWorkGroupDeleteRecursive: a workgroup with notebooks is deleted only with
// RecursiveDeleteOption, which deletes the notebooks too.
func TestWorkGroupDeleteRecursive(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	createSparkWorkGroup(t, c, "full")
	var ids []string
	for i := range 3 {
		out, err := c.CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("full"), Name: aws.String(fmt.Sprintf("nb%d", i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, *out.NotebookId)
	}
	for _, rec := range []*bool{nil, aws.Bool(false)} {
		_, err := c.DeleteWorkGroup(ctx, &athena.DeleteWorkGroupInput{WorkGroup: aws.String("full"), RecursiveDeleteOption: rec})
		wantInvalid(t, err, "", "RecursiveDeleteOption")
	}
	if _, err := c.GetNotebookMetadata(ctx, &athena.GetNotebookMetadataInput{NotebookId: aws.String(ids[0])}); err != nil {
		t.Fatalf("a refused delete removed a notebook: %v", err)
	}
	if _, err := c.DeleteWorkGroup(ctx, &athena.DeleteWorkGroupInput{WorkGroup: aws.String("full"), RecursiveDeleteOption: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetWorkGroup(ctx, &athena.GetWorkGroupInput{WorkGroup: aws.String("full")})
	wantInvalid(t, err, "", "full")
	for _, id := range ids {
		_, err := c.GetNotebookMetadata(ctx, &athena.GetNotebookMetadataInput{NotebookId: aws.String(id)})
		wantInvalid(t, err, "", id)
	}
	// A workgroup made again under the name starts empty, and deleting a missing one fails.
	createSparkWorkGroup(t, c, "full")
	list, err := c.ListNotebookMetadata(ctx, &athena.ListNotebookMetadataInput{WorkGroup: aws.String("full")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.NotebookMetadataList) != 0 {
		t.Errorf("the new workgroup has the old notebooks: %+v", list.NotebookMetadataList)
	}
	// Without notebooks no option is needed.
	if _, err := c.DeleteWorkGroup(ctx, &athena.DeleteWorkGroupInput{WorkGroup: aws.String("full")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteWorkGroup(ctx, &athena.DeleteWorkGroupInput{WorkGroup: aws.String("full")})
	wantInvalid(t, err, "", "full")
}

// TestWorkGroupListPagination pages ListWorkGroups with the SDK paginator.
func TestWorkGroupListPagination(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	want := []string{"primary"}
	for i := range 7 {
		name := fmt.Sprintf("wg-%02d", i)
		in := &athena.CreateWorkGroupInput{Name: aws.String(name), Description: aws.String("d " + name)}
		if i%2 == 0 {
			in.Configuration = sparkConfig()
		}
		if _, err := s.Client.CreateWorkGroup(ctx, in); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	after := time.Now().Add(time.Second)
	slices.Sort(want)
	p := athena.NewListWorkGroupsPaginator(s.Client, &athena.ListWorkGroupsInput{MaxResults: aws.Int32(3)})
	var got []string
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.WorkGroups) > 3 {
			t.Errorf("page of %d, MaxResults 3", len(page.WorkGroups))
		}
		for _, w := range page.WorkGroups {
			name := aws.ToString(w.Name)
			got = append(got, name)
			if name == "primary" {
				continue
			}
			if w.CreationTime == nil || w.CreationTime.Before(before) || w.CreationTime.After(after) {
				t.Errorf("%s CreationTime %v, want between %s and %s", name, w.CreationTime, before, after)
			}
			if aws.ToString(w.Description) != "d "+name || w.State != types.WorkGroupStateEnabled || w.EngineVersion == nil {
				t.Errorf("summary %+v", w)
			}
		}
		if pages > 10 {
			t.Fatal("the paginator does not end")
		}
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Errorf("%d pages %v, want 3 pages %v", pages, got, want)
	}
}

// TestEngineVersionsPagination pages ListEngineVersions one version a page.
func TestEngineVersionsPagination(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	p := athena.NewListEngineVersionsPaginator(s.Client, &athena.ListEngineVersionsInput{MaxResults: aws.Int32(1)})
	var got []string
	for p.HasMorePages() && len(got) < 10 {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.EngineVersions) != 1 {
			t.Fatalf("page of %d versions, MaxResults 1", len(page.EngineVersions))
		}
		ev := page.EngineVersions[0]
		if aws.ToString(ev.SelectedEngineVersion) != aws.ToString(ev.EffectiveEngineVersion) {
			t.Errorf("version %+v", ev)
		}
		got = append(got, aws.ToString(ev.SelectedEngineVersion))
	}
	if want := []string{sqlEngine, sparkEngine, "Apache Spark version 3.5"}; !slices.Equal(got, want) {
		t.Errorf("versions %v, want %v", got, want)
	}
	// Every listed version can be selected by a new workgroup.
	for i, v := range got {
		cfg := &types.WorkGroupConfiguration{EngineVersion: &types.EngineVersion{SelectedEngineVersion: aws.String(v)}, ExecutionRole: aws.String(testRole)}
		if _, err := s.Client.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String(fmt.Sprintf("ev%d", i)), Configuration: cfg}); err != nil {
			t.Errorf("CreateWorkGroup with %s: %v", v, err)
		}
	}
	_, err := s.Client.ListEngineVersions(ctx, &athena.ListEngineVersionsInput{NextToken: aws.String("garbage")})
	wantInvalid(t, err, "", "NextToken")
}

// TestDPUSizesPagination lists the notebook runtime and its DPU sizes through the paginator.
func TestDPUSizesPagination(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	p := athena.NewListApplicationDPUSizesPaginator(s.Client, &athena.ListApplicationDPUSizesInput{MaxResults: aws.Int32(1)})
	var got []types.ApplicationDPUSizes
	for p.HasMorePages() && len(got) < 10 {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.ApplicationDPUSizes) > 1 {
			t.Fatalf("page of %d, MaxResults 1", len(page.ApplicationDPUSizes))
		}
		got = append(got, page.ApplicationDPUSizes...)
	}
	if len(got) != 1 || aws.ToString(got[0].ApplicationRuntimeId) != "Athena notebook version 1" || !slices.Equal(got[0].SupportedDPUSizes, []int32{1}) {
		t.Errorf("ApplicationDPUSizes %+v", got)
	}
	_, err := s.Client.ListApplicationDPUSizes(ctx, &athena.ListApplicationDPUSizesInput{NextToken: aws.String("garbage")})
	wantInvalid(t, err, "", "NextToken")
}

// TestWorkGroupConcurrent: concurrent creates of one name make one workgroup; concurrent
// updates and tag writes of one workgroup all apply.
func TestWorkGroupConcurrent(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	ctx := context.Background()
	c := s.Client
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for range n {
		wg.Go(func() {
			_, err := c.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("contested")})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				created++
				return
			}
			wantInvalid(t, err, "", "already")
		})
	}
	wg.Wait()
	if created != 1 {
		t.Fatalf("%d creates of one workgroup succeeded, want 1", created)
	}
	for i := range n {
		wg.Go(func() {
			_, err := c.TagResource(ctx, &athena.TagResourceInput{ResourceARN: aws.String(workGroupARN("contested")),
				Tags: []types.Tag{{Key: aws.String(fmt.Sprintf("k%02d", i)), Value: aws.String("v")}}})
			if err != nil {
				t.Errorf("TagResource %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if tags, _ := listTags(t, c, workGroupARN("contested"), 75); len(tags) != n {
		t.Errorf("%d tags after %d concurrent TagResource calls: %v", len(tags), n, tags)
	}
}

// TestGetWorkGroupDefaults reads Athena's defaults off the wire through both protocols:
// primary does not enforce its configuration, a workgroup created with only an output
// location does; both answer every boolean and an (empty) ResultConfiguration.
func TestGetWorkGroupDefaults(t *testing.T) {
	s := startServer(t, newConfig(t, ""))
	if _, err := s.Client.CreateWorkGroup(context.Background(), &athena.CreateWorkGroupInput{Name: aws.String("out-only"),
		Configuration: &types.WorkGroupConfiguration{ResultConfiguration: &types.ResultConfiguration{OutputLocation: aws.String("s3://b/out/")}}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		enforce bool
		result  string
	}{{"primary", false, "map[]"}, {"out-only", true, "map[OutputLocation:s3://b/out/]"}} {
		bodies := map[string]map[string]any{
			"AWS JSON 1.1": rawCall(t, s.Endpoint, "/", "GetWorkGroup", []byte(`{"WorkGroup":"`+tc.name+`"}`), true).Body,
			"restJson1":    restCall(t, s.Endpoint, "GET", "/workgroups/"+tc.name, nil, true).Body,
		}
		for proto, body := range bodies {
			cfg, _ := body["WorkGroup"].(map[string]any)["Configuration"].(map[string]any)
			want := map[string]any{"EnforceWorkGroupConfiguration": tc.enforce, "PublishCloudWatchMetricsEnabled": false,
				"RequesterPaysEnabled": false, "EnableMinimumEncryptionConfiguration": false}
			for k, v := range want {
				if cfg[k] != v {
					t.Errorf("%s via %s: %s = %v, want %v", tc.name, proto, k, cfg[k], v)
				}
			}
			if got := fmt.Sprint(cfg["ResultConfiguration"]); got != tc.result {
				t.Errorf("%s via %s: ResultConfiguration %s, want %s", tc.name, proto, got, tc.result)
			}
			ev := fmt.Sprint(cfg["EngineVersion"])
			if ev != "map[EffectiveEngineVersion:Athena engine version 3 SelectedEngineVersion:AUTO]" {
				t.Errorf("%s via %s: EngineVersion %s", tc.name, proto, ev)
			}
		}
	}
}
