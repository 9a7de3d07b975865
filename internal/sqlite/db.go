// Package sqlite implements athena.Store on an embedded SQLite database through the pure-Go
// driver modernc.org/sqlite (no cgo).
//
// The database runs in WAL mode with synchronous=FULL, so a transaction whose Update returned
// nil survives a kill -9 of the process. All writes go through one connection (SQLite has one
// writer anyway); View transactions use a separate pool of read-only connections and read a
// snapshot, so they never wait behind a write.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"glaux/internal/athena"
)

// DB is a glaux metadata database. It is safe for concurrent use.
type DB struct {
	path  string
	write *sql.DB // exactly one connection: every write transaction, one at a time
	read  *sql.DB // read-only connections for View
	// Prepared statements of each pool.
	writeStmts, readStmts *stmtCache
}

var _ athena.Store = (*DB)(nil)

// ErrNewerSchema is returned by Open for a database written by a newer glaux.
var ErrNewerSchema = errors.New("database schema is newer than this glaux supports")

// busyTimeout is how long a connection waits for a lock held by another process (or by a
// checkpoint) before giving up with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// Open opens (creating if needed) the database at path and brings its schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if strings.ContainsRune(path, '?') || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: database path %q: must be a plain file path without '?'", path)
	}
	migs, err := loadMigrations()
	if err != nil {
		return nil, err
	}

	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := checkWriter(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, w, migs); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s (read-only): %w", path, err)
	}
	return &DB{path: path, write: w, read: r, writeStmts: newStmtCache(w), readStmts: newStmtCache(r)}, nil
}

// dsn is the driver's data source name: the pragmas are applied to every new connection.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", "FULL")
	if readOnly {
		q.Set("_query_only", "1")
	} else {
		q.Set("_journal_mode", "WAL")
		q.Set("_txlock", "immediate") // BeginTx issues BEGIN IMMEDIATE
	}
	return path + "?" + q.Encode()
}

// checkWriter verifies that the settings durability depends on took effect.
func checkWriter(ctx context.Context, w *sql.DB) error {
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	var sync int
	if err := w.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return err
	}
	if sync < 2 {
		return fmt.Errorf("synchronous is %d, want FULL (2)", sync)
	}
	var fk int
	if err := w.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return err
	}
	if fk != 1 {
		return errors.New("foreign_keys is off")
	}
	return nil
}

// loadMigrations reads the embedded migrations/NNNN_name.sql files, ordered by version,
// which must run 1, 2, 3... without gaps.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	var migs []migration
	for _, e := range entries {
		digits, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(digits)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlite: migration %s: name must start with a positive version number", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("sqlite: migration %s: %w", e.Name(), err)
		}
		migs = append(migs, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].version < migs[j].version })
	for i, m := range migs {
		if m.version != i+1 {
			return nil, fmt.Errorf("sqlite: migration %s: version %d, want %d", m.name, m.version, i+1)
		}
	}
	return migs, nil
}

// migrate applies the migrations the database lacks, each in its own transaction together
// with its schema_migrations row.
func migrate(ctx context.Context, w *sql.DB, migs []migration) error {
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	latest := len(migs)
	current, err := schemaVersion(ctx, w)
	if err != nil {
		return err
	}
	if current > latest {
		return fmt.Errorf("%w: the database has schema version %d, this glaux knows up to %d: run a newer glaux",
			ErrNewerSchema, current, latest)
	}
	for _, m := range migs[current:] {
		err := func() error {
			tx, err := w.BeginTx(ctx, nil) // BEGIN IMMEDIATE: another process may be migrating too
			if err != nil {
				return err
			}
			defer tx.Rollback()
			current, err := schemaVersion(ctx, tx)
			if err != nil {
				return err
			}
			if current >= m.version {
				return nil // applied meanwhile by another process
			}
			if current != m.version-1 {
				return fmt.Errorf("schema version %d, cannot apply migration %s", current, m.name)
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
				m.version, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			return tx.Commit()
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// Close closes the database. Transactions still running fail.
func (db *DB) Close() error {
	db.readStmts.close()
	db.writeStmts.close()
	return errors.Join(db.read.Close(), db.write.Close())
}

// Update runs fn in one write transaction (BEGIN IMMEDIATE ... COMMIT). If fn returns an
// error or panics, nothing it wrote lands and its error is returned unchanged. Updates run one
// at a time; fn must not call Update, PutMeta or GetMeta itself (it would wait for itself).
func (db *DB) Update(ctx context.Context, fn func(athena.Tx) error) (err error) {
	stx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	t := &tx{ctx: ctx, tx: stx, stmts: db.writeStmts}
	done := false
	defer func() {
		if !done {
			// fn panicked
			t.rollback()
		}
	}()
	if err := fn(t); err != nil {
		done = true
		t.rollback()
		return err
	}
	done = true
	if err := stx.Commit(); err != nil {
		t.undoSeqs()
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// View runs fn in a read-only transaction that sees one consistent snapshot.
func (db *DB) View(ctx context.Context, fn func(athena.Tx) error) error {
	stx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer stx.Rollback()
	return fn(&tx{ctx: ctx, tx: stx, stmts: db.readStmts})
}

// GetMeta returns the installation value stored under key, or an error wrapping
// athena.ErrNotFound.
func (db *DB) GetMeta(key string) (string, error) {
	var v string
	err := db.read.QueryRowContext(context.Background(), "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlite: meta %q: %w", key, athena.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: get meta %q: %w", key, err)
	}
	return v, nil
}

// PutMeta durably stores value under key, replacing any previous value.
func (db *DB) PutMeta(key, value string) error {
	_, err := db.write.ExecContext(context.Background(),
		"INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)
	if err != nil {
		return fmt.Errorf("sqlite: put meta %q: %w", key, err)
	}
	return nil
}
