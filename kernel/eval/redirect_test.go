package eval

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/kernel/cell"
)

// With redirection (the kernel's mode) everything written to fd 1 and 2 —
// interpreted fmt, os.Stdout, compiled packages, child processes — reaches
// the cell's streams, stdout and stderr apart.
func TestRedirectRealFDs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("fd redirection is implemented for Linux")
	}
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	exec := func(code string) (*testSink, error) {
		s := &testSink{}
		execCount++
		err := e.Execute(context.Background(), cell.Request{Code: code, ExecutionCount: execCount}, s)
		return s, err
	}
	type res struct {
		s   *testSink
		err error
	}
	var got []res
	cells := []string{
		"fmt.Println(\"interp\")\nos.Stdout.WriteString(\"file\\n\")\nfmt.Fprintln(os.Stderr, \"to-stderr\")\nlog.SetFlags(0)\nlog.Print(\"logged\")",
		"cmd := exec.Command(\"sh\", \"-c\", \"echo child-out; echo child-err >&2\")\ncmd.Stdout = os.Stdout\ncmd.Stderr = os.Stderr\ncmd.Run()",
		"for i := 0; i < 100000; i++ { fmt.Println(i) }",
		"%time fmt.Println(\"x\")",
	}
	for _, c := range cells {
		s, err := exec(c)
		got = append(got, res{s, err})
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// Only now (fds restored) report.
	for i, r := range got {
		if r.err != nil {
			t.Errorf("cell %d: %v", i, r.err)
		}
	}
	if out := got[0].s.Out(); out != "interp\nfile\n" {
		t.Errorf("stdout %q", out)
	}
	if errs := got[0].s.Err(); !strings.Contains(errs, "to-stderr\n") || !strings.Contains(errs, "logged\n") || strings.Contains(errs, "interp") {
		t.Errorf("stderr %q", errs)
	}
	if out := got[1].s.Out(); out != "child-out\n" {
		t.Errorf("child stdout %q", out)
	}
	if errs := got[1].s.Err(); errs != "child-err\n" {
		t.Errorf("child stderr %q", errs)
	}
	flood := got[2].s
	var want strings.Builder
	for i := 0; i < 100000; i++ {
		fmt.Fprintln(&want, i)
	}
	if flood.Out() != want.String() {
		t.Errorf("100k lines: got %d bytes, want %d", len(flood.Out()), want.Len())
	}
	// 589 KB in 64 KiB or 50 ms batches: a handful of messages, not 100k.
	if flood.streams > 1000 || flood.streams < 1 {
		t.Errorf("100k lines sent as %d stream messages", flood.streams)
	}
	if !strings.Contains(got[3].s.Out(), "Wall time") {
		t.Errorf("%%time: %q", got[3].s.Out())
	}
}
