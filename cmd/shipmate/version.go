package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// cmdVersion prints what was built: the module version, the commit and
// the Go toolchain, all from the build information the go command embeds.
func cmdVersion(_ context.Context, e env) error {
	fs := e.flags()
	if err := e.parse(fs); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return e.usageErr(fs, "version takes no arguments")
	}
	info, _ := debug.ReadBuildInfo()
	_, err := fmt.Fprint(e.stdout, versionText(info))
	return err
}

// versionText describes info; a binary built without version control
// stamping (go test, or -buildvcs=false) says its commit is unknown.
func versionText(info *debug.BuildInfo) string {
	version, goVersion := "(unknown)", runtime.Version()
	settings := map[string]string{}
	if info != nil {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		goVersion = info.GoVersion
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
	}
	commit := "unknown (built without version control information)"
	if rev := settings["vcs.revision"]; rev != "" {
		var notes []string
		if t := settings["vcs.time"]; t != "" {
			notes = append(notes, t)
		}
		if settings["vcs.modified"] == "true" {
			notes = append(notes, "with uncommitted changes")
		}
		commit = rev
		if len(notes) > 0 {
			commit += " (" + strings.Join(notes, ", ") + ")"
		}
	}
	return fmt.Sprintf("shipmate %s\ncommit   %s\ngo       %s %s/%s\n", version, commit, goVersion, runtime.GOOS, runtime.GOARCH)
}
