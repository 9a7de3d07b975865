package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"glaux/internal/wire"
)

// fakeCalcs runs every calculation at once: a few polls RUNNING, then final with the given
// result document.
type fakeCalcs struct {
	fakeNotebooks
	mu      sync.Mutex
	polls   int
	state   string
	result  string
	stopped []string
}

func (f *fakeCalcs) StartCalculationExecution(_ context.Context, in *wire.StartCalculationExecutionRequest) (*wire.StartCalculationExecutionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polls = 0
	return &wire.StartCalculationExecutionResponse{CalculationExecutionId: ptrTo("calc-1"), State: ptrTo("QUEUED")}, nil
}

func (f *fakeCalcs) GetCalculationExecution(context.Context, *wire.GetCalculationExecutionRequest) (*wire.GetCalculationExecutionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polls++
	out := &wire.GetCalculationExecutionResponse{Status: &wire.CalculationStatus{State: ptrTo("RUNNING")}, Statistics: &wire.CalculationStatistics{Progress: ptrTo("Stage 0: 1/4 tasks (25%)")}}
	if f.polls > 2 {
		out.Status.State, out.Statistics.Progress = ptrTo(f.state), ptrTo("Completed")
		out.Result = &wire.CalculationResult{StdOutS3Uri: ptrTo("s3://b/s/calc-1/stdout.txt"), StdErrorS3Uri: ptrTo("s3://b/s/calc-1/stderr.txt"), ResultS3Uri: ptrTo("s3://b/s/calc-1/result.json")}
	}
	return out, nil
}

func (f *fakeCalcs) CalculationOutput(_ context.Context, _, name string) ([]byte, error) {
	switch name {
	case "stdout.txt":
		return []byte("hi\n"), nil
	case "stderr.txt":
		return []byte("warning\n  File \"<stdin>\", line 1, in <module>\nNameError: x\n"), nil
	}
	return []byte(f.result), nil
}

func (f *fakeCalcs) StopCalculationExecution(_ context.Context, in *wire.StopCalculationExecutionRequest) (*wire.StopCalculationExecutionResponse, error) {
	f.stopped = append(f.stopped, *in.CalculationExecutionId)
	return &wire.StopCalculationExecutionResponse{State: ptrTo("CANCELING")}, nil
}

func (f *fakeCalcs) RunningCalculation(string) string { return "calc-other" }

func (f *fakeCalcs) GetSessionStatus(context.Context, *wire.GetSessionStatusRequest) (*wire.GetSessionStatusResponse, error) {
	return &wire.GetSessionStatusResponse{Status: &wire.SessionStatus{State: ptrTo("IDLE")}}, nil
}

func kernelRoundTrip(t *testing.T, f *fakeCalcs, code string) []jmsg {
	t.Helper()
	h, _ := newTestNotebookHandler()
	h.svc, h.PollInterval = f, time.Millisecond
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hdr := http.Header{"Cookie": {tokenCookie + "=" + token("s1", time.Now().Add(time.Minute))}}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/notebook/s1/api/kernels/s1/channels", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	req, _ := json.Marshal(map[string]any{"header": map[string]any{"msg_id": "m1", "msg_type": "execute_request", "session": "c"}, "parent_header": map[string]any{}, "metadata": map[string]any{}, "content": map[string]any{"code": code}, "channel": "shell"})
	conn.Write(ctx, websocket.MessageText, req)
	var got []jmsg
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("after %d messages: %v", len(got), err)
		}
		var m jmsg
		json.Unmarshal(b, &m)
		var parent jheader
		json.Unmarshal(m.ParentHeader, &parent)
		if parent.MsgID != "m1" {
			continue
		}
		got = append(got, m)
		if m.Header.MsgType == "status" && strings.Contains(string(m.Content), "idle") {
			return got
		}
	}
}

func kinds(msgs []jmsg) string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Header.MsgType)
	}
	return strings.Join(out, ",")
}

func TestKernelExecuteOK(t *testing.T) {
	f := &fakeCalcs{state: "COMPLETED", result: `{"outputs":[{"output_type":"execute_result","data":{"text/plain":"5"}},{"output_type":"display_data","data":{"image/png":"iVBOR"}}]}`}
	msgs := kernelRoundTrip(t, f, "spark.range(5).count()")
	want := "status,execute_input,glaux_progress,stream,glaux_progress,stream,execute_result,display_data,execute_reply,status"
	if got := kinds(msgs); got != want {
		t.Fatalf("messages %s\nwant %s", got, want)
	}
	if !strings.Contains(string(msgs[2].Content), `"fraction":0.25`) || !strings.Contains(string(msgs[3].Content), `"text":"hi\n"`) {
		t.Errorf("progress %s, stdout %s", msgs[2].Content, msgs[3].Content)
	}
	reply := msgs[8]
	if reply.Channel != "shell" || !strings.Contains(string(reply.Content), `"status":"ok"`) || reply.Metadata["result_s3_uri"] != "s3://b/s/calc-1/result.json" {
		t.Errorf("reply: %s %v", reply.Content, reply.Metadata)
	}
}

func TestKernelExecuteError(t *testing.T) {
	f := &fakeCalcs{state: "FAILED", result: `{"outputs":[],"error":{"ename":"NameError","evalue":"x","traceback":["  File \"<stdin>\", line 1, in <module>","NameError: x"]}}`}
	msgs := kernelRoundTrip(t, f, "x")
	var stderr, errMsg, reply string
	for _, m := range msgs {
		switch {
		case m.Header.MsgType == "stream" && strings.Contains(string(m.Content), "stderr"):
			stderr = string(m.Content)
		case m.Header.MsgType == "error":
			errMsg = string(m.Content)
		case m.Header.MsgType == "execute_reply":
			reply = string(m.Content)
		}
	}
	if stderr != `{"name":"stderr","text":"warning\n"}` {
		t.Errorf("stderr keeps only what is not the traceback: %s", stderr)
	}
	if !strings.Contains(errMsg, `"ename":"NameError"`) || !strings.Contains(reply, `"status":"error"`) {
		t.Errorf("error %s, reply %s", errMsg, reply)
	}
}
