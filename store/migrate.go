package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; migrations[i] takes the schema from
// version i to i+1. Never edit one that has shipped: append a new one.
var migrations = []string{
	// 1: slots, quizzes and answers.
	`
CREATE TABLE slots (
	key         TEXT PRIMARY KEY,
	channel     TEXT NOT NULL,
	due         INTEGER NOT NULL,
	manual      INTEGER NOT NULL DEFAULT 0,
	state       TEXT NOT NULL CHECK (state IN ('claimed', 'posted', 'missed', 'skipped')),
	owner       TEXT NOT NULL DEFAULT '',
	lease_until INTEGER NOT NULL DEFAULT 0,
	quiz_id     INTEGER,
	updated_at  INTEGER NOT NULL
);
CREATE TABLE quizzes (
	id                 INTEGER PRIMARY KEY AUTOINCREMENT,
	slot_key           TEXT NOT NULL UNIQUE REFERENCES slots(key),
	channel            TEXT NOT NULL,
	question_id        TEXT NOT NULL,
	question           TEXT NOT NULL, -- JSON snapshot of content.Question
	cycle              INTEGER NOT NULL,
	review             INTEGER NOT NULL DEFAULT 0,
	late               INTEGER NOT NULL DEFAULT 0,
	created_at         INTEGER NOT NULL,
	message_ts         TEXT NOT NULL DEFAULT '',
	posted_at          INTEGER,
	reveal_at          INTEGER,
	closed_at          INTEGER,
	reveal_owner       TEXT NOT NULL DEFAULT '',
	reveal_lease_until INTEGER NOT NULL DEFAULT 0,
	reveal_attempts    INTEGER NOT NULL DEFAULT 0,
	revealed_at        INTEGER
);
CREATE INDEX quizzes_by_channel ON quizzes (channel, posted_at);
CREATE TABLE answers (
	quiz_id     INTEGER NOT NULL REFERENCES quizzes(id),
	user_id     TEXT NOT NULL,
	choice      INTEGER NOT NULL,
	correct     INTEGER NOT NULL,
	answered_at INTEGER NOT NULL,
	PRIMARY KEY (quiz_id, user_id)
);
`,
	// 2: per-channel settings (pause), and answers by user for stats.
	`
CREATE TABLE settings (
	channel    TEXT NOT NULL,
	name       TEXT NOT NULL,
	value      TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (channel, name)
);
CREATE INDEX answers_by_user ON answers (user_id);
`,
}

// migrate brings the schema to version target in one transaction, so a
// crash leaves the old version intact and two processes starting together
// migrate once.
func (s *SQLite) migrate(ctx context.Context, target int) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("create schema_version: %w", err)
		}
		var v int
		err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
		switch {
		case err == sql.ErrNoRows:
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return fmt.Errorf("init schema_version: %w", err)
			}
		case err != nil:
			return fmt.Errorf("read schema_version: %w", err)
		}
		if v > len(migrations) {
			return fmt.Errorf("database schema version %d is newer than this binary knows (%d); upgrade Shipmate", v, len(migrations))
		}
		for ; v < target; v++ {
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, v); err != nil {
			return fmt.Errorf("record schema version %d: %w", v, err)
		}
		return nil
	})
}
