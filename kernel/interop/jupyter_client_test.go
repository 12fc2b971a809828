package interop

import (
	"fmt"
	"strings"
	"testing"
)

func TestKernelInfo(t *testing.T) {
	c := startClient(t, "gopherlab")
	for _, channel := range []string{"shell", "control"} {
		t.Run(channel, func(t *testing.T) {
			a := c.request(channel, "kernel_info_request", nil)
			mustOK(t, "kernel_info on "+channel, a)
			r := a.Reply
			if r.MsgType != "kernel_info_reply" {
				t.Fatalf("reply type %s", r.MsgType)
			}
			if r.Header["version"] != "5.3" || r.str("protocol_version") != "5.3" {
				t.Errorf("protocol version: header %q, content %q; want 5.3", r.Header["version"], r.str("protocol_version"))
			}
			if r.str("implementation") != "gopherlab" || r.str("implementation_version") == "" {
				t.Errorf("implementation %q %q", r.str("implementation"), r.str("implementation_version"))
			}
			if r.str("banner") == "" {
				t.Error("empty banner")
			}
			if _, ok := r.Content["help_links"].([]any); !ok {
				t.Errorf("help_links is %T, want a list", r.Content["help_links"])
			}
			li, _ := r.Content["language_info"].(map[string]any)
			want := map[string]any{"name": "go", "mimetype": "text/x-go", "file_extension": ".go", "pygments_lexer": "go", "codemirror_mode": "go"}
			for k, v := range want {
				if li[k] != v {
					t.Errorf("language_info.%s = %v, want %v", k, li[k], v)
				}
			}
			if v, _ := li["version"].(string); v == "" {
				t.Error("language_info.version is empty")
			}
			if s := a.states(); len(s) < 2 || s[0] != "busy" || s[len(s)-1] != "idle" {
				t.Errorf("iopub status with this parent = %v, want busy … idle", s)
			}
		})
	}
}

func TestExecuteStdoutAndResult(t *testing.T) {
	c := startClient(t, "gopherlab")
	code := "import \"fmt\"\nfmt.Println(\"hello, jupyter\")\nx := 6 * 7\nx"
	a := c.execute(code)
	mustOK(t, "execute", a)
	if got := a.stream("stdout"); got != "hello, jupyter\n" {
		t.Errorf("stdout = %q, want %q\n%s", got, "hello, jupyter\n", a.describe())
	}
	if got, ok := a.result(); !ok || got != "42" {
		t.Errorf("execute_result text/plain = %q (present %v), want 42\n%s", got, ok, a.describe())
	}
	count := a.Reply.Content["execution_count"]
	if count != float64(1) {
		t.Errorf("execution_count = %v, want 1 for the first cell", count)
	}
	if rs := a.of("execute_result"); len(rs) == 1 && rs[0].Content["execution_count"] != count {
		t.Errorf("execute_result count %v != reply count %v", rs[0].Content["execution_count"], count)
	}
	in := a.of("execute_input")
	if len(in) != 1 || in[0].str("code") != code || in[0].Content["execution_count"] != count {
		t.Errorf("execute_input = %+v, want the code with count %v", in, count)
	}
	if s := a.states(); len(s) != 2 || s[0] != "busy" || s[1] != "idle" {
		t.Errorf("status sequence %v, want [busy idle]", s)
	}
	if a.IOPub[0].MsgType != "status" || a.IOPub[len(a.IOPub)-1].MsgType != "status" {
		t.Errorf("busy must come first and idle last:\n%s", a.describe())
	}

	// State persists: the next cell sees x, and the count goes up.
	b := c.execute("x + 1")
	mustOK(t, "second execute", b)
	if got, _ := b.result(); got != "43" {
		t.Errorf("x + 1 = %q, want 43\n%s", got, b.describe())
	}
	if b.Reply.Content["execution_count"] != float64(2) {
		t.Errorf("second execution_count = %v, want 2", b.Reply.Content["execution_count"])
	}

	// silent: no execute_input, no result, no count increment.
	s := c.execute("x", map[string]any{"silent": true})
	mustOK(t, "silent execute", s)
	if len(s.of("execute_input")) != 0 || len(s.of("execute_result")) != 0 {
		t.Errorf("silent execution broadcast output:\n%s", s.describe())
	}
	n := c.execute("x")
	if n.Reply.Content["execution_count"] != float64(3) {
		t.Errorf("after a silent cell execution_count = %v, want 3", n.Reply.Content["execution_count"])
	}
}

func TestExecuteErrors(t *testing.T) {
	c := startClient(t, "gopherlab")
	mustOK(t, "setup", c.execute("kept := \"still here\""))
	cases := []struct {
		name, code string
		ename      string // expected ename, "" for any
		evalue     string // substring of evalue
		bug        string // open bug that keeps the case skipped
	}{
		{"undefined name", "undefinedThing + 1", "CompileError", "undefinedThing", ""},
		{"type error", "var n int = \"text\"", "CompileError", "", ""},
		{"nil map write", "var m map[string]int\nm[\"a\"] = 1", "", "nil map", ""},
		{"index out of range", "s := []int{1, 2}\ni := 5\n_ = s[i]", "", "index out of range", ""},
		{"explicit panic", "panic(\"boom\")", "", "boom", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pending(t, tc.bug)
			a := c.execute(tc.code)
			r := a.Reply
			if r == nil || r.str("status") != "error" {
				t.Fatalf("want status error\n%s", a.describe())
			}
			e, ok := a.errorOut()
			if !ok {
				t.Fatalf("no error message on iopub\n%s", a.describe())
			}
			for _, m := range []kmsg{*r, e} {
				if m.str("ename") == "" || (tc.ename != "" && m.str("ename") != tc.ename) {
					t.Errorf("%s ename = %q, want %q", m.MsgType, m.str("ename"), tc.ename)
				}
				if !strings.Contains(m.str("evalue"), tc.evalue) {
					t.Errorf("%s evalue = %q, want it to mention %q", m.MsgType, m.str("evalue"), tc.evalue)
				}
				tb, ok := m.Content["traceback"].([]any)
				if !ok || len(tb) == 0 {
					t.Errorf("%s traceback = %#v, want a non-empty list of strings", m.MsgType, m.Content["traceback"])
				}
				for _, l := range tb {
					if _, ok := l.(string); !ok {
						t.Errorf("%s traceback holds %T", m.MsgType, l)
					}
				}
			}
			// The session survives.
			b := c.execute("kept")
			mustOK(t, "cell after the error", b)
			if got, _ := b.result(); got != "still here" {
				t.Errorf("after the error kept = %q\n%s", got, b.describe())
			}
		})
	}
}

func TestInterruptLongCell(t *testing.T) {
	c := startClient(t, "gopherlab")
	mustOK(t, "setup", c.execute("y := 7"))
	a := c.execute("for {\n}", map[string]any{"interrupt_after": 1.0, "timeout": 30})
	if a.Reply == nil || a.Reply.str("status") != "error" {
		t.Fatalf("interrupted cell: want status error\n%s", a.describe())
	}
	if e, ok := a.errorOut(); !ok || e.str("ename") != "Interrupted" {
		t.Errorf("interrupted cell error = %+v, want ename Interrupted\n%s", e.Content, a.describe())
	}
	t.Logf("interrupted after %.2fs (interrupt sent at 1s)", a.Elapsed)
	b := c.execute("y * 6")
	mustOK(t, "cell after the interrupt", b)
	if got, _ := b.result(); got != "42" {
		t.Errorf("state lost across the interrupt: y * 6 = %q\n%s", got, b.describe())
	}
}

func TestShutdown(t *testing.T) {
	c := startClient(t, "gopherlab")
	mustOK(t, "execute", c.execute("1 + 1"))
	a := c.do(map[string]any{"op": "shutdown", "restart": false})
	if a.Reply == nil || a.Reply.MsgType != "shutdown_reply" {
		t.Fatalf("no shutdown_reply: %+v", a)
	}
	if a.Reply.Content["restart"] != false || a.Reply.str("status") != "ok" {
		t.Errorf("shutdown_reply content = %v", a.Reply.Content)
	}
	if !a.Exited {
		t.Fatalf("the kernel did not exit within 10 s of shutdown_request")
	}
	if a.ExitCode != nil && *a.ExitCode != 0 {
		t.Errorf("the kernel exited with status %d", *a.ExitCode)
	}
}

func TestRestart(t *testing.T) {
	c := startClient(t, "gopherlab")
	mustOK(t, "execute", c.execute("z := 1"))
	c.do(map[string]any{"op": "restart"})
	mustOK(t, "kernel_info after restart", c.request("shell", "kernel_info_request", nil))
	a := c.execute("z")
	if a.Reply == nil || a.Reply.str("status") != "error" {
		t.Errorf("after a restart z is still defined:\n%s", a.describe())
	}
	b := c.execute("2 + 3")
	if got, _ := b.result(); got != "5" {
		t.Errorf("after restart 2 + 3 = %q\n%s", got, b.describe())
	}
}

func TestStdin(t *testing.T) {
	c := startClient(t, "gopherlab")
	code := "import (\n\t\"bufio\"\n\t\"fmt\"\n\t\"os\"\n)\nline, _ := bufio.NewReader(os.Stdin).ReadString('\\n')\nfmt.Printf(\"got %q\\n\", line)"
	a := c.execute(code, map[string]any{"allow_stdin": true, "stdin": []string{"gopher"}})
	mustOK(t, "execute reading stdin", a)
	if len(a.InputRequests) != 1 {
		t.Errorf("input_requests = %d, want 1\n%s", len(a.InputRequests), a.describe())
	}
	if got := a.stream("stdout"); got != "got \"gopher\\n\"\n" {
		t.Errorf("stdout = %q, want the typed line", got)
	}
	// Without allow_stdin the cell gets a clear error instead of hanging.
	b := c.execute(code, map[string]any{"allow_stdin": false, "timeout": 20})
	if len(b.InputRequests) != 0 {
		t.Errorf("input_request sent although allow_stdin was false")
	}
	if b.Reply == nil {
		t.Fatalf("no reply\n%s", b.describe())
	}
}

// TestEveryRequestAnswered sends the requests that other Go kernels leave
// unanswered (is_complete, history, comm_info, inspect) and checks the
// reply content frontends rely on.
func TestEveryRequestAnswered(t *testing.T) {
	c := startClient(t, "gopherlab")
	mustOK(t, "execute", c.execute("import \"fmt\"\nfmt.Println(1)"))
	cases := []struct {
		msgType string
		content map[string]any
		check   func(t *testing.T, r kmsg)
	}{
		{"is_complete_request", map[string]any{"code": "func f() {"}, func(t *testing.T, r kmsg) {
			if r.str("status") != "incomplete" {
				t.Errorf("is_complete of an open brace = %v, want incomplete", r.Content)
			}
		}},
		{"is_complete_request", map[string]any{"code": "x := 1"}, func(t *testing.T, r kmsg) {
			if r.str("status") != "complete" {
				t.Errorf("is_complete = %v, want complete", r.Content)
			}
		}},
		{"complete_request", map[string]any{"code": "fmt.Pri", "cursor_pos": 7}, func(t *testing.T, r kmsg) {
			ms, _ := r.Content["matches"].([]any)
			if !containsAny(ms, "Println", "fmt.Println") {
				t.Errorf("completions of fmt.Pri = %v, want Println", ms)
			}
			if r.Content["cursor_end"] != float64(7) {
				t.Errorf("cursor_end = %v, want 7", r.Content["cursor_end"])
			}
		}},
		{"inspect_request", map[string]any{"code": "fmt.Println", "cursor_pos": 8, "detail_level": 0}, func(t *testing.T, r kmsg) {
			data, _ := r.Content["data"].(map[string]any)
			if r.Content["found"] != true || !strings.Contains(fmt.Sprint(data["text/plain"]), "Println") {
				t.Errorf("inspect fmt.Println = %v", r.Content)
			}
		}},
		{"history_request", map[string]any{"hist_access_type": "tail", "n": 10, "output": false, "raw": true}, func(t *testing.T, r kmsg) {
			h, ok := r.Content["history"].([]any)
			if !ok {
				t.Fatalf("history is %T", r.Content["history"])
			}
			if !strings.Contains(fmt.Sprint(h), "fmt.Println(1)") {
				t.Errorf("history tail %v lacks the executed cell", h)
			}
		}},
		{"comm_info_request", map[string]any{}, func(t *testing.T, r kmsg) {
			if _, ok := r.Content["comms"].(map[string]any); !ok {
				t.Errorf("comm_info comms = %v", r.Content)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.msgType, func(t *testing.T) {
			a := c.request("shell", tc.msgType, tc.content)
			if a.Reply == nil {
				t.Fatalf("no reply\n%s", a.describe())
			}
			if tc.msgType != "is_complete_request" { // its status is the verdict
				mustOK(t, tc.msgType, a)
			}
			if want := strings.TrimSuffix(tc.msgType, "_request") + "_reply"; a.Reply.MsgType != want {
				t.Errorf("reply type %s, want %s", a.Reply.MsgType, want)
			}
			tc.check(t, *a.Reply)
		})
	}
}

func containsAny(list []any, want ...string) bool {
	for _, v := range list {
		for _, w := range want {
			if v == w {
				return true
			}
		}
	}
	return false
}
