package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"shipmate/content"
	"shipmate/quiz"
)

// This file implements quiz.Store.

const slotColumns = `key, channel, due, manual, state, owner, lease_until, quiz_id`

type scanner interface{ Scan(dest ...any) error }

func scanSlot(row scanner) (quiz.SlotRecord, error) {
	var (
		r            quiz.SlotRecord
		due, leaseMS int64
		state        string
		quizID       sql.NullInt64
	)
	err := row.Scan(&r.Key, &r.Channel, &due, &r.Manual, &state, &r.Owner, &leaseMS, &quizID)
	if err != nil {
		return quiz.SlotRecord{}, err
	}
	r.Due = time.UnixMilli(due).UTC()
	r.State = quiz.SlotState(state)
	r.LeaseUntil = fromMS(sql.NullInt64{Int64: leaseMS, Valid: true})
	r.QuizID = quizID.Int64
	return r, nil
}

// Slot implements quiz.Store.
func (s *SQLite) Slot(ctx context.Context, key string) (quiz.SlotRecord, bool, error) {
	r, err := scanSlot(s.r.QueryRowContext(ctx, `SELECT `+slotColumns+` FROM slots WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return quiz.SlotRecord{}, false, nil
	}
	if err != nil {
		return quiz.SlotRecord{}, false, fmt.Errorf("read slot %s: %w", key, err)
	}
	return r, true, nil
}

// ClaimSlot implements quiz.Store: INSERT … ON CONFLICT DO NOTHING, or
// take over a claim whose lease ended, in one IMMEDIATE transaction.
func (s *SQLite) ClaimSlot(ctx context.Context, sl quiz.Slot, owner string, now, leaseUntil time.Time) (rec quiz.SlotRecord, won bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		rec, won, err = claimSlot(ctx, tx, sl, owner, now, leaseUntil)
		return err
	})
	if err != nil {
		return quiz.SlotRecord{}, false, fmt.Errorf("claim slot %s: %w", sl.Key, err)
	}
	return rec, won, nil
}

// ClaimManualSlot implements quiz.Store: the look for a recent manual slot
// and the claim share one IMMEDIATE transaction, so of two requests racing
// in two processes one wins.
func (s *SQLite) ClaimManualSlot(ctx context.Context, sl quiz.Slot, owner string, since, now, leaseUntil time.Time) (rec quiz.SlotRecord, won bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		rec, err = scanSlot(tx.QueryRowContext(ctx, `SELECT `+slotColumns+` FROM slots
WHERE channel = ? AND manual AND due > ? AND state IN ('claimed', 'posted')
ORDER BY due DESC LIMIT 1`, sl.Channel, ms(since)))
		switch {
		case err == nil:
			return nil // refused: rec is the recent one
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		rec, won, err = claimSlot(ctx, tx, sl, owner, now, leaseUntil)
		return err
	})
	if err != nil {
		return quiz.SlotRecord{}, false, fmt.Errorf("claim manual slot %s: %w", sl.Key, err)
	}
	return rec, won, nil
}

func claimSlot(ctx context.Context, tx *sql.Tx, sl quiz.Slot, owner string, now, leaseUntil time.Time) (rec quiz.SlotRecord, won bool, err error) {
	res, err := tx.ExecContext(ctx, `
INSERT INTO slots (key, channel, due, manual, state, owner, lease_until, updated_at)
VALUES (?, ?, ?, ?, 'claimed', ?, ?, ?)
ON CONFLICT (key) DO NOTHING`,
		sl.Key, sl.Channel, ms(sl.Due), sl.Manual, owner, ms(leaseUntil), ms(now))
	if err != nil {
		return quiz.SlotRecord{}, false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		won = true
	} else {
		res, err := tx.ExecContext(ctx, `
UPDATE slots SET owner = ?, lease_until = ?, updated_at = ?
WHERE key = ? AND state = 'claimed' AND lease_until <= ?`,
			owner, ms(leaseUntil), ms(now), sl.Key, ms(now))
		if err != nil {
			return quiz.SlotRecord{}, false, err
		}
		n, _ := res.RowsAffected()
		won = n == 1
	}
	rec, err = scanSlot(tx.QueryRowContext(ctx, `SELECT `+slotColumns+` FROM slots WHERE key = ?`, sl.Key))
	return rec, won, err
}

// RenewClaim implements quiz.Store.
func (s *SQLite) RenewClaim(ctx context.Context, key, owner string, now, leaseUntil time.Time) (bool, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
UPDATE slots SET lease_until = ?, updated_at = ?
WHERE key = ? AND owner = ? AND state = 'claimed'`, ms(leaseUntil), ms(now), key, owner)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("renew claim on slot %s: %w", key, err)
	}
	return n == 1, nil
}

// SettleSlot implements quiz.Store.
func (s *SQLite) SettleSlot(ctx context.Context, sl quiz.Slot, state quiz.SlotState, owner string, now time.Time) (rec quiz.SlotRecord, err error) {
	if state != quiz.SlotMissed && state != quiz.SlotSkipped {
		return quiz.SlotRecord{}, fmt.Errorf("settle slot %s: cannot settle as %q", sl.Key, state)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
INSERT INTO slots (key, channel, due, manual, state, owner, lease_until, updated_at)
VALUES (?, ?, ?, ?, ?, ?, 0, ?)
ON CONFLICT (key) DO UPDATE SET state = excluded.state, lease_until = 0, updated_at = excluded.updated_at
WHERE slots.state = 'claimed' AND (slots.lease_until <= ? OR slots.owner = ?)`,
			sl.Key, sl.Channel, ms(sl.Due), sl.Manual, string(state), owner, ms(now), ms(now), owner)
		if err != nil {
			return err
		}
		rec, err = scanSlot(tx.QueryRowContext(ctx, `SELECT `+slotColumns+` FROM slots WHERE key = ?`, sl.Key))
		if err != nil || (rec.State != quiz.SlotMissed && rec.State != quiz.SlotSkipped) {
			return err
		}
		// A poster that crashed after posting but before MarkPosted left a
		// message nobody will reveal: close its quiz so clicks on it are
		// answered "closed" instead of recorded for nothing.
		_, err = tx.ExecContext(ctx, `
UPDATE quizzes SET closed_at = COALESCE(closed_at, ?)
WHERE slot_key = ? AND posted_at IS NULL`, ms(now), sl.Key)
		return err
	})
	if err != nil {
		return quiz.SlotRecord{}, fmt.Errorf("settle slot %s: %w", sl.Key, err)
	}
	return rec, nil
}

// CreateQuiz implements quiz.Store.
func (s *SQLite) CreateQuiz(ctx context.Context, slotKey, owner string, nq quiz.NewQuiz) (quiz.QuizRecord, error) {
	js, err := json.Marshal(nq.Question)
	if err != nil {
		return quiz.QuizRecord{}, fmt.Errorf("create quiz for slot %s: %w", slotKey, err)
	}
	var id int64
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var (
			state, holder string
			existing      sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT state, owner, quiz_id FROM slots WHERE key = ?`, slotKey).Scan(&state, &holder, &existing)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (state != string(quiz.SlotClaimed) || holder != owner)) {
			return quiz.ErrClaimLost
		}
		if err != nil {
			return err
		}
		if existing.Valid {
			id = existing.Int64
			return nil
		}
		err = tx.QueryRowContext(ctx, `
INSERT INTO quizzes (slot_key, channel, question_id, question, cycle, review, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			slotKey, nq.Channel, nq.Question.ID, string(js), nq.Cycle, nq.Review, ms(nq.CreatedAt)).Scan(&id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE slots SET quiz_id = ? WHERE key = ?`, id, slotKey)
		return err
	})
	if err != nil {
		return quiz.QuizRecord{}, fmt.Errorf("create quiz for slot %s: %w", slotKey, err)
	}
	return s.Quiz(ctx, id)
}

// MarkPosted implements quiz.Store. The first post's timestamp is kept if
// a quiz is somehow posted twice.
func (s *SQLite) MarkPosted(ctx context.Context, quizID int64, p quiz.Posting) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
UPDATE quizzes SET message_ts = ?, posted_at = ?, reveal_at = ?, late = ?
WHERE id = ? AND posted_at IS NULL`,
			p.MessageTS, ms(p.PostedAt), ms(p.RevealAt), p.Late, quizID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM quizzes WHERE id = ?`, quizID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return quiz.ErrNotFound
			}
		}
		_, err = tx.ExecContext(ctx, `
UPDATE slots SET state = 'posted', lease_until = 0, updated_at = ?
WHERE key = (SELECT slot_key FROM quizzes WHERE id = ?)`, ms(p.PostedAt), quizID)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark quiz %d posted: %w", quizID, err)
	}
	return nil
}

const quizColumns = `q.id, q.slot_key, q.channel, q.question, q.cycle, q.review, q.late, q.message_ts,
	q.created_at, q.posted_at, q.reveal_at, q.closed_at, q.reveal_lease_until, q.revealed_at,
	(SELECT COUNT(*) FROM answers a WHERE a.quiz_id = q.id),
	(SELECT COUNT(*) FROM answers a WHERE a.quiz_id = q.id AND a.correct)`

func scanQuiz(row scanner) (quiz.QuizRecord, error) {
	var (
		r                                                  quiz.QuizRecord
		js                                                 string
		created, posted, revealAt, closed, lease, revealed sql.NullInt64
	)
	err := row.Scan(&r.ID, &r.SlotKey, &r.Channel, &js, &r.Cycle, &r.Review, &r.Late, &r.MessageTS,
		&created, &posted, &revealAt, &closed, &lease, &revealed, &r.Answered, &r.Correct)
	if err != nil {
		return quiz.QuizRecord{}, err
	}
	var q content.Question
	if err := json.Unmarshal([]byte(js), &q); err != nil {
		return quiz.QuizRecord{}, fmt.Errorf("decode question of quiz %d: %w", r.ID, err)
	}
	r.Question = q
	r.CreatedAt, r.PostedAt, r.RevealAt = fromMS(created), fromMS(posted), fromMS(revealAt)
	r.ClosedAt, r.RevealLeaseUntil, r.RevealedAt = fromMS(closed), fromMS(lease), fromMS(revealed)
	return r, nil
}

// Quiz implements quiz.Store.
func (s *SQLite) Quiz(ctx context.Context, id int64) (quiz.QuizRecord, error) {
	r, err := scanQuiz(s.r.QueryRowContext(ctx, `SELECT `+quizColumns+` FROM quizzes q WHERE q.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return quiz.QuizRecord{}, fmt.Errorf("quiz %d: %w", id, quiz.ErrNotFound)
	}
	if err != nil {
		return quiz.QuizRecord{}, fmt.Errorf("read quiz %d: %w", id, err)
	}
	return r, nil
}

func (s *SQLite) quizzes(ctx context.Context, where string, args ...any) ([]quiz.QuizRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+quizColumns+` FROM quizzes q WHERE `+where+` ORDER BY q.posted_at, q.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []quiz.QuizRecord
	for rows.Next() {
		r, err := scanQuiz(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Quizzes implements quiz.Store.
func (s *SQLite) Quizzes(ctx context.Context, channel string) ([]quiz.QuizRecord, error) {
	out, err := s.quizzes(ctx, `q.channel = ? AND q.posted_at IS NOT NULL`, channel)
	if err != nil {
		return nil, fmt.Errorf("list quizzes of %s: %w", channel, err)
	}
	return out, nil
}

// OpenQuizzes implements quiz.Store.
func (s *SQLite) OpenQuizzes(ctx context.Context, channel string) ([]quiz.QuizRecord, error) {
	out, err := s.quizzes(ctx, `q.channel = ? AND q.posted_at IS NOT NULL AND q.revealed_at IS NULL`, channel)
	if err != nil {
		return nil, fmt.Errorf("list open quizzes of %s: %w", channel, err)
	}
	return out, nil
}

// ClaimReveal implements quiz.Store.
func (s *SQLite) ClaimReveal(ctx context.Context, quizID int64, owner string, now, leaseUntil time.Time) (attempt int, won bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
UPDATE quizzes
SET closed_at = COALESCE(closed_at, ?), reveal_owner = ?, reveal_lease_until = ?, reveal_attempts = reveal_attempts + 1
WHERE id = ? AND revealed_at IS NULL AND reveal_lease_until <= ?
RETURNING reveal_attempts`,
			ms(now), owner, ms(leaseUntil), quizID, ms(now)).Scan(&attempt)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		won = err == nil
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("claim reveal of quiz %d: %w", quizID, err)
	}
	return attempt, won, nil
}

// RenewReveal implements quiz.Store.
func (s *SQLite) RenewReveal(ctx context.Context, quizID int64, owner string, _, leaseUntil time.Time) (bool, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
UPDATE quizzes SET reveal_lease_until = ?
WHERE id = ? AND reveal_owner = ? AND revealed_at IS NULL`, ms(leaseUntil), quizID, owner)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("renew reveal claim on quiz %d: %w", quizID, err)
	}
	return n == 1, nil
}

// MarkRevealed implements quiz.Store.
func (s *SQLite) MarkRevealed(ctx context.Context, quizID int64, now time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
UPDATE quizzes SET revealed_at = ?, reveal_lease_until = 0, closed_at = COALESCE(closed_at, ?)
WHERE id = ? AND revealed_at IS NULL`, ms(now), ms(now), quizID)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark quiz %d revealed: %w", quizID, err)
	}
	return nil
}

// RecordAnswer implements quiz.Store: the check for an earlier answer or a
// closed quiz and the insert share one IMMEDIATE transaction, and the
// primary key (quiz_id, user_id) backs it up.
func (s *SQLite) RecordAnswer(ctx context.Context, a quiz.AnswerRecord) (out quiz.AnswerOutcome, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		out = quiz.AnswerOutcome{}
		var revealAt, closedAt, revealedAt sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT reveal_at, closed_at, revealed_at FROM quizzes WHERE id = ?`, a.QuizID).
			Scan(&revealAt, &closedAt, &revealedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return quiz.ErrNotFound
		}
		if err != nil {
			return err
		}
		at := a.At.UnixMilli()
		// closed_at is set when a reveal starts, whatever its clock says.
		out.Closed = revealedAt.Valid || closedAt.Valid || (revealAt.Valid && revealAt.Int64 <= at)

		prev, err := scanAnswer(tx.QueryRowContext(ctx, `SELECT `+answerColumns+` FROM answers WHERE quiz_id = ? AND user_id = ?`, a.QuizID, a.User))
		switch {
		case err == nil:
			out.Stored, out.Already = prev, true
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		case out.Closed:
			return nil
		}
		res, err := tx.ExecContext(ctx, `
INSERT INTO answers (quiz_id, user_id, choice, correct, answered_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (quiz_id, user_id) DO NOTHING`,
			a.QuizID, a.User, a.Choice, a.Correct, at)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errors.New("answer vanished inside its transaction")
		}
		out.Stored = a
		out.Stored.At = time.UnixMilli(at).UTC()
		return nil
	})
	if err != nil {
		return quiz.AnswerOutcome{}, fmt.Errorf("record answer of %s to quiz %d: %w", a.User, a.QuizID, err)
	}
	return out, nil
}

const answerColumns = `quiz_id, user_id, choice, correct, answered_at`

func scanAnswer(row scanner) (quiz.AnswerRecord, error) {
	var (
		a  quiz.AnswerRecord
		at int64
	)
	if err := row.Scan(&a.QuizID, &a.User, &a.Choice, &a.Correct, &at); err != nil {
		return quiz.AnswerRecord{}, err
	}
	a.At = time.UnixMilli(at).UTC()
	return a, nil
}

func (s *SQLite) answers(ctx context.Context, query string, args ...any) ([]quiz.AnswerRecord, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []quiz.AnswerRecord
	for rows.Next() {
		a, err := scanAnswer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Answers implements quiz.Store.
func (s *SQLite) Answers(ctx context.Context, quizID int64) ([]quiz.AnswerRecord, error) {
	out, err := s.answers(ctx, `SELECT `+answerColumns+` FROM answers WHERE quiz_id = ? ORDER BY answered_at, rowid`, quizID)
	if err != nil {
		return nil, fmt.Errorf("list answers of quiz %d: %w", quizID, err)
	}
	return out, nil
}

// ChannelAnswers implements quiz.Store.
func (s *SQLite) ChannelAnswers(ctx context.Context, channel string) ([]quiz.AnswerRecord, error) {
	out, err := s.answers(ctx, `
SELECT a.quiz_id, a.user_id, a.choice, a.correct, a.answered_at
FROM answers a JOIN quizzes q ON q.id = a.quiz_id
WHERE q.channel = ? AND q.posted_at IS NOT NULL
ORDER BY a.answered_at, a.rowid`, channel)
	if err != nil {
		return nil, fmt.Errorf("list answers in %s: %w", channel, err)
	}
	return out, nil
}

// Paused implements quiz.Store.
func (s *SQLite) Paused(ctx context.Context, channel string) (bool, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE channel = ? AND name = 'paused'`, channel).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read pause state of %s: %w", channel, err)
	}
	return v == "1", nil
}

// SetPaused implements quiz.Store.
func (s *SQLite) SetPaused(ctx context.Context, channel string, paused bool, now time.Time) error {
	v := "0"
	if paused {
		v = "1"
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
INSERT INTO settings (channel, name, value, updated_at) VALUES (?, 'paused', ?, ?)
ON CONFLICT (channel, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			channel, v, ms(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("set pause state of %s: %w", channel, err)
	}
	return nil
}
