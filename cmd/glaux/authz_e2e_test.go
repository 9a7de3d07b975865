package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/smithy-go"
)

const wgARN = "arn:aws:athena:us-east-1:123456789012:workgroup/"

// authzPolicies: admin may do everything but delete the workgroup "protected"; alice reads
// every team-* workgroup (the example of docs/security.md) and runs sessions in team-a
// only; bob does everything in team-b and lists workgroups; reader does everything that
// changes nothing; the key "nobody" is valid but named by no principal.
const authzPolicies = `{"principals": {
  "admin": {"access_keys": ["AKIAADMIN"], "policy": {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"},
    {"Effect": "Deny", "Action": "athena:DeleteWorkGroup", "Resource": "arn:aws:athena:*:*:workgroup/protected"}]}},
  "alice": {"access_keys": ["AKIAALICE"], "policy": {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["athena:Get*", "athena:List*"], "Resource": "arn:aws:athena:us-east-1:123456789012:workgroup/team-*"},
    {"Effect": "Allow", "Action": ["athena:startsession", "athena:StartCalculation*", "athena:TerminateSession"], "Resource": "arn:aws:athena:us-east-1:123456789012:workgroup/team-a"}]}},
  "bob": {"access_keys": ["AKIABOB"], "policy": {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "athena:*", "Resource": "arn:aws:athena:us-east-1:123456789012:workgroup/team-b"},
    {"Effect": "Allow", "Action": "athena:ListWorkGroups", "Resource": "*"}]}},
  "reader": {"access_keys": ["AKIAREADER"], "policy": {"Version": "2012-10-17", "Statement":
    {"Effect": "Allow", "NotAction": ["athena:Create*", "athena:Delete*", "athena:Start*", "athena:Stop*", "athena:Terminate*", "athena:Update*", "athena:Tag*", "athena:Untag*", "athena:Import*"], "Resource": "*"}}}
}}`

// wantDenied asserts err is the AccessDeniedException AWS sends for an IAM refusal, with its
// message, as aws-sdk-go-v2 presents it (a generic API error: the model lists no such type).
func wantDenied(t *testing.T, err error, user, action, resource string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("error = %v, want AccessDeniedException", err)
	}
	want := "User: arn:aws:iam::123456789012:user/" + user + " is not authorized to perform: " + action + " on resource: " + resource
	if ae.ErrorMessage() != want {
		t.Fatalf("message %q, want %q", ae.ErrorMessage(), want)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Fatalf("status of %v, want 400", err)
	}
}

func authzServer(t *testing.T) (*testServer, map[string]*athena.Client) {
	t.Helper()
	testPython(t)
	cfg := newConfig(t, "")
	cfg.FakeSpark = true
	cfg.PolicyFile = filepath.Join(t.TempDir(), "policies.json")
	if err := os.WriteFile(cfg.PolicyFile, []byte(authzPolicies), 0o600); err != nil {
		t.Fatal(err)
	}
	keys := []string{"AKIAADMIN", "AKIAALICE", "AKIABOB", "AKIAREADER", "AKIANOBODY"}
	cfg.Credentials = map[string]string{}
	for _, k := range keys {
		cfg.Credentials[k] = "secret-of-" + k
	}
	s := startServer(t, cfg)
	clients := map[string]*athena.Client{}
	for _, k := range keys {
		clients[strings.ToLower(strings.TrimPrefix(k, "AKIA"))] = newClient(s.Endpoint, k, "secret-of-"+k)
	}
	return s, clients
}

func TestAuthzWorkGroups(t *testing.T) {
	_, c := authzServer(t)
	ctx := context.Background()
	for _, wg := range []string{"team-a", "team-b", "protected"} {
		createSparkWorkGroup(t, c["admin"], wg)
	}

	// Allowed by a wildcard on the workgroup; refused on a workgroup outside it.
	if _, err := c["alice"].GetWorkGroup(ctx, &athena.GetWorkGroupInput{WorkGroup: aws.String("team-b")}); err != nil {
		t.Fatalf("alice GetWorkGroup team-b: %v", err)
	}
	_, err := c["alice"].GetWorkGroup(ctx, &athena.GetWorkGroupInput{WorkGroup: aws.String("protected")})
	wantDenied(t, err, "alice", "athena:GetWorkGroup", wgARN+"protected")

	// ListWorkGroups has no resource: "*", which a workgroup pattern does not cover.
	_, err = c["alice"].ListWorkGroups(ctx, &athena.ListWorkGroupsInput{})
	wantDenied(t, err, "alice", "athena:ListWorkGroups", "*")
	if _, err := c["bob"].ListWorkGroups(ctx, &athena.ListWorkGroupsInput{}); err != nil {
		t.Fatalf("bob ListWorkGroups (Resource * allowed): %v", err)
	}

	// CreateWorkGroup is authorized on the new workgroup's ARN, and a refusal creates nothing.
	_, err = c["alice"].CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("team-a2")})
	wantDenied(t, err, "alice", "athena:CreateWorkGroup", wgARN+"team-a2")
	_, err = c["admin"].GetWorkGroup(ctx, &athena.GetWorkGroupInput{WorkGroup: aws.String("team-a2")})
	var ire *types.InvalidRequestException
	if !errors.As(err, &ire) {
		t.Fatalf("the refused CreateWorkGroup created team-a2: GetWorkGroup = %v", err)
	}

	// An explicit Deny wins over admin's Allow *, and changes nothing.
	_, err = c["admin"].DeleteWorkGroup(ctx, &athena.DeleteWorkGroupInput{WorkGroup: aws.String("protected")})
	wantDenied(t, err, "admin", "athena:DeleteWorkGroup", wgARN+"protected")
	if _, err := c["admin"].GetWorkGroup(ctx, &athena.GetWorkGroupInput{WorkGroup: aws.String("protected")}); err != nil {
		t.Fatalf("protected is gone after a refused delete: %v", err)
	}

	// NotAction: reader may read anything, change nothing.
	if _, err := c["reader"].ListWorkGroups(ctx, &athena.ListWorkGroupsInput{}); err != nil {
		t.Fatalf("reader ListWorkGroups: %v", err)
	}
	_, err = c["reader"].UpdateWorkGroup(ctx, &athena.UpdateWorkGroupInput{WorkGroup: aws.String("team-a"), Description: aws.String("x")})
	wantDenied(t, err, "reader", "athena:UpdateWorkGroup", wgARN+"team-a")

	// Tags go by the ARN the client names.
	_, err = c["bob"].TagResource(ctx, &athena.TagResourceInput{ResourceARN: aws.String(wgARN + "team-a"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantDenied(t, err, "bob", "athena:TagResource", wgARN+"team-a")
	if _, err := c["bob"].TagResource(ctx, &athena.TagResourceInput{ResourceARN: aws.String(wgARN + "team-b"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatalf("bob TagResource team-b: %v", err)
	}
	tags, err := c["admin"].ListTagsForResource(ctx, &athena.ListTagsForResourceInput{ResourceARN: aws.String(wgARN + "team-a")})
	if err != nil || len(tags.Tags) != 0 {
		t.Fatalf("team-a tags after a refused TagResource: %v, %v", tags, err)
	}

	// A valid key that no principal lists may do nothing at all.
	_, err = c["nobody"].ListEngineVersions(ctx, &athena.ListEngineVersionsInput{})
	wantDenied(t, err, "AKIANOBODY", "athena:ListEngineVersions", "*")

	// Validation comes first: an invalid request is InvalidRequestException for anyone.
	_, err = c["nobody"].GetWorkGroup(ctx, &athena.GetWorkGroupInput{WorkGroup: aws.String("not valid!")})
	if !errors.As(err, &ire) {
		t.Fatalf("invalid request by an unlisted key: %v, want InvalidRequestException", err)
	}
}

func TestAuthzSessions(t *testing.T) {
	_, c := authzServer(t)
	ctx := context.Background()
	createSparkWorkGroup(t, c["admin"], "team-a")
	createSparkWorkGroup(t, c["admin"], "team-b")

	bobSession := startIdleSession(t, c["bob"], "team-b", nil)
	aliceSession := startIdleSession(t, c["alice"], "team-a", nil)

	// alice may not start sessions in team-b: refused before anything starts.
	_, err := c["alice"].StartSession(ctx, &athena.StartSessionInput{WorkGroup: aws.String("team-b"),
		EngineConfiguration: &types.EngineConfiguration{MaxConcurrentDpus: aws.Int32(2)}})
	wantDenied(t, err, "alice", "athena:StartSession", wgARN+"team-b")
	list, err := c["admin"].ListSessions(ctx, &athena.ListSessionsInput{WorkGroup: aws.String("team-b")})
	if err != nil || len(list.Sessions) != 1 {
		t.Fatalf("team-b sessions after a refused StartSession: %+v, %v", list, err)
	}

	// A session is its workgroup's: alice reads bob's (Get* on team-*), but may not run
	// code in it nor end it, and the refusals change nothing.
	if _, err := c["alice"].GetSession(ctx, &athena.GetSessionInput{SessionId: aws.String(bobSession)}); err != nil {
		t.Fatalf("alice GetSession of a team-b session: %v", err)
	}
	_, err = c["alice"].StartCalculationExecution(ctx, &athena.StartCalculationExecutionInput{SessionId: aws.String(bobSession), CodeBlock: aws.String("print(1)")})
	wantDenied(t, err, "alice", "athena:StartCalculationExecution", wgARN+"team-b")
	_, err = c["alice"].TerminateSession(ctx, &athena.TerminateSessionInput{SessionId: aws.String(bobSession)})
	wantDenied(t, err, "alice", "athena:TerminateSession", wgARN+"team-b")
	calcs, err := c["admin"].ListCalculationExecutions(ctx, &athena.ListCalculationExecutionsInput{SessionId: aws.String(bobSession)})
	if err != nil || len(calcs.Calculations) != 0 {
		t.Fatalf("bob's session after a refused calculation: %+v, %v", calcs, err)
	}
	if st := waitSession(t, c["admin"], bobSession, 0, types.SessionStateIdle, types.SessionStateBusy); st.State != types.SessionStateIdle {
		t.Fatalf("bob's session is %s after a refused terminate", st.State)
	}

	// Calculations too: bob may not read alice's.
	calc := runCalculation(t, c["alice"], aliceSession, "print(6*7)")
	if calc.Status.State != types.CalculationExecutionStateCompleted {
		t.Fatalf("alice's calculation: %s %s", calc.Status.State, aws.ToString(calc.Status.StateChangeReason))
	}
	_, err = c["bob"].GetCalculationExecution(ctx, &athena.GetCalculationExecutionInput{CalculationExecutionId: calc.CalculationExecutionId})
	wantDenied(t, err, "bob", "athena:GetCalculationExecution", wgARN+"team-a")
	_, err = c["bob"].GetCalculationExecutionCode(ctx, &athena.GetCalculationExecutionCodeInput{CalculationExecutionId: calc.CalculationExecutionId})
	wantDenied(t, err, "bob", "athena:GetCalculationExecutionCode", wgARN+"team-a")
	_, err = c["bob"].ListCalculationExecutions(ctx, &athena.ListCalculationExecutionsInput{SessionId: aws.String(aliceSession)})
	wantDenied(t, err, "bob", "athena:ListCalculationExecutions", wgARN+"team-a")
	_, err = c["bob"].CreatePresignedNotebookUrl(ctx, &athena.CreatePresignedNotebookUrlInput{SessionId: aws.String(aliceSession)})
	wantDenied(t, err, "bob", "athena:CreatePresignedNotebookUrl", wgARN+"team-a")

	// A session that does not exist belongs to no workgroup: refused for a principal limited
	// to some workgroups (so they learn nothing of ids), answered for one allowed on all.
	const missing = "00000000-0000-4000-8000-000000000000"
	_, err = c["alice"].GetSession(ctx, &athena.GetSessionInput{SessionId: aws.String(missing)})
	wantDenied(t, err, "alice", "athena:GetSession", wgARN+"*")
	_, err = c["admin"].GetSession(ctx, &athena.GetSessionInput{SessionId: aws.String(missing)})
	var ire *types.InvalidRequestException
	if !errors.As(err, &ire) {
		t.Fatalf("admin GetSession of a missing session: %v, want InvalidRequestException", err)
	}

	// What alice may do in team-a, she does.
	if _, err := c["alice"].TerminateSession(ctx, &athena.TerminateSessionInput{SessionId: aws.String(aliceSession)}); err != nil {
		t.Fatalf("alice TerminateSession in team-a: %v", err)
	}
	// Notebooks are their workgroup's as well.
	nb, err := c["bob"].CreateNotebook(ctx, &athena.CreateNotebookInput{WorkGroup: aws.String("team-b"), Name: aws.String("nb")})
	if err != nil {
		t.Fatalf("bob CreateNotebook: %v", err)
	}
	if _, err := c["alice"].GetNotebookMetadata(ctx, &athena.GetNotebookMetadataInput{NotebookId: nb.NotebookId}); err != nil {
		t.Fatalf("alice GetNotebookMetadata in team-b: %v", err)
	}
	_, err = c["alice"].ExportNotebook(ctx, &athena.ExportNotebookInput{NotebookId: nb.NotebookId})
	wantDenied(t, err, "alice", "athena:ExportNotebook", wgARN+"team-b")
	_, err = c["alice"].DeleteNotebook(ctx, &athena.DeleteNotebookInput{NotebookId: nb.NotebookId})
	wantDenied(t, err, "alice", "athena:DeleteNotebook", wgARN+"team-b")
	if _, err := c["bob"].GetNotebookMetadata(ctx, &athena.GetNotebookMetadataInput{NotebookId: nb.NotebookId}); err != nil {
		t.Fatalf("bob's notebook after alice's refused delete: %v", err)
	}
}

// TestAuthzWithoutPolicyFile: without --policy-file every valid key may do everything.
func TestAuthzWithoutPolicyFile(t *testing.T) {
	testPython(t)
	cfg := newConfig(t, "")
	cfg.FakeSpark = true
	cfg.Credentials["AKIAANY"] = "any-secret"
	s := startServer(t, cfg)
	c := newClient(s.Endpoint, "AKIAANY", "any-secret")
	if _, err := c.CreateWorkGroup(context.Background(), &athena.CreateWorkGroupInput{Name: aws.String("mine")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteWorkGroup(context.Background(), &athena.DeleteWorkGroupInput{WorkGroup: aws.String("mine")}); err != nil {
		t.Fatal(err)
	}
}

// TestAuthzBadPolicyFile: a policy glaux cannot read exactly is a start-up error, never a
// server that allows what the file did not mean to.
func TestAuthzBadPolicyFile(t *testing.T) {
	for name, body := range map[string]string{
		"condition": `{"principals":{"a":{"access_keys":["K"],"policy":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}}}}`,
		"not json":  `{"principals":`,
		"missing":   "",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := newConfig(t, "")
			cfg.PolicyFile = filepath.Join(t.TempDir(), "policies.json")
			if body != "" {
				if err := os.WriteFile(cfg.PolicyFile, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ready := make(chan string, 1)
			err := serve(context.Background(), cfg, ready)
			if err == nil || !strings.Contains(err.Error(), "--policy-file") {
				t.Fatalf("serve with a bad policy file: %v", err)
			}
			select {
			case addr := <-ready:
				t.Fatalf("glaux served on %s with a bad policy file", addr)
			default:
			}
		})
	}
}
