// Package buildinfo says which build of Shipmate is running: the module
// version, the commit and the Go toolchain.
//
// The go command records the commit when it builds inside a Git checkout.
// An image builds without one (.dockerignore leaves .git out of the
// context), so the Dockerfile passes the commit in instead:
//
//	docker build --build-arg SHIPMATE_COMMIT=$(git rev-parse HEAD) .
//
// which links it in with -ldflags "-X shipmate/internal/buildinfo.commit=…".
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// commit is set at link time when the build has no version control
// information of its own.
var commit string

// Info describes one build.
type Info struct {
	Version   string // module version, "(devel)" or "" when unknown
	Commit    string // full revision, "" when unknown
	Time      string // commit time (RFC 3339) when the go command recorded it
	Modified  bool   // built with uncommitted changes
	GoVersion string
}

// Read returns the running binary's build information.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return read(bi, commit)
}

func read(bi *debug.BuildInfo, stamped string) Info {
	info := Info{GoVersion: runtime.Version()}
	if bi != nil {
		info.Version, info.GoVersion = bi.Main.Version, bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.time":
				info.Time = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if info.Commit == "" {
		info.Commit = stamped
	}
	return info
}
