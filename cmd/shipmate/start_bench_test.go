package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"shipmate/content"
	"shipmate/internal/fakeslack"
)

// BenchmarkServeStart starts `shipmate serve` (the built binary) against a
// fake Slack, with the shipped content and with ten times as many
// scenarios and notes, and reports how long it takes to be ready (index
// built, connected, /readyz 200) and its resident memory once idle:
//
//	go test -run '^$' -bench BenchmarkServeStart -benchtime 1x ./cmd/shipmate
//
// Targets: with the shipped content idle RSS ≤ 35 MB; with ten times the
// content ready in under 0.5 s. The figures are the medians of
// startRounds starts.
func BenchmarkServeStart(b *testing.B) {
	for _, copies := range []int{1, 10} {
		b.Run(fmt.Sprintf("content=%dx", copies), func(b *testing.B) {
			var env []string
			if copies > 1 {
				dir := replicateContent(b, copies)
				env = append(env, "CONTENT_DIR="+dir)
			}
			var ready, rss, peak, anon, heap, goSys []float64
			phases := map[string][]float64{}
			for b.Loop() {
				for range startRounds {
					r := startOnce(b, env)
					ready = append(ready, r.ready.Seconds()*1000)
					rss = append(rss, float64(r.rss)/(1<<20))
					peak = append(peak, float64(r.peak)/(1<<20))
					anon = append(anon, float64(r.anon)/(1<<20))
					heap = append(heap, float64(r.heap)/(1<<20))
					goSys = append(goSys, float64(r.goSys)/(1<<20))
					for msg, at := range r.phases {
						phases[msg] = append(phases[msg], at.Seconds()*1000)
					}
				}
			}
			b.ReportMetric(median(ready), "ready-ms")
			b.ReportMetric(median(rss), "idle-rss-MB")
			b.ReportMetric(median(peak), "peak-rss-MB")
			b.Logf("content ×%d: ready %.0f ms, idle RSS %.1f MB (%.1f MB of it anonymous, the rest the binary's pages; Go heap in use %.1f MB, from the system %.1f MB), peak RSS %.1f MB (medians of %d starts; ready %v)",
				copies, median(ready), median(rss), median(anon), median(heap), median(goSys), median(peak), len(ready), rounded(ready))
			var marks []string
			for _, msg := range startPhases {
				marks = append(marks, fmt.Sprintf("%q at %.0f ms", msg, median(phases[msg])))
			}
			b.Logf("content ×%d: logged %s (medians)", copies, strings.Join(marks, ", "))
		})
	}
}

// startRounds is how many starts each figure is the median of.
const startRounds = 5

// idleAfter is how long serve sits idle before its memory is read: long
// enough for the garbage of start-up to be collected and given back.
const idleAfter = 3 * time.Second

type startResult struct {
	ready     time.Duration
	rss, peak int64                    // VmRSS once idle, VmHWM; bytes
	anon      int64                    // of rss, what is not the binary's pages (heap, stacks)
	heap      int64                    // the Go heap's spans in use
	goSys     int64                    // all the Go runtime has from the system
	phases    map[string]time.Duration // since the start, when serve logged each of startPhases
}

// startPhases are the log messages that mark serve's way to ready: the
// index is built before the store opens.
var startPhases = []string{"store: SQLite", "shipmate starting", "slack connected"}

// startOnce starts serve, waits until /readyz says ready, lets it idle,
// reads its memory and stops it.
func startOnce(tb testing.TB, env []string) startResult {
	srv := fakeslack.New()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := binary(); err != nil { // built before the clock starts
		tb.Fatal(err)
	}
	began := time.Now()
	c := startServe(tb, ctx, srv, env...)
	for {
		resp, err := http.Get(c.health + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("serve never ready:\n%s", c.Logs())
		case <-time.After(2 * time.Millisecond):
		}
	}
	r := startResult{ready: time.Since(began), phases: map[string]time.Duration{}}
	for line := range strings.Lines(c.Logs()) {
		var rec struct {
			Time time.Time `json:"time"`
			Msg  string    `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && slices.Contains(startPhases, rec.Msg) {
			r.phases[rec.Msg] = rec.Time.Sub(began)
		}
	}
	time.Sleep(idleAfter)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		tb.Skipf("no /proc to read serve's memory from: %v", err)
	}
	r.rss, r.peak, r.anon = statusKB(status, "VmRSS:")<<10, statusKB(status, "VmHWM:")<<10, statusKB(status, "RssAnon:")<<10
	if resp, err := http.Get(c.health + "/metrics"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r.heap = metricValue(string(body), "go_memstats_heap_inuse_bytes")
		r.goSys = metricValue(string(body), "go_memstats_sys_bytes")
	}
	c.cmd.Process.Kill()
	return r
}

// metricValue is the value of an unlabelled metric in a Prometheus text
// exposition, or -1.
func metricValue(exposition, name string) int64 {
	for line := range strings.Lines(exposition) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return int64(f)
			}
		}
	}
	return -1
}

// statusKB reads a "Name:   123 kB" line of /proc/PID/status.
func statusKB(status []byte, name string) int64 {
	sc := bufio.NewScanner(strings.NewReader(string(status)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return -1
}

// replicateContent writes the shipped content to a new directory with
// copies-1 more copies of every scenario file and note, their ids (and the
// note ids they name) suffixed so each copy is a document of its own, and
// checks that it loads.
func replicateContent(tb testing.TB, copies int) string {
	tb.Helper()
	dir := tb.TempDir()
	var (
		scenarioID = regexp.MustCompile(`(?m)^- id: (\S+)$`)
		noteRef    = regexp.MustCompile(`(?m)^  note: (\S+)$`)
		noteID     = regexp.MustCompile(`(?m)^id: (\S+)$`)
		related    = regexp.MustCompile(`(?m)^related: \[(.*)\]$`)
	)
	err := fs.WalkDir(content.Embedded, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(content.Embedded, p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
		ext := path.Ext(p)
		for k := 2; k <= copies; k++ {
			suffix := fmt.Sprintf("-copy%d", k)
			var out []byte
			switch path.Dir(p) {
			case "scenarios":
				out = scenarioID.ReplaceAll(data, []byte("- id: ${1}"+suffix))
				out = noteRef.ReplaceAll(out, []byte("  note: ${1}"+suffix))
			case "notes":
				out = noteID.ReplaceAll(data, []byte("id: ${1}"+suffix))
				out = related.ReplaceAllFunc(out, func(m []byte) []byte {
					ids := strings.Split(string(related.FindSubmatch(m)[1]), ",")
					for i, id := range ids {
						ids[i] = strings.TrimSpace(id) + suffix
					}
					return []byte("related: [" + strings.Join(ids, ", ") + "]")
				})
			default:
				continue
			}
			name := strings.TrimSuffix(path.Base(p), ext) + suffix + ext
			if err := os.WriteFile(filepath.Join(filepath.Dir(dst), name), out, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	base, err := content.LoadDir(dir)
	if err != nil {
		tb.Fatalf("content ×%d does not load: %v", copies, err)
	}
	shipped := content.MustLoadEmbedded()
	if len(base.Scenarios) != copies*len(shipped.Scenarios) || len(base.Notes) != copies*len(shipped.Notes) {
		tb.Fatalf("content ×%d has %d scenarios and %d notes, want %d and %d", copies,
			len(base.Scenarios), len(base.Notes), copies*len(shipped.Scenarios), copies*len(shipped.Notes))
	}
	return dir
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func rounded(xs []float64) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x + 0.5)
	}
	return out
}
