package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestStartupMemoryLimit(t *testing.T) {
	for container, want := range map[int64]int64{0: 0, -1: 0, 128 << 20: 96 << 20, 512 << 20: 384 << 20} {
		if got := startupMemoryLimit(container); got != want {
			t.Errorf("startupMemoryLimit(%d) = %d, want %d", container, got, want)
		}
	}
}

// TestStartupGC: the start-up settings are put back, and an operator's
// GOGC or GOMEMLIMIT turns them off.
func TestStartupGC(t *testing.T) {
	before, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	defer func() { debug.SetGCPercent(before); debug.SetMemoryLimit(limit) }()
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	restore := startupGC(env())
	if got := debug.SetGCPercent(-1); got != startupGCPercent {
		t.Errorf("GC percent during start-up = %d, want %d", got, startupGCPercent)
	}
	debug.SetGCPercent(startupGCPercent)
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent after start-up = %d, want 100", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit after start-up = %d, want none", got)
	}
	for _, e := range [][]string{{"GOGC", "50"}, {"GOMEMLIMIT", "100MiB"}} {
		restore := startupGC(env(e...))
		if got := debug.SetGCPercent(100); got != 100 {
			t.Errorf("with %s set, GC percent during start-up = %d, want it left at 100", e[0], got)
		}
		restore()
	}
}
