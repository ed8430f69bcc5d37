package bot_test

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"shipmate/internal/fakeslack"
)

// Load targets: every mention acked and answered, acks well inside Slack's
// 3 s deadline, and a small footprint.
const (
	loadMentions  = 1000
	loadRate      = 200 // mentions per second
	targetAckP99  = 50 * time.Millisecond
	targetPeakRSS = 100 << 20
)

type loadResult struct {
	sent, acked, replies               int
	ackP50, ackP99, ackMax             time.Duration
	replyP50, replyP99, replyMax       time.Duration
	elapsed                            time.Duration
	peakRSS                            int64 // bytes, VmHWM of the test process (fake Slack included) during the run
	duplicateReplies, unansweredEvents int
}

func (r loadResult) String() string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
	return fmt.Sprintf("sent %d in %v; acked %d (p50 %s, p99 %s, max %s); replies %d (p50 %s, p99 %s, max %s), %d duplicate, %d missing; peak RSS %.1f MB",
		r.sent, r.elapsed.Round(time.Millisecond), r.acked, ms(r.ackP50), ms(r.ackP99), ms(r.ackMax),
		r.replies, ms(r.replyP50), ms(r.replyP99), ms(r.replyMax), r.duplicateReplies, r.unansweredEvents,
		float64(r.peakRSS)/(1<<20))
}

// runLoad sends n mentions at rate per second through the fake Slack and
// measures acks and replies.
func runLoad(tb testing.TB, n, rate int) loadResult {
	tb.Helper()
	h := launch(tb, setup{})
	defer func() {
		if err := h.shutdown(); err != nil {
			tb.Errorf("Run = %v, want nil", err)
		}
	}()
	if err := h.srv.WaitConnections(h.ctx, 1); err != nil {
		tb.Fatalf("bot did not connect: %v", err)
	}
	ix := sharedIndex(tb)
	var questions []string
	for _, s := range ix.Base().Scenarios {
		questions = append(questions, s.Examples...)
	}

	resetPeakRSS(tb)

	sentAt := make(map[string]time.Time, n) // mention ts → when sent
	acks := make([]<-chan fakeslack.Ack, 0, n)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	began := time.Now()
	for i := range n {
		<-tick.C
		ev := h.srv.AppMention(fmt.Sprintf("U%d", i%50), fmt.Sprintf("C%d", i%20), "<@UBOT> "+questions[i%len(questions)])
		sentAt[ev["ts"].(string)] = time.Now()
		acks = append(acks, h.srv.SendAsync(h.ctx, h.srv.EventEnvelope("", ev)))
	}
	r := loadResult{sent: n}
	var ackLat []time.Duration
	for _, ch := range acks {
		a := <-ch
		if a.Err == nil {
			r.acked++
			ackLat = append(ackLat, a.Latency)
		}
	}
	// Collected after sending, so the waits do not slow the run.
	var posts []fakeslack.Call
	err := h.srv.WaitFor(h.ctx, func(cs []fakeslack.Call) bool {
		posts = okCalls(cs, "chat.postMessage", "")
		return len(posts) >= r.acked
	})
	if err != nil {
		tb.Errorf("waiting for replies: %v (%d of %d)", err, len(posts), r.acked)
	}
	r.elapsed = time.Since(began)
	answered := map[string]int{}
	var replyLat []time.Duration
	for _, p := range posts {
		ts := p.Param("thread_ts")
		answered[ts]++
		if answered[ts] > 1 {
			r.duplicateReplies++
			continue
		}
		if at, ok := sentAt[ts]; ok {
			r.replies++
			replyLat = append(replyLat, p.Time.Sub(at))
		}
	}
	for ts := range sentAt {
		if answered[ts] == 0 {
			r.unansweredEvents++
		}
	}
	r.ackP50, r.ackP99, r.ackMax = percentiles(ackLat)
	r.replyP50, r.replyP99, r.replyMax = percentiles(replyLat)
	r.peakRSS = peakRSS(tb)
	return r
}

func percentiles(ds []time.Duration) (p50, p99, maximum time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return at(0.50), at(0.99), s[len(s)-1]
}

// resetPeakRSS frees what earlier tests and runs left behind and restarts
// the kernel's peak RSS count from the current RSS (Linux clear_refs 5), so
// a run's peak is its own. The index stays resident and is counted.
func resetPeakRSS(tb testing.TB) {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Logf("peak RSS not reset, it covers the whole process: %v", err)
	}
}

// peakRSS reads the process's peak resident set size (VmHWM) from
// /proc/self/status, or returns -1 where there is none.
func peakRSS(tb testing.TB) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				tb.Logf("VmHWM %q: %v", v, err)
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

// BenchmarkLoad sends 1,000 mentions at 200/s through the fake Slack:
//
//	go test -run '^$' -bench BenchmarkLoad -benchtime 1x ./bot/
func BenchmarkLoad(b *testing.B) {
	var r loadResult
	for b.Loop() {
		r = runLoad(b, loadMentions, loadRate)
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(float64(r.acked), "acks")
	b.ReportMetric(ms(r.ackP50), "ack-p50-ms")
	b.ReportMetric(ms(r.ackP99), "ack-p99-ms")
	b.ReportMetric(ms(r.ackMax), "ack-max-ms")
	b.ReportMetric(float64(r.replies), "replies")
	b.ReportMetric(ms(r.replyP50), "reply-p50-ms")
	b.ReportMetric(ms(r.replyP99), "reply-p99-ms")
	b.ReportMetric(float64(r.peakRSS)/(1<<20), "peak-rss-MB")
	b.Log(r)
	checkLoadTargets(b, r)
}

// TestLoad is BenchmarkLoad as a test with the figures in its log, for CI
// jobs that do not run benchmarks: SHIPMATE_LOAD=1 go test -run TestLoad -v ./bot/
func TestLoad(t *testing.T) {
	if os.Getenv("SHIPMATE_LOAD") == "" {
		t.Skip("set SHIPMATE_LOAD=1 to run the load test")
	}
	r := runLoad(t, loadMentions, loadRate)
	t.Log(r)
	checkLoadTargets(t, r)
}

func checkLoadTargets(tb testing.TB, r loadResult) {
	tb.Helper()
	if r.acked != r.sent || r.replies != r.sent || r.duplicateReplies != 0 || r.unansweredEvents != 0 {
		tb.Errorf("want every mention acked and answered once: %v", r)
	}
	if r.ackP99 >= targetAckP99 {
		tb.Errorf("ack p99 %v, want under %v", r.ackP99, targetAckP99)
	}
	if r.peakRSS >= targetPeakRSS {
		tb.Errorf("peak RSS %.1f MB, want under %d MB", float64(r.peakRSS)/(1<<20), targetPeakRSS>>20)
	}
}
