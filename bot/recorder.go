package bot

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"shipmate/metrics"
)

// What a reply leaves behind, the thread turn and the declined question,
// is written behind the reply: a worker hands it to the recorder and posts
// the reply at once, and the recorder writes what was handed over in the
// last batchDelay in one transaction. A commit on SQLite with
// synchronous=FULL creates and deletes a journal and syncs to disk several
// times: too slow to wait for on every reply, and at hundreds of replies a
// second too costly in CPU to repeat for each. Until a turn is written the
// bot reads it from memory, so a follow-up is read in its context however
// soon it comes; other replicas see it once it is written, a fraction of a
// second later. Stopping the bot writes what is left; a crash loses
// the last moment's turns and declined questions, which are context and
// statistics, not the quiz's records.

const (
	// batchDelay is how long the recorder gathers before it writes: at
	// 1,000 replies a second, ten commits a second instead of a thousand.
	batchDelay = 100 * time.Millisecond
	// maxQueued bounds what is handed over and not yet written; past it,
	// handing over waits.
	maxQueued = 4096
	// maxBatch bounds what one transaction writes.
	maxBatch = 256
	// batchWriteTimeout bounds one batch's write.
	batchWriteTimeout = 10 * time.Second
	// recorderCloseWait bounds how long stopping the bot waits for the
	// last records to be written.
	recorderCloseWait = time.Second
)

type threadKey struct{ channel, thread string }

// recorder writes thread turns and gaps in batches, and answers Thread
// with the turns not yet written included.
type recorder struct {
	mem     Memory
	keep    int
	log     *slog.Logger
	metrics *metrics.Metrics

	slots chan struct{} // one per record handed over and not yet written
	wake  chan struct{} // there is something to write

	mu      sync.Mutex
	turns   []ThreadTurn         // not yet taken by the writer
	gaps    []Gap                // likewise
	pending map[threadKey][]Turn // turns queued or being written, per thread, oldest first
	running bool                 // the writer runs; otherwise records are written at once
	stop    chan struct{}        // closed: write what is left, then end
	done    chan struct{}        // closed when the writer has ended
	syncs   chan chan struct{}   // write now, then close the channel sent
}

func newRecorder(mem Memory, keep int, log *slog.Logger, m *metrics.Metrics) *recorder {
	return &recorder{
		mem: mem, keep: keep, log: log, metrics: m,
		slots: make(chan struct{}, maxQueued), wake: make(chan struct{}, 1),
		pending: map[threadKey][]Turn{}, syncs: make(chan chan struct{}),
	}
}

// start runs the writer until close.
func (r *recorder) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		return
	}
	r.running = true
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go r.run(r.stop, r.done)
}

// close writes what was handed over, waiting at most until ctx ends, and
// stops the writer; later records are written as they come.
func (r *recorder) close(ctx context.Context) {
	r.mu.Lock()
	if !r.running {
		r.mu.Unlock()
		return
	}
	r.running = false
	close(r.stop)
	done := r.done
	r.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		r.log.Warn("stopped before every thread turn and declined question was written")
	}
}

// take waits for room for one more record; false if ctx ended first.
func (r *recorder) take(ctx context.Context) bool {
	select {
	case r.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *recorder) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// addTurn records turn t of thread (channel, thread): handed to the writer
// while it runs, written at once otherwise. It waits only while maxQueued
// records are waiting to be written.
func (r *recorder) addTurn(ctx context.Context, channel, thread string, t Turn) error {
	if !r.take(ctx) {
		return ctx.Err()
	}
	r.mu.Lock()
	if !r.running {
		r.mu.Unlock()
		<-r.slots
		return r.mem.AddTurn(ctx, channel, thread, t, r.keep, t.At)
	}
	k := threadKey{channel, thread}
	r.turns = append(r.turns, ThreadTurn{Channel: channel, Thread: thread, Turn: t})
	r.pending[k] = append(r.pending[k], t)
	r.mu.Unlock()
	r.signal()
	return nil
}

// addGap records g as AddGap does, without saying whether it was new:
// handed to the writer while it runs, written at once otherwise.
func (r *recorder) addGap(ctx context.Context, g Gap) error {
	if !r.take(ctx) {
		return ctx.Err()
	}
	r.mu.Lock()
	if !r.running {
		r.mu.Unlock()
		<-r.slots
		_, _, err := r.mem.AddGap(ctx, g)
		return err
	}
	r.gaps = append(r.gaps, g)
	r.mu.Unlock()
	r.signal()
	return nil
}

// thread returns the turns of (channel, thread), the ones not yet written
// included, oldest first; ok is false if Shipmate never answered in it.
func (r *recorder) thread(ctx context.Context, channel, thread string) ([]Turn, bool, error) {
	// Taken before the store is read: a turn written in between is then in
	// both, and mergeTurns keeps it once.
	r.mu.Lock()
	unwritten := slices.Clone(r.pending[threadKey{channel, thread}])
	r.mu.Unlock()
	turns, ok, err := r.mem.Thread(ctx, channel, thread)
	if err != nil || len(unwritten) == 0 {
		return turns, ok, err
	}
	turns = mergeTurns(turns, unwritten)
	if len(turns) > r.keep {
		turns = turns[len(turns)-r.keep:]
	}
	return turns, true, nil
}

// mergeTurns appends to stored the turns of unwritten that it does not end
// with: turns are written in order, so what the store has of unwritten is
// a prefix of it, at the end of stored.
func mergeTurns(stored, unwritten []Turn) []Turn {
	for n := min(len(stored), len(unwritten)); n > 0; n-- {
		if slices.EqualFunc(stored[len(stored)-n:], unwritten[:n], sameTurn) {
			return append(stored, unwritten[n:]...)
		}
	}
	return append(stored, unwritten...)
}

func sameTurn(a, b Turn) bool {
	return a.Question == b.Question && a.Answer == b.Answer && a.At.Equal(b.At) && slices.Equal(a.Services, b.Services)
}

func (r *recorder) run(stop, done chan struct{}) {
	defer close(done)
	delay := time.NewTimer(batchDelay)
	delay.Stop()
	for {
		select {
		case <-r.wake:
		case s := <-r.syncs:
			r.flush()
			close(s)
			continue
		case <-stop:
			r.flush()
			return
		}
		delay.Reset(batchDelay)
		select {
		case <-delay.C:
		case s := <-r.syncs:
			delay.Stop()
			r.flush()
			close(s)
			continue
		case <-stop:
			delay.Stop()
			r.flush()
			return
		}
		// What comes while a batch is written waits for the next
		// batchDelay, unless a full batch is waiting already: a commit
		// for each handful of records is what the delay is there to save.
		for r.writeBatch() == maxBatch {
		}
	}
}

// sync returns once what was handed over before it was called is written
// (or ctx ends), for a reader that must see it: the gaps report.
func (r *recorder) sync(ctx context.Context) {
	r.mu.Lock()
	running, done := r.running, r.done
	r.mu.Unlock()
	if !running {
		return // records are written as they come
	}
	s := make(chan struct{})
	select {
	case r.syncs <- s:
	case <-done:
		return
	case <-ctx.Done():
		return
	}
	select {
	case <-s:
	case <-ctx.Done():
	}
}

// flush writes what was handed over, a batch at a time, until nothing is
// left.
func (r *recorder) flush() {
	for r.writeBatch() > 0 {
	}
}

// writeBatch writes up to maxBatch of the records handed over, and returns
// how many.
func (r *recorder) writeBatch() int {
	r.mu.Lock()
	b := Batch{Keep: r.keep, Turns: take(&r.turns, maxBatch)}
	b.Gaps = take(&r.gaps, maxBatch-len(b.Turns))
	r.mu.Unlock()
	n := len(b.Turns) + len(b.Gaps)
	if n == 0 {
		return 0
	}
	r.write(b)
	r.mu.Lock()
	for _, tt := range b.Turns {
		k := threadKey{tt.Channel, tt.Thread}
		if p := r.pending[k]; len(p) > 1 {
			r.pending[k] = p[1:]
		} else {
			delete(r.pending, k)
		}
	}
	r.mu.Unlock()
	for range n {
		<-r.slots
	}
	return n
}

// take removes and returns up to n elements from the front of *q.
func take[T any](q *[]T, n int) []T {
	n = min(n, len(*q))
	out := slices.Clone((*q)[:n])
	if *q = (*q)[n:]; len(*q) == 0 {
		*q = nil
	}
	return out
}

func (r *recorder) write(b Batch) {
	ctx, cancel := context.WithTimeout(context.Background(), batchWriteTimeout)
	defer cancel()
	var err error
	if w, ok := r.mem.(Batcher); ok {
		err = w.WriteBatch(ctx, b)
	} else {
		for _, tt := range b.Turns {
			err = errors.Join(err, r.mem.AddTurn(ctx, tt.Channel, tt.Thread, tt.Turn, b.Keep, tt.Turn.At))
		}
		for _, g := range b.Gaps {
			_, _, gerr := r.mem.AddGap(ctx, g)
			err = errors.Join(err, gerr)
		}
	}
	if err != nil {
		r.metrics.StoreError("write_batch")
		r.log.Error("record thread turns and declined questions", "turns", len(b.Turns), "gaps", len(b.Gaps), "err", err)
	}
}
