package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
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

// scriptedCalcs runs each cell by its code: "fail" fails, "hold" runs until release is
// closed, anything else completes.
type scriptedCalcs struct {
	fakeCalcs
	release chan struct{}
	mu      sync.Mutex
	codes   map[string]string // calculation id -> code
}

func (f *scriptedCalcs) StartCalculationExecution(_ context.Context, in *wire.StartCalculationExecutionRequest) (*wire.StartCalculationExecutionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := fmt.Sprintf("calc-%d", len(f.codes)+1)
	f.codes[id] = *in.CodeBlock
	return &wire.StartCalculationExecutionResponse{CalculationExecutionId: &id, State: ptrTo("QUEUED")}, nil
}

func (f *scriptedCalcs) GetCalculationExecution(_ context.Context, in *wire.GetCalculationExecutionRequest) (*wire.GetCalculationExecutionResponse, error) {
	f.mu.Lock()
	code := f.codes[*in.CalculationExecutionId]
	f.mu.Unlock()
	state := "COMPLETED"
	switch code {
	case "fail":
		state = "FAILED"
	case "hold":
		select {
		case <-f.release:
		default:
			state = "RUNNING"
		}
	}
	out := &wire.GetCalculationExecutionResponse{Status: &wire.CalculationStatus{State: &state}, Statistics: &wire.CalculationStatistics{}}
	if state != "RUNNING" {
		out.Result = &wire.CalculationResult{StdOutS3Uri: ptrTo("s3://b/o"), StdErrorS3Uri: ptrTo("s3://b/e"), ResultS3Uri: ptrTo("s3://b/r")}
	}
	return out, nil
}

func (f *scriptedCalcs) CalculationOutput(_ context.Context, _, name string) ([]byte, error) {
	if name == "result.json" {
		return []byte(`{"outputs":[]}`), nil
	}
	return nil, nil
}

// holdConn is the server side of the kernel WebSocket. Once it has written the idle
// status of the request named holdAfter, that write returns only after the server has
// read the client's next bytes and come back for more, so the request sent in answer to
// the idle status is queued before the kernel goes on.
type holdConn struct {
	net.Conn
	holdAfter string
	mu        sync.Mutex
	phase     int // 0 waiting for the idle, 1 idle written, 2 next bytes read
	released  chan struct{}
}

func (c *holdConn) Write(b []byte) (int, error) {
	hold := c.holdAfter != "" && bytes.Contains(b, []byte(`"msg_id":"`+c.holdAfter+`"`)) && bytes.Contains(b, []byte(`"execution_state":"idle"`))
	if hold {
		c.mu.Lock()
		c.phase = 1 // before the client can answer
		c.mu.Unlock()
	}
	n, err := c.Conn.Write(b)
	if hold {
		select {
		case <-c.released:
		case <-time.After(5 * time.Second):
		}
	}
	return n, err
}

func (c *holdConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	if c.phase == 2 {
		c.phase = 3
		close(c.released)
	}
	c.mu.Unlock()
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	if c.phase == 1 && n > 0 {
		c.phase = 2
	}
	c.mu.Unlock()
	return n, err
}

type holdListener struct {
	net.Listener
	holdAfter string
}

func (l holdListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &holdConn{Conn: c, holdAfter: l.holdAfter, released: make(chan struct{})}, nil
}

// kernelClient is a test's end of a kernel channel.
type kernelClient struct {
	t    *testing.T
	ctx  context.Context
	conn *websocket.Conn
}

// dialKernel serves h on a listener whose connections hold after the idle status of the
// request holdAfter (none when "").
func dialKernel(t *testing.T, svc NotebookService, holdAfter string) *kernelClient {
	t.Helper()
	h, _ := newTestNotebookHandler()
	h.svc, h.PollInterval = svc, time.Millisecond
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = holdListener{Listener: srv.Listener, holdAfter: holdAfter}
	srv.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	hdr := http.Header{"Cookie": {tokenCookie + "=" + token("s1", time.Now().Add(time.Minute))}}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/notebook/s1/api/kernels/s1/channels", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(16 << 20)
	t.Cleanup(func() { conn.CloseNow(); h.Close(); srv.Close(); cancel() })
	return &kernelClient{t: t, ctx: ctx, conn: conn}
}

func (c *kernelClient) send(id, msgType string, content map[string]any) {
	c.t.Helper()
	req, _ := json.Marshal(map[string]any{"header": map[string]any{"msg_id": id, "msg_type": msgType, "session": "c"}, "parent_header": map[string]any{}, "metadata": map[string]any{}, "content": content, "channel": "shell"})
	if err := c.conn.Write(c.ctx, websocket.MessageText, req); err != nil {
		c.t.Fatal(err)
	}
}

// until reads the messages answering request id up to its idle status and returns them
// as message types, "reply:<status>" for execute_reply and the state for status.
func (c *kernelClient) until(id string) []string {
	c.t.Helper()
	return c.upTo(id, "idle")
}

// upTo is until stopping at the message named last.
func (c *kernelClient) upTo(id, last string) []string {
	c.t.Helper()
	var got []string
	for {
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		_, b, err := c.conn.Read(ctx)
		cancel()
		if err != nil {
			c.t.Fatalf("waiting for %s, after %v: %v", id, got, err)
		}
		var m jmsg
		json.Unmarshal(b, &m)
		var parent jheader
		json.Unmarshal(m.ParentHeader, &parent)
		if parent.MsgID != id {
			continue
		}
		var content struct {
			Status string `json:"status"`
			State  string `json:"execution_state"`
		}
		json.Unmarshal(m.Content, &content)
		switch m.Header.MsgType {
		case "execute_reply":
			got = append(got, "reply:"+content.Status)
		case "status":
			got = append(got, content.State)
		default:
			got = append(got, m.Header.MsgType)
		}
		if got[len(got)-1] == last {
			return got
		}
	}
}

// After a failed cell, the requests received while it ran are aborted, each inside
// busy/idle, and the one the client sends on seeing the failure's idle status runs: the
// server holds on after that idle status until the next request is queued, which on the
// old drain-whatever-is-queued code aborted it every time.
func TestKernelAbortCoversOnlyRequestsBeforeTheFailure(t *testing.T) {
	f := &scriptedCalcs{release: make(chan struct{}), codes: map[string]string{}}
	c := dialKernel(t, f, "fail")
	c.send("hold", "execute_request", map[string]any{"code": "hold"})
	c.send("fail", "execute_request", map[string]any{"code": "fail"})
	c.send("queued", "execute_request", map[string]any{"code": "1"})
	c.send("info", "kernel_info_request", map[string]any{})
	c.until("info") // served in order of receipt: the three cells are queued
	close(f.release)
	if got := c.until("hold"); !slices.Contains(got, "reply:ok") {
		t.Fatalf("hold: %v", got)
	}
	if got := c.until("fail"); !slices.Contains(got, "reply:error") {
		t.Fatalf("fail: %v", got)
	}
	c.send("after", "execute_request", map[string]any{"code": "2"})
	if got := strings.Join(c.until("queued"), ","); got != "busy,reply:aborted,idle" {
		t.Errorf("the request queued before the failure: %s", got)
	}
	if got := strings.Join(c.until("after"), ","); got != "busy,execute_input,reply:ok,idle" {
		t.Errorf("the request sent after the failure's idle status: %s", got)
	}
}

// A request that finds the queue full is aborted inside busy/idle, like a queued one.
func TestKernelFullQueueAbortsWithStatus(t *testing.T) {
	f := &scriptedCalcs{release: make(chan struct{}), codes: map[string]string{}}
	c := dialKernel(t, f, "")
	c.send("hold", "execute_request", map[string]any{"code": "hold"})
	c.upTo("hold", "execute_input") // running, off the queue
	for i := range kernelQueue {
		c.send(fmt.Sprint("q", i), "execute_request", map[string]any{"code": "1"})
	}
	c.send("over", "execute_request", map[string]any{"code": "1"})
	if got := strings.Join(c.until("over"), ","); got != "busy,reply:aborted,idle" {
		t.Errorf("the request over the queue's size: %s", got)
	}
	close(f.release)
}
