//go:build !linux

package main

// releaseBinaryPages is a no-op where the binary's mappings cannot be
// read from /proc.
func releaseBinaryPages() int64 { return 0 }
