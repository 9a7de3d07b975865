package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"glaux/internal/athena"
	"glaux/internal/wire"
)

// The Jupyter kernel channel of a notebook session: one WebSocket carrying the Jupyter
// messaging protocol (v5.3) as JSON text frames, each message naming its channel (shell,
// control, iopub). Every execute_request is a calculation of the session; see
// docs/notebook.md for the messages and the two glaux_* additions.

const protocolVersion = "5.3"

// kernelQueue is how many execute requests may wait behind the running one.
const kernelQueue = 256

// jmsg is one Jupyter message.
type jmsg struct {
	Header       jheader         `json:"header"`
	ParentHeader json.RawMessage `json:"parent_header"`
	Metadata     map[string]any  `json:"metadata"`
	Content      json.RawMessage `json:"content"`
	Buffers      []any           `json:"buffers"`
	Channel      string          `json:"channel"`

	seq uint64 // order of receipt of an execute request
}

type jheader struct {
	MsgID    string `json:"msg_id"`
	Username string `json:"username"`
	Session  string `json:"session"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

type executeRequest struct {
	Code         string `json:"code"`
	Silent       bool   `json:"silent"`
	StopOnError  *bool  `json:"stop_on_error"`
	StoreHistory *bool  `json:"store_history"`
}

// kernel is one open channel.
type kernel struct {
	h       *NotebookHandler
	conn    *websocket.Conn
	sid     string
	session string // this kernel side's Jupyter session id
	writeMu sync.Mutex
	queue   chan *jmsg // execute requests, run in order
	mu      sync.Mutex
	current string // calculation of the cell being run

	// recvMu orders numbering and queueing of execute requests against reading the count
	// at a reply, so that an abort covers exactly the requests received before it.
	recvMu   sync.Mutex
	received uint64 // execute requests received so far
	cut      uint64 // received when the last execute_reply of runQueue was sent (its goroutine only)
}

// channels upgrades to the kernel WebSocket; the kernel id is the session id.
func (h *NotebookHandler) channels(w http.ResponseWriter, r *http.Request, ns *athena.NotebookSession) {
	if r.PathValue("kernel") != ns.SessionID {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "the kernel of this notebook is its session " + ns.SessionID})
		return
	}
	// The origin was checked by authorized; Accept checks it again (same host only).
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	conn.SetReadLimit(16 << 20)
	k := &kernel{h: h, conn: conn, sid: ns.SessionID, session: athena.NewUUID(), queue: make(chan *jmsg, kernelQueue)}
	h.log.Info("kernel channel opened", "session", k.sid)
	err = k.serve(h.ctx)
	status := websocket.CloseStatus(err)
	if status != websocket.StatusNormalClosure && status != websocket.StatusGoingAway && !errors.Is(err, context.Canceled) {
		h.log.Info("kernel channel closed", "session", k.sid, "err", err)
	}
	conn.CloseNow()
}

// serve reads requests until the client goes or ctx ends. Execute requests run one after
// another in a goroutine, so an interrupt_request is answered while a cell runs.
func (k *kernel) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(2)
	go func() { defer wg.Done(); k.runQueue(ctx) }()
	go func() { defer wg.Done(); k.watchSession(ctx) }()
	k.send(ctx, "iopub", "status", nil, map[string]any{"execution_state": "idle"}, nil)
	for {
		_, data, err := k.conn.Read(ctx)
		if err != nil {
			return err
		}
		var m jmsg
		if err := json.Unmarshal(data, &m); err != nil || m.Header.MsgType == "" {
			k.h.log.Debug("kernel channel: not a Jupyter message", "session", k.sid)
			continue
		}
		if m.Channel == "" {
			m.Channel = "shell"
		}
		switch m.Header.MsgType {
		case "kernel_info_request":
			k.busy(ctx, &m, func() { k.reply(ctx, &m, "kernel_info_reply", kernelInfo(k.sid), nil) })
		case "comm_info_request":
			k.busy(ctx, &m, func() {
				k.reply(ctx, &m, "comm_info_reply", map[string]any{"status": "ok", "comms": map[string]any{}}, nil)
			})
		case "execute_request":
			if !k.enqueue(&m) {
				k.busy(ctx, &m, func() { k.reply(ctx, &m, "execute_reply", map[string]any{"status": "aborted"}, nil) })
			}
		case "interrupt_request":
			k.interrupt(ctx)
			k.reply(ctx, &m, "interrupt_reply", map[string]any{"status": "ok"}, nil)
		default:
			k.h.log.Debug("kernel channel: message not served", "session", k.sid, "msg_type", m.Header.MsgType)
		}
	}
}

func kernelInfo(sid string) map[string]any {
	return map[string]any{
		"status": "ok", "protocol_version": protocolVersion,
		"implementation": "glaux", "implementation_version": "1",
		"language_info": map[string]any{
			"name": "python", "version": "3", "mimetype": "text/x-python", "file_extension": ".py",
			"pygments_lexer": "ipython3", "codemirror_mode": map[string]any{"name": "ipython", "version": 3},
			"nbconvert_exporter": "python",
		},
		"banner":     "glaux: Athena for Apache Spark, session " + sid + " (every cell is a calculation)",
		"help_links": []any{},
	}
}

// enqueue numbers an execute request and queues it; false when the queue is full.
func (k *kernel) enqueue(m *jmsg) bool {
	k.recvMu.Lock()
	defer k.recvMu.Unlock()
	k.received++
	m.seq = k.received
	select {
	case k.queue <- m:
		return true
	default:
		return false
	}
}

// runQueue runs execute requests in order. After a cell fails, the requests received
// before its reply are aborted (Jupyter's stop_on_error); one the client sent after
// seeing the reply runs.
func (k *kernel) runQueue(ctx context.Context) {
	var next *jmsg
	for {
		if next == nil {
			select {
			case <-ctx.Done():
				return
			case next = <-k.queue:
			}
		}
		m := next
		next = nil
		if k.execute(ctx, m) != "ok" {
			next = k.abortQueued(ctx)
		}
	}
}

// abortQueued aborts the queued requests received before the last execute reply and
// returns the first one received after it, if any is queued. Numbering and queueing
// happen together under recvMu, so every request numbered up to k.cut is queued by now.
func (k *kernel) abortQueued(ctx context.Context) *jmsg {
	for {
		select {
		case q := <-k.queue:
			if q.seq > k.cut {
				return q
			}
			k.busy(ctx, q, func() { k.reply(ctx, q, "execute_reply", map[string]any{"status": "aborted"}, nil) })
		default:
			return nil
		}
	}
}

// executeReply sends the reply to a running cell, noting which requests came before it.
func (k *kernel) executeReply(ctx context.Context, m *jmsg, content any, meta map[string]any) {
	k.markCut()
	k.reply(ctx, m, "execute_reply", content, meta)
}

func (k *kernel) markCut() {
	k.recvMu.Lock()
	k.cut = k.received
	k.recvMu.Unlock()
}

// execute runs one cell as a calculation and relays what it outputs; it returns the
// reply's status. A request with stop_on_error false never aborts the ones behind it.
func (k *kernel) execute(ctx context.Context, m *jmsg) (status string) {
	var req executeRequest
	json.Unmarshal(m.Content, &req)
	stopOnError := req.StopOnError == nil || *req.StopOnError
	defer func() {
		if !stopOnError {
			status = "ok"
		}
	}()
	k.send(ctx, "iopub", "status", m, map[string]any{"execution_state": "busy"}, nil)
	defer k.send(ctx, "iopub", "status", m, map[string]any{"execution_state": "idle"}, nil)
	n := k.h.nextCount(k.sid, !req.Silent && (req.StoreHistory == nil || *req.StoreHistory))
	k.send(ctx, "iopub", "execute_input", m, map[string]any{"code": req.Code, "execution_count": n}, nil)
	if strings.TrimSpace(req.Code) == "" {
		k.executeReply(ctx, m, map[string]any{"status": "ok", "execution_count": n, "user_expressions": map[string]any{}, "payload": []any{}}, nil)
		return "ok"
	}
	started, err := k.h.svc.StartCalculationExecution(ctx, &wire.StartCalculationExecutionRequest{
		SessionId: &k.sid, CodeBlock: &req.Code, Description: ptrTo("notebook cell"),
	})
	if err != nil {
		var de *athena.Error
		ename, evalue := "InternalServerException", "the calculation could not be started"
		if errors.As(err, &de) {
			ename, evalue = "InvalidRequestException", de.Message
		} else {
			k.h.log.Error("kernel: starting a calculation", "session", k.sid, "err", err)
		}
		return k.fail(ctx, m, n, ename, evalue, []string{ename + ": " + evalue}, nil)
	}
	id := *started.CalculationExecutionId
	k.setCurrent(id)
	defer k.setCurrent("")
	meta := map[string]any{"calculation_id": id}
	calc, sent := k.follow(ctx, m, id, meta)
	if calc == nil {
		k.markCut()
		return "aborted" // the channel closed; the calculation goes on
	}
	state := *calc.Status.State
	meta["calculation_state"] = state
	if r := calc.Result; r != nil {
		meta["stdout_s3_uri"], meta["stderr_s3_uri"], meta["result_s3_uri"] = *r.StdOutS3Uri, *r.StdErrorS3Uri, *r.ResultS3Uri
	}
	if state == wire.CalculationExecutionStateCanceled && calc.Result == nil {
		k.executeReply(ctx, m, map[string]any{"status": "aborted", "execution_count": n}, meta)
		return "aborted" // stopped before it started
	}
	doc := k.relayResults(ctx, m, id, n, sent, meta)
	if state == wire.CalculationExecutionStateCompleted {
		k.executeReply(ctx, m, map[string]any{"status": "ok", "execution_count": n, "user_expressions": map[string]any{}, "payload": []any{}}, meta)
		return "ok"
	}
	e := doc.Error
	if e == nil {
		e = &athena.ResultError{EName: "Error", EValue: strValue(calc.Status.StateChangeReason)}
		if name, value, ok := strings.Cut(e.EValue, ": "); ok && !strings.Contains(name, " ") {
			e.EName, e.EValue = name, value
		}
		e.Traceback = []string{e.EName + ": " + e.EValue}
	}
	return k.fail(ctx, m, n, e.EName, e.EValue, e.Traceback, meta)
}

// fail sends an error output and an error reply.
func (k *kernel) fail(ctx context.Context, m *jmsg, n int, ename, evalue string, tb []string, meta map[string]any) string {
	if tb == nil {
		tb = []string{}
	}
	k.send(ctx, "iopub", "error", m, map[string]any{"ename": ename, "evalue": evalue, "traceback": tb}, meta)
	k.executeReply(ctx, m, map[string]any{"status": "error", "execution_count": n, "ename": ename, "evalue": evalue, "traceback": tb}, meta)
	return "error"
}

// follow polls a calculation until it is final, relaying its progress and the complete
// lines of stdout written so far. It returns the final calculation and the stdout bytes
// sent, or nil when ctx ended.
func (k *kernel) follow(ctx context.Context, m *jmsg, id string, meta map[string]any) (*wire.GetCalculationExecutionResponse, int) {
	sent, progress := 0, ""
	t := time.NewTicker(k.h.PollInterval)
	defer t.Stop()
	for {
		calc, err := k.h.svc.GetCalculationExecution(ctx, &wire.GetCalculationExecutionRequest{CalculationExecutionId: &id})
		if err != nil {
			if ctx.Err() == nil {
				k.h.log.Error("kernel: reading a calculation", "session", k.sid, "calculation", id, "err", err)
			}
			return nil, sent
		}
		state := *calc.Status.State
		if p := strValue(calc.Statistics.Progress); p != progress {
			progress = p
			k.send(ctx, "iopub", "glaux_progress", m, map[string]any{"calculation_id": id, "state": state, "text": p, "fraction": progressFraction(state, p)}, meta)
		}
		if state == wire.CalculationExecutionStateCompleted || state == wire.CalculationExecutionStateFailed || state == wire.CalculationExecutionStateCanceled {
			return calc, sent
		}
		if out, _ := k.h.svc.CalculationOutput(ctx, id, athena.StdoutFile); len(out) > sent {
			if end := bytes.LastIndexByte(out, '\n') + 1; end > sent {
				k.stream(ctx, m, "stdout", string(out[sent:end]), meta)
				sent = end
			}
		}
		select {
		case <-ctx.Done():
			return nil, sent
		case <-t.C:
		}
	}
}

var tasksDone = regexp.MustCompile(`(\d+)/(\d+) tasks`)

// progressFraction reads the share of finished Spark tasks from a Progress text
// ("Stage 3: 140/200 tasks (70%)"); -1 when it tells none.
func progressFraction(state, text string) float64 {
	if state == wire.CalculationExecutionStateCompleted {
		return 1
	}
	if m := tasksDone.FindStringSubmatch(text); m != nil {
		done, _ := strconv.ParseFloat(m[1], 64)
		total, _ := strconv.ParseFloat(m[2], 64)
		if total > 0 {
			return done / total
		}
	}
	return -1
}

// relayResults sends the rest of stdout, stderr (less the traceback, which the error
// message carries) and the display outputs of a finished calculation.
func (k *kernel) relayResults(ctx context.Context, m *jmsg, id string, n, sent int, meta map[string]any) athena.ResultDocument {
	var doc athena.ResultDocument
	if b, err := k.h.svc.CalculationOutput(ctx, id, athena.ResultFile); err == nil && len(b) > 0 {
		if err := json.Unmarshal(b, &doc); err != nil {
			k.h.log.Warn("kernel: result document unreadable", "calculation", id, "err", err)
		}
	}
	if out, _ := k.h.svc.CalculationOutput(ctx, id, athena.StdoutFile); len(out) > sent {
		k.stream(ctx, m, "stdout", string(out[sent:]), meta)
	}
	if errText, _ := k.h.svc.CalculationOutput(ctx, id, athena.StderrFile); len(errText) > 0 {
		s := string(errText)
		if doc.Error != nil && len(doc.Error.Traceback) > 0 {
			s = strings.TrimSuffix(s, strings.Join(doc.Error.Traceback, "\n")+"\n")
		}
		k.stream(ctx, m, "stderr", s, meta)
	}
	for _, o := range doc.Outputs {
		if o.Metadata == nil {
			o.Metadata = map[string]any{}
		}
		switch o.OutputType {
		case "execute_result":
			k.send(ctx, "iopub", "execute_result", m, map[string]any{"execution_count": n, "data": o.Data, "metadata": o.Metadata}, meta)
		case "display_data":
			k.send(ctx, "iopub", "display_data", m, map[string]any{"data": o.Data, "metadata": o.Metadata, "transient": map[string]any{}}, meta)
		}
	}
	return doc
}

func (k *kernel) stream(ctx context.Context, m *jmsg, name, text string, meta map[string]any) {
	if text != "" {
		k.send(ctx, "iopub", "stream", m, map[string]any{"name": name, "text": text}, meta)
	}
}

// interrupt stops the calculation of the cell being run, or else whatever the session runs.
func (k *kernel) interrupt(ctx context.Context) {
	k.mu.Lock()
	id := k.current
	k.mu.Unlock()
	if id == "" {
		id = k.h.svc.RunningCalculation(k.sid)
	}
	if id == "" {
		return
	}
	if _, err := k.h.svc.StopCalculationExecution(ctx, &wire.StopCalculationExecutionRequest{CalculationExecutionId: &id}); err != nil {
		k.h.log.Warn("kernel: interrupt", "session", k.sid, "calculation", id, "err", err)
	}
}

func (k *kernel) setCurrent(id string) {
	k.mu.Lock()
	k.current = id
	k.mu.Unlock()
}

// watchSession sends glaux_session whenever the session's state changes.
func (k *kernel) watchSession(ctx context.Context) {
	last := ""
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		st, err := k.h.svc.GetSessionStatus(ctx, &wire.GetSessionStatusRequest{SessionId: &k.sid})
		if err == nil && *st.Status.State != last {
			last = *st.Status.State
			k.send(ctx, "iopub", "glaux_session", nil, map[string]any{"session_id": k.sid, "state": last, "reason": strValue(st.Status.StateChangeReason)}, nil)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// busy wraps the handling of a request in busy/idle status messages, as kernels do.
func (k *kernel) busy(ctx context.Context, m *jmsg, fn func()) {
	k.send(ctx, "iopub", "status", m, map[string]any{"execution_state": "busy"}, nil)
	fn()
	k.send(ctx, "iopub", "status", m, map[string]any{"execution_state": "idle"}, nil)
}

// reply answers a request on the channel it came on.
func (k *kernel) reply(ctx context.Context, m *jmsg, msgType string, content any, meta map[string]any) {
	k.send(ctx, m.Channel, msgType, m, content, meta)
}

func (k *kernel) send(ctx context.Context, channel, msgType string, parent *jmsg, content any, meta map[string]any) {
	c, _ := json.Marshal(content)
	out := jmsg{
		Header: jheader{
			MsgID: athena.NewUUID(), Username: "glaux", Session: k.session, MsgType: msgType, Version: protocolVersion,
			Date: time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
		},
		ParentHeader: json.RawMessage("{}"), Metadata: meta, Content: c, Buffers: []any{}, Channel: channel,
	}
	if parent != nil {
		out.ParentHeader, _ = json.Marshal(parent.Header)
	}
	if out.Metadata == nil {
		out.Metadata = map[string]any{}
	}
	b, _ := json.Marshal(out)
	k.writeMu.Lock()
	defer k.writeMu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	k.conn.Write(wctx, websocket.MessageText, b)
}

// nextCount is the session's next execution count (the current one when count is false).
func (h *NotebookHandler) nextCount(sid string, count bool) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if count {
		h.counts[sid]++
	}
	return h.counts[sid]
}

func strValue(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
