// Package store keeps Shipmate's durable state in an embedded SQLite file
// (modernc.org/sqlite, pure Go, so the binary stays static) under DATA_DIR.
//
// The file uses a rollback journal (journal_mode=DELETE), not WAL: WAL needs
// shared memory between processes and does not work on a network file
// system, and deployments put DATA_DIR on one (EFS). Open switches a file
// left in WAL mode back, and refuses to run if it cannot. With
// synchronous=FULL a transaction is on disk when its method returns, and
// with a busy timeout several processes may share the file. Writes go
// through one connection per process and begin IMMEDIATE transactions, so
// deciding and writing happen under one lock (claims, first answers); reads
// use a small pool of read-only connections, which wait out a commit in
// progress. The schema is migrated at Open by an ordered list of
// migrations recorded in the schema_version table.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"shipmate/quiz"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the name of the database file inside the data directory.
const FileName = "shipmate.db"

// busyTimeout is how long a statement waits for another process's lock.
const busyTimeout = 10 * time.Second

// SQLite is the store. It is safe for concurrent use, and several SQLite
// values, in one process or several, may share one file.
type SQLite struct {
	w    *sql.DB // one connection: writes, in IMMEDIATE transactions
	r    *sql.DB // read-only connections
	path string
}

var _ quiz.Store = (*SQLite)(nil)

// Open opens (creating if needed) the store in dataDir and migrates it to
// the current schema.
func Open(ctx context.Context, dataDir string) (*SQLite, error) {
	return open(ctx, dataDir, len(migrations))
}

// open opens the store migrated to version target; tests use it to make
// files of older versions.
func open(ctx context.Context, dataDir string, target int) (*SQLite, error) {
	if dataDir == "" {
		return nil, errors.New("open store: no data directory")
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	path := filepath.Join(dataDir, FileName)
	ms := busyTimeout.Milliseconds()
	wq := url.Values{}
	wq.Set("_busy_timeout", fmt.Sprint(ms))
	wq.Set("_journal_mode", "DELETE")
	wq.Set("_synchronous", "FULL")
	wq.Set("_foreign_keys", "1")
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)

	rq := url.Values{}
	rq.Set("_busy_timeout", fmt.Sprint(ms))
	rq.Set("_foreign_keys", "1")
	rq.Set("_query_only", "1")
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)

	s := &SQLite{w: w, r: r, path: path}
	if err := s.checkJournalMode(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.migrate(ctx, target); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// checkJournalMode makes sure the file uses the rollback journal. SQLite
// leaves a file in WAL mode, without an error, when another connection (an
// older Shipmate still running, say) keeps it open in that mode; running
// on would then mix the two modes on a network file system.
func (s *SQLite) checkJournalMode(ctx context.Context) error {
	var mode string
	if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode (another process may have the file open in WAL mode): %w", err)
	}
	if !strings.EqualFold(mode, "delete") {
		return fmt.Errorf("journal mode is %q, want \"delete\": another process may still have the file open in WAL mode; stop it and start again", mode)
	}
	return nil
}

// Path returns the database file's path.
func (s *SQLite) Path() string { return s.path }

// Close closes the store's connections.
func (s *SQLite) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// SchemaVersion returns the schema version of the file.
func (s *SQLite) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// tx runs fn in an IMMEDIATE write transaction and commits it.
func (s *SQLite) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Times are stored as Unix milliseconds; 0 and NULL are the zero time.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid || v.Int64 == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}
