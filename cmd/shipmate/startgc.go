package main

import (
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// startupGCPercent is the garbage collector's target while the index is
// built. Loading and indexing the knowledge base allocate several times
// what they keep, from a heap that starts nearly empty: at the default
// 100 the collector runs over and over on the way up, about a quarter of
// the build's time. Memory use peaks higher for it (shipped content about
// 42 → 50 MB, ten times the content about 105 → 150 MB), within the
// container's memory limit when there is one (startupMemoryLimit).
const startupGCPercent = 400

// startupGC sets the collector's start-up target and returns what puts
// the previous settings back. An operator's own GOGC or GOMEMLIMIT is
// left alone.
func startupGC(getenv func(string) string) (restore func()) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	percent := debug.SetGCPercent(startupGCPercent)
	limit := debug.SetMemoryLimit(-1)
	if l := startupMemoryLimit(containerMemoryLimit()); l > 0 {
		debug.SetMemoryLimit(l)
	}
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}

// startupMemoryLimit is the soft limit the collector keeps the heap under
// while the index is built: three quarters of the container's memory
// limit, so the higher target never gets the process killed; none
// (0) without a container limit.
func startupMemoryLimit(container int64) int64 {
	if container <= 0 {
		return 0
	}
	return container / 4 * 3
}

// containerMemoryLimit is the memory limit of the process's cgroup (v2,
// or v1), or 0 when there is none.
func containerMemoryLimit() int64 {
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= math.MaxInt64/2 { // "max", or v1's page-rounded "unlimited"
			return 0
		}
		return n
	}
	return 0
}
