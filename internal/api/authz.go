package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"glaux/internal/authz"
	"glaux/internal/sigv4"
	"glaux/internal/wire"
)

// Authorization (docs/security.md): with a policy file, every Athena call is checked
// against its caller's policy after its signature and its input, and before it runs, so a
// refused call changes nothing. Without one, every holder of a valid key may do everything.

// ResourceResolver names what an operation's input acts on, as IAM policies name it;
// *athena.Service implements it.
type ResourceResolver interface {
	ResourceARN(ctx context.Context, in any) (string, error)
}

type authorizer struct {
	policies *authz.Policies
	resolver ResourceResolver
	account  string
	log      *slog.Logger
}

// UsePolicies makes h check every call against policies: an access key that no principal
// lists may do nothing. accountID is the account of principals' IAM user ARNs in refusals.
// Call before serving.
func (h *Handler) UsePolicies(policies *authz.Policies, resolver ResourceResolver, accountID string) {
	h.authz = &authorizer{policies: policies, resolver: resolver, account: accountID, log: h.log}
}

// authorize resolves the resource of the decoded, validated input and evaluates the
// caller's policy.
// A refusal is AccessDeniedException, which Athena's model does not list but every AWS
// client recognises by name (aws-sdk-go-v2 as a smithy.GenericAPIError with that code), with
// status 400 as AWS JSON services send it.
func (h *Handler) authorize(ctx context.Context, id sigv4.Identity, op string, in input) error {
	a := h.authz
	if a == nil {
		return nil
	}
	resource, err := a.resolver.ResourceARN(ctx, in)
	if err != nil {
		return err
	}
	action := "athena:" + op
	name, decision := a.policies.Decide(id.AccessKeyID, action, resource)
	if decision == authz.Allow {
		return nil
	}
	user := name
	if user == "" {
		user = id.AccessKeyID // a key no principal lists
	}
	user = fmt.Sprintf("arn:aws:iam::%s:user/%s", a.account, user)
	a.log.Info("access denied", "op", op, "principal", name, "access_key", id.AccessKeyID, "resource", resource, "decision", decision.String())
	return &apiError{status: http.StatusBadRequest, Type: "AccessDeniedException",
		Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", user, action, resource)}
}

// input is a decoded operation input.
type input interface{ Validate() error }

// inputs makes an empty input for every served operation (the same types as call).
var inputs = map[string]func() input{
	"CreateWorkGroup":               func() input { return new(wire.CreateWorkGroupInput) },
	"GetWorkGroup":                  func() input { return new(wire.GetWorkGroupInput) },
	"UpdateWorkGroup":               func() input { return new(wire.UpdateWorkGroupInput) },
	"ListWorkGroups":                func() input { return new(wire.ListWorkGroupsInput) },
	"DeleteWorkGroup":               func() input { return new(wire.DeleteWorkGroupInput) },
	"ListEngineVersions":            func() input { return new(wire.ListEngineVersionsInput) },
	"TagResource":                   func() input { return new(wire.TagResourceInput) },
	"UntagResource":                 func() input { return new(wire.UntagResourceInput) },
	"ListTagsForResource":           func() input { return new(wire.ListTagsForResourceInput) },
	"CreateNotebook":                func() input { return new(wire.CreateNotebookInput) },
	"ImportNotebook":                func() input { return new(wire.ImportNotebookInput) },
	"ExportNotebook":                func() input { return new(wire.ExportNotebookInput) },
	"UpdateNotebook":                func() input { return new(wire.UpdateNotebookInput) },
	"UpdateNotebookMetadata":        func() input { return new(wire.UpdateNotebookMetadataInput) },
	"GetNotebookMetadata":           func() input { return new(wire.GetNotebookMetadataInput) },
	"ListNotebookMetadata":          func() input { return new(wire.ListNotebookMetadataInput) },
	"DeleteNotebook":                func() input { return new(wire.DeleteNotebookInput) },
	"ListNotebookSessions":          func() input { return new(wire.ListNotebookSessionsRequest) },
	"CreatePresignedNotebookUrl":    func() input { return new(wire.CreatePresignedNotebookUrlRequest) },
	"ListApplicationDPUSizes":       func() input { return new(wire.ListApplicationDPUSizesInput) },
	"StartSession":                  func() input { return new(wire.StartSessionRequest) },
	"GetSession":                    func() input { return new(wire.GetSessionRequest) },
	"GetSessionStatus":              func() input { return new(wire.GetSessionStatusRequest) },
	"ListSessions":                  func() input { return new(wire.ListSessionsRequest) },
	"TerminateSession":              func() input { return new(wire.TerminateSessionRequest) },
	"StartCalculationExecution":     func() input { return new(wire.StartCalculationExecutionRequest) },
	"GetCalculationExecution":       func() input { return new(wire.GetCalculationExecutionRequest) },
	"GetCalculationExecutionStatus": func() input { return new(wire.GetCalculationExecutionStatusRequest) },
	"GetCalculationExecutionCode":   func() input { return new(wire.GetCalculationExecutionCodeRequest) },
	"ListCalculationExecutions":     func() input { return new(wire.ListCalculationExecutionsRequest) },
	"StopCalculationExecution":      func() input { return new(wire.StopCalculationExecutionRequest) },
	"ListExecutors":                 func() input { return new(wire.ListExecutorsRequest) },
	"GetResourceDashboard":          func() input { return new(wire.GetResourceDashboardRequest) },
	"StartQueryExecution":           func() input { return new(wire.StartQueryExecutionInput) },
	"GetQueryExecution":             func() input { return new(wire.GetQueryExecutionInput) },
	"GetQueryResults":               func() input { return new(wire.GetQueryResultsInput) },
	"StopQueryExecution":            func() input { return new(wire.StopQueryExecutionInput) },
	"GetSessionEndpoint":            func() input { return new(wire.GetSessionEndpointRequest) },
}
