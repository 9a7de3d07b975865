package athena

import (
	"context"
	"errors"
	"strings"

	"glaux/internal/wire"
)

// Authorization resolves what an operation acts on; internal/api decides, with the policy
// of the caller, whether it may (docs/security.md). As in Athena, sessions, calculations
// and notebooks are authorized through the workgroup they belong to.

// AnyWorkGroupARN is the resource of a request naming a session, calculation or notebook
// that does not exist: it belongs to no workgroup a policy could name, so only a principal
// allowed on every workgroup learns that it does not exist.
func (s *Service) AnyWorkGroupARN() string { return s.workGroupARN("*") }

// WorkGroupOf returns the workgroup an operation's input acts on: its WorkGroup (or, for
// CreateWorkGroup, Name) member, or the workgroup of the session, calculation or notebook it
// names, or the workgroup of a workgroup ResourceARN of this server. in is the operation's
// wire input, validated. ok is false for inputs that name no workgroup (ListWorkGroups,
// ListEngineVersions, ListApplicationDPUSizes, and an ARN that is not a workgroup of this
// server). A named session, calculation or notebook that does not exist is a *Error with
// CodeResourceNotFound.
func (s *Service) WorkGroupOf(ctx context.Context, in any) (name string, ok bool, err error) {
	switch v := in.(type) {
	case *wire.CreateWorkGroupInput:
		return deref(v.Name), true, nil
	case *wire.GetWorkGroupInput:
		return deref(v.WorkGroup), true, nil
	case *wire.UpdateWorkGroupInput:
		return deref(v.WorkGroup), true, nil
	case *wire.DeleteWorkGroupInput:
		return deref(v.WorkGroup), true, nil
	case *wire.CreateNotebookInput:
		return deref(v.WorkGroup), true, nil
	case *wire.ImportNotebookInput:
		return deref(v.WorkGroup), true, nil
	case *wire.ListNotebookMetadataInput:
		return deref(v.WorkGroup), true, nil
	case *wire.StartSessionRequest:
		return deref(v.WorkGroup), true, nil
	case *wire.ListSessionsRequest:
		return deref(v.WorkGroup), true, nil

	case *wire.ExportNotebookInput:
		return s.notebookWorkGroup(ctx, v.NotebookId)
	case *wire.UpdateNotebookInput:
		return s.notebookWorkGroup(ctx, v.NotebookId)
	case *wire.UpdateNotebookMetadataInput:
		return s.notebookWorkGroup(ctx, v.NotebookId)
	case *wire.GetNotebookMetadataInput:
		return s.notebookWorkGroup(ctx, v.NotebookId)
	case *wire.DeleteNotebookInput:
		return s.notebookWorkGroup(ctx, v.NotebookId)
	case *wire.ListNotebookSessionsRequest:
		return s.notebookWorkGroup(ctx, v.NotebookId)

	case *wire.GetSessionRequest:
		return s.sessionWorkGroup(ctx, v.SessionId)
	case *wire.GetSessionStatusRequest:
		return s.sessionWorkGroup(ctx, v.SessionId)
	case *wire.TerminateSessionRequest:
		return s.sessionWorkGroup(ctx, v.SessionId)
	case *wire.CreatePresignedNotebookUrlRequest:
		return s.sessionWorkGroup(ctx, v.SessionId)
	case *wire.StartCalculationExecutionRequest:
		return s.sessionWorkGroup(ctx, v.SessionId)
	case *wire.ListCalculationExecutionsRequest:
		return s.sessionWorkGroup(ctx, v.SessionId)
	case *wire.ListExecutorsRequest:
		return s.sessionWorkGroup(ctx, v.SessionId)
	case *wire.GetResourceDashboardRequest:
		return s.dashboardWorkGroup(ctx, v)
	case *wire.GetSessionEndpointRequest:
		return s.sessionWorkGroup(ctx, v.SessionId)

	case *wire.GetCalculationExecutionRequest:
		return s.calculationWorkGroup(ctx, v.CalculationExecutionId)
	case *wire.GetCalculationExecutionStatusRequest:
		return s.calculationWorkGroup(ctx, v.CalculationExecutionId)
	case *wire.GetCalculationExecutionCodeRequest:
		return s.calculationWorkGroup(ctx, v.CalculationExecutionId)
	case *wire.StopCalculationExecutionRequest:
		return s.calculationWorkGroup(ctx, v.CalculationExecutionId)

	case *wire.TagResourceInput:
		name, ok := s.workGroupOfARN(deref(v.ResourceARN))
		return name, ok, nil
	case *wire.UntagResourceInput:
		name, ok := s.workGroupOfARN(deref(v.ResourceARN))
		return name, ok, nil
	case *wire.ListTagsForResourceInput:
		name, ok := s.workGroupOfARN(deref(v.ResourceARN))
		return name, ok, nil

	case *wire.ListWorkGroupsInput, *wire.ListEngineVersionsInput, *wire.ListApplicationDPUSizesInput:
		return "", false, nil
	}
	return "", false, &Error{Code: CodeInternal, Message: "no workgroup resolution for this operation"}
}

// ResourceARN is the resource an IAM policy names for an operation's input: the ARN of the
// workgroup it acts on (WorkGroupOf); the ResourceARN member as given when it is not a
// workgroup of this server (so a policy decides on exactly what the client asked for); "*"
// for operations without a resource; AnyWorkGroupARN for a session, calculation or notebook
// that does not exist.
func (s *Service) ResourceARN(ctx context.Context, in any) (string, error) {
	name, ok, err := s.WorkGroupOf(ctx, in)
	var de *Error
	switch {
	case errors.As(err, &de) && de.Code == CodeResourceNotFound:
		return s.AnyWorkGroupARN(), nil
	case err != nil:
		return "", err
	case ok:
		return s.workGroupARN(name), nil
	}
	switch v := in.(type) {
	case *wire.TagResourceInput:
		return deref(v.ResourceARN), nil
	case *wire.UntagResourceInput:
		return deref(v.ResourceARN), nil
	case *wire.ListTagsForResourceInput:
		return deref(v.ResourceARN), nil
	}
	return "*", nil
}

func (s *Service) sessionWorkGroup(ctx context.Context, id *string) (string, bool, error) {
	var wg string
	err := s.store.View(ctx, func(tx Tx) error {
		sess, err := tx.GetSession(deref(id))
		if err != nil {
			return err
		}
		wg = sess.WorkGroup
		return nil
	})
	return resolved(wg, err, "Session", id)
}

func (s *Service) calculationWorkGroup(ctx context.Context, id *string) (string, bool, error) {
	var wg string
	err := s.store.View(ctx, func(tx Tx) error {
		c, err := tx.GetCalculation(deref(id))
		if err != nil {
			return err
		}
		sess, err := tx.GetSession(c.SessionID)
		if err != nil {
			return err
		}
		wg = sess.WorkGroup
		return nil
	})
	return resolved(wg, err, "Calculation", id)
}

func (s *Service) notebookWorkGroup(ctx context.Context, id *string) (string, bool, error) {
	var wg string
	err := s.store.View(ctx, func(tx Tx) error {
		nb, err := tx.GetNotebook(deref(id))
		if err != nil {
			return err
		}
		wg = nb.WorkGroup
		return nil
	})
	return resolved(wg, err, "Notebook", id)
}

func resolved(wg string, err error, kind string, id *string) (string, bool, error) {
	if errors.Is(err, ErrNotFound) {
		return "", false, notFound(deref(id), "%s %s is not found.", kind, deref(id))
	}
	if err != nil {
		return "", false, err
	}
	return wg, true, nil
}

// workGroupOfARN returns the workgroup name of arn:aws:athena:<this region>:<this
// account>:workgroup/<name>.
func (s *Service) workGroupOfARN(arn string) (string, bool) {
	prefix := "arn:aws:athena:" + s.cfg.Region + ":" + s.cfg.AccountID + ":workgroup/"
	name, ok := strings.CutPrefix(arn, prefix)
	if !ok || name == "" || strings.ContainsAny(name, "/*?") {
		return "", false
	}
	return name, true
}
