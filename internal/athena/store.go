package athena

import (
	"context"
	"time"

	"glaux/internal/wire"
)

// Store keeps everything a client created. Implemented by internal/sqlite.
type Store interface {
	// Update runs fn in one write transaction: all of its writes land, or none do.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a consistent read-only snapshot.
	View(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Tx is one transaction. Lookups of missing records return ErrNotFound.
type Tx interface {
	GetWorkGroup(name string) (*WorkGroup, error)
	PutWorkGroup(wg *WorkGroup) error // insert or replace
	DeleteWorkGroup(name string) error
	// ListWorkGroups returns up to limit workgroups ordered by name, names > after.
	ListWorkGroups(after string, limit int) ([]*WorkGroup, error)

	GetNotebook(id string) (*Notebook, error)
	GetNotebookByName(workGroup, name string) (*Notebook, error)
	PutNotebook(nb *Notebook) error // insert or replace; (workgroup, name) is unique
	DeleteNotebook(id string) error
	// ListNotebooks returns notebooks of a workgroup ordered by (name, id) after the cursor;
	// nameContains filters by substring when not empty.
	ListNotebooks(workGroup, nameContains string, after Cursor, limit int) ([]*Notebook, error)
	CountNotebooks(workGroup string) (int, error)

	GetSession(id string) (*Session, error)
	PutSession(s *Session) error   // insert or replace
	DeleteSession(id string) error // with its calculations
	// ListSessions returns sessions newest first (by StartTime, then ID) before the cursor.
	ListSessions(q SessionQuery) ([]*Session, error)

	GetCalculation(id string) (*Calculation, error)
	PutCalculation(c *Calculation) error // insert or replace
	// ListCalculations returns a session's calculations newest first (by Seq) before the cursor.
	ListCalculations(q CalculationQuery) ([]*Calculation, error)

	GetTags(arn string) ([]wire.Tag, error) // in key order; none is an empty slice
	PutTags(arn string, tags []wire.Tag) error
	DeleteTags(arn string) error

	// Idempotency records remember what a ClientRequestToken created.
	GetIdempotency(op, token string) (*Idempotency, error)
	PutIdempotency(rec *Idempotency) error
}

// Cursor positions a keyset page: the last item of the previous page.
type Cursor struct {
	Key string    // name, or ID
	ID  string    // tie-breaker
	At  time.Time // time-ordered lists
	Seq int64     // sequence-ordered lists
}

// SessionQuery selects sessions. Empty fields do not filter.
type SessionQuery struct {
	WorkGroup  string
	NotebookID string
	States     []string
	Before     Cursor // zero: from the newest
	Limit      int    // 0: no limit
}

// CalculationQuery selects a session's calculations. Empty fields do not filter.
type CalculationQuery struct {
	SessionID string
	States    []string
	Before    Cursor // Seq > 0: only Seq < Before.Seq
	Limit     int
}

// WorkGroup is an Athena workgroup; Configuration is kept as the client gave it.
type WorkGroup struct {
	Name          string
	State         string
	Description   string
	CreationTime  time.Time
	Configuration wire.WorkGroupConfiguration
}

// Notebook is an ipynb document in a Spark workgroup.
type Notebook struct {
	ID               string
	WorkGroup        string
	Name             string
	Type             string
	CreationTime     time.Time
	LastModifiedTime time.Time
	Payload          string // the notebook JSON
}

// Session is one Spark session and its runner's last known state.
type Session struct {
	ID                      string
	WorkGroup               string
	Description             string
	EngineVersion           string
	NotebookVersion         string
	NotebookID              string
	EngineConfiguration     wire.EngineConfiguration
	MonitoringConfiguration *wire.MonitoringConfiguration
	ExecutionRole           string
	WorkingDirectory        string
	IdleTimeoutMinutes      int32
	EncryptionOption        string // of the workgroup's result configuration, if any
	State                   string
	StateChangeReason       string
	StartTime               time.Time
	LastModifiedTime        time.Time
	EndTime                 time.Time
	IdleSince               time.Time
	// DpuMillis is DPU time held up to LastModifiedTime by this session's runner.
	DpuMillis int64
	DPUs      int32 // DPUs held while active (coordinator + executors)
}

// Calculation is one code block run in a session.
type Calculation struct {
	ID                string
	SessionID         string
	Seq               int64 // submission order within the glaux installation
	Description       string
	Code              string
	WorkingDirectory  string
	State             string
	StateChangeReason string
	SubmissionTime    time.Time
	StartTime         time.Time
	CompletionTime    time.Time
	Progress          string
	DpuMillis         int64
	StdOutURI         string
	StdErrURI         string
	ResultURI         string
	ResultType        string
}

// Idempotency remembers which resource a token created and a hash of the request's
// parameters, so a retry returns the same resource and a different request is refused.
type Idempotency struct {
	Op         string
	Token      string
	ParamsHash string
	ResourceID string
	Created    time.Time
}
