// Package athena is glaux's domain: workgroups, notebooks, sessions and calculations, their
// state machines and rules, and Service with one method per Athena operation. It speaks the
// wire shapes of internal/wire and needs a Store, an object store and a Runtime, which the
// adapters implement; it knows nothing of HTTP, SQL or processes.
package athena

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Objects stores result objects addressed by s3:// URIs. Implemented by internal/objects.
type Objects interface {
	Put(ctx context.Context, uri string, r io.Reader) error
	Get(ctx context.Context, uri string) (io.ReadCloser, error)
}

// Config holds the server-wide settings the domain needs; cmd/glaux fills it.
type Config struct {
	Region    string // e.g. us-east-1, used in ARNs
	AccountID string // 12 digits, used in ARNs
	// DefaultOutputLocation is where results go for a workgroup without an output location
	// (an s3:// URI ending with /).
	DefaultOutputLocation string
	// DPU sizing: cores and memory a DPU stands for when a session's Spark is configured.
	CoresPerDPU     int
	MemoryMBPerDPU  int
	MaxSessionDPUs  int // server-wide cap on DPUs held by active sessions (0: no cap)
	MaxSessions     int // server-wide cap on active sessions (0: no cap)
	QueueDepth      int // calculations that may wait behind a running one per session
	ScratchDir      string
	SparkMaster     string            // e.g. local[*]; "" means local with CoresPerDPU threads
	SparkDefaults   map[string]string // server-wide Spark properties under the user's own
	DPUSizes        []int32           // ListApplicationDPUSizes
	NotebookVersion string            // "Athena notebook version 1"
	// PublicURL is glaux's own address as clients reach it (presigned notebook URLs).
	PublicURL string
	// TokenSecret signs presigned notebook tokens; kept per installation.
	TokenSecret []byte
	// WarmPool is how many runners with Spark up wait for sessions (0 disables the pool).
	WarmPool int
	// ConnectIdleGrace is how long a Spark Connect session stays BUSY after its last call
	// ended, so that a client's back-to-back calls (one DataFrame action is several) do not
	// write BUSY and IDLE for each; 0 makes it IDLE at once.
	ConnectIdleGrace time.Duration
	// Cluster and S3A settings (cluster.go, docs/cluster.md).
	// SparkDriverHost is the address a cluster's executors reach session drivers at (""
	// lets Spark choose; 127.0.0.1 for a master on loopback).
	SparkDriverHost string
	// S3A configures sessions' s3a:// access to the S3-compatible object store.
	S3A S3AConfig
}

// Clock and IDs are injected so tests can pin time and identifiers.
type Clock func() time.Time

// Service implements every Athena operation glaux serves.
type Service struct {
	cfg     Config
	store   Store
	objects Objects
	runtime Runtime
	now     Clock
	newID   func() string
	log     *slog.Logger

	mu   sync.Mutex
	live map[string]*liveSession // sessions with a runner, by session id
	pool pool
	// sys is the system session, queries the Athena SQL statements it ran (query.go).
	sys     systemSession
	queries queryExecutions
	// wg tracks background work (result uploads, runner events) for Close.
	wg sync.WaitGroup
}

// Deps are the adapters a Service works with.
type Deps struct {
	Store   Store
	Objects Objects
	Runtime Runtime
	Now     Clock
	NewID   func() string
	Log     *slog.Logger
}

// NewService wires a Service. Call Recover once before serving, Close on shutdown.
func NewService(cfg Config, d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.NewID == nil {
		d.NewID = NewUUID
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{
		cfg: cfg, store: d.Store, objects: d.Objects, runtime: d.Runtime,
		now: d.Now, newID: d.NewID, log: d.Log, live: map[string]*liveSession{},
	}
}

// NewUUID returns a random RFC 4122 version 4 UUID in lower case, the shape Athena's
// notebook, session and calculation ids have.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
