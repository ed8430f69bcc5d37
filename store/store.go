// Package store keeps Shipmate's durable state: the quiz (slots, quizzes,
// answers, settings), the scheduler lock and the events already handled.
// One implementation, Store, runs on two databases:
//
//   - SQLite (modernc.org/sqlite, pure Go, so the binary stays static), a
//     file under DATA_DIR: the zero-config default, for one process. The
//     file uses a rollback journal (journal_mode=DELETE), not WAL, since
//     WAL needs shared memory and a data directory may sit on a network
//     file system; synchronous=FULL makes a transaction durable when its
//     method returns. Writes go through one connection and begin
//     IMMEDIATE transactions, so deciding and writing happen under one
//     lock; reads use a small pool of read-only connections. The scheduler
//     lock is an exclusive lock (flock) on a file beside the database,
//     which the kernel releases when its holder dies.
//   - PostgreSQL (pgx v5), when DATABASE_URL is set: for several replicas.
//     The scheduler lock is a session-level advisory lock held on its own
//     connection, released by the server when that connection ends (the
//     holder exits or dies); answers, PostNow requests and RevealNow
//     requests NOTIFY the scheduler through that connection.
//
// Exactly-once comes from the database on both: unique keys (a slot, an
// answer per user and quiz, an event id) and conditional updates. The
// schema is versioned: migrations are applied once, under a database lock,
// by whichever process starts first.
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
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"shipmate/quiz"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the name of the SQLite database file inside the data directory.
const FileName = "shipmate.db"

// busyTimeout is how long a statement waits for another process's lock.
const busyTimeout = 10 * time.Second

// Store is the durable state on SQLite or PostgreSQL. It is safe for
// concurrent use, and several Stores, in one process or several, may share
// one database.
type Store struct {
	w       *sql.DB // writes (SQLite: one connection, IMMEDIATE transactions)
	r       *sql.DB // reads (SQLite: read-only connections; PostgreSQL: w)
	pg      bool
	pgCfg   *pgx.ConnConfig // for the scheduler lock's own connection
	path    string          // the SQLite file
	hub     *hub            // wake-ups within this process
	pruneMu sync.Mutex
	pruned  time.Time
}

var _ quiz.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite store in dataDir and migrates
// it to the current schema.
func Open(ctx context.Context, dataDir string) (*Store, error) {
	return openSQLite(ctx, dataDir, len(sqliteMigrations))
}

// OpenURL opens the PostgreSQL store at a postgres:// URL and migrates it
// to the current schema.
func OpenURL(ctx context.Context, databaseURL string) (*Store, error) {
	return openPostgres(ctx, databaseURL, len(postgresMigrations))
}

// openSQLite opens the store migrated to version target; tests use it to
// make files of older versions.
func openSQLite(ctx context.Context, dataDir string, target int) (*Store, error) {
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

	s := &Store{w: w, r: r, path: path, hub: hubFor(path)}
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

func openPostgres(ctx context.Context, databaseURL string, target int) (*Store, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		// pgx's message can quote the URL, password included.
		return nil, errors.New("DATABASE_URL is not a valid postgres:// URL or key=value connection string")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{w: db, r: db, pg: true, pgCfg: cfg, hub: &hub{}}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cfg.Host, cfg.Port, redactErr(err, cfg.Password))
	}
	if err := s.migrate(ctx, target); err != nil {
		db.Close()
		return nil, fmt.Errorf("PostgreSQL at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return s, nil
}

// redactErr drops a password that an error message might quote.
func redactErr(err error, password string) error {
	if password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "REDACTED"))
}

// checkJournalMode makes sure the SQLite file uses the rollback journal.
// SQLite leaves a file in WAL mode, without an error, when another
// connection (an older Shipmate still running, say) keeps it open in that
// mode; running on would then mix the two modes on a network file system.
func (s *Store) checkJournalMode(ctx context.Context) error {
	var mode string
	if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode (another process may have the file open in WAL mode): %w", err)
	}
	if !strings.EqualFold(mode, "delete") {
		return fmt.Errorf("journal mode is %q, want \"delete\": another process may still have the file open in WAL mode; stop it and start again", mode)
	}
	return nil
}

// Path returns the SQLite database file's path; empty on PostgreSQL.
func (s *Store) Path() string { return s.path }

// Kind names the database: "sqlite" or "postgres".
func (s *Store) Kind() string {
	if s.pg {
		return "postgres"
	}
	return "sqlite"
}

// Close closes the store's connections.
func (s *Store) Close() error {
	if s.pg {
		return s.w.Close()
	}
	return errors.Join(s.r.Close(), s.w.Close())
}

// SchemaVersion returns the schema version of the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// q rewrites a query written with ? placeholders for the database: $1, $2,
// … on PostgreSQL. No query here has a ? inside a string literal.
func (s *Store) q(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// tx is a transaction with the store's placeholder rewriting.
type tx struct {
	*sql.Tx
	s *Store
}

func (t tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.ExecContext(ctx, t.s.q(query), args...)
}

func (t tx) row(ctx context.Context, query string, args ...any) *sql.Row {
	return t.QueryRowContext(ctx, t.s.q(query), args...)
}

// lockRow is the row lock a transaction takes on a quiz it reads to decide
// (FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions already
// serialize writers).
func (s *Store) lockRow() string {
	if s.pg {
		return " FOR UPDATE"
	}
	return ""
}

// shareRow is lockRow's shared form: it keeps the row from changing
// without keeping other readers that lock it out.
func (s *Store) shareRow() string {
	if s.pg {
		return " FOR SHARE"
	}
	return ""
}

// tx runs fn in a write transaction and commits it; on PostgreSQL a
// serialization failure or deadlock is retried.
func (s *Store) tx(ctx context.Context, fn func(tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tx1(ctx, fn)
		if err == nil || !s.pg || attempt == 3 || !retryable(err) {
			return err
		}
	}
}

func (s *Store) tx1(ctx context.Context, fn func(tx) error) error {
	t, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx{t, s}); err != nil {
		_ = t.Rollback()
		return err
	}
	return t.Commit()
}

// retryable reports a PostgreSQL serialization failure or deadlock.
func retryable(err error) bool {
	var code interface{ SQLState() string }
	if errors.As(err, &code) {
		switch code.SQLState() {
		case "40001", "40P01":
			return true
		}
	}
	return false
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.r.QueryRowContext(ctx, s.q(query), args...)
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
