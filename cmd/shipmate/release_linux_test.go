package main

import (
	"os"
	"strings"
	"testing"
)

func TestReleaseBinaryPages(t *testing.T) {
	before := rssFileKB(t)
	dropped := releaseBinaryPages()
	after := rssFileKB(t)
	if dropped <= 0 {
		t.Fatalf("releaseBinaryPages() = %d bytes, want some of the test binary's pages", dropped)
	}
	if after >= before {
		t.Errorf("RssFile %d kB after releaseBinaryPages, want less than the %d kB before", after, before)
	}
	// The code and data dropped are mapped again on use.
	if got := strings.Repeat("ab", 3); got != "ababab" {
		t.Errorf("after releaseBinaryPages, strings.Repeat = %q", got)
	}
}

func rssFileKB(t *testing.T) int64 {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	return statusKB(status, "RssFile:")
}
