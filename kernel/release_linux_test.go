package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// written lives in the executable's writable data; releasing pages must
// not reset it to the value in the file.
var written = []byte("as in the file")

func TestReleaseStartupPages(t *testing.T) {
	copy(written, "changed at run")
	before := rssMiB(os.Getpid(), "RssFile")
	released := releaseStartupPages()
	after := rssMiB(os.Getpid(), "RssFile")
	if released < 1<<20 {
		t.Fatalf("released %d bytes of the executable's mappings, want the code and read-only data", released)
	}
	if after >= before {
		t.Errorf("RssFile %.1f MiB before, %.1f MiB after releasing", before, after)
	}
	// Code, read-only data and written globals all still work.
	if got := string(written); got != "changed at run" {
		t.Errorf("a written global reads %q after releasing", got)
	}
	if got := strings.Repeat(strconv.Itoa(42), 2); got != "4242" {
		t.Errorf("code after releasing computed %q", got)
	}
	// The executable's writable mappings and any mapping holding private
	// pages were left alone: their anonymous pages are still resident.
	exe, _ := os.Readlink("/proc/self/exe")
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var cur smapsMapping
	for _, line := range strings.Split(string(smaps), "\n") {
		if m, ok := smapsHeader(line); ok {
			cur = m
			continue
		}
		if cur.path == exe && strings.Contains(cur.perms, "w") && strings.HasPrefix(line, "Anonymous:") {
			if kb, _ := strconv.Atoi(strings.Fields(line)[1]); kb == 0 {
				t.Errorf("writable mapping %x-%x of the executable lost its written pages", cur.lo, cur.hi)
			}
		}
	}
}

func TestSmapsHeader(t *testing.T) {
	m, ok := smapsHeader("00402000-01a11000 r-xp 00002000 fe:00 10019458                   /opt/my kernels/gopherlab")
	if !ok || m.lo != 0x402000 || m.hi != 0x1a11000 || m.perms != "r-xp" || m.path != "/opt/my kernels/gopherlab" {
		t.Errorf("parsed %+v %v", m, ok)
	}
	if m, ok := smapsHeader("7f84bcf1c000-7f84bd1bc000 rw-p 00000000 00:00 0 "); !ok || m.path != "" {
		t.Errorf("anonymous mapping parsed %+v %v", m, ok)
	}
	for _, line := range []string{"Rss:                 980 kB", "VmFlags: rd ex mr mw me", ""} {
		if _, ok := smapsHeader(line); ok {
			t.Errorf("%q parsed as a mapping header", line)
		}
	}
}
