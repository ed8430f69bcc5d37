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

// This file implements quiz.Store, but for LockScheduler (lock.go).

const slotColumns = `key, channel, due, manual, state, quiz_id`

type scanner interface{ Scan(dest ...any) error }

func scanSlot(row scanner) (quiz.SlotRecord, error) {
	var (
		r      quiz.SlotRecord
		due    int64
		state  string
		quizID sql.NullInt64
	)
	if err := row.Scan(&r.Key, &r.Channel, &due, &r.Manual, &state, &quizID); err != nil {
		return quiz.SlotRecord{}, err
	}
	r.Due = time.UnixMilli(due).UTC()
	r.State = quiz.SlotState(state)
	r.QuizID = quizID.Int64
	return r, nil
}

// Slot implements quiz.Store.
func (s *Store) Slot(ctx context.Context, key string) (quiz.SlotRecord, bool, error) {
	r, err := scanSlot(s.queryRow(ctx, `SELECT `+slotColumns+` FROM slots WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return quiz.SlotRecord{}, false, nil
	}
	if err != nil {
		return quiz.SlotRecord{}, false, fmt.Errorf("read slot %s: %w", key, err)
	}
	return r, true, nil
}

// PendingSlots implements quiz.Store.
func (s *Store) PendingSlots(ctx context.Context, channel string) ([]quiz.SlotRecord, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+slotColumns+` FROM slots
WHERE channel = ? AND state = 'claimed' ORDER BY due, key`), channel)
	if err != nil {
		return nil, fmt.Errorf("list pending slots of %s: %w", channel, err)
	}
	defer rows.Close()
	var out []quiz.SlotRecord
	for rows.Next() {
		r, err := scanSlot(rows)
		if err != nil {
			return nil, fmt.Errorf("list pending slots of %s: %w", channel, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// checkEpoch fails with quiz.ErrNotScheduler unless epoch is the current
// term of the channel's scheduler lock.
func checkEpoch(ctx context.Context, t tx, channel string, epoch int64) error {
	var cur int64
	err := t.row(ctx, `SELECT epoch FROM scheduler WHERE name = ?`, channel).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && cur != epoch) {
		return fmt.Errorf("term %d of the scheduler of %s: %w", epoch, channel, quiz.ErrNotScheduler)
	}
	return err
}

// ClaimSlot implements quiz.Store: the slot's primary key decides between
// two claims, and the quiz goes in with it in one transaction.
func (s *Store) ClaimSlot(ctx context.Context, sl quiz.Slot, nq quiz.NewQuiz, epoch int64) (qr quiz.QuizRecord, won bool, err error) {
	js, err := json.Marshal(nq.Question)
	if err != nil {
		return quiz.QuizRecord{}, false, fmt.Errorf("claim slot %s: %w", sl.Key, err)
	}
	var id int64
	err = s.tx(ctx, func(t tx) error {
		id, won = 0, false
		if err := checkEpoch(ctx, t, sl.Channel, epoch); err != nil {
			return err
		}
		res, err := t.exec(ctx, `
INSERT INTO slots (key, channel, due, manual, state, updated_at)
VALUES (?, ?, ?, ?, 'claimed', ?)
ON CONFLICT (key) DO NOTHING`, sl.Key, sl.Channel, ms(sl.Due), sl.Manual, ms(nq.CreatedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// A requested slot gets its quiz; any other stays as it is.
			rec, err := scanSlot(t.row(ctx, `SELECT `+slotColumns+` FROM slots WHERE key = ?`+s.lockRow(), sl.Key))
			if err != nil {
				return err
			}
			if rec.State != quiz.SlotClaimed || rec.QuizID != 0 {
				id = rec.QuizID
				return nil
			}
		}
		err = t.row(ctx, `
INSERT INTO quizzes (slot_key, channel, question_id, question, cycle, review, late, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			sl.Key, nq.Channel, nq.Question.ID, string(js), nq.Cycle, nq.Review, nq.Late, ms(nq.CreatedAt)).Scan(&id)
		if err != nil {
			return err
		}
		won = true
		_, err = t.exec(ctx, `UPDATE slots SET quiz_id = ? WHERE key = ?`, id, sl.Key)
		return err
	})
	if err != nil {
		return quiz.QuizRecord{}, false, fmt.Errorf("claim slot %s: %w", sl.Key, err)
	}
	if id == 0 {
		return quiz.QuizRecord{}, false, nil
	}
	qr, err = s.Quiz(ctx, id)
	return qr, won, err
}

// RequestPost implements quiz.Store. The look for a recent manual slot
// and the insert share a transaction under a lock (IMMEDIATE on SQLite, an
// advisory transaction lock per channel on PostgreSQL), so of two requests
// racing in two processes one wins.
func (s *Store) RequestPost(ctx context.Context, sl quiz.Slot, since time.Time) (rec quiz.SlotRecord, won bool, err error) {
	err = s.tx(ctx, func(t tx) error {
		won = false
		if s.pg {
			if _, err := t.exec(ctx, `SELECT pg_advisory_xact_lock(hashtext(?))`, "shipmate/manual/"+sl.Channel); err != nil {
				return err
			}
		}
		var err error
		rec, err = scanSlot(t.row(ctx, `SELECT `+slotColumns+` FROM slots
WHERE channel = ? AND manual AND due > ? AND state IN ('claimed', 'posted')
ORDER BY due DESC LIMIT 1`, sl.Channel, ms(since)))
		switch {
		case err == nil:
			return nil // refused: rec is the recent one
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		res, err := t.exec(ctx, `
INSERT INTO slots (key, channel, due, manual, state, updated_at)
VALUES (?, ?, ?, ?, 'claimed', ?)
ON CONFLICT (key) DO NOTHING`, sl.Key, sl.Channel, ms(sl.Due), true, ms(sl.Due))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		won = n == 1
		rec = quiz.SlotRecord{Slot: sl, State: quiz.SlotClaimed}
		rec.Manual = true
		return s.notify(ctx, t, kindRequest)
	})
	if err != nil {
		return quiz.SlotRecord{}, false, fmt.Errorf("request post %s: %w", sl.Key, err)
	}
	s.wakeLocal(kindRequest)
	return rec, won, nil
}

// SettleSlot implements quiz.Store.
func (s *Store) SettleSlot(ctx context.Context, sl quiz.Slot, state quiz.SlotState, now time.Time) (rec quiz.SlotRecord, err error) {
	if state != quiz.SlotMissed && state != quiz.SlotSkipped {
		return quiz.SlotRecord{}, fmt.Errorf("settle slot %s: cannot settle as %q", sl.Key, state)
	}
	err = s.tx(ctx, func(t tx) error {
		// A claimed slot is settled only if its quiz was never tried: one
		// whose post may have gone out is the scheduler's to reconcile.
		_, err := t.exec(ctx, `
INSERT INTO slots (key, channel, due, manual, state, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
WHERE slots.state = 'claimed' AND NOT EXISTS (
	SELECT 1 FROM quizzes q WHERE q.slot_key = slots.key AND q.post_started_at IS NOT NULL AND q.closed_at IS NULL)`,
			sl.Key, sl.Channel, ms(sl.Due), sl.Manual, string(state), ms(now))
		if err != nil {
			return err
		}
		rec, err = scanSlot(t.row(ctx, `SELECT `+slotColumns+` FROM slots WHERE key = ?`, sl.Key))
		if err != nil || (rec.State != quiz.SlotMissed && rec.State != quiz.SlotSkipped) {
			return err
		}
		_, err = t.exec(ctx, `
UPDATE quizzes SET closed_at = COALESCE(closed_at, ?)
WHERE slot_key = ? AND posted_at IS NULL`, ms(now), sl.Key)
		return err
	})
	if err != nil {
		return quiz.SlotRecord{}, fmt.Errorf("settle slot %s: %w", sl.Key, err)
	}
	return rec, nil
}

// GiveUpPost implements quiz.Store.
func (s *Store) GiveUpPost(ctx context.Context, quizID int64, now time.Time) error {
	err := s.tx(ctx, func(t tx) error {
		res, err := t.exec(ctx, `UPDATE quizzes SET closed_at = COALESCE(closed_at, ?) WHERE id = ? AND posted_at IS NULL`, ms(now), quizID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // posted meanwhile: nothing to give up
		}
		_, err = t.exec(ctx, `
UPDATE slots SET state = 'missed', updated_at = ?
WHERE state = 'claimed' AND key = (SELECT slot_key FROM quizzes WHERE id = ?)`, ms(now), quizID)
		return err
	})
	if err != nil {
		return fmt.Errorf("give up post of quiz %d: %w", quizID, err)
	}
	return nil
}

// StartPost implements quiz.Store.
func (s *Store) StartPost(ctx context.Context, quizID, epoch int64, at time.Time) error {
	err := s.tx(ctx, func(t tx) error {
		var channel string
		if err := t.row(ctx, `SELECT channel FROM quizzes WHERE id = ?`, quizID).Scan(&channel); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return quiz.ErrNotFound
			}
			return err
		}
		if err := checkEpoch(ctx, t, channel, epoch); err != nil {
			return err
		}
		_, err := t.exec(ctx, `UPDATE quizzes SET post_started_at = ? WHERE id = ? AND posted_at IS NULL`, ms(at), quizID)
		return err
	})
	if err != nil {
		return fmt.Errorf("start post of quiz %d: %w", quizID, err)
	}
	return nil
}

// MarkPosted implements quiz.Store. The first post's timestamp is kept.
func (s *Store) MarkPosted(ctx context.Context, quizID int64, p quiz.Posting) error {
	err := s.tx(ctx, func(t tx) error {
		res, err := t.exec(ctx, `
UPDATE quizzes SET message_ts = ?, posted_at = ?, reveal_at = ?,
	post_started_at = COALESCE(post_started_at, ?)
WHERE id = ? AND posted_at IS NULL`,
			p.MessageTS, ms(p.PostedAt), ms(p.RevealAt), ms(p.PostedAt), quizID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			if err := t.row(ctx, `SELECT 1 FROM quizzes WHERE id = ?`, quizID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return quiz.ErrNotFound
			}
			return nil
		}
		_, err = t.exec(ctx, `
UPDATE slots SET state = 'posted', updated_at = ?
WHERE key = (SELECT slot_key FROM quizzes WHERE id = ?)`, ms(p.PostedAt), quizID)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark quiz %d posted: %w", quizID, err)
	}
	return nil
}

const quizColumns = `q.id, q.slot_key, q.channel, q.question, q.cycle, q.review, q.late, q.message_ts,
	q.created_at, q.post_started_at, q.posted_at, q.reveal_at, q.closed_at, q.reveal_shown_at, q.result_ts, q.revealed_at,
	(SELECT COUNT(*) FROM answers a WHERE a.quiz_id = q.id),
	(SELECT COUNT(*) FROM answers a WHERE a.quiz_id = q.id AND a.correct)`

func scanQuiz(row scanner) (quiz.QuizRecord, error) {
	var (
		r                                                           quiz.QuizRecord
		js                                                          string
		created, started, posted, revealAt, closed, shown, revealed sql.NullInt64
	)
	err := row.Scan(&r.ID, &r.SlotKey, &r.Channel, &js, &r.Cycle, &r.Review, &r.Late, &r.MessageTS,
		&created, &started, &posted, &revealAt, &closed, &shown, &r.ResultTS, &revealed, &r.Answered, &r.Correct)
	if err != nil {
		return quiz.QuizRecord{}, err
	}
	var q content.Question
	if err := json.Unmarshal([]byte(js), &q); err != nil {
		return quiz.QuizRecord{}, fmt.Errorf("decode question of quiz %d: %w", r.ID, err)
	}
	r.Question = q
	r.CreatedAt, r.PostStartedAt, r.PostedAt = fromMS(created), fromMS(started), fromMS(posted)
	r.RevealAt, r.ClosedAt, r.RevealShownAt, r.RevealedAt = fromMS(revealAt), fromMS(closed), fromMS(shown), fromMS(revealed)
	return r, nil
}

// Quiz implements quiz.Store.
func (s *Store) Quiz(ctx context.Context, id int64) (quiz.QuizRecord, error) {
	r, err := scanQuiz(s.queryRow(ctx, `SELECT `+quizColumns+` FROM quizzes q WHERE q.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return quiz.QuizRecord{}, fmt.Errorf("quiz %d: %w", id, quiz.ErrNotFound)
	}
	if err != nil {
		return quiz.QuizRecord{}, fmt.Errorf("read quiz %d: %w", id, err)
	}
	return r, nil
}

func (s *Store) quizzes(ctx context.Context, where string, args ...any) ([]quiz.QuizRecord, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+quizColumns+` FROM quizzes q WHERE `+where+
		` ORDER BY COALESCE(q.posted_at, q.post_started_at), q.id`), args...)
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
func (s *Store) Quizzes(ctx context.Context, channel string) ([]quiz.QuizRecord, error) {
	out, err := s.quizzes(ctx, `q.channel = ? AND (q.posted_at IS NOT NULL OR q.post_started_at IS NOT NULL)`, channel)
	if err != nil {
		return nil, fmt.Errorf("list quizzes of %s: %w", channel, err)
	}
	return out, nil
}

// OpenQuizzes implements quiz.Store.
func (s *Store) OpenQuizzes(ctx context.Context, channel string) ([]quiz.QuizRecord, error) {
	out, err := s.quizzes(ctx, `q.channel = ? AND q.posted_at IS NOT NULL AND q.revealed_at IS NULL`, channel)
	if err != nil {
		return nil, fmt.Errorf("list open quizzes of %s: %w", channel, err)
	}
	return out, nil
}

// RequestReveal implements quiz.Store.
func (s *Store) RequestReveal(ctx context.Context, channel string, now time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(t tx) error {
		res, err := t.exec(ctx, `
UPDATE quizzes SET reveal_at = CASE WHEN reveal_at > ? THEN ? ELSE reveal_at END
WHERE channel = ? AND posted_at IS NOT NULL AND revealed_at IS NULL`, ms(now), ms(now), channel)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return s.notify(ctx, t, kindRequest)
	})
	if err != nil {
		return 0, fmt.Errorf("request reveal in %s: %w", channel, err)
	}
	s.wakeLocal(kindRequest)
	return int(n), nil
}

// CloseQuiz implements quiz.Store. On PostgreSQL the update waits for
// RecordAnswer transactions holding the quiz's row, so every answer
// committed before it is in the tally read after it, and none after.
func (s *Store) CloseQuiz(ctx context.Context, quizID, epoch int64, now time.Time) (quiz.QuizRecord, error) {
	err := s.tx(ctx, func(t tx) error {
		var channel string
		if err := t.row(ctx, `SELECT channel FROM quizzes WHERE id = ?`, quizID).Scan(&channel); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return quiz.ErrNotFound
			}
			return err
		}
		if err := checkEpoch(ctx, t, channel, epoch); err != nil {
			return err
		}
		_, err := t.exec(ctx, `UPDATE quizzes SET closed_at = ? WHERE id = ? AND closed_at IS NULL`, ms(now), quizID)
		return err
	})
	if err != nil {
		return quiz.QuizRecord{}, fmt.Errorf("close quiz %d: %w", quizID, err)
	}
	return s.Quiz(ctx, quizID)
}

// MarkRevealShown implements quiz.Store.
func (s *Store) MarkRevealShown(ctx context.Context, quizID int64, now time.Time) error {
	err := s.tx(ctx, func(t tx) error {
		_, err := t.exec(ctx, `UPDATE quizzes SET reveal_shown_at = COALESCE(reveal_shown_at, ?) WHERE id = ?`, ms(now), quizID)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark reveal of quiz %d shown: %w", quizID, err)
	}
	return nil
}

// MarkRevealed implements quiz.Store.
func (s *Store) MarkRevealed(ctx context.Context, quizID int64, resultTS string, now time.Time) error {
	err := s.tx(ctx, func(t tx) error {
		_, err := t.exec(ctx, `
UPDATE quizzes SET revealed_at = ?, result_ts = ?, closed_at = COALESCE(closed_at, ?)
WHERE id = ? AND revealed_at IS NULL`, ms(now), resultTS, ms(now), quizID)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark quiz %d revealed: %w", quizID, err)
	}
	return nil
}

// RecordAnswer implements quiz.Store: the check for an earlier answer or a
// closed quiz and the insert share one transaction holding the quiz's row
// (FOR SHARE on PostgreSQL, so answers go in together but not past a
// CloseQuiz; the IMMEDIATE lock on SQLite), and the
// primary key (quiz_id, user_id) backs it up.
func (s *Store) RecordAnswer(ctx context.Context, a quiz.AnswerRecord) (out quiz.AnswerOutcome, err error) {
	err = s.tx(ctx, func(t tx) error {
		out = quiz.AnswerOutcome{}
		var revealAt, closedAt, revealedAt sql.NullInt64
		err := t.row(ctx, `SELECT reveal_at, closed_at, revealed_at FROM quizzes WHERE id = ?`+s.shareRow(), a.QuizID).
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

		prev, err := scanAnswer(t.row(ctx, `SELECT `+answerColumns+` FROM answers WHERE quiz_id = ? AND user_id = ?`, a.QuizID, a.User))
		switch {
		case err == nil:
			out.Stored, out.Already = prev, true
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		case out.Closed:
			return nil
		}
		res, err := t.exec(ctx, `
INSERT INTO answers (quiz_id, user_id, choice, correct, answered_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (quiz_id, user_id) DO NOTHING`,
			a.QuizID, a.User, a.Choice, a.Correct, at)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			// Another connection's click by the same user got in first
			// (PostgreSQL: the insert waited for it to commit).
			prev, err := scanAnswer(t.row(ctx, `SELECT `+answerColumns+` FROM answers WHERE quiz_id = ? AND user_id = ?`, a.QuizID, a.User))
			if err != nil {
				return fmt.Errorf("read the answer that got in first: %w", err)
			}
			out.Stored, out.Already = prev, true
			return nil
		}
		out.Stored = a
		out.Stored.At = time.UnixMilli(at).UTC()
		return s.notify(ctx, t, kindAnswer)
	})
	if err != nil {
		return quiz.AnswerOutcome{}, fmt.Errorf("record answer of %s to quiz %d: %w", a.User, a.QuizID, err)
	}
	if !out.Already && !out.Closed {
		s.wakeLocal(kindAnswer)
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

func (s *Store) answers(ctx context.Context, query string, args ...any) ([]quiz.AnswerRecord, error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
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
func (s *Store) Answers(ctx context.Context, quizID int64) ([]quiz.AnswerRecord, error) {
	out, err := s.answers(ctx, `SELECT `+answerColumns+` FROM answers WHERE quiz_id = ? ORDER BY answered_at, user_id`, quizID)
	if err != nil {
		return nil, fmt.Errorf("list answers of quiz %d: %w", quizID, err)
	}
	return out, nil
}

// ChannelAnswers implements quiz.Store.
func (s *Store) ChannelAnswers(ctx context.Context, channel string) ([]quiz.AnswerRecord, error) {
	out, err := s.answers(ctx, `
SELECT a.quiz_id, a.user_id, a.choice, a.correct, a.answered_at
FROM answers a JOIN quizzes q ON q.id = a.quiz_id
WHERE q.channel = ? AND q.posted_at IS NOT NULL
ORDER BY a.answered_at, a.quiz_id, a.user_id`, channel)
	if err != nil {
		return nil, fmt.Errorf("list answers in %s: %w", channel, err)
	}
	return out, nil
}

// Paused implements quiz.Store.
func (s *Store) Paused(ctx context.Context, channel string) (bool, error) {
	var v string
	err := s.queryRow(ctx, `SELECT value FROM settings WHERE channel = ? AND name = 'paused'`, channel).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read pause state of %s: %w", channel, err)
	}
	return v == "1", nil
}

// SetPaused implements quiz.Store.
func (s *Store) SetPaused(ctx context.Context, channel string, paused bool, now time.Time) error {
	v := "0"
	if paused {
		v = "1"
	}
	err := s.tx(ctx, func(t tx) error {
		_, err := t.exec(ctx, `
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
