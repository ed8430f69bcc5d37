package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"shipmate/internal/buildinfo"
)

// cmdVersion prints what was built: the module version, the commit and
// the Go toolchain (see package buildinfo).
func cmdVersion(_ context.Context, e env) error {
	fs := e.flags()
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return e.usageErr(fs, "version takes no arguments")
	}
	_, err := fmt.Fprint(e.stdout, versionText(buildinfo.Read()))
	return err
}

// versionText describes info; a binary built without version control
// information or a stamped commit says its commit is unknown.
func versionText(info buildinfo.Info) string {
	version := info.Version
	if version == "" {
		version = "(unknown)"
	}
	commit := "unknown (built without version control information)"
	if info.Commit != "" {
		var notes []string
		if info.Time != "" {
			notes = append(notes, info.Time)
		}
		if info.Modified {
			notes = append(notes, "with uncommitted changes")
		}
		commit = info.Commit
		if len(notes) > 0 {
			commit += " (" + strings.Join(notes, ", ") + ")"
		}
	}
	return fmt.Sprintf("shipmate %s\ncommit   %s\ngo       %s %s/%s\n", version, commit, info.GoVersion, runtime.GOOS, runtime.GOARCH)
}
