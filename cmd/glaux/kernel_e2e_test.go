package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/coder/websocket"

	glaux "glaux/internal/athena"
)

// The Jupyter kernel channel of a notebook session, driven by a Jupyter-protocol client on a
// fake-Spark server: every execute_request is a calculation of the session.
func TestKernelChannel(t *testing.T) {
	testPython(t)
	cfg := newConfig(t, "")
	cfg.FakeSpark = true
	s := startServer(t, cfg)
	createSparkWorkGroup(t, s.Client, "kernel")
	sid, _ := startNotebookSession(t, s, "kernel")
	_, token := presignedURL(t, s, sid)
	host := strings.TrimPrefix(s.Endpoint, "http://")

	t.Run("refused without a valid token", func(t *testing.T) {
		for name, tok := range map[string]string{
			"none":          "",
			"tampered":      tamperToken(t, token),
			"expired":       signToken(t, cfg, sid, time.Now().Add(-time.Minute)),
			"other session": signToken(t, cfg, glaux.NewUUID(), time.Now().Add(time.Minute)),
		} {
			_, resp, err := dialKernel(s.Endpoint, sid, cookieHeader(tok, ""))
			if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s token: want 403, got %v (err %v)", name, statusOf(resp), err)
			}
		}
	})
	t.Run("refused from another origin", func(t *testing.T) {
		_, resp, err := dialKernel(s.Endpoint, sid, cookieHeader(token, "http://evil.example"))
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("want 403, got %v (err %v)", statusOf(resp), err)
		}
	})

	c := newJupyterClient(t, s.Endpoint, sid, cookieHeader(token, "http://"+host))

	t.Run("kernel_info", func(t *testing.T) {
		msgs := c.run("kernel_info_request", "shell", map[string]any{})
		reply := find(msgs, "kernel_info_reply")
		if reply == nil || reply.Content["protocol_version"] != "5.3" || reply.Channel != "shell" {
			t.Fatalf("kernel_info_reply: %+v", reply)
		}
		if li, _ := reply.Content["language_info"].(map[string]any); li["name"] != "python" {
			t.Errorf("language_info: %v", reply.Content["language_info"])
		}
		if types := msgTypes(msgs); types[0] != "status" || types[len(types)-1] != "status" {
			t.Errorf("want busy ... idle around the reply, got %v", types)
		}
	})

	t.Run("print is a calculation", func(t *testing.T) {
		msgs := c.execute("print(1+1)")
		want := []string{"status", "execute_input", "stream", "execute_reply", "status"}
		if got := msgTypes(msgs); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("messages %v, want %v", got, want)
		}
		if msgs[0].Content["execution_state"] != "busy" || msgs[4].Content["execution_state"] != "idle" {
			t.Errorf("status: %v then %v", msgs[0].Content, msgs[4].Content)
		}
		if st := msgs[2].Content; st["name"] != "stdout" || st["text"] != "2\n" {
			t.Errorf("stream: %v", st)
		}
		reply := msgs[3]
		if reply.Content["status"] != "ok" || reply.Content["execution_count"] == nil {
			t.Errorf("execute_reply: %v", reply.Content)
		}
		id, _ := reply.Metadata["calculation_id"].(string)
		if !strings.HasSuffix(fmt.Sprint(reply.Metadata["result_s3_uri"]), id+"/result.json") {
			t.Errorf("reply metadata names no result object: %v", reply.Metadata)
		}
		assertCalculation(t, s.Client, sid, id, "print(1+1)", types.CalculationExecutionStateCompleted)
	})

	t.Run("an error cell", func(t *testing.T) {
		msgs := c.execute("x = 1\n1/0")
		e := find(msgs, "error")
		if e == nil || e.Content["ename"] != "ZeroDivisionError" || e.Content["evalue"] != "division by zero" {
			t.Fatalf("error message: %+v", e)
		}
		if tb, _ := e.Content["traceback"].([]any); len(tb) == 0 || !strings.Contains(fmt.Sprint(tb[len(tb)-1]), "ZeroDivisionError") {
			t.Errorf("traceback: %v", e.Content["traceback"])
		}
		for _, m := range msgs {
			if m.Header["msg_type"] == "stream" && strings.Contains(fmt.Sprint(m.Content["text"]), "ZeroDivisionError") {
				t.Errorf("the traceback is also in a stream: %v", m.Content)
			}
		}
		reply := find(msgs, "execute_reply")
		if reply.Content["status"] != "error" || reply.Content["ename"] != "ZeroDivisionError" {
			t.Errorf("execute_reply: %v", reply.Content)
		}
		assertCalculation(t, s.Client, sid, reply.Metadata["calculation_id"].(string), "x = 1\n1/0", types.CalculationExecutionStateFailed)
	})

	t.Run("requests behind a failed cell are aborted", func(t *testing.T) {
		failing := c.send("execute_request", "shell", executeContent("1/0"))
		after := c.send("execute_request", "shell", executeContent("print('after')"))
		c.collect(failing)
		reply := find(c.collect(after), "execute_reply")
		if reply == nil || reply.Content["status"] != "aborted" {
			t.Errorf("want the second request aborted, got %+v", reply)
		}
	})

	t.Run("display outputs: pandas table and matplotlib figure", func(t *testing.T) {
		msgs := c.execute("import pandas as pd\npd.DataFrame({'city': ['Lyon', 'Oslo'], 'trips': [3, 5]})")
		res := find(msgs, "execute_result")
		if res == nil || !strings.Contains(fmt.Sprint(res.Content["data"].(map[string]any)["text/html"]), "<table") {
			t.Errorf("pandas DataFrame: want an execute_result with text/html, got %v", msgTypes(msgs))
		}
		msgs = c.execute("import matplotlib\nmatplotlib.use('agg')\nimport matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nNone")
		disp := find(msgs, "display_data")
		if disp == nil || disp.Content["data"].(map[string]any)["image/png"] == nil {
			t.Errorf("matplotlib: want display_data with image/png, got %v", msgTypes(msgs))
		}
	})

	t.Run("stdout is streamed while the cell runs", func(t *testing.T) {
		msgs := c.execute("import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.6)")
		var texts []string
		for _, m := range msgs {
			if m.Header["msg_type"] == "stream" {
				texts = append(texts, fmt.Sprint(m.Content["text"]))
			}
		}
		if strings.Join(texts, "") != "0\n1\n2\n" || len(texts) < 2 {
			t.Errorf("stream texts %q: want 0..2 in more than one message", texts)
		}
	})

	t.Run("interrupt stops the calculation", func(t *testing.T) {
		id := c.send("execute_request", "shell", executeContent("import time\ntime.sleep(30)"))
		waitRunning(t, s.Client, sid)
		intr := c.send("interrupt_request", "control", map[string]any{})
		msgs := c.collect(id)
		if reply := find(c.collect(intr), "interrupt_reply"); reply == nil || reply.Channel != "control" {
			t.Errorf("interrupt_reply: %+v", reply)
		}
		if e := find(msgs, "error"); e == nil || e.Content["ename"] != "KeyboardInterrupt" {
			t.Errorf("want a KeyboardInterrupt error, got %v", msgTypes(msgs))
		}
		reply := find(msgs, "execute_reply")
		assertCalculation(t, s.Client, sid, reply.Metadata["calculation_id"].(string), "import time\ntime.sleep(30)", types.CalculationExecutionStateCanceled)
	})

	t.Run("session state and a token in the query", func(t *testing.T) {
		if st := c.sessionStates(); len(st) == 0 || st[0] != "IDLE" {
			t.Errorf("glaux_session states: %v", st)
		}
		q := newJupyterClient(t, s.Endpoint, sid+"?token="+url.QueryEscape(token), nil)
		if msgs := q.execute("print('q')"); find(msgs, "execute_reply").Content["status"] != "ok" {
			t.Errorf("with ?token=: %v", msgTypes(msgs))
		}
	})
}

// startNotebookSession creates a notebook and starts an IDLE notebook session for it.
func startNotebookSession(t testing.TB, s *testServer, wg string) (sessionID, notebookID string) {
	t.Helper()
	nb, err := s.Client.CreateNotebook(context.Background(), &athena.CreateNotebookInput{WorkGroup: aws.String(wg), Name: aws.String("notebook-" + wg)})
	if err != nil {
		t.Fatalf("CreateNotebook: %v", err)
	}
	sid := startIdleSession(t, s.Client, wg, func(in *athena.StartSessionInput) {
		in.NotebookVersion = aws.String("Athena notebook version 1")
		in.EngineConfiguration.AdditionalConfigs = map[string]string{"NotebookId": *nb.NotebookId}
	})
	return sid, *nb.NotebookId
}

func presignedURL(t testing.TB, s *testServer, sid string) (notebookURL, token string) {
	t.Helper()
	out, err := s.Client.CreatePresignedNotebookUrl(context.Background(), &athena.CreatePresignedNotebookUrlInput{SessionId: aws.String(sid)})
	if err != nil {
		t.Fatalf("CreatePresignedNotebookUrl: %v", err)
	}
	return *out.NotebookUrl, *out.AuthToken
}

// signToken makes a token with the server's own secret (from its database).
func signToken(t testing.TB, cfg *Config, sid string, expires time.Time) string {
	t.Helper()
	return glaux.SignNotebookToken(installationSecretOf(t, cfg), glaux.NotebookToken{SessionID: sid, Expires: expires.Unix()})
}

// tamperToken moves a token's expiry an hour on and keeps its signature.
func tamperToken(t testing.TB, token string) string {
	t.Helper()
	p, sig, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		t.Fatal(err)
	}
	var tok glaux.NotebookToken
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatal(err)
	}
	tok.Expires += 3600
	b, _ = json.Marshal(tok)
	return base64.RawURLEncoding.EncodeToString(b) + "." + sig
}

func cookieHeader(token, origin string) http.Header {
	h := http.Header{}
	if token != "" {
		h.Set("Cookie", "glaux_notebook="+token)
	}
	if origin != "" {
		h.Set("Origin", origin)
	}
	return h
}

func statusOf(resp *http.Response) any {
	if resp == nil {
		return "no response"
	}
	return resp.StatusCode
}

func dialKernel(endpoint, sidAndQuery string, h http.Header) (*websocket.Conn, *http.Response, error) {
	sid, query, _ := strings.Cut(sidAndQuery, "?")
	u := "ws" + strings.TrimPrefix(endpoint, "http") + "/notebook/" + sid + "/api/kernels/" + sid + "/channels"
	if query != "" {
		u += "?" + query
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h})
}

// jupyterMsg is a received Jupyter message.
type jupyterMsg struct {
	Header       map[string]any `json:"header"`
	ParentHeader map[string]any `json:"parent_header"`
	Metadata     map[string]any `json:"metadata"`
	Content      map[string]any `json:"content"`
	Channel      string         `json:"channel"`
}

// jupyterClient is a minimal Jupyter client of the kernel WebSocket.
type jupyterClient struct {
	t       testing.TB
	conn    *websocket.Conn
	session string
	byReq   map[string][]jupyterMsg // received, by parent msg_id
	orphans []jupyterMsg            // received without a parent (status, glaux_session)
}

func newJupyterClient(t testing.TB, endpoint, sid string, h http.Header) *jupyterClient {
	t.Helper()
	conn, resp, err := dialKernel(endpoint, sid, h)
	if err != nil {
		t.Fatalf("dialing the kernel: %v (status %v)", err, statusOf(resp))
	}
	conn.SetReadLimit(64 << 20)
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	return &jupyterClient{t: t, conn: conn, session: glaux.NewUUID(), byReq: map[string][]jupyterMsg{}}
}

func executeContent(code string) map[string]any {
	return map[string]any{"code": code, "silent": false, "store_history": true, "user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true}
}

func (c *jupyterClient) send(msgType, channel string, content map[string]any) string {
	c.t.Helper()
	id := glaux.NewUUID()
	b, _ := json.Marshal(map[string]any{
		"header":        map[string]any{"msg_id": id, "username": "test", "session": c.session, "date": time.Now().UTC().Format(time.RFC3339Nano), "msg_type": msgType, "version": "5.3"},
		"parent_header": map[string]any{}, "metadata": map[string]any{}, "content": content, "buffers": []any{}, "channel": channel,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("sending %s: %v", msgType, err)
	}
	return id
}

// collect returns the messages answering request id, once its reply and its idle status
// have arrived.
func (c *jupyterClient) collect(id string) []jupyterMsg {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		msgs := c.byReq[id]
		replied, idle := false, false
		for _, m := range msgs {
			replied = replied || strings.HasSuffix(fmt.Sprint(m.Header["msg_type"]), "_reply")
			idle = idle || (m.Header["msg_type"] == "status" && m.Content["execution_state"] == "idle")
		}
		if replied && (idle || c.byReq[id][0].Channel == "control") {
			return msgs
		}
		_, data, err := c.conn.Read(ctx)
		if err != nil {
			c.t.Fatalf("waiting for the answer to %s (have %v): %v", id, msgTypes(msgs), err)
		}
		var m jupyterMsg
		if err := json.Unmarshal(data, &m); err != nil {
			c.t.Fatalf("not a JSON message: %s", data)
		}
		if parent, _ := m.ParentHeader["msg_id"].(string); parent != "" {
			c.byReq[parent] = append(c.byReq[parent], m)
		} else {
			c.orphans = append(c.orphans, m)
		}
	}
}

// run sends a request and returns the messages answering it, glaux_progress left out.
func (c *jupyterClient) run(msgType, channel string, content map[string]any) []jupyterMsg {
	c.t.Helper()
	var out []jupyterMsg
	for _, m := range c.collect(c.send(msgType, channel, content)) {
		if m.Header["msg_type"] != "glaux_progress" {
			out = append(out, m)
		}
	}
	return out
}

func (c *jupyterClient) execute(code string) []jupyterMsg {
	c.t.Helper()
	return c.run("execute_request", "shell", executeContent(code))
}

func (c *jupyterClient) sessionStates() []string {
	var out []string
	for _, m := range c.orphans {
		if m.Header["msg_type"] == "glaux_session" {
			out = append(out, fmt.Sprint(m.Content["state"]))
		}
	}
	return out
}

func find(msgs []jupyterMsg, msgType string) *jupyterMsg {
	for i := range msgs {
		if msgs[i].Header["msg_type"] == msgType {
			return &msgs[i]
		}
	}
	return nil
}

func msgTypes(msgs []jupyterMsg) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = fmt.Sprint(m.Header["msg_type"])
	}
	return out
}

// assertCalculation checks through the SDK that a cell ran as a calculation of the session.
func assertCalculation(t testing.TB, c *athena.Client, sid, id, code string, state types.CalculationExecutionState) {
	t.Helper()
	ctx := context.Background()
	list, err := c.ListCalculationExecutions(ctx, &athena.ListCalculationExecutionsInput{SessionId: aws.String(sid)})
	if err != nil {
		t.Fatalf("ListCalculationExecutions: %v", err)
	}
	listed := false
	for _, s := range list.Calculations {
		listed = listed || aws.ToString(s.CalculationExecutionId) == id
	}
	if !listed {
		t.Errorf("calculation %q is not listed by ListCalculationExecutions", id)
		return
	}
	got, err := c.GetCalculationExecutionCode(ctx, &athena.GetCalculationExecutionCodeInput{CalculationExecutionId: aws.String(id)})
	if err != nil || aws.ToString(got.CodeBlock) != code {
		t.Errorf("code of %s: %v %v", id, got, err)
	}
	calc := waitCalculation(t, c, id, time.Minute)
	if calc.Status.State != state || calc.Result == nil || aws.ToString(calc.Result.StdOutS3Uri) == "" {
		t.Errorf("calculation %s: state %s (want %s), result %+v", id, calc.Status.State, state, calc.Result)
	}
}

// waitRunning waits until the session runs a calculation.
func waitRunning(t testing.TB, c *athena.Client, sid string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, err := c.ListCalculationExecutions(context.Background(), &athena.ListCalculationExecutionsInput{
			SessionId: aws.String(sid), StateFilter: types.CalculationExecutionStateRunning,
		})
		if err == nil && len(out.Calculations) > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no calculation started running")
}
