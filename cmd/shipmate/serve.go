package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/joho/godotenv"

	"shipmate/bot"
	"shipmate/metrics"
	"shipmate/quiz"
	"shipmate/store"
)

// withDotEnv layers a .env file under the real environment: a variable set
// in the environment wins over the file.
func withDotEnv(getenv func(string) string, path string) (func(string) string, error) {
	file, err := godotenv.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		return getenv, nil
	}
	if err != nil {
		// godotenv's message quotes the file, tokens included: say what to
		// check instead of passing it on.
		return nil, fmt.Errorf("read %s: the file is malformed: check for an unclosed quote or a variable name with characters other than letters, digits and _", path)
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return file[k]
	}, nil
}

func newLogger(getenv func(string) string, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if s := getenv("LOG_LEVEL"); s != "" {
		if err := level.UnmarshalText([]byte(s)); err != nil {
			return nil, fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", s)
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f := strings.ToLower(getenv("LOG_FORMAT")); f {
	case "", "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("LOG_FORMAT %q: want json or text", f)
	}
}

// cmdServe runs the Slack bot.
func cmdServe(ctx context.Context, e env) error {
	fs := e.flags()
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return e.usageErr(fs, "serve takes no arguments; it is configured by the environment (see .env.example)")
	}
	getenv, err := withDotEnv(e.getenv, ".env")
	if err != nil {
		return err
	}
	log, err := newLogger(getenv, e.stderr)
	if err != nil {
		return err
	}
	cfg, err := bot.ParseConfig(getenv)
	if err != nil {
		return err
	}
	ix, err := openIndex(getenv)
	if err != nil {
		return err
	}
	defer ix.Close()
	qcfg, err := quiz.ParseConfig(getenv)
	if err != nil {
		return err
	}
	conv, err := bot.ParseConversation(getenv)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, getenv, log)
	if err != nil {
		return err
	}
	defer st.Close()
	m := metrics.New()
	cmds := bot.NewCommands(ix, ix.Base(), bot.GapsCommand(st, conv, time.Now))
	b := bot.New(cfg, cmds, ix.ServiceName, log, bot.Options{Metrics: m, Seen: sharedSeen(st), Memory: st, Conversation: conv})
	q := quiz.New(qcfg, st, b.QuizPublisher(ix.Base()), ix.Base().Questions, quiz.Options{Logger: log.With("component", "quiz"), Metrics: m, ShutdownGrace: cfg.ShutdownGrace})
	cmds.WithQuiz(q, time.Now)

	stopHealth, err := serveHealth(getenv("HTTP_ADDR"), b.Ready, m.Handler(), log)
	if err != nil {
		return err
	}
	defer stopHealth()
	log.Info("shipmate starting", "scenarios", len(ix.Base().Scenarios), "notes", len(ix.Base().Notes), "api_url", cfg.APIURL)
	// The bot and the quiz stop together: if the bot fails (tokens
	// refused), the quiz stops too.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	quizDone := make(chan struct{})
	go func() {
		defer close(quizDone)
		if qcfg.Channel == "" {
			log.Info("QUIZ_CHANNEL not set: no scheduled quiz")
			return
		}
		q.Run(ctx)
	}()
	digestDone := make(chan struct{})
	go func() {
		defer close(digestDone)
		if err := b.Digest(quiz.SystemClock{}, digestLock(st)).Run(ctx); err != nil {
			log.Error("gaps digest stopped", "err", err)
		}
	}()
	go releaseWhenReady(ctx, b.Ready)
	err = b.Run(ctx)
	cancel()
	<-quizDone
	<-digestDone
	if err != nil {
		return err
	}
	log.Info("shipmate stopped")
	return nil
}

// releaseWhenReady gives the garbage of start-up back to the system once
// serve is ready: building the index allocates several times what it
// keeps, and connecting to Slack adds its share, which the runtime would
// otherwise hand back slowly, or hold for the life of the process. The
// binary's pages that only start-up used go too (releaseBinaryPages).
func releaseWhenReady(ctx context.Context, ready func() bool) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for range 1200 { // a minute at most: serve not ready by then has other troubles
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if ready() {
			debug.FreeOSMemory()
			releaseBinaryPages()
			return
		}
	}
}

var (
	_ bot.Seen     = (*store.Store)(nil)
	_ quiz.Metrics = (*metrics.Metrics)(nil)
)

// sharedSeen is the de-duplication replicas share: the PostgreSQL store.
// On SQLite there is one process, and its memory is enough (and costs no
// disk write per event).
func sharedSeen(st *store.Store) bot.Seen {
	if st.Kind() == "postgres" {
		return st
	}
	return nil
}

// digestLock is the lock the gaps digest runs under: PostgreSQL's
// scheduler lock for replicas. On SQLite there is one process, and the
// store's unique slot keys are enough (the file's one lock is the quiz's).
func digestLock(st *store.Store) bot.Locker {
	if st.Kind() == "postgres" {
		return st
	}
	return bot.OneProcess{}
}

// openStore opens the PostgreSQL store when DATABASE_URL is set (for
// replicas), else the SQLite file under DATA_DIR (default ./data).
func openStore(ctx context.Context, getenv func(string) string, log *slog.Logger) (*store.Store, error) {
	if u := strings.TrimSpace(getenv("DATABASE_URL")); u != "" {
		st, err := store.OpenURL(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("DATABASE_URL: %w", err)
		}
		log.Info("store: PostgreSQL")
		return st, nil
	}
	dataDir := getenv("DATA_DIR")
	if dataDir == "" {
		dataDir = "data"
	}
	st, err := store.Open(ctx, dataDir)
	if err != nil {
		return nil, fmt.Errorf("DATA_DIR %s: %w", dataDir, err)
	}
	log.Info("store: SQLite", "path", st.Path())
	return st, nil
}

// serveHealth serves /healthz (the process is alive), /readyz (connected
// to Slack and its Web API answering, see bot.Bot.Ready) and /metrics
// (Prometheus) on addr; an empty addr turns it off. It logs the address it
// listens on, so ":0" can be found.
func serveHealth(addr string, ready func() bool, metrics http.Handler, log *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("HTTP_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !ready() {
			http.Error(w, "not connected to slack\n", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", metrics)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("health server", "err", err)
		}
	}()
	log.Info("health endpoints listening", "addr", ln.Addr().String())
	return func() {
		// Bounded: the process exits within seconds of SIGTERM.
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
		<-done
	}, nil
}
