package athena

import (
	"testing"

	"glaux/internal/wire"
)

func TestResourceARN(t *testing.T) {
	e := notebookEnv(t)
	nb := e.createNotebook("spark", "nb")
	e.putSession(&Session{ID: "sess-1", WorkGroup: "spark", State: wire.SessionStateIdle, StartTime: t0, LastModifiedTime: t0})
	mustOK(t, e.store.Update(e.ctx, func(tx Tx) error {
		return tx.PutCalculation(&Calculation{ID: "calc-1", SessionID: "sess-1", Seq: 1, State: wire.CalculationExecutionStateCompleted, SubmissionTime: t0})
	}))
	const wg = "arn:aws:athena:us-east-1:123456789012:workgroup/"
	s := refOf[string]
	for _, tc := range []struct {
		name string
		in   any
		want string
	}{
		{"CreateWorkGroup names its new workgroup", &wire.CreateWorkGroupInput{Name: s("new")}, wg + "new"},
		{"GetWorkGroup", &wire.GetWorkGroupInput{WorkGroup: s("spark")}, wg + "spark"},
		{"UpdateWorkGroup", &wire.UpdateWorkGroupInput{WorkGroup: s("x")}, wg + "x"},
		{"DeleteWorkGroup", &wire.DeleteWorkGroupInput{WorkGroup: s("x")}, wg + "x"},
		{"StartSession", &wire.StartSessionRequest{WorkGroup: s("spark")}, wg + "spark"},
		{"ListSessions", &wire.ListSessionsRequest{WorkGroup: s("sql")}, wg + "sql"},
		{"CreateNotebook", &wire.CreateNotebookInput{WorkGroup: s("spark")}, wg + "spark"},
		{"ImportNotebook", &wire.ImportNotebookInput{WorkGroup: s("spark")}, wg + "spark"},
		{"ListNotebookMetadata", &wire.ListNotebookMetadataInput{WorkGroup: s("spark")}, wg + "spark"},
		{"notebook", &wire.ExportNotebookInput{NotebookId: s(nb)}, wg + "spark"},
		{"notebook metadata", &wire.GetNotebookMetadataInput{NotebookId: s(nb)}, wg + "spark"},
		{"notebook update", &wire.UpdateNotebookInput{NotebookId: s(nb)}, wg + "spark"},
		{"notebook rename", &wire.UpdateNotebookMetadataInput{NotebookId: s(nb)}, wg + "spark"},
		{"notebook delete", &wire.DeleteNotebookInput{NotebookId: s(nb)}, wg + "spark"},
		{"notebook sessions", &wire.ListNotebookSessionsRequest{NotebookId: s(nb)}, wg + "spark"},
		{"unknown notebook", &wire.ExportNotebookInput{NotebookId: s("nope")}, wg + "*"},
		{"session", &wire.GetSessionRequest{SessionId: s("sess-1")}, wg + "spark"},
		{"session status", &wire.GetSessionStatusRequest{SessionId: s("sess-1")}, wg + "spark"},
		{"terminate", &wire.TerminateSessionRequest{SessionId: s("sess-1")}, wg + "spark"},
		{"presigned url", &wire.CreatePresignedNotebookUrlRequest{SessionId: s("sess-1")}, wg + "spark"},
		{"start calculation", &wire.StartCalculationExecutionRequest{SessionId: s("sess-1")}, wg + "spark"},
		{"list calculations", &wire.ListCalculationExecutionsRequest{SessionId: s("sess-1")}, wg + "spark"},
		{"executors", &wire.ListExecutorsRequest{SessionId: s("sess-1")}, wg + "spark"},
		{"unknown session", &wire.GetSessionRequest{SessionId: s("nope")}, wg + "*"},
		{"calculation", &wire.GetCalculationExecutionRequest{CalculationExecutionId: s("calc-1")}, wg + "spark"},
		{"calculation status", &wire.GetCalculationExecutionStatusRequest{CalculationExecutionId: s("calc-1")}, wg + "spark"},
		{"calculation code", &wire.GetCalculationExecutionCodeRequest{CalculationExecutionId: s("calc-1")}, wg + "spark"},
		{"stop calculation", &wire.StopCalculationExecutionRequest{CalculationExecutionId: s("calc-1")}, wg + "spark"},
		{"unknown calculation", &wire.StopCalculationExecutionRequest{CalculationExecutionId: s("nope")}, wg + "*"},
		{"tag own workgroup", &wire.TagResourceInput{ResourceARN: s(wg + "spark")}, wg + "spark"},
		{"untag", &wire.UntagResourceInput{ResourceARN: s(wg + "sql")}, wg + "sql"},
		{"list tags", &wire.ListTagsForResourceInput{ResourceARN: s(wg + "primary")}, wg + "primary"},
		{"foreign ARN as given", &wire.TagResourceInput{ResourceARN: s("arn:aws:athena:eu-west-1:123456789012:workgroup/spark")}, "arn:aws:athena:eu-west-1:123456789012:workgroup/spark"},
		{"wildcard in ARN as given", &wire.ListTagsForResourceInput{ResourceARN: s(wg + "*")}, wg + "*"},
		{"ListWorkGroups", &wire.ListWorkGroupsInput{}, "*"},
		{"ListEngineVersions", &wire.ListEngineVersionsInput{}, "*"},
		{"ListApplicationDPUSizes", &wire.ListApplicationDPUSizesInput{}, "*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.svc.ResourceARN(e.ctx, tc.in)
			mustOK(t, err)
			if got != tc.want {
				t.Fatalf("ResourceARN = %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := e.svc.ResourceARN(e.ctx, &wire.GetWorkGroupOutput{}); err == nil {
		t.Fatal("an input without a resolution must be an error, not a resource")
	}
}
