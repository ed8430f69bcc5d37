package bot_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"shipmate/bot"
	"shipmate/internal/fakeslack"
)

// soakFaults are the random faults of the soak: each Web API call and
// response URL post (auth.test and apps.connections.open included) meets
// one with about 20% chance. Some posts take effect and then lose their
// answer (AfterProcessing): Shipmate looks for those in the thread or DM
// before posting again. A response URL's post cannot be looked for
// (ephemeral messages are in no history), so those faults are left off
// response URLs.
var soakFaults = []fakeslack.Fault{
	{Method: "chat.postMessage", Status: http.StatusServiceUnavailable, AfterProcessing: true, Probability: 0.02},
	{Method: "chat.postMessage", Reset: true, AfterProcessing: true, Probability: 0.01},
	{Method: "chat.postMessage", Hang: true, AfterProcessing: true, Probability: 0.01},
	{Status: http.StatusServiceUnavailable, Probability: 0.05},
	{Status: http.StatusInternalServerError, Probability: 0.03},
	{Status: http.StatusBadGateway, Probability: 0.02},
	{Status: http.StatusTooManyRequests, NoRetryAfter: true, Probability: 0.03},
	{Status: http.StatusTooManyRequests, RetryAfter: time.Second, Probability: 0.02},
	{Reset: true, Probability: 0.02},
	{Delay: 300 * time.Millisecond, Probability: 0.03},
	{Hang: true, Probability: 0.01},
}

// soakResult is what a fault soak saw.
type soakResult struct {
	duration                   time.Duration
	requests, mentions, dms    int
	slashes, clicks            int
	unacked, lost, duplicated  int
	calls, faulted, limited    int
	cuts, redelivered          int
	replyP50, replyP99, maxLag time.Duration
}

func (r soakResult) String() string {
	return fmt.Sprintf("%v of mixed traffic: %d requests (%d mentions, %d DMs, %d slash commands, %d clicks); "+
		"%d Web API calls, %d hit by a fault, %d answered 429 by the per-channel limit; %d socket cuts, %d envelopes redelivered; "+
		"replies p50 %v, p99 %v, slowest %v; %d unacked, %d lost, %d duplicated",
		r.duration, r.requests, r.mentions, r.dms, r.slashes, r.clicks, r.calls, r.faulted, r.limited, r.cuts, r.redelivered,
		r.replyP50.Round(time.Millisecond), r.replyP99.Round(time.Millisecond), r.maxLag.Round(time.Millisecond),
		r.unacked, r.lost, r.duplicated)
}

// request is one thing the soak asked, and how to recognise its reply.
type request struct {
	sent  time.Time
	match func(c fakeslack.Call) bool
}

// runSoak sends mixed traffic (mentions in 40 channels and one busy one, DMs, slash
// commands, feedback clicks) at rate per second for d, with random Web API
// faults, Slack's per-channel limit, redelivery of unacked envelopes and a
// refresh or a dropped socket every few seconds (at random), and 5% of acks lost on
// the way (so Slack sends those envelopes again), then waits for every
// reply and counts the lost and the duplicated ones.
func runSoak(tb testing.TB, d time.Duration, rate int, seed uint64) soakResult {
	tb.Helper()
	h := launch(tb, setup{
		fake: []fakeslack.Option{
			fakeslack.WithSeed(seed),
			fakeslack.WithRedelivery(3),
			fakeslack.WithAckLoss(0.05),
			fakeslack.WithChannelLimit(fakeslack.ChannelLimit{Every: time.Second, Burst: 3}),
		},
		cfg: func(c *bot.Config) { c.CallTimeout = time.Second },
	})
	defer h.shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), d+3*time.Minute)
	defer cancel()
	if err := h.srv.WaitConnections(ctx, 1); err != nil {
		tb.Fatalf("bot did not connect: %v", err)
	}
	for _, f := range soakFaults {
		h.srv.Inject(f)
	}
	rnd := rand.New(rand.NewPCG(seed, 7))
	questions := []string{"what is ecr?", "serverless containers without managing servers", "compare ecs eks",
		"explain fargate", "help", "gpu training jobs on containers", "what is the weather like?", "quiz"}

	var r soakResult
	var reqs []request
	var acks []<-chan fakeslack.Ack
	var cuts []string // when and how the socket was cut, for a failure's log
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	// Cuts come every 1.5–4.5 s, not on a fixed period: a period equal to
	// Slack's 3-second ack timeout would cut every redelivery of an
	// envelope whose ack a cut lost at the same point of its life, where
	// a real socket's faults fall at random.
	cutEvery := func() time.Duration { return 1500*time.Millisecond + rnd.N(3*time.Second) }
	cut := time.NewTimer(cutEvery())
	defer cut.Stop()
	began := time.Now()
	for i := 0; time.Since(began) < d; i++ {
		select {
		case <-tick.C:
		case <-cut.C:
			kind := "refresh"
			if rnd.IntN(2) == 0 {
				h.srv.Disconnect("refresh_requested")
			} else {
				h.srv.DropConnections()
				kind = "drop"
			}
			cuts = append(cuts, time.Now().Format("15:04:05.000")+" "+kind)
			cut.Reset(cutEvery())
			r.cuts++
			continue
		}
		q := questions[rnd.IntN(len(questions))]
		var env fakeslack.Envelope
		now := time.Now()
		switch k := rnd.IntN(10); {
		case k < 5:
			channel := fmt.Sprintf("C%d", i%40)
			if rnd.IntN(4) == 0 {
				channel = "CBUSY" // some 2.5 mentions a second: more than Slack lets a channel take
			}
			ev := h.srv.AppMention(fmt.Sprintf("U%d", i%30), channel, "<@UBOT> "+q)
			ts := ev["ts"].(string)
			env = h.srv.EventEnvelope("", ev)
			reqs = append(reqs, request{now, func(c fakeslack.Call) bool {
				return (c.Method == "chat.postMessage" || c.Method == "chat.postEphemeral") && c.Param("thread_ts") == ts
			}})
			r.mentions++
		case k < 7:
			channel := fmt.Sprintf("D%d", i) // one DM each, so the reply is known by its channel
			env = h.srv.EventEnvelope("", h.srv.Message(fmt.Sprintf("U%d", i%30), channel, q))
			reqs = append(reqs, request{now, func(c fakeslack.Call) bool {
				return (c.Method == "chat.postMessage" || c.Method == "chat.postEphemeral") && c.Param("channel") == channel
			}})
			r.dms++
		case k < 9:
			env = h.srv.SlashEnvelope("/shipmate", q, fmt.Sprintf("U%d", i%30), fmt.Sprintf("C%d", i%40))
			reqs = append(reqs, responseTo(now, responseURL(env)))
			r.slashes++
		default:
			env = h.click(fmt.Sprintf("U%d", i%30), ephemeral(h.srv.NextTS()),
				button{Block: "feedback", ActionID: bot.ActionHelpful, Label: "Helpful", Value: "note/ecr\n" + q})
			reqs = append(reqs, responseTo(now, responseURL(env)))
			r.clicks++
		}
		acks = append(acks, h.srv.SendAsync(ctx, env))
	}
	r.duration = time.Since(began).Round(time.Second)
	r.requests = len(reqs)
	for _, a := range acks {
		if err := (<-a).Err; err != nil {
			r.unacked++
			tb.Logf("unacked: %v", err)
		}
	}
	if r.unacked > 0 {
		tb.Logf("socket cuts: %s", strings.Join(cuts, ", "))
		for _, a := range h.srv.Acks() {
			if a.Late {
				tb.Logf("late ack of %s (%s, sent %s) after %v", a.EnvelopeID, a.Type, a.Sent.Format("15:04:05.000"), a.Latency)
			}
		}
	}
	// Every reply, or the end of every reply's deadline.
	count := func(cs []fakeslack.Call) (answered, lost, dup int) {
		for _, q := range reqs {
			n := 0
			for _, c := range cs {
				if c.Error == "" && !c.Limited && q.match(c) {
					n++
				}
			}
			switch {
			case n == 0:
				lost++
			case n > 1:
				dup++
			}
		}
		return len(reqs) - lost, lost, dup
	}
	_ = h.srv.WaitFor(ctx, func(cs []fakeslack.Call) bool {
		_, lost, _ := count(cs)
		return lost == 0
	})
	h.stop() // everything delivered is in; nothing more can come
	calls := h.srv.Calls()
	_, r.lost, r.duplicated = count(calls)
	var lags []time.Duration
	for _, q := range reqs {
		for _, c := range calls {
			if c.Error == "" && !c.Limited && q.match(c) {
				lags = append(lags, c.Time.Sub(q.sent))
				break
			}
		}
	}
	r.replyP50, r.replyP99, r.maxLag = percentiles(lags)
	for _, c := range calls {
		r.calls++
		if c.Fault != nil {
			r.faulted++
		} else if c.Limited {
			r.limited++
		}
	}
	r.redelivered = h.srv.Stats().Redelivered
	if r.lost > 0 {
		tb.Logf("abandoned replies logged:\n%s", strings.Join(lines(h.logs.String(), "reply abandoned"), "\n"))
	}
	return r
}

func responseTo(sent time.Time, url string) request {
	return request{sent, func(c fakeslack.Call) bool {
		return c.Method == fakeslack.MethodResponseURL && strings.HasSuffix(url, c.Path)
	}}
}

func lines(s, substr string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if strings.Contains(l, substr) {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

// BenchmarkFaultSoak runs mixed traffic through random faults for a bounded
// time (SHIPMATE_SOAK_DURATION, default 30s; SHIPMATE_SOAK_SEED picks the
// faults) and fails unless every envelope was acked and every request
// answered exactly once:
//
//	go test -run '^$' -bench BenchmarkFaultSoak -benchtime 1x ./bot/
func BenchmarkFaultSoak(b *testing.B) {
	d := 30 * time.Second
	if s := os.Getenv("SHIPMATE_SOAK_DURATION"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			b.Fatalf("SHIPMATE_SOAK_DURATION: %v", err)
		}
	}
	seed := uint64(1)
	if s := os.Getenv("SHIPMATE_SOAK_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	var r soakResult
	for b.Loop() {
		r = runSoak(b, d, 20, seed)
	}
	b.ReportMetric(float64(r.requests), "requests")
	b.ReportMetric(float64(r.faulted), "faults")
	b.ReportMetric(float64(r.lost), "lost")
	b.ReportMetric(float64(r.duplicated), "duplicated")
	b.ReportMetric(float64(r.unacked), "unacked")
	b.ReportMetric(float64(r.replyP99)/float64(time.Millisecond), "reply-p99-ms")
	b.Log(r)
	if r.lost != 0 || r.duplicated != 0 || r.unacked != 0 {
		b.Errorf("want 0 lost, 0 duplicated, 0 unacked: %v", r)
	}
}
