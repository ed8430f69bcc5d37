package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"shipmate/bot"
)

// This file implements bot.Memory: thread turns, the learning loop's gaps,
// digest slots and App Home users.

var (
	_ bot.Memory  = (*Store)(nil)
	_ bot.Batcher = (*Store)(nil)
)

// AddTurn implements bot.ThreadStore. The turns of a thread are one JSON
// array, read and rewritten in one transaction (IMMEDIATE on SQLite, the
// row locked on PostgreSQL). Two turns racing into a thread that has none
// yet on PostgreSQL may keep only one: context, not a record, is at stake.
func (s *Store) AddTurn(ctx context.Context, channel, thread string, turn bot.Turn, keep int, at time.Time) error {
	err := s.tx(ctx, func(t tx) error {
		st, err := s.prepareTurns(ctx, t)
		if err != nil {
			return err
		}
		defer st.close()
		return st.add(ctx, channel, thread, turn, keep, at)
	})
	if err != nil {
		return fmt.Errorf("add turn to thread %s/%s: %w", channel, thread, err)
	}
	return nil
}

// WriteBatch implements bot.Batcher: AddTurn for each turn, in order, and
// AddGap for each gap, in one transaction, so one commit (one sync to disk)
// records them all. A turn's At is its thread's time of last use. On
// PostgreSQL the thread rows are locked in (channel, thread) order, so two
// batches cannot deadlock.
func (s *Store) WriteBatch(ctx context.Context, b bot.Batch) error {
	if len(b.Turns) == 0 && len(b.Gaps) == 0 {
		return nil
	}
	turns := slices.Clone(b.Turns)
	slices.SortStableFunc(turns, func(a, b bot.ThreadTurn) int {
		return cmp.Or(cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Thread, b.Thread))
	})
	err := s.tx(ctx, func(t tx) error {
		if len(turns) > 0 {
			st, err := s.prepareTurns(ctx, t)
			if err != nil {
				return err
			}
			defer st.close()
			for _, tt := range turns {
				if err := st.add(ctx, tt.Channel, tt.Thread, tt.Turn, b.Keep, tt.Turn.At); err != nil {
					return fmt.Errorf("thread %s/%s: %w", tt.Channel, tt.Thread, err)
				}
			}
		}
		for _, g := range b.Gaps {
			_, err := t.exec(ctx, `
INSERT INTO gaps (key, kind, question, terms, answer, comment, user_id, at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key) DO NOTHING`,
				sql.NullString{String: g.Key, Valid: g.Key != ""}, string(g.Kind), g.Question, strings.Join(g.Terms, " "), g.Answer, g.Comment, g.User, ms(g.At))
			if err != nil {
				return fmt.Errorf("%s gap: %w", g.Kind, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write %d turns and %d gaps: %w", len(b.Turns), len(b.Gaps), err)
	}
	return nil
}

// turnStmts are the statements that add a turn, prepared once for a
// transaction's turns.
type turnStmts struct{ read, write *sql.Stmt }

func (s *Store) prepareTurns(ctx context.Context, t tx) (turnStmts, error) {
	read, err := t.PrepareContext(ctx, s.q(`SELECT turns FROM threads WHERE channel = ? AND thread_ts = ?`+s.lockRow()))
	if err != nil {
		return turnStmts{}, err
	}
	write, err := t.PrepareContext(ctx, s.q(`
INSERT INTO threads (channel, thread_ts, turns, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (channel, thread_ts) DO UPDATE SET turns = excluded.turns, updated_at = excluded.updated_at`))
	if err != nil {
		read.Close()
		return turnStmts{}, err
	}
	return turnStmts{read, write}, nil
}

func (st turnStmts) close() { st.read.Close(); st.write.Close() }

// add appends turn to the thread's turns, keeping the newest keep.
func (st turnStmts) add(ctx context.Context, channel, thread string, turn bot.Turn, keep int, at time.Time) error {
	keep = max(keep, 1)
	var raw string
	err := st.read.QueryRowContext(ctx, channel, thread).Scan(&raw)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	turns, err := decodeTurns(raw)
	if err != nil {
		return err
	}
	turns = append(turns, turn)
	if len(turns) > keep {
		turns = turns[len(turns)-keep:]
	}
	js, err := json.Marshal(turns)
	if err != nil {
		return err
	}
	_, err = st.write.ExecContext(ctx, channel, thread, string(js), ms(at))
	return err
}

// Thread implements bot.ThreadStore.
func (s *Store) Thread(ctx context.Context, channel, thread string) ([]bot.Turn, bool, error) {
	var raw string
	err := s.queryRow(ctx, `SELECT turns FROM threads WHERE channel = ? AND thread_ts = ?`, channel, thread).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err == nil {
		var turns []bot.Turn
		turns, err = decodeTurns(raw)
		if err == nil {
			return turns, true, nil
		}
	}
	return nil, false, fmt.Errorf("read thread %s/%s: %w", channel, thread, err)
}

func decodeTurns(raw string) ([]bot.Turn, error) {
	if raw == "" {
		return nil, nil
	}
	var turns []bot.Turn
	if err := json.Unmarshal([]byte(raw), &turns); err != nil {
		return nil, fmt.Errorf("decode turns: %w", err)
	}
	return turns, nil
}

// PruneThreads implements bot.ThreadStore.
func (s *Store) PruneThreads(ctx context.Context, before time.Time) (int, error) {
	return s.pruneRows(ctx, "threads", `DELETE FROM threads WHERE updated_at < ?`, before)
}

// AddGap implements bot.GapStore: the key's unique constraint decides
// whether the gap is new.
func (s *Store) AddGap(ctx context.Context, g bot.Gap) (id int64, added bool, err error) {
	key := sql.NullString{String: g.Key, Valid: g.Key != ""}
	err = s.tx(ctx, func(t tx) error {
		err := t.row(ctx, `
INSERT INTO gaps (key, kind, question, terms, answer, comment, user_id, at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key) DO NOTHING
RETURNING id`,
			key, string(g.Kind), g.Question, strings.Join(g.Terms, " "), g.Answer, g.Comment, g.User, ms(g.At)).Scan(&id)
		if err == nil {
			added = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return t.row(ctx, `SELECT id FROM gaps WHERE key = ?`, key).Scan(&id)
	})
	if err != nil {
		return 0, false, fmt.Errorf("add %s gap: %w", g.Kind, err)
	}
	return id, added, nil
}

// CommentGap implements bot.GapStore.
func (s *Store) CommentGap(ctx context.Context, id int64, user, comment string) (bool, error) {
	var n int64
	err := s.tx(ctx, func(t tx) error {
		res, err := t.exec(ctx, `UPDATE gaps SET comment = ? WHERE id = ? AND user_id = ?`, comment, id, user)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("comment on gap %d: %w", id, err)
	}
	return n == 1, nil
}

// Gaps implements bot.GapStore.
func (s *Store) Gaps(ctx context.Context, since time.Time, limit int) ([]bot.Gap, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`
SELECT id, COALESCE(key, ''), kind, question, terms, answer, comment, user_id, at FROM (
	SELECT * FROM gaps WHERE at >= ? ORDER BY at DESC, id DESC LIMIT ?
) AS recent ORDER BY at, id`), ms(since), max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("read gaps: %w", err)
	}
	defer rows.Close()
	var out []bot.Gap
	for rows.Next() {
		var (
			g           bot.Gap
			kind, terms string
			at          int64
		)
		if err := rows.Scan(&g.ID, &g.Key, &kind, &g.Question, &terms, &g.Answer, &g.Comment, &g.User, &at); err != nil {
			return nil, fmt.Errorf("read gaps: %w", err)
		}
		g.Kind, g.Terms, g.At = bot.GapKind(kind), strings.Fields(terms), time.UnixMilli(at).UTC()
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read gaps: %w", err)
	}
	return out, nil
}

// PruneGaps implements bot.GapStore.
func (s *Store) PruneGaps(ctx context.Context, before time.Time) (int, error) {
	return s.pruneRows(ctx, "gaps", `DELETE FROM gaps WHERE at < ?`, before)
}

// ClaimDigest implements bot.GapStore: the slot key's primary key decides.
// Claims are kept for a year and then pruned.
func (s *Store) ClaimDigest(ctx context.Context, key string, at time.Time) (bool, error) {
	var n int64
	err := s.tx(ctx, func(t tx) error {
		res, err := t.exec(ctx, `INSERT INTO digests (key, claimed_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, ms(at))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = t.exec(ctx, `DELETE FROM digests WHERE claimed_at < ?`, ms(at.AddDate(-1, 0, 0)))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim digest %s: %w", key, err)
	}
	return n == 1, nil
}

// HomeOpened implements bot.HomeStore.
func (s *Store) HomeOpened(ctx context.Context, user string, at time.Time) error {
	err := s.tx(ctx, func(t tx) error {
		_, err := t.exec(ctx, `
INSERT INTO homes (user_id, opened_at) VALUES (?, ?)
ON CONFLICT (user_id) DO UPDATE SET opened_at = excluded.opened_at WHERE homes.opened_at < excluded.opened_at`, user, ms(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("record App Home of %s: %w", user, err)
	}
	return nil
}

// HomeUsers implements bot.HomeStore.
func (s *Store) HomeUsers(ctx context.Context, since time.Time, limit int) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT user_id FROM homes WHERE opened_at >= ? ORDER BY opened_at DESC, user_id LIMIT ?`), ms(since), max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("read App Home users: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("read App Home users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read App Home users: %w", err)
	}
	return out, nil
}

// HasHome implements bot.HomeStore.
func (s *Store) HasHome(ctx context.Context, user string, since time.Time) (bool, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM homes WHERE user_id = ? AND opened_at >= ?`, user, ms(since)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read App Home of %s: %w", user, err)
	}
	return n > 0, nil
}

// PruneHomes implements bot.HomeStore.
func (s *Store) PruneHomes(ctx context.Context, before time.Time) (int, error) {
	return s.pruneRows(ctx, "App Home users", `DELETE FROM homes WHERE opened_at < ?`, before)
}

func (s *Store) pruneRows(ctx context.Context, what, query string, before time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(t tx) error {
		res, err := t.exec(ctx, query, ms(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune %s: %w", what, err)
	}
	return int(n), nil
}
