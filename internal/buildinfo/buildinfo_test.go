package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestRead(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	bare := &debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Version: "(devel)"}}
	for _, c := range []struct {
		name    string
		bi      *debug.BuildInfo
		stamped string
		want    Info
	}{
		{"version control", vcs, "", Info{"v1.2.0", "abc123", "2026-12-01T10:00:00Z", true, "go1.27.3"}},
		{"version control wins over a stamp", vcs, "def456", Info{"v1.2.0", "abc123", "2026-12-01T10:00:00Z", true, "go1.27.3"}},
		{"stamped at link time", bare, "def456", Info{"(devel)", "def456", "", false, "go1.27.3"}},
		{"nothing known", bare, "", Info{"(devel)", "", "", false, "go1.27.3"}},
	} {
		if got := read(c.bi, c.stamped); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}
