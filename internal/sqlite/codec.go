package sqlite

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"glaux/internal/athena"
	"glaux/internal/wire"
)

// The data column holds these records as JSON. They are the on-disk format, apart from the
// domain types on purpose: renaming a Go field must not change what is stored. Times are
// Unix nanoseconds, so they round-trip exactly (read back in UTC); the zero time is omitted.
// A field added to a domain type must be added here too (TestRecordsRoundTripEveryField
// notices when it is not).

// nanoTime is a time.Time stored as JSON integer Unix nanoseconds.
type nanoTime time.Time

func (t nanoTime) IsZero() bool { return time.Time(t).IsZero() }

func (t nanoTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, time.Time(t).UnixNano(), 10), nil
}

func (t *nanoTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*t = nanoTime{}
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return err
	}
	*t = nanoTime(time.Unix(0, n).UTC())
	return nil
}

// unixNano is the value of an indexed time column: 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

type workGroupRecord struct {
	Name          string                      `json:"name"`
	State         string                      `json:"state,omitempty"`
	Description   string                      `json:"description,omitempty"`
	CreationTime  nanoTime                    `json:"creationTime,omitzero"`
	Configuration wire.WorkGroupConfiguration `json:"configuration"`
}

func encodeWorkGroup(wg *athena.WorkGroup) workGroupRecord {
	return workGroupRecord{
		Name:          wg.Name,
		State:         wg.State,
		Description:   wg.Description,
		CreationTime:  nanoTime(wg.CreationTime),
		Configuration: wg.Configuration,
	}
}

func (r *workGroupRecord) decode() *athena.WorkGroup {
	return &athena.WorkGroup{
		Name:          r.Name,
		State:         r.State,
		Description:   r.Description,
		CreationTime:  time.Time(r.CreationTime),
		Configuration: r.Configuration,
	}
}

// notebookRecord is a notebook without its payload, which has a column of its own.
type notebookRecord struct {
	ID               string   `json:"id"`
	WorkGroup        string   `json:"workGroup"`
	Name             string   `json:"name"`
	Type             string   `json:"type,omitempty"`
	CreationTime     nanoTime `json:"creationTime,omitzero"`
	LastModifiedTime nanoTime `json:"lastModifiedTime,omitzero"`
}

func encodeNotebook(nb *athena.Notebook) notebookRecord {
	return notebookRecord{
		ID:               nb.ID,
		WorkGroup:        nb.WorkGroup,
		Name:             nb.Name,
		Type:             nb.Type,
		CreationTime:     nanoTime(nb.CreationTime),
		LastModifiedTime: nanoTime(nb.LastModifiedTime),
	}
}

func (r *notebookRecord) decode(payload string) *athena.Notebook {
	return &athena.Notebook{
		ID:               r.ID,
		WorkGroup:        r.WorkGroup,
		Name:             r.Name,
		Type:             r.Type,
		CreationTime:     time.Time(r.CreationTime),
		LastModifiedTime: time.Time(r.LastModifiedTime),
		Payload:          payload,
	}
}

type sessionRecord struct {
	ID                      string                        `json:"id"`
	WorkGroup               string                        `json:"workGroup"`
	Description             string                        `json:"description,omitempty"`
	EngineVersion           string                        `json:"engineVersion,omitempty"`
	NotebookVersion         string                        `json:"notebookVersion,omitempty"`
	NotebookID              string                        `json:"notebookId,omitempty"`
	EngineConfiguration     wire.EngineConfiguration      `json:"engineConfiguration"`
	MonitoringConfiguration *wire.MonitoringConfiguration `json:"monitoringConfiguration,omitempty"`
	ExecutionRole           string                        `json:"executionRole,omitempty"`
	WorkingDirectory        string                        `json:"workingDirectory,omitempty"`
	IdleTimeoutMinutes      int32                         `json:"idleTimeoutMinutes,omitempty"`
	EncryptionOption        string                        `json:"encryptionOption,omitempty"`
	State                   string                        `json:"state"`
	StateChangeReason       string                        `json:"stateChangeReason,omitempty"`
	StartTime               nanoTime                      `json:"startTime,omitzero"`
	LastModifiedTime        nanoTime                      `json:"lastModifiedTime,omitzero"`
	EndTime                 nanoTime                      `json:"endTime,omitzero"`
	IdleSince               nanoTime                      `json:"idleSince,omitzero"`
	DpuMillis               int64                         `json:"dpuMillis,omitempty"`
	DPUs                    int32                         `json:"dpus,omitempty"`
}

func encodeSession(s *athena.Session) sessionRecord {
	return sessionRecord{
		ID:                      s.ID,
		WorkGroup:               s.WorkGroup,
		Description:             s.Description,
		EngineVersion:           s.EngineVersion,
		NotebookVersion:         s.NotebookVersion,
		NotebookID:              s.NotebookID,
		EngineConfiguration:     s.EngineConfiguration,
		MonitoringConfiguration: s.MonitoringConfiguration,
		ExecutionRole:           s.ExecutionRole,
		WorkingDirectory:        s.WorkingDirectory,
		IdleTimeoutMinutes:      s.IdleTimeoutMinutes,
		EncryptionOption:        s.EncryptionOption,
		State:                   s.State,
		StateChangeReason:       s.StateChangeReason,
		StartTime:               nanoTime(s.StartTime),
		LastModifiedTime:        nanoTime(s.LastModifiedTime),
		EndTime:                 nanoTime(s.EndTime),
		IdleSince:               nanoTime(s.IdleSince),
		DpuMillis:               s.DpuMillis,
		DPUs:                    s.DPUs,
	}
}

func (r *sessionRecord) decode() *athena.Session {
	return &athena.Session{
		ID:                      r.ID,
		WorkGroup:               r.WorkGroup,
		Description:             r.Description,
		EngineVersion:           r.EngineVersion,
		NotebookVersion:         r.NotebookVersion,
		NotebookID:              r.NotebookID,
		EngineConfiguration:     r.EngineConfiguration,
		MonitoringConfiguration: r.MonitoringConfiguration,
		ExecutionRole:           r.ExecutionRole,
		WorkingDirectory:        r.WorkingDirectory,
		IdleTimeoutMinutes:      r.IdleTimeoutMinutes,
		EncryptionOption:        r.EncryptionOption,
		State:                   r.State,
		StateChangeReason:       r.StateChangeReason,
		StartTime:               time.Time(r.StartTime),
		LastModifiedTime:        time.Time(r.LastModifiedTime),
		EndTime:                 time.Time(r.EndTime),
		IdleSince:               time.Time(r.IdleSince),
		DpuMillis:               r.DpuMillis,
		DPUs:                    r.DPUs,
	}
}

type calculationRecord struct {
	ID                string   `json:"id"`
	SessionID         string   `json:"sessionId"`
	Seq               int64    `json:"seq"`
	Description       string   `json:"description,omitempty"`
	Code              string   `json:"code,omitempty"`
	WorkingDirectory  string   `json:"workingDirectory,omitempty"`
	State             string   `json:"state"`
	StateChangeReason string   `json:"stateChangeReason,omitempty"`
	SubmissionTime    nanoTime `json:"submissionTime,omitzero"`
	StartTime         nanoTime `json:"startTime,omitzero"`
	CompletionTime    nanoTime `json:"completionTime,omitzero"`
	Progress          string   `json:"progress,omitempty"`
	DpuMillis         int64    `json:"dpuMillis,omitempty"`
	StdOutURI         string   `json:"stdOutUri,omitempty"`
	StdErrURI         string   `json:"stdErrUri,omitempty"`
	ResultURI         string   `json:"resultUri,omitempty"`
	ResultType        string   `json:"resultType,omitempty"`
}

func encodeCalculation(c *athena.Calculation) calculationRecord {
	return calculationRecord{
		ID:                c.ID,
		SessionID:         c.SessionID,
		Seq:               c.Seq,
		Description:       c.Description,
		Code:              c.Code,
		WorkingDirectory:  c.WorkingDirectory,
		State:             c.State,
		StateChangeReason: c.StateChangeReason,
		SubmissionTime:    nanoTime(c.SubmissionTime),
		StartTime:         nanoTime(c.StartTime),
		CompletionTime:    nanoTime(c.CompletionTime),
		Progress:          c.Progress,
		DpuMillis:         c.DpuMillis,
		StdOutURI:         c.StdOutURI,
		StdErrURI:         c.StdErrURI,
		ResultURI:         c.ResultURI,
		ResultType:        c.ResultType,
	}
}

func (r *calculationRecord) decode() *athena.Calculation {
	return &athena.Calculation{
		ID:                r.ID,
		SessionID:         r.SessionID,
		Seq:               r.Seq,
		Description:       r.Description,
		Code:              r.Code,
		WorkingDirectory:  r.WorkingDirectory,
		State:             r.State,
		StateChangeReason: r.StateChangeReason,
		SubmissionTime:    time.Time(r.SubmissionTime),
		StartTime:         time.Time(r.StartTime),
		CompletionTime:    time.Time(r.CompletionTime),
		Progress:          r.Progress,
		DpuMillis:         r.DpuMillis,
		StdOutURI:         r.StdOutURI,
		StdErrURI:         r.StdErrURI,
		ResultURI:         r.ResultURI,
		ResultType:        r.ResultType,
	}
}

type idempotencyRecord struct {
	Op         string   `json:"op"`
	Token      string   `json:"token"`
	ParamsHash string   `json:"paramsHash"`
	ResourceID string   `json:"resourceId"`
	Created    nanoTime `json:"created,omitzero"`
}

func encodeIdempotency(rec *athena.Idempotency) idempotencyRecord {
	return idempotencyRecord{
		Op:         rec.Op,
		Token:      rec.Token,
		ParamsHash: rec.ParamsHash,
		ResourceID: rec.ResourceID,
		Created:    nanoTime(rec.Created),
	}
}

func (r *idempotencyRecord) decode() *athena.Idempotency {
	return &athena.Idempotency{
		Op:         r.Op,
		Token:      r.Token,
		ParamsHash: r.ParamsHash,
		ResourceID: r.ResourceID,
		Created:    time.Time(r.Created),
	}
}

func marshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
