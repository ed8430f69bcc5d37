package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// releaseBinaryPages drops this process's mappings of the binary's
// read-only pages: code, read-only data, type and function tables. Package
// initialisation and building the index touch most of the binary once,
// and the kernel maps 64 KB around each page touched (fault-around), so
// without this about 24 MB of the binary stays resident, most of it never
// used again. The pages are clean copies of the file, still in
// the page cache: what serve goes on running is mapped again on its first
// use, without reading the disk.
//
// Only mappings of the executable that are not writable and hold no
// private copy of a page are dropped (Anonymous: 0 in smaps; the
// relocated read-only data of a position-independent binary has such
// copies), so no byte written is lost.
func releaseBinaryPages() (dropped int64) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0
	}
	type mapping struct {
		start, end uintptr
		ok         bool
		rss        int64
	}
	var (
		cur  mapping
		drop []mapping
	)
	flush := func() {
		if cur.ok {
			drop = append(drop, cur)
		}
		cur = mapping{}
	}
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Bytes()
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		if lo, hi, isRange := bytes.Cut(f[0], []byte("-")); isRange && len(f) >= 5 {
			// A mapping's header: range, permissions, offset, device, inode, path.
			flush()
			start, err1 := strconv.ParseUint(string(lo), 16, 64)
			end, err2 := strconv.ParseUint(string(hi), 16, 64)
			perms := f[1]
			cur = mapping{
				start: uintptr(start), end: uintptr(end),
				ok: err1 == nil && err2 == nil && end > start && len(f) >= 6 && string(f[5]) == exe &&
					len(perms) == 4 && perms[1] == '-' && perms[3] == 'p',
			}
			continue
		}
		if len(f) < 2 || !cur.ok {
			continue
		}
		kb, err := strconv.ParseInt(string(f[1]), 10, 64)
		switch string(f[0]) {
		case "Anonymous:":
			if err != nil || kb != 0 {
				cur.ok = false
			}
		case "Rss:":
			cur.rss = kb << 10
		}
	}
	flush()
	for _, m := range drop {
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED); errno == 0 {
			dropped += m.rss
		}
	}
	return dropped
}
