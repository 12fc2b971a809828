package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/kernel/cell"
	"github.com/gopherlab/gopherlab/kernel/client"
	"github.com/gopherlab/gopherlab/kernel/history"
	"github.com/gopherlab/gopherlab/kernel/wire"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type serveResult struct {
	restart bool
	err     error
}

type harness struct {
	t    *testing.T
	ci   *wire.ConnectionInfo
	srv  *Server
	ev   cell.Evaluator
	logs *syncBuffer
	done chan serveResult
}

// startKernel starts a server on free TCP ports of 127.0.0.1.
func startKernel(t *testing.T, ev cell.Evaluator, opts Options, mutate ...func(*wire.ConnectionInfo)) *harness {
	t.Helper()
	ci, err := wire.NewTCPConnectionInfo("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mutate {
		m(ci)
	}
	return startOn(t, ci, ev, opts)
}

func startOn(t *testing.T, ci *wire.ConnectionInfo, ev cell.Evaluator, opts Options) *harness {
	t.Helper()
	if ev == nil {
		ev = &scriptEvaluator{}
	}
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = log.New(logs, "", 0)
	}
	srv, err := New(ci, ev, opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, ci: ci, srv: srv, ev: ev, logs: logs, done: make(chan serveResult, 1)}
	go func() {
		r, err := srv.Serve(context.Background())
		h.done <- serveResult{r, err}
	}()
	t.Cleanup(func() {
		srv.finish(false)
		srv.Close()
	})
	return h
}

func (h *harness) dial(opts client.Options) *client.Client {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, h.ci, opts)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	if err := c.WaitReady(ctx); err != nil {
		h.t.Fatal(err)
	}
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func decode(t *testing.T, m *wire.Message) map[string]any {
	t.Helper()
	var c map[string]any
	if err := m.Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func types(ms []*wire.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Type())
	}
	return out
}

func TestKernelInfoOnShellAndControl(t *testing.T) {
	h := startKernel(t, nil, Options{})
	c := h.dial(client.Options{})
	for _, ch := range []wire.Channel{wire.Shell, wire.Control} {
		t.Run(string(ch), func(t *testing.T) {
			reply, iopub, err := c.Request(testCtx(t), ch, "kernel_info_request", nil)
			if err != nil {
				t.Fatal(err)
			}
			if reply.Type() != "kernel_info_reply" {
				t.Fatalf("reply type %s", reply.Type())
			}
			ki := decode(t, reply)
			for k, want := range map[string]any{"status": "ok", "protocol_version": "5.3", "implementation": "gopherlab", "implementation_version": Version} {
				if ki[k] != want {
					t.Errorf("%s = %v, want %v", k, ki[k], want)
				}
			}
			li := ki["language_info"].(map[string]any)
			for k, want := range map[string]any{"name": "go", "mimetype": "text/x-go", "file_extension": ".go", "pygments_lexer": "go", "codemirror_mode": "go"} {
				if li[k] != want {
					t.Errorf("language_info.%s = %v, want %v", k, li[k], want)
				}
			}
			if v, _ := li["version"].(string); !strings.HasPrefix(v, "1.") {
				t.Errorf("language_info.version = %q", v)
			}
			if b, _ := ki["banner"].(string); !strings.Contains(b, "gopherlab") {
				t.Errorf("banner %q", b)
			}
			if links, _ := ki["help_links"].([]any); len(links) == 0 {
				t.Errorf("no help_links")
			}
			if got := types(iopub); strings.Join(got, ",") != "status,status" {
				t.Errorf("iopub %v, want busy and idle", got)
			}
			for i, state := range []string{"busy", "idle"} {
				if decode(t, iopub[i])["execution_state"] != state || iopub[i].ParentHeader != reply.ParentHeader {
					t.Errorf("iopub[%d] = %v parent %+v", i, decode(t, iopub[i]), iopub[i].ParentHeader)
				}
			}
			if reply.Header.Session != h.srv.Session() || reply.Header.Version != "5.3" {
				t.Errorf("reply header %+v", reply.Header)
			}
		})
	}
}

func TestExecuteOutputs(t *testing.T) {
	h := startKernel(t, nil, Options{})
	c := h.dial(client.Options{})
	code := "echo hello\nstderr warn\ndisplay d1 first\nupdate d1 second\nclear\nresult 42"
	res, err := c.Execute(testCtx(t), code, client.ExecuteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "ok" || res.ExecutionCount != 1 {
		t.Fatalf("status %s count %d", res.Status, res.ExecutionCount)
	}
	want := "status,execute_input,stream,stream,display_data,update_display_data,clear_output,execute_result,status"
	if got := strings.Join(types(res.IOPub), ","); got != want {
		t.Fatalf("iopub sequence\n got %s\nwant %s", got, want)
	}
	for _, m := range res.IOPub {
		if m.ParentHeader.MsgID != res.Reply.ParentHeader.MsgID {
			t.Errorf("%s has parent %s", m.Type(), m.ParentHeader.MsgID)
		}
	}
	in := decode(t, res.IOPub[1])
	if in["code"] != code || in["execution_count"] != 1.0 {
		t.Errorf("execute_input %v", in)
	}
	o := res.Outputs
	if o[0].Name != "stdout" || o[0].Text != "hello\n" || o[1].Name != "stderr" || o[1].Text != "warn\n" {
		t.Errorf("streams %+v %+v", o[0], o[1])
	}
	if o[2].DisplayID != "d1" || o[2].Data["text/html"] != "<b>first</b>" || o[3].DisplayID != "d1" || o[3].Data["text/plain"] != "second" {
		t.Errorf("display %+v update %+v", o[2], o[3])
	}
	if !o[4].Wait {
		t.Errorf("clear_output %+v", o[4])
	}
	if o[5].ExecutionCount != 1 || o[5].Data["text/plain"] != "42" {
		t.Errorf("execute_result %+v", o[5])
	}
	if ue := decode(t, res.Reply)["user_expressions"]; ue == nil {
		t.Errorf("reply lacks user_expressions")
	}
}

func TestExecutionCountRules(t *testing.T) {
	h := startKernel(t, nil, Options{})
	c := h.dial(client.Options{})
	steps := []struct {
		opts       client.ExecuteOptions
		wantCount  int
		wantInput  bool
		wantResult bool
	}{
		{client.ExecuteOptions{}, 1, true, true},
		{client.ExecuteOptions{}, 2, true, true},
		{client.ExecuteOptions{Silent: true}, 2, false, false},
		{client.ExecuteOptions{NoStoreHistory: true}, 2, true, true},
		{client.ExecuteOptions{}, 3, true, true},
	}
	for i, st := range steps {
		res, err := c.Execute(testCtx(t), "result x", st.opts)
		if err != nil {
			t.Fatal(err)
		}
		var gotInput, gotResult bool
		for _, m := range res.IOPub {
			gotInput = gotInput || m.Type() == "execute_input"
			gotResult = gotResult || m.Type() == "execute_result"
		}
		if res.ExecutionCount != st.wantCount || gotInput != st.wantInput || gotResult != st.wantResult {
			t.Errorf("step %d (%+v): count %d input %v result %v; want %d %v %v", i, st.opts, res.ExecutionCount, gotInput, gotResult, st.wantCount, st.wantInput, st.wantResult)
		}
	}
}

func TestUserExpressions(t *testing.T) {
	h := startKernel(t, nil, Options{})
	c := h.dial(client.Options{})
	res, err := c.Execute(testCtx(t), "inc\ninc", client.ExecuteOptions{UserExpressions: map[string]string{"n": "counter", "bad": "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	n := res.UserExpressions["n"]
	if n["status"] != "ok" || n["data"].(map[string]any)["text/plain"] != "2" {
		t.Errorf("n = %v", n)
	}
	if bad := res.UserExpressions["bad"]; bad["status"] != "error" || bad["ename"] != "NameError" {
		t.Errorf("bad = %v", bad)
	}
}

func TestErrorReply(t *testing.T) {
	h := startKernel(t, nil, Options{})
	c := h.dial(client.Options{})
	tests := []struct {
		code, ename, evalue string
		tbLen               int
	}{
		{"echo before\nraise ValueError boom", "ValueError", "boom", 2},
		{"rawerror plain failure", "Error", "plain failure", 1},
		{"nilerror no traceback", "NoTrace", "no traceback", 1},
		{"panic evaluator bug", "InternalError", "evaluator bug", 2},
	}
	for _, tt := range tests {
		t.Run(tt.ename, func(t *testing.T) {
			res, err := c.Execute(testCtx(t), tt.code, client.ExecuteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != "error" || res.EName != tt.ename || res.EValue != tt.evalue || len(res.Traceback) < tt.tbLen {
				t.Fatalf("reply %s %q %q %q", res.Status, res.EName, res.EValue, res.Traceback)
			}
			// traceback is a JSON array in the raw reply, never null.
			var raw map[string]json.RawMessage
			json.Unmarshal(res.Reply.Content, &raw)
			if !bytes.HasPrefix(raw["traceback"], []byte("[")) {
				t.Errorf("traceback is %s", raw["traceback"])
			}
			last := res.Outputs[len(res.Outputs)-1]
			if last.Type != "error" || last.EName != tt.ename || last.Traceback == nil {
				t.Errorf("iopub error output %+v", last)
			}
		})
	}
	// The kernel survived, including the evaluator panic.
	if res, err := c.Execute(testCtx(t), "result alive", client.ExecuteOptions{}); err != nil || res.Status != "ok" {
		t.Fatalf("after errors: %v %+v", err, res)
	}
}

func TestStopOnErrorAbortsQueued(t *testing.T) {
	h := startKernel(t, nil, Options{})
	c := h.dial(client.Options{})
	ctx := testCtx(t)
	send := func(code string, stop bool) string {
		m, err := c.Send(wire.Shell, "execute_request", map[string]any{"code": code, "silent": false, "store_history": true, "allow_stdin": false, "stop_on_error": stop, "user_expressions": map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		return m.Header.MsgID
	}
	status := func(id string) string {
		r, err := c.Reply(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Idle(ctx, id); err != nil {
			t.Fatal(err)
		}
		return decode(t, r)["status"].(string)
	}
	failing := send("sleep 500ms\nraise Boom stop", true)
	queued1 := send("echo never", true)
	queued2 := send("echo never", true)
	if got := []string{status(failing), status(queued1), status(queued2)}; strings.Join(got, ",") != "error,aborted,aborted" {
		t.Fatalf("statuses %v, want error,aborted,aborted", got)
	}
	// A request sent after the abort runs normally.
	if got := status(send("echo after", true)); got != "ok" {
		t.Fatalf("after abort: %s", got)
	}
	// A request sent right after the error reply arrived is not aborted:
	// only requests received before the reply are.
	for i := 0; i < 20; i++ {
		if res, _ := c.Execute(ctx, "raise Quick fail", client.ExecuteOptions{}); res.Status != "error" {
			t.Fatalf("quick fail %s", res.Status)
		}
		if res, _ := c.Execute(ctx, "result fine", client.ExecuteOptions{}); res.Status != "ok" {
			t.Fatalf("request after error reply: status %s", res.Status)
		}
	}
	// With stop_on_error false nothing is aborted.
	failing = send("sleep 500ms\nraise Boom go on", false)
	next := send("echo runs", true)
	if got := []string{status(failing), status(next)}; strings.Join(got, ",") != "error,ok" {
		t.Fatalf("stop_on_error false: %v", got)
	}
}

func TestIsCompleteCompleteInspect(t *testing.T) {
	h := startKernel(t, nil, Options{})
	c := h.dial(client.Options{})
	ctx := testCtx(t)
	for code, want := range map[string]string{"x := 1": "complete", "for {": "incomplete", "}": "invalid"} {
		r, _, err := c.Request(ctx, wire.Shell, "is_complete_request", map[string]string{"code": code})
		if err != nil {
			t.Fatal(err)
		}
		got := decode(t, r)
		if got["status"] != want {
			t.Errorf("is_complete(%q) = %v", code, got)
		}
		if want == "incomplete" && got["indent"] != "\t" {
			t.Errorf("indent %q", got["indent"])
		}
	}
	r, _, err := c.Request(ctx, wire.Shell, "complete_request", map[string]any{"code": "fmt.Pri", "cursor_pos": 7})
	if err != nil {
		t.Fatal(err)
	}
	comp := decode(t, r)
	if comp["status"] != "ok" || fmt.Sprint(comp["matches"]) != "[Printf Println]" || comp["cursor_start"] != 4.0 || comp["cursor_end"] != 7.0 {
		t.Errorf("complete %v", comp)
	}
	if types := comp["metadata"].(map[string]any)["_jupyter_types_experimental"].([]any); len(types) != 2 {
		t.Errorf("types %v", types)
	}
	r, _, _ = c.Request(ctx, wire.Shell, "complete_request", map[string]any{"code": "zzz", "cursor_pos": 3})
	if m := decode(t, r)["matches"]; m == nil {
		t.Errorf("matches is null, want []")
	}
	r, _, _ = c.Request(ctx, wire.Shell, "inspect_request", map[string]any{"code": "fmt.Println", "cursor_pos": 8, "detail_level": 0})
	in := decode(t, r)
	if in["status"] != "ok" || in["found"] != true || !strings.Contains(in["data"].(map[string]any)["text/plain"].(string), "func Println") {
		t.Errorf("inspect %v", in)
	}
	r, _, _ = c.Request(ctx, wire.Shell, "inspect_request", map[string]any{"code": "nothing", "cursor_pos": 3})
	if in := decode(t, r); in["status"] != "ok" || in["found"] != false {
		t.Errorf("inspect not found %v", in)
	}
	r, _, _ = c.Request(ctx, wire.Shell, "inspect_request", map[string]any{"code": "boom", "cursor_pos": 3})
	if in := decode(t, r); in["status"] != "error" {
		t.Errorf("inspect with evaluator panic %v", in)
	}
}

func TestHistoryRequests(t *testing.T) {
	h := startKernel(t, nil, Options{})
	c := h.dial(client.Options{})
	ctx := testCtx(t)
	for _, code := range []string{"echo a", "result b", "echo a", "inc"} {
		c.Execute(ctx, code, client.ExecuteOptions{})
	}
	c.Execute(ctx, "echo hidden", client.ExecuteOptions{NoStoreHistory: true})
	hist := func(content map[string]any) []any {
		t.Helper()
		r, _, err := c.Request(ctx, wire.Shell, "history_request", content)
		if err != nil {
			t.Fatal(err)
		}
		d := decode(t, r)
		if d["status"] != "ok" {
			t.Fatalf("history %v", d)
		}
		return d["history"].([]any)
	}
	tail := hist(map[string]any{"hist_access_type": "tail", "n": 2, "output": false, "raw": true})
	if fmt.Sprint(tail) != "[[1 3 echo a] [1 4 inc]]" {
		t.Errorf("tail %v", tail)
	}
	uniq := hist(map[string]any{"hist_access_type": "tail", "n": 10, "unique": true})
	if fmt.Sprint(uniq) != "[[1 2 result b] [1 3 echo a] [1 4 inc]]" {
		t.Errorf("tail unique %v", uniq)
	}
	rng := hist(map[string]any{"hist_access_type": "range", "session": 0, "start": 2, "stop": 4})
	if fmt.Sprint(rng) != "[[1 2 result b] [1 3 echo a]]" {
		t.Errorf("range %v", rng)
	}
	search := hist(map[string]any{"hist_access_type": "search", "pattern": "echo*", "n": 10})
	if fmt.Sprint(search) != "[[1 1 echo a] [1 3 echo a]]" {
		t.Errorf("search %v", search)
	}
	withOut := hist(map[string]any{"hist_access_type": "tail", "n": 1, "output": true})
	if fmt.Sprint(withOut) != "[[1 4 [inc <nil>]]]" {
		t.Errorf("output %v", withOut)
	}
	r, _, _ := c.Request(ctx, wire.Shell, "history_request", map[string]any{"hist_access_type": "bogus"})
	if d := decode(t, r); d["status"] != "error" {
		t.Errorf("bogus access type: %v", d)
	}
}

func TestHistoryPersistsAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	ci, err := wire.NewTCPConnectionInfo("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	run := func(code string, restart bool) (tail []any) {
		store, err := history.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		h := startOn(t, ci, nil, Options{History: store})
		c := h.dial(client.Options{})
		ctx := testCtx(t)
		if _, err := c.Execute(ctx, code, client.ExecuteOptions{}); err != nil {
			t.Fatal(err)
		}
		r, _, err := c.Request(ctx, wire.Shell, "history_request", map[string]any{"hist_access_type": "tail", "n": 10})
		if err != nil {
			t.Fatal(err)
		}
		tail = decode(t, r)["history"].([]any)
		if err := c.Shutdown(ctx, restart); err != nil {
			t.Fatal(err)
		}
		res := <-h.done
		if res.err != nil || res.restart != restart {
			t.Fatalf("Serve returned %+v", res)
		}
		c.Close()
		h.srv.Close()
		return tail
	}
	run("echo first kernel", true)
	tail := run("echo second kernel", false)
	if fmt.Sprint(tail) != "[[1 1 echo first kernel] [2 1 echo second kernel]]" {
		t.Fatalf("history after restart %v", tail)
	}
}

func TestComms(t *testing.T) {
	h := startKernel(t, nil, Options{})
	var closed sync.WaitGroup
	closed.Add(1)
	h.srv.RegisterCommTarget("echo", func(c *Comm, data json.RawMessage) {
		c.OnMessage = func(d json.RawMessage) { c.Send(map[string]any{"echo": json.RawMessage(d)}) }
		c.OnClose = func(json.RawMessage) { closed.Done() }
		c.Send(map[string]any{"opened": json.RawMessage(data)})
	})
	c := h.dial(client.Options{})
	ctx := testCtx(t)
	commInfo := func(target string) map[string]any {
		r, _, err := c.Request(ctx, wire.Shell, "comm_info_request", map[string]any{"target_name": target})
		if err != nil {
			t.Fatal(err)
		}
		d := decode(t, r)
		if d["status"] != "ok" {
			t.Fatalf("comm_info %v", d)
		}
		return d["comms"].(map[string]any)
	}
	if got := commInfo(""); len(got) != 0 {
		t.Fatalf("comms before open: %v", got)
	}
	// Unknown target: the kernel closes the comm on iopub.
	m, _ := c.Send(wire.Shell, "comm_open", map[string]any{"comm_id": "c-unknown", "target_name": "nope", "data": map[string]any{}})
	iopub, err := c.Idle(ctx, m.Header.MsgID)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(types(iopub), ","); got != "status,comm_close,status" || decode(t, iopub[1])["comm_id"] != "c-unknown" {
		t.Fatalf("unknown target iopub %s", got)
	}
	// Known target: open, message, info, close.
	m, _ = c.Send(wire.Shell, "comm_open", map[string]any{"comm_id": "c1", "target_name": "echo", "data": map[string]any{"x": 1}})
	iopub, _ = c.Idle(ctx, m.Header.MsgID)
	if got := strings.Join(types(iopub), ","); got != "status,comm_msg,status" {
		t.Fatalf("open iopub %s", got)
	}
	if got := commInfo("echo"); fmt.Sprint(got) != "map[c1:map[target_name:echo]]" {
		t.Fatalf("comm_info %v", got)
	}
	if got := commInfo("other"); len(got) != 0 {
		t.Fatalf("comm_info filtered %v", got)
	}
	m, _ = c.Send(wire.Shell, "comm_msg", map[string]any{"comm_id": "c1", "data": map[string]any{"ping": true}})
	iopub, _ = c.Idle(ctx, m.Header.MsgID)
	if len(iopub) != 3 || fmt.Sprint(decode(t, iopub[1])["data"]) != "map[echo:map[ping:true]]" {
		t.Fatalf("comm_msg echo %v", types(iopub))
	}
	m, _ = c.Send(wire.Shell, "comm_close", map[string]any{"comm_id": "c1", "data": map[string]any{}})
	c.Idle(ctx, m.Header.MsgID)
	closed.Wait()
	if got := commInfo(""); len(got) != 0 {
		t.Fatalf("comms after close: %v", got)
	}
}

func TestShutdown(t *testing.T) {
	for _, restart := range []bool{false, true} {
		for _, ch := range []wire.Channel{wire.Control, wire.Shell} {
			t.Run(fmt.Sprintf("%s/restart=%v", ch, restart), func(t *testing.T) {
				h := startKernel(t, nil, Options{})
				c := h.dial(client.Options{})
				watch, stop := c.Subscribe()
				defer stop()
				r, _, err := c.Request(testCtx(t), ch, "shutdown_request", map[string]bool{"restart": restart})
				if err != nil {
					t.Fatal(err)
				}
				if d := decode(t, r); d["status"] != "ok" || d["restart"] != restart {
					t.Fatalf("reply %v", d)
				}
				select {
				case res := <-h.done:
					if res.err != nil || res.restart != restart {
						t.Fatalf("Serve returned %+v", res)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("Serve did not return after shutdown_request")
				}
				found := false
				for len(watch) > 0 {
					if m := <-watch; m.Type() == "shutdown_reply" {
						found = true
					}
				}
				if !found {
					t.Error("shutdown_reply not broadcast on iopub")
				}
			})
		}
	}
}

func TestShutdownWhileCellIgnoresInterrupt(t *testing.T) {
	h := startKernel(t, nil, Options{})
	c := h.dial(client.Options{})
	m, _ := c.Send(wire.Shell, "execute_request", map[string]any{"code": "hang 10s"})
	c.Forget(m.Header.MsgID)
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	if err := c.Shutdown(testCtx(t), false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.done:
		if el := time.Since(start); el > 5*time.Second {
			t.Fatalf("shutdown took %v", el)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("Serve did not return while a cell ignored the interrupt")
	}
}

func TestInterruptLongCellKeepsState(t *testing.T) {
	h := startKernel(t, nil, Options{})
	c := h.dial(client.Options{})
	ctx := testCtx(t)
	if res, _ := c.Execute(ctx, "inc", client.ExecuteOptions{}); res.Outputs[0].Data["text/plain"] != "1" {
		t.Fatalf("first inc %+v", res.Outputs)
	}
	watch, stop := c.Subscribe()
	defer stop()
	m, err := c.Send(wire.Shell, "execute_request", map[string]any{"code": "inc\nsleep 30s\necho unreachable", "store_history": true})
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the cell is running.
	for started := false; !started; {
		select {
		case im := <-watch:
			started = im.Type() == "execute_result" && im.ParentHeader.MsgID == m.Header.MsgID
		case <-ctx.Done():
			t.Fatal("cell did not start")
		}
	}
	start := time.Now()
	if err := c.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := c.Reply(ctx, m.Header.MsgID)
	if err != nil {
		t.Fatal(err)
	}
	if d := decode(t, r); d["status"] != "error" || d["ename"] != "Interrupted" {
		t.Fatalf("interrupted reply %v", d)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("interrupt took %v", el)
	}
	c.Idle(ctx, m.Header.MsgID)
	c.Forget(m.Header.MsgID)
	res, err := c.Execute(ctx, "inc", client.ExecuteOptions{})
	if err != nil || res.Outputs[0].Data["text/plain"] != "3" {
		t.Fatalf("state after interrupt: %v %+v", err, res)
	}
}

func TestHeartbeatWhileBusy(t *testing.T) {
	h := startKernel(t, nil, Options{})
	c := h.dial(client.Options{})
	ctx := testCtx(t)
	watch, stop := c.Subscribe()
	defer stop()
	m, _ := c.Send(wire.Shell, "execute_request", map[string]any{"code": "echo started\nsleep 30s"})
	for started := false; !started; {
		select {
		case im := <-watch:
			started = im.Type() == "stream" && im.ParentHeader.MsgID == m.Header.MsgID
		case <-ctx.Done():
			t.Fatal("cell did not start")
		}
	}
	for i := 0; i < 3; i++ {
		hbCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := c.Heartbeat(hbCtx)
		cancel()
		if err != nil {
			t.Fatalf("heartbeat %d while busy: %v", i, err)
		}
	}
	// kernel_info on control is answered while shell is busy.
	if _, _, err := c.Request(ctx, wire.Control, "kernel_info_request", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reply(ctx, m.Header.MsgID); err != nil {
		t.Fatal(err)
	}
}

func TestStdin(t *testing.T) {
	h := startKernel(t, nil, Options{})
	var prompts []string
	var mu sync.Mutex
	c := h.dial(client.Options{Input: func(prompt string, password bool) (string, error) {
		mu.Lock()
		prompts = append(prompts, prompt)
		mu.Unlock()
		return "gopher", nil
	}})
	res, err := c.Execute(testCtx(t), "input Name? \ninput Again? ", client.ExecuteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "ok" || len(res.Outputs) != 2 || res.Outputs[0].Text != "got gopher\n" {
		t.Fatalf("%s %+v", res.Status, res.Outputs)
	}
	if fmt.Sprint(prompts) != "[Name? Again?]" {
		t.Errorf("prompts %q", prompts)
	}
	// Without allow_stdin, reading input is a clear error, not a hang.
	c2 := h.dial(client.Options{})
	res, err = c2.Execute(testCtx(t), "input Name?", client.ExecuteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "error" || !strings.Contains(res.EValue, "allow_stdin is false") {
		t.Fatalf("no stdin: %s %q", res.Status, res.EValue)
	}
}

func TestInterruptWhileWaitingForInput(t *testing.T) {
	h := startKernel(t, nil, Options{})
	asked := make(chan struct{}, 1)
	c := h.dial(client.Options{Input: func(string, bool) (string, error) {
		asked <- struct{}{}
		select {} // the user never answers
	}})
	ctx := testCtx(t)
	m, _ := c.Send(wire.Shell, "execute_request", map[string]any{"code": "input wait", "allow_stdin": true})
	<-asked
	c.Interrupt(ctx)
	r, err := c.Reply(ctx, m.Header.MsgID)
	if err != nil || decode(t, r)["status"] != "error" {
		t.Fatalf("reply %v %v", err, r)
	}
}

func TestTwoClientsReceiveIOPub(t *testing.T) {
	h := startKernel(t, nil, Options{})
	a := h.dial(client.Options{})
	b := h.dial(client.Options{})
	watch, stop := b.Subscribe()
	defer stop()
	res, err := a.Execute(testCtx(t), "echo shared", client.ExecuteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Reply.ParentHeader.MsgID
	deadline := time.After(5 * time.Second)
	var seen []string
	for {
		select {
		case m := <-watch:
			if m.ParentHeader.MsgID != id {
				continue
			}
			seen = append(seen, m.Type())
			if m.Type() == "status" && decode(t, m)["execution_state"] == "idle" {
				if got := strings.Join(seen, ","); got != "status,execute_input,stream,status" {
					t.Fatalf("client b saw %s", got)
				}
				return
			}
		case <-deadline:
			t.Fatalf("client b saw only %v", seen)
		}
	}
}

// countBusy counts status busy messages with parent id seen on watch: it
// waits up to first for the first one, then d more for any other.
func countBusy(t *testing.T, watch <-chan *wire.Message, id string, first, d time.Duration) int {
	n := 0
	timeout := time.After(first)
	for {
		select {
		case m := <-watch:
			if m.ParentHeader.MsgID == id && m.Type() == "status" && decode(t, m)["execution_state"] == "busy" {
				n++
				if n == 1 {
					timeout = time.After(d)
				}
			}
		case <-timeout:
			return n
		}
	}
}

func TestSignatures(t *testing.T) {
	h := startKernel(t, nil, Options{})
	c := h.dial(client.Options{})
	watch, stop := c.Subscribe()
	defer stop()
	good, _ := wire.NewSigner(wire.SchemeHMACSHA256, h.ci.Key)
	wrong, _ := wire.NewSigner(wire.SchemeHMACSHA256, "not the key")
	frames := func(s *wire.Signer) (*wire.Message, [][]byte) {
		m, _ := wire.NewMessage("kernel_info_request", "attacker", nil, nil)
		f, _ := wire.Encode(m, s)
		return m, f
	}
	shell := c.Socket(wire.Shell)
	t.Run("good then replayed", func(t *testing.T) {
		m, f := frames(good)
		shell.SendFrames(f...)
		shell.SendFrames(f...)
		if n := countBusy(t, watch, m.Header.MsgID, 10*time.Second, 500*time.Millisecond); n != 1 {
			t.Fatalf("handled %d times, want once", n)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		m, f := frames(wrong)
		shell.SendFrames(f...)
		if n := countBusy(t, watch, m.Header.MsgID, 300*time.Millisecond, 0); n != 0 {
			t.Fatalf("badly signed message handled %d times", n)
		}
	})
	t.Run("missing signature", func(t *testing.T) {
		m, f := frames(nil)
		shell.SendFrames(f...)
		if n := countBusy(t, watch, m.Header.MsgID, 300*time.Millisecond, 0); n != 0 {
			t.Fatalf("unsigned message handled %d times", n)
		}
	})
	logs := h.logs.String()
	for _, want := range []string{"replayed", "bad signature", "missing signature"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if _, err := c.KernelInfo(testCtx(t)); err != nil {
		t.Fatalf("kernel after bad messages: %v", err)
	}
}

func TestNoKeyKernel(t *testing.T) {
	h := startKernel(t, nil, Options{}, func(ci *wire.ConnectionInfo) { ci.Key = "" })
	c := h.dial(client.Options{})
	if res, err := c.Execute(testCtx(t), "result unsigned", client.ExecuteOptions{}); err != nil || res.Status != "ok" {
		t.Fatalf("%v %+v", err, res)
	}
}

func TestMalformedFramesAndUnknownTypes(t *testing.T) {
	h := startKernel(t, nil, Options{})
	c := h.dial(client.Options{})
	signer, _ := wire.NewSigner(wire.SchemeHMACSHA256, h.ci.Key)
	signed := func(header, content string) [][]byte {
		parts := [][]byte{[]byte(header), []byte("{}"), []byte("{}"), []byte(content)}
		return append([][]byte{[]byte(wire.Delimiter), signer.Sign(parts...)}, parts...)
	}
	hdr := `{"msg_id":"x1","session":"s","username":"u","date":"2026-01-01T00:00:00Z","msg_type":"execute_request","version":"5.3"}`
	bad := [][][]byte{
		{[]byte("garbage")},
		{[]byte(wire.Delimiter)},
		{[]byte(wire.Delimiter), []byte("sig"), []byte("{}")},
		signed(`{"msg_type":`, `{}`),
		signed(hdr, `{"code": 1`),
		signed(hdr, `"not an object"`),
		signed(hdr, `{"code": 17}`), // valid JSON, wrong field type
	}
	for _, ch := range []wire.Channel{wire.Shell, wire.Control, wire.Stdin} {
		for _, f := range bad {
			if err := c.Socket(ch).SendFrames(f...); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx := testCtx(t)
	// Unknown request types get busy/idle but no reply, and are logged.
	m, _ := c.Send(wire.Shell, "no_such_request", map[string]any{})
	iopub, err := c.Idle(ctx, m.Header.MsgID)
	if err != nil || len(iopub) != 2 {
		t.Fatalf("unknown type: %v %v", err, types(iopub))
	}
	if _, err := c.KernelInfo(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Request(ctx, wire.Control, "kernel_info_request", nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.Execute(ctx, "result still here", client.ExecuteOptions{})
	if err != nil || res.Status != "ok" {
		t.Fatalf("execute after garbage: %v %+v", err, res)
	}
	logs := h.logs.String()
	for _, want := range []string{"no <IDS|MSG> delimiter", "too few frames", "invalid JSON", `unknown message type "no_such_request"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestIPCTransport(t *testing.T) {
	dir, err := filepathShort(t)
	if err != nil {
		t.Fatal(err)
	}
	ci := wire.NewIPCConnectionInfo(filepath.Join(dir, "k"))
	h := startOn(t, ci, nil, Options{})
	c := h.dial(client.Options{})
	res, err := c.Execute(testCtx(t), "echo over ipc", client.ExecuteOptions{})
	if err != nil || res.Outputs[0].Text != "over ipc\n" {
		t.Fatalf("%v %+v", err, res)
	}
	if err := c.Heartbeat(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	h.srv.finish(false)
	h.srv.Close()
	if left, _ := filepath.Glob(filepath.Join(dir, "k-*")); len(left) != 0 {
		t.Fatalf("socket files left after Close: %v", left)
	}
}

// filepathShort returns a temp dir with a short path (unix socket paths are
// limited to about 100 bytes).
func filepathShort(t *testing.T) (string, error) {
	dir := t.TempDir()
	if len(dir) < 80 {
		return dir, nil
	}
	d, err := osMkdirTemp("", "gl")
	if err == nil {
		t.Cleanup(func() { osRemoveAll(d) })
	}
	return d, err
}

func TestPortInUse(t *testing.T) {
	ci, _ := wire.NewTCPConnectionInfo("127.0.0.1")
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", ci.ControlPort))
	if err != nil {
		t.Skip("port taken meanwhile")
	}
	defer l.Close()
	_, err = New(ci, &scriptEvaluator{}, Options{})
	if err == nil || !strings.Contains(err.Error(), "control channel") || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("err = %v", err)
	}
	// The ports bound before the failure were released: a kernel can
	// start on them once the control port is free.
	l.Close()
	srv, err := New(ci, &scriptEvaluator{}, Options{})
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	srv.Close()
}

func TestConnectionErrors(t *testing.T) {
	ci, _ := wire.NewTCPConnectionInfo("127.0.0.1")
	ci.SignatureScheme = "hmac-sha1"
	if _, err := New(ci, &scriptEvaluator{}, Options{}); err == nil || !strings.Contains(err.Error(), "hmac-sha1") {
		t.Fatalf("err = %v", err)
	}
	if _, err := New(ci, nil, Options{}); err == nil {
		t.Fatal("nil evaluator accepted")
	}
}
