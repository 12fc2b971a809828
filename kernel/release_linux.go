package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// releaseStartupPages unmaps the pages of the gopherlab executable that
// package initialization and the evaluator's start touched, and returns
// how many bytes of mappings it released.
//
// Starting the kernel runs the init functions of every linked package
// (Arrow's kernel registry, the interpreter's symbol tables of about 150
// standard packages, protobuf registrations, ...) and walks the runtime's
// function tables. Those pages are code and read-only data that an idle
// kernel never touches again, yet they stay mapped and count in its RSS:
// right after "go build" Linux maps whole 2 MiB page-cache folios, so
// nearly the entire 65 MB binary appears resident.
//
// madvise(MADV_DONTNEED) drops the process's page-table entries for the
// read-only mappings of the executable. It is safe because those mappings
// hold no private data: every page is a clean copy of the file, which
// stays in the page cache, and the next access maps it again with a minor
// fault. Mappings that are writable, or that hold anonymous pages (the
// RELRO page the dynamic loader relocated, breakpoints a debugger wrote),
// are left alone, as is everything that is not the executable (heap,
// stacks, libc). Code the kernel still runs comes back on its next use;
// the cost is a few hundred minor faults spread over the next requests.
func releaseStartupPages() int {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0
	}
	defer f.Close()
	type mapping struct {
		lo, hi uintptr
		anon   bool // has private (anonymous) pages, or unknown
	}
	var ms []*mapping
	var cur *mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m, ok := smapsHeader(line); ok {
			cur = nil
			if m.path == exe && !strings.Contains(m.perms, "w") {
				cur = &mapping{lo: m.lo, hi: m.hi, anon: true}
				ms = append(ms, cur)
			}
			continue
		}
		if cur == nil {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "Anonymous:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			cur.anon = err != nil || kb != 0
		}
	}
	if sc.Err() != nil {
		return 0
	}
	released := 0
	for _, m := range ms {
		if m.anon {
			continue
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, m.lo, m.hi-m.lo, syscall.MADV_DONTNEED); errno == 0 {
			released += int(m.hi - m.lo)
		}
	}
	return released
}

// smapsMapping is the header line of one mapping in /proc/PID/smaps.
type smapsMapping struct {
	lo, hi uintptr
	perms  string
	path   string
}

// smapsHeader parses "lo-hi perms offset dev inode [path]"; ok is false
// for the "Key: value" lines that follow a header.
func smapsHeader(line string) (m smapsMapping, ok bool) {
	fields := strings.Fields(line)
	if len(fields) < 5 || strings.HasSuffix(fields[0], ":") {
		return m, false
	}
	a, b, found := strings.Cut(fields[0], "-")
	if !found {
		return m, false
	}
	lo, err1 := strconv.ParseUint(a, 16, 64)
	hi, err2 := strconv.ParseUint(b, 16, 64)
	if err1 != nil || err2 != nil || hi <= lo {
		return m, false
	}
	m = smapsMapping{lo: uintptr(lo), hi: uintptr(hi), perms: fields[1]}
	if len(fields) > 5 {
		// The path is the rest of the line; it may contain spaces.
		i := strings.Index(line, fields[5])
		m.path = line[i:]
	}
	return m, true
}
