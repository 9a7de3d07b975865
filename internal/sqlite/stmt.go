package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps one prepared statement per query text and connection pool: SQLite then
// parses each query once per connection instead of on every request (most of a status
// poll's cost otherwise).
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt // nil value: being prepared
	closed  bool
	pending sync.WaitGroup
}

// maxCachedStmts bounds the cache; queries built with a varying number of filters beyond it
// are simply not cached.
const maxCachedStmts = 256

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

// get returns the prepared statement of query, or nil when it is not prepared yet: then it
// is prepared in the background. Preparing needs a connection of its own, which a caller
// that holds one inside a transaction must never wait for (the write pool has one).
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, seen := c.m[query]
	if seen || c.closed || len(c.m) >= maxCachedStmts {
		return s
	}
	c.m[query] = nil
	c.pending.Add(1)
	go func() {
		defer c.pending.Done()
		s, err := c.db.PrepareContext(context.Background(), query)
		c.mu.Lock()
		defer c.mu.Unlock()
		switch {
		case err != nil:
			delete(c.m, query) // the query itself reports the error
		case c.closed:
			s.Close()
		default:
			c.m[query] = s
		}
	}()
	return nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.pending.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.m {
		if s != nil {
			s.Close()
		}
	}
	c.m = nil
}

// stmt returns the transaction's use of the cached statement for query (nil: not cached).
func (t *tx) stmt(query string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	s := t.stmts.get(query)
	if s == nil {
		return nil
	}
	return t.tx.StmtContext(t.ctx, s)
}

func (t *tx) queryRow(query string, args ...any) *sql.Row {
	if s := t.stmt(query); s != nil {
		return s.QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, query, args...)
}

func (t *tx) query(query string, args ...any) (*sql.Rows, error) {
	if s := t.stmt(query); s != nil {
		return s.QueryContext(t.ctx, args...)
	}
	return t.tx.QueryContext(t.ctx, query, args...)
}

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	if s := t.stmt(query); s != nil {
		return s.ExecContext(t.ctx, args...)
	}
	return t.tx.ExecContext(t.ctx, query, args...)
}
