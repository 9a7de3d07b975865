package athena

import (
	"context"
	"time"
)

// Runtime starts session runners: one process per session that owns a PySpark driver.
// It is implemented by internal/runtime; the domain only sees these interfaces.
type Runtime interface {
	// Start launches a runner for the session and returns at once; readiness, calculation
	// progress and the runner's end are reported to sink as events, in order, from one goroutine.
	Start(ctx context.Context, spec RunnerSpec, sink func(RunnerEvent)) (Runner, error)
}

// RunnerSpec is everything a runner needs to start a session's Spark driver.
type RunnerSpec struct {
	SessionID     string
	WorkGroup     string
	EngineVersion string
	// SparkConf is applied to the SparkSession builder (user SparkProperties included).
	SparkConf map[string]string
	// ScratchDir is this session's private working directory (created by the runtime).
	ScratchDir string
	// Env adds to the runner's environment (after the server's own runner settings).
	Env map[string]string
}

// Runner is one live session process.
type Runner interface {
	// Execute asks the runner to run code; dir is a fresh directory where the runner writes
	// stdout.txt, stderr.txt and result.json before it reports EventDone.
	Execute(calculationID, code, dir string) error
	// Interrupt stops the running calculation (Spark job group cancel + KeyboardInterrupt).
	Interrupt() error
	// Terminate stops the runner and its JVM and waits until they are gone (or ctx ends,
	// then kills them). EventExited is still reported.
	Terminate(ctx context.Context) error
	// Executors reads the driver's and executors' states from Spark itself.
	Executors(ctx context.Context) ([]ExecutorInfo, error)
	// Bind hands a runner started ahead of time (the warm pool) to a session: it takes the
	// session's identity and sets conf, Spark properties changeable at run time. The runner
	// answers with EventBound.
	Bind(sessionID, workGroup, engineVersion string, conf map[string]string) error
	// Ping asks the runner for a sign of life; LastHeard is when it last said anything.
	Ping() error
	LastHeard() time.Time
	// Pid is the runner's process id (for logs and fault tests).
	Pid() int
}

// RunnerEventType names what a runner reported.
type RunnerEventType string

const (
	EventReady    RunnerEventType = "ready"    // Spark is up
	EventStarted  RunnerEventType = "started"  // a calculation began
	EventProgress RunnerEventType = "progress" // a calculation's Spark progress changed
	EventDone     RunnerEventType = "done"     // a calculation ended; its files are written
	EventBound    RunnerEventType = "bound"    // a warm runner took a session (Reason: refusal)
	EventExited   RunnerEventType = "exited"   // the runner process is gone (always the last event)
)

// RunnerEvent is one event from a runner. Fields are set according to Type.
type RunnerEvent struct {
	Type          RunnerEventType
	CalculationID string
	// Ready
	SparkVersion, AppID, UIURL string
	// Ready (cold) or Bound (warm): the port on 127.0.0.1 of the runner's Spark Connect
	// server, 0 when it runs none.
	ConnectPort int
	// Progress
	Progress string
	Fraction float64
	// Done: Status is "ok", "error" or "aborted"; EName/EValue describe the exception.
	Status        string
	EName, EValue string
	// Exited: Reason says why (exit code, signal, or the start failure's exception); Err is
	// true when the runner did not end by Terminate.
	Reason     string
	Unexpected bool
}

// ExecutorInfo is one Spark executor (or the driver) as Spark reports it.
type ExecutorInfo struct {
	ID         string // "driver" for the driver
	IsDriver   bool
	Active     bool
	Cores      int
	MemoryMB   int64
	AddTime    time.Time
	RemoveTime time.Time // zero while active
	Failed     bool      // removed for a failure rather than released
}
