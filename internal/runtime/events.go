package runtime

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"time"

	"glaux/internal/athena"
)

// maxLine bounds one event line; longer ones are skipped rather than buffered.
const maxLine = 16 << 20

// readEvents is the only caller of sink: events in order, then EventExited exactly once.
func (r *runner) readEvents() {
	br := bufio.NewReaderSize(r.evR, 64<<10)
	for {
		line, err := readLine(br, maxLine)
		if len(line) > 0 {
			r.handle(line)
		}
		if errors.Is(err, errLineTooLong) {
			r.log.Warn("skipping oversized runner message", "pid", r.pid)
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
				r.log.Warn("reading runner events", "pid", r.pid, "err", err)
			}
			break
		}
	}
	close(r.eof)
	<-r.exited
	r.evR.Close()
	r.sink(r.exitEvent)
}

func (r *runner) handle(line []byte) {
	r.lastHeard.Store(time.Now().UnixNano())
	m, err := decodeMessage(line)
	if err != nil {
		r.log.Warn("ignoring runner message", "pid", r.pid, "err", err)
		return
	}
	switch m.Type {
	case "pong":
		return // LastHeard is all a pong says
	case "ready":
		r.mu.Lock()
		late := r.timedOut != ""
		if !late {
			r.ready = &readyInfo{appID: m.AppID, uiURL: m.UIURL, at: time.Now()}
		}
		r.mu.Unlock()
		if late {
			return // already being killed; EventExited reports the timeout
		}
		r.startTimer.Stop()
		r.log.Info("spark ready", "spark_version", m.SparkVersion, "app_id", m.AppID, "ui_url", m.UIURL)
	case "failed":
		r.mu.Lock()
		r.failure = failureReason(m.EName, m.EValue)
		r.mu.Unlock()
		r.log.Error("spark failed to start", "ename", m.EName, "evalue", m.EValue)
		return
	}
	ev, ok := m.event()
	if !ok {
		r.log.Debug("ignoring unknown runner message", "type", m.Type)
		return
	}
	if ev.CalculationID != "" && ev.Type != athena.EventProgress {
		r.log.Debug("calculation event", "calculation", ev.CalculationID, "event", string(ev.Type), "status", ev.Status)
	}
	r.sink(ev)
}

var errLineTooLong = errors.New("runner message too long")

// readLine returns the next line without its newline; a line longer than max is consumed
// whole and reported as errLineTooLong, so one bad message cannot desync the stream.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > max {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			if err == nil {
				err = errLineTooLong
			}
			return nil, err
		}
		return bytes.TrimSuffix(line, []byte("\n")), err
	}
}
