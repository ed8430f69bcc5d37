package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"shipmate/quiz"
)

// lockPoll is how often a process waiting for the scheduler lock asks for
// it again, and so how soon it takes over after the holder dies.
const lockPoll = 500 * time.Millisecond

// notifyChannel is the PostgreSQL NOTIFY channel that wakes the scheduler.
const notifyChannel = "shipmate_quiz"

// term is one holding of the scheduler lock.
type term struct {
	epoch    int64
	lost     chan struct{}
	wake     chan struct{}
	answered chan struct{}
	release  func()
	once     sync.Once
}

func newTerm(epoch int64) *term {
	return &term{epoch: epoch, lost: make(chan struct{}), wake: make(chan struct{}, 1), answered: make(chan struct{}, 1)}
}

func (t *term) Epoch() int64          { return t.epoch }
func (t *term) Lost() <-chan struct{} { return t.lost }
func (t *term) Wake() <-chan struct{} { return t.wake }
func (t *term) Release()              { t.once.Do(t.release) }

// Answered implements quiz.Term.
func (t *term) Answered() <-chan struct{} { return t.answered }

// poke delivers a wake-up of a kind: a new answer, or anything else.
func (t *term) poke(kind string) {
	if kind == kindAnswer {
		poke(t.answered)
	} else {
		poke(t.wake)
	}
}

func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// LockScheduler implements quiz.Store: on SQLite an exclusive flock on
// the database's lock file, on PostgreSQL a session-level advisory lock
// on a connection of its own. Either is released when the holder's
// process ends, however it ends, so another takes over within lockPoll.
func (s *Store) LockScheduler(ctx context.Context, name string) (quiz.Term, error) {
	if s.pg {
		return s.lockPostgres(ctx, name)
	}
	return s.lockSQLite(ctx, name)
}

// newEpoch starts a new term of the named lock, which the caller holds.
func (s *Store) newEpoch(ctx context.Context, name string) (int64, error) {
	host, _ := os.Hostname()
	holder := fmt.Sprintf("%s/%d", host, os.Getpid())
	var epoch int64
	err := s.tx(ctx, func(t tx) error {
		return t.row(ctx, `
INSERT INTO scheduler (name, epoch, holder, since) VALUES (?, 1, ?, ?)
ON CONFLICT (name) DO UPDATE SET epoch = scheduler.epoch + 1, holder = excluded.holder, since = excluded.since
RETURNING epoch`, name, holder, time.Now().UnixMilli()).Scan(&epoch)
	})
	if err != nil {
		return 0, fmt.Errorf("start scheduler term: %w", err)
	}
	return epoch, nil
}

func (s *Store) lockSQLite(ctx context.Context, name string) (quiz.Term, error) {
	path := s.path + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open scheduler lock %s: %w", path, err)
	}
	tick := time.NewTicker(lockPoll)
	defer tick.Stop()
	for {
		ok, err := tryFlock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
	epoch, err := s.newEpoch(ctx, name)
	if err != nil {
		f.Close() // closing the file releases the lock
		return nil, err
	}
	t := newTerm(epoch)
	unsub := s.hub.subscribe(t)
	wctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchWakeFile(wctx, s.path+wakeSuffix, t)
	}()
	t.release = func() {
		unsub()
		stop()
		<-done
		f.Close()
	}
	return t, nil
}

// Processes that share one SQLite file (a rolling deploy on a shared
// volume, say) wake each other's scheduler through a small file beside
// the database: every wake-up rewrites it, and the scheduling process
// reads it every lockPoll. The file holds the writer's pid, a counter and
// the kind of wake-up.
const wakeSuffix = ".wake"

var wakeSeq atomic.Int64

// touchWake tells a scheduler in another process that shares the file.
func (s *Store) touchWake(kind string) {
	line := fmt.Sprintf("%d %d %s\n", os.Getpid(), wakeSeq.Add(1), kind)
	_ = os.WriteFile(s.path+wakeSuffix, []byte(line), 0o640)
}

// watchWakeFile pokes t for each wake-up another process writes to path,
// until ctx ends.
func watchWakeFile(ctx context.Context, path string, t *term) {
	last, _ := os.ReadFile(path)
	tick := time.NewTicker(lockPoll)
	defer tick.Stop()
	self := strconv.Itoa(os.Getpid()) + " "
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		b, err := os.ReadFile(path)
		if err != nil || bytes.Equal(b, last) {
			continue
		}
		last = b
		line := string(b)
		switch {
		case strings.HasPrefix(line, self):
			// This process's own, delivered through the hub already.
		case strings.HasSuffix(strings.TrimSpace(line), " "+kindAnswer):
			t.poke(kindAnswer)
		default:
			// A request, or a file caught mid-write: look at the store.
			t.poke(kindRequest)
		}
	}
}

func (s *Store) lockPostgres(ctx context.Context, name string) (quiz.Term, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pgCfg)
	if err != nil {
		return nil, fmt.Errorf("connect for the scheduler lock: %w", redactErr(err, s.pgCfg.Password))
	}
	closeConn := func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(cctx)
	}
	tick := time.NewTicker(lockPoll)
	defer tick.Stop()
	for {
		var ok bool
		err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, "shipmate/scheduler/"+name).Scan(&ok)
		if err != nil {
			closeConn()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("take the scheduler lock: %w", err)
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			closeConn()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
	if _, err := conn.Exec(ctx, `LISTEN `+notifyChannel); err != nil {
		closeConn()
		return nil, fmt.Errorf("listen for scheduler wake-ups: %w", err)
	}
	epoch, err := s.newEpoch(ctx, name)
	if err != nil {
		closeConn()
		return nil, err
	}
	t := newTerm(epoch)
	unsub := s.hub.subscribe(t)
	wctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchLock(wctx, conn, t)
	}()
	t.release = func() {
		unsub()
		stop()
		<-done
		closeConn() // ends the session, and with it the lock
	}
	return t, nil
}

// watchLock waits for notifications on the lock's connection, and checks
// every few seconds that the connection (and so the lock) is still there.
func watchLock(ctx context.Context, conn *pgx.Conn, t *term) {
	for {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			t.poke(n.Payload)
			continue
		}
		if pgconn.Timeout(err) {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = conn.Ping(pctx)
			cancel()
			if err == nil || ctx.Err() != nil {
				continue
			}
		}
		close(t.lost)
		return
	}
}

// Kinds of wake-up: a new answer (the count to show changed), or a
// request the scheduler must act on.
const (
	kindAnswer  = "answer"
	kindRequest = "request"
)

// notify wakes the scheduler of other processes when t commits (PostgreSQL).
func (s *Store) notify(ctx context.Context, t tx, kind string) error {
	if !s.pg {
		return nil
	}
	_, err := t.exec(ctx, `SELECT pg_notify(?, ?)`, notifyChannel, kind)
	return err
}

// wakeLocal wakes a scheduler of this process at once, and one of another
// process sharing the SQLite file within lockPoll.
func (s *Store) wakeLocal(kind string) {
	s.hub.wake(kind)
	if !s.pg {
		s.touchWake(kind)
	}
}

// hubs are the SQLite files' hubs, so that every Store of a file in this
// process wakes its scheduler. (Processes sharing a file wake each other
// through the wake file.)
var hubs sync.Map

func hubFor(path string) *hub {
	h, _ := hubs.LoadOrStore(path, &hub{})
	return h.(*hub)
}

// hub hands wake-ups to the scheduler terms held in this process.
type hub struct {
	mu   sync.Mutex
	subs map[*term]bool
}

func (h *hub) subscribe(t *term) (unsubscribe func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[*term]bool{}
	}
	h.subs[t] = true
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, t)
	}
}

func (h *hub) wake(kind string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for t := range h.subs {
		t.poke(kind)
	}
}
