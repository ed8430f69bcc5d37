package main

import (
	"runtime"
	"strings"
	"testing"

	"shipmate/internal/buildinfo"
)

// TestHelp: every command prints its usage to stdout and exits 0 on -h and
// --help, before it reads anything else (serve does not start, chat does
// not wait for input, gaps does not open a store).
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, c := range commands {
		for _, flag := range []string{"--help", "-h", "-help"} {
			out, errOut, err := runCmd(t, nil, "", c.name, flag)
			if err != nil {
				t.Errorf("%s %s = %v, want exit 0", c.name, flag, err)
			}
			if !strings.HasPrefix(out, "usage: shipmate "+c.name) || errOut != "" {
				t.Errorf("%s %s printed\n%s\nand on stderr %q; want its usage on stdout", c.name, flag, out, errOut)
			}
		}
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		out, _, err := runCmd(t, nil, "", args...)
		if err != nil || !strings.Contains(out, "shipmate validate") || !strings.Contains(out, "shipmate --version") {
			t.Errorf("%q = %q, %v; want the usage and exit 0", args, out, err)
		}
	}
	if out, _, err := runCmd(t, nil, "", "help", "eval"); err != nil || !strings.HasPrefix(out, "usage: shipmate eval") || !strings.Contains(out, "-min-precision") {
		t.Errorf("help eval = %q, %v; want eval's usage with its flags", out, err)
	}
}

// TestUnknownFlag: a flag a command does not know is a usage error (exit
// 2) that shows the command's usage.
func TestUnknownFlag(t *testing.T) {
	t.Parallel()
	for _, c := range commands {
		_, _, err := runCmd(t, nil, "", c.name, "--no-such-flag")
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "-no-such-flag") || !strings.Contains(err.Error(), "usage: shipmate "+c.name) {
			t.Errorf("%s --no-such-flag = %v (exit %d), want exit 2 with the flag named and the usage", c.name, err, exitCode(err))
		}
	}
	if _, _, err := runCmd(t, nil, "", "--no-such-flag"); exitCode(err) != 2 || !strings.Contains(err.Error(), "shipmate ask") {
		t.Errorf("shipmate --no-such-flag = %v, want exit 2 with the usage", err)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"frobnicate"}, {"ask"}, {"eval"}, {"validate", "a", "b"}, {"chat", "hello"}, {"serve", "now"}, {"version", "x"}} {
		_, _, err := runCmd(t, nil, "", args...)
		if exitCode(err) != 2 {
			t.Errorf("run(%q) = %v (exit %d), want a usage error (exit 2)", args, err, exitCode(err))
		}
	}
}

// TestVersion: --version and version print the same, with the Go version
// the program was built with.
func TestVersion(t *testing.T) {
	t.Parallel()
	a, _, err := runCmd(t, nil, "", "--version")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := runCmd(t, nil, "", "version")
	if err != nil {
		t.Fatal(err)
	}
	if a != b || !strings.HasPrefix(a, "shipmate ") || !strings.Contains(a, "\ncommit ") || !strings.Contains(a, runtime.Version()) {
		t.Errorf("--version = %q, version = %q; want the same, with a commit line and %s", a, b, runtime.Version())
	}
}

func TestVersionText(t *testing.T) {
	t.Parallel()
	info := buildinfo.Info{Version: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567",
		Time: "2026-12-01T10:00:00Z", Modified: true, GoVersion: "go1.99.1"}
	got := versionText(info)
	for _, want := range []string{"shipmate v1.2.3\n", "commit   0123456789abcdef0123456789abcdef01234567 (2026-12-01T10:00:00Z, with uncommitted changes)\n", "go       go1.99.1 "} {
		if !strings.Contains(got, want) {
			t.Errorf("versionText = %q, want %q in it", got, want)
		}
	}
	if got := versionText(buildinfo.Info{GoVersion: "go1.99.1"}); !strings.Contains(got, "commit   unknown") || !strings.Contains(got, "shipmate (unknown)") {
		t.Errorf("versionText without VCS = %q, want an unknown version and commit", got)
	}
}
