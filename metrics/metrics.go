// Package metrics holds Shipmate's Prometheus metrics and serves them in the
// text exposition format. Names follow Prometheus conventions: a shipmate_
// prefix, base units (seconds), _total on counters, and no user or channel
// ids as labels, so the series count stays bounded.
package metrics

import (
	"cmp"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"shipmate/internal/buildinfo"
)

// Results of a Web API call, the values of the result label.
const (
	ResultOK          = "ok"      // HTTP 2xx (Slack may still answer ok:false)
	ResultRateLimited = "429"     // HTTP 429
	ResultServerError = "5xx"     // HTTP 5xx
	ResultClientError = "4xx"     // other non-2xx statuses
	ResultTimeout     = "timeout" // no answer within the call timeout
	ResultNetwork     = "error"   // connection refused, reset, DNS, …
	ResultCanceled    = "canceled"
)

// Metrics is the set of Shipmate's metrics, registered on a registry of
// their own so tests can run several bots in one process.
type Metrics struct {
	reg *prometheus.Registry

	envelopes    *prometheus.CounterVec
	ackSeconds   prometheus.Histogram
	replySeconds *prometheus.HistogramVec
	replies      *prometheus.CounterVec
	abandoned    *prometheus.CounterVec
	answers      *prometheus.CounterVec
	feedback     *prometheus.CounterVec
	apiCalls     *prometheus.CounterVec
	apiSeconds   *prometheus.HistogramVec
	reconnects   prometheus.Counter
	connected    prometheus.Gauge
	quizPosts    prometheus.Counter
	quizAnswers  *prometheus.CounterVec
	quizReveals  prometheus.Counter
	storeErrors  *prometheus.CounterVec
	panics       prometheus.Counter
}

// New returns the metrics, with Go runtime, process and build information
// collectors registered beside them.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	latency := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.envelopes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shipmate_envelopes_total",
		Help: "Socket mode envelopes received, by envelope type (events_api, slash_commands, interactive, unreadable).",
	}, []string{"type"})
	m.ackSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "shipmate_ack_seconds",
		Help:    "Time from reading an envelope off the socket to handing its ack to the socket writer.",
		Buckets: latency,
	})
	m.replySeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "shipmate_reply_seconds",
		Help:    "Time from reading an envelope to Slack accepting its reply, by kind (mention, dm, slash, click).",
		Buckets: latency,
	}, []string{"kind"})
	m.replies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shipmate_replies_total",
		Help: "Replies delivered to Slack, by kind (mention, dm, slash, click, quiz).",
	}, []string{"kind"})
	m.abandoned = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shipmate_replies_abandoned_total",
		Help: "Replies given up on, by kind and reason (deadline, shutdown, rejected, queue_full).",
	}, []string{"kind", "reason"})
	m.answers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shipmate_answers_total",
		Help: "Questions answered, by outcome (confident, declined, clarified, command, error).",
	}, []string{"outcome"})
	m.feedback = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shipmate_feedback_clicks_total",
		Help: "Helpful / Not helpful clicks, by verdict (helpful, not_helpful).",
	}, []string{"verdict"})
	m.apiCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shipmate_slack_api_calls_total",
		Help: "HTTP requests to Slack (each retry counts), by Web API method (response_url for response URLs) and result (ok, 429, 5xx, 4xx, timeout, error, canceled).",
	}, []string{"method", "result"})
	m.apiSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "shipmate_slack_api_call_seconds",
		Help:    "Duration of one HTTP request to Slack, by Web API method.",
		Buckets: latency,
	}, []string{"method"})
	m.reconnects = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "shipmate_socket_reconnects_total",
		Help: "Socket mode connections opened after the first one.",
	})
	m.connected = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "shipmate_socket_connected",
		Help: "1 while the socket mode connection is up.",
	})
	m.quizPosts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "shipmate_quiz_posts_total",
		Help: "Daily quiz questions posted.",
	})
	m.quizAnswers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shipmate_quiz_answers_total",
		Help: "Daily quiz clicks, by result (correct, wrong, repeat, closed, rejected, error).",
	}, []string{"result"})
	m.quizReveals = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "shipmate_quiz_reveals_total",
		Help: "Daily quiz answers revealed.",
	})
	m.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shipmate_store_errors_total",
		Help: "Failed store operations, by operation.",
	}, []string{"op"})
	m.panics = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "shipmate_handler_panics_total",
		Help: "Envelope handlers that panicked (the process carries on).",
	})
	for _, c := range []prometheus.Collector{m.envelopes, m.ackSeconds, m.replySeconds, m.replies, m.abandoned,
		m.answers, m.feedback, m.apiCalls, m.apiSeconds, m.reconnects, m.connected, m.quizPosts,
		m.quizAnswers, m.quizReveals, m.storeErrors, m.panics} {
		f(c)
	}
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f(buildInfo())
	return m
}

// buildInfo is shipmate_build_info, always 1, labelled with the module
// version, VCS revision and Go version the binary was built with.
func buildInfo() prometheus.Collector {
	bi := buildinfo.Read()
	version, revision := cmp.Or(bi.Version, "unknown"), cmp.Or(bi.Commit, "unknown")
	goVersion := bi.GoVersion
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "shipmate_build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": goVersion},
	})
	g.Set(1)
	return g
}

// Handler serves the metrics for GET /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is where the metrics are registered, for tests that read them.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Envelope counts an envelope of a type.
func (m *Metrics) Envelope(typ string) { m.envelopes.WithLabelValues(typ).Inc() }

// Acked records how long an ack took, in seconds.
func (m *Metrics) Acked(seconds float64) { m.ackSeconds.Observe(seconds) }

// Replied counts a delivered reply of a kind and how long it took since its
// envelope arrived.
func (m *Metrics) Replied(kind string, seconds float64) {
	m.replies.WithLabelValues(kind).Inc()
	m.replySeconds.WithLabelValues(kind).Observe(seconds)
}

// Abandoned counts a reply given up on.
func (m *Metrics) Abandoned(kind, reason string) { m.abandoned.WithLabelValues(kind, reason).Inc() }

// Answered counts a question's outcome.
func (m *Metrics) Answered(outcome string) { m.answers.WithLabelValues(outcome).Inc() }

// Feedback counts a Helpful (true) or Not helpful (false) click.
func (m *Metrics) Feedback(helpful bool) {
	v := "not_helpful"
	if helpful {
		v = "helpful"
	}
	m.feedback.WithLabelValues(v).Inc()
}

// APICall records one HTTP request to Slack.
func (m *Metrics) APICall(method, result string, seconds float64) {
	m.apiCalls.WithLabelValues(method, result).Inc()
	m.apiSeconds.WithLabelValues(method).Observe(seconds)
}

// Connected records that the socket is up (true) or down.
func (m *Metrics) Connected(up bool) {
	if up {
		m.connected.Set(1)
	} else {
		m.connected.Set(0)
	}
}

// Reconnected counts a socket connection after the first.
func (m *Metrics) Reconnected() { m.reconnects.Inc() }

// Panicked counts a handler panic.
func (m *Metrics) Panicked() { m.panics.Inc() }

// QuizPosted counts a daily quiz post.
func (m *Metrics) QuizPosted() { m.quizPosts.Inc() }

// QuizAnswered counts a daily quiz click by result.
func (m *Metrics) QuizAnswered(result string) { m.quizAnswers.WithLabelValues(result).Inc() }

// QuizRevealed counts a daily quiz reveal.
func (m *Metrics) QuizRevealed() { m.quizReveals.Inc() }

// StoreError counts a failed store operation.
func (m *Metrics) StoreError(op string) { m.storeErrors.WithLabelValues(op).Inc() }
