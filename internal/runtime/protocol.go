package runtime

import (
	"encoding/json"
	"fmt"

	"glaux/internal/athena"
)

// command is a line glaux writes to the runner's fd 3.
type command struct {
	Type string `json:"type"` // "execute", "bind", "ping" or "shutdown"
	ID   string `json:"id,omitempty"`
	Code string `json:"code,omitempty"`
	Dir  string `json:"dir,omitempty"`
	// bind: the session a warm runner now serves, and run-time Spark properties to set.
	SessionID     string            `json:"session_id,omitempty"`
	WorkGroup     string            `json:"workgroup,omitempty"`
	EngineVersion string            `json:"engine_version,omitempty"`
	Conf          map[string]string `json:"conf,omitempty"`
}

// message is a line the runner writes to fd 4; fields are set according to Type.
type message struct {
	Type         string  `json:"type"`
	ID           string  `json:"id"`
	SparkVersion string  `json:"spark_version"`
	AppID        string  `json:"app_id"`
	UIURL        string  `json:"ui_url"`
	Text         string  `json:"text"`
	Fraction     float64 `json:"fraction"`
	Status       string  `json:"status"`
	EName        string  `json:"ename"`
	EValue       string  `json:"evalue"`
	Error        string  `json:"error"`        // bound
	ConnectPort  int     `json:"connect_port"` // ready, bound: the Spark Connect server's port
}

func encodeCommand(c command) ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func decodeMessage(line []byte) (message, error) {
	var m message
	if err := json.Unmarshal(line, &m); err != nil {
		return m, fmt.Errorf("bad runner message: %w", err)
	}
	if m.Type == "" {
		return m, fmt.Errorf("runner message without type")
	}
	return m, nil
}

// event maps a message to the domain's event; ok is false for messages that are not
// events (failed is folded into EventExited) or unknown to this version.
func (m message) event() (ev athena.RunnerEvent, ok bool) {
	switch m.Type {
	case "ready":
		return athena.RunnerEvent{Type: athena.EventReady, SparkVersion: m.SparkVersion, AppID: m.AppID, UIURL: m.UIURL, ConnectPort: m.ConnectPort}, true
	case "started":
		return athena.RunnerEvent{Type: athena.EventStarted, CalculationID: m.ID}, true
	case "progress":
		return athena.RunnerEvent{Type: athena.EventProgress, CalculationID: m.ID, Progress: m.Text, Fraction: m.Fraction}, true
	case "bound":
		return athena.RunnerEvent{Type: athena.EventBound, Reason: m.Error, ConnectPort: m.ConnectPort}, true
	case "done":
		return athena.RunnerEvent{Type: athena.EventDone, CalculationID: m.ID, Status: m.Status, EName: m.EName, EValue: m.EValue}, true
	}
	return athena.RunnerEvent{}, false
}
