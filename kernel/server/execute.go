package server

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/kernel/cell"
	"github.com/gopherlab/gopherlab/kernel/history"
	"github.com/gopherlab/gopherlab/kernel/wire"
)

type executeRequest struct {
	Code            string            `json:"code"`
	Silent          bool              `json:"silent"`
	StoreHistory    *bool             `json:"store_history"`
	UserExpressions map[string]string `json:"user_expressions"`
	AllowStdin      *bool             `json:"allow_stdin"`
	StopOnError     *bool             `json:"stop_on_error"`
}

// The contents of the messages every execution sends, as structs: they
// marshal faster than maps.
type (
	executeInput struct {
		Code           string `json:"code"`
		ExecutionCount int    `json:"execution_count"`
	}
	executeResult struct {
		ExecutionCount int            `json:"execution_count"`
		Data           map[string]any `json:"data"`
		Metadata       map[string]any `json:"metadata"`
	}
	executeReplyOK struct {
		Status          string         `json:"status"`
		ExecutionCount  int            `json:"execution_count"`
		UserExpressions map[string]any `json:"user_expressions"`
		Payload         []any          `json:"payload"`
	}
)

func orDefault(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// execute runs an execute_request on the shell goroutine. It publishes
// status busy and execute_input in one write, and leaves the input to be
// stored in the history once the status idle is out, so that neither
// costs the frontend time.
func (s *Server) execute(m *wire.Message) {
	busy := s.iopubMessage("status", m, statusContent("busy"))
	var c executeRequest
	if err := m.Decode(&c); err != nil {
		s.publishAll(busy)
		s.log.Printf("shell: %v", err)
		s.sendError(m, cell.NewError("ProtocolError", err.Error()), s.execCount)
		return
	}
	store := orDefault(c.StoreHistory, true) && !c.Silent
	if store {
		s.execCount++
	}
	count := s.execCount
	if c.Silent {
		s.publishAll(busy)
	} else {
		s.publishAll(busy, s.iopubMessage("execute_input", m, executeInput{Code: c.Code, ExecutionCount: count}))
	}
	if store {
		s.pendingHistory = &history.Entry{Line: count, Source: c.Code}
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.runMu.Lock()
	s.runCancel = cancel
	s.runMu.Unlock()
	sink := &execSink{s: s, parent: m, allowStdin: orDefault(c.AllowStdin, true), silent: c.Silent, count: count}
	display.SetPublisher(sink)
	err := s.runCell(ctx, cell.Request{
		Code: c.Code, Silent: c.Silent, StoreHistory: store, AllowStdin: sink.allowStdin,
		ExecutionCount: count, UserExpressions: c.UserExpressions,
	}, sink)
	s.runMu.Lock()
	s.runCancel = nil
	s.runMu.Unlock()
	interrupted := ctx.Err() != nil
	if err == nil {
		exprs := s.userExpressions(ctx, c.UserExpressions)
		cancel()
		s.reply(s.shell, m, "execute_reply", executeReplyOK{
			Status: "ok", ExecutionCount: count, UserExpressions: exprs, Payload: []any{},
		})
		return
	}
	cancel()
	ce := toCellError(err, interrupted)
	// Collect what was received before the error reply goes out: a client
	// that reacts to the reply must not have its next request aborted.
	var queued []*wire.Message
	if orDefault(c.StopOnError, true) && !c.Silent {
		queued = s.drainQueued()
	}
	s.sendError(m, ce, count)
	s.storeHistory() // before the queued requests, which may ask for it
	s.abort(queued)
}

// runCell calls the evaluator, turning a panic into an error so that a bug
// in the evaluator never takes the kernel down.
func (s *Server) runCell(ctx context.Context, req cell.Request, sink cell.Sink) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Printf("evaluator panic: %v\n%s", p, debug.Stack())
			err = &cell.Error{Name: "InternalError", Value: fmt.Sprint(p), Traceback: strings.Split(fmt.Sprintf("InternalError: %v\n%s", p, debug.Stack()), "\n")}
		}
	}()
	return s.ev.Execute(ctx, req, sink)
}

func toCellError(err error, interrupted bool) *cell.Error {
	var ce *cell.Error
	switch {
	case errors.As(err, &ce):
		out := *ce
		if out.Traceback == nil {
			out.Traceback = []string{out.Error()}
		}
		return &out
	case interrupted || errors.Is(err, context.Canceled):
		return cell.NewError("Interrupted", "execution was interrupted")
	default:
		return cell.NewError("Error", err.Error())
	}
}

// sendError publishes the iopub error and sends the error execute_reply.
func (s *Server) sendError(m *wire.Message, ce *cell.Error, count int) {
	tb := ce.Traceback
	if tb == nil {
		tb = []string{}
	}
	s.publish("error", m, map[string]any{"ename": ce.Name, "evalue": ce.Value, "traceback": tb})
	s.reply(s.shell, m, "execute_reply", map[string]any{
		"status": "error", "execution_count": count,
		"ename": ce.Name, "evalue": ce.Value, "traceback": tb,
		"user_expressions": map[string]any{}, "payload": []any{},
	})
}

func (s *Server) userExpressions(ctx context.Context, exprs map[string]string) map[string]any {
	out := make(map[string]any, len(exprs))
	for name, expr := range exprs {
		b, err := s.evaluate(ctx, expr)
		if err != nil {
			ce := toCellError(err, false)
			out[name] = map[string]any{"status": "error", "ename": ce.Name, "evalue": ce.Value, "traceback": ce.Traceback}
			continue
		}
		out[name] = map[string]any{"status": "ok", "data": orEmpty(b.Data), "metadata": orEmpty(b.Metadata)}
	}
	return out
}

func (s *Server) evaluate(ctx context.Context, expr string) (b display.MIMEBundle, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("evaluator panic: %v", p)
		}
	}()
	return s.ev.Evaluate(ctx, expr)
}

// drainQueued takes the shell requests already received, waiting briefly
// for requests sent together with the failing one to be read off the
// socket.
func (s *Server) drainQueued() []*wire.Message {
	var out []*wire.Message
	in := s.shell.Incoming()
	take := func(frames [][]byte) {
		if m := s.decodeShell(frames); m != nil {
			out = append(out, m)
		}
	}
	grace := time.NewTimer(time.Millisecond)
	defer grace.Stop()
	for {
		select {
		case f := <-in:
			take(f)
			continue
		default:
		}
		select {
		case f := <-in:
			take(f)
		case <-grace.C:
			return out
		}
	}
}

// abort answers queued execute_requests with status "aborted", as ipykernel
// does after an error when stop_on_error is set. Other queued requests are
// served normally, in order.
func (s *Server) abort(queued []*wire.Message) {
	for _, m := range queued {
		if m.Type() != "execute_request" {
			s.handle(s.shell, wire.Shell, m)
			continue
		}
		s.status("busy", m)
		s.reply(s.shell, m, "execute_reply", map[string]any{"status": "aborted", "execution_count": s.execCount})
		s.status("idle", m)
	}
}

// storeHistory adds the input of the cell that just ran to the history.
func (s *Server) storeHistory() {
	e := s.pendingHistory
	if e == nil {
		return
	}
	s.pendingHistory = nil
	if err := s.hist.Add(e.Line, e.Source); err != nil {
		s.log.Printf("history: %v", err)
	}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// execSink sends what one execution produces to iopub, with the
// execute_request as parent. It implements cell.Sink.
type execSink struct {
	s          *Server
	parent     *wire.Message
	allowStdin bool
	silent     bool
	count      int
}

var _ cell.Sink = (*execSink)(nil)

// Stream publishes text on the stdout or stderr stream.
func (k *execSink) Stream(name, text string) {
	if text == "" {
		return
	}
	if name != "stderr" {
		name = "stdout"
	}
	k.s.publish("stream", k.parent, map[string]string{"name": name, "text": text})
}

// Result publishes execute_result, unless the request was silent.
func (k *execSink) Result(b display.MIMEBundle) {
	if k.silent {
		return
	}
	k.s.publish("execute_result", k.parent, executeResult{
		ExecutionCount: k.count, Data: orEmpty(b.Data), Metadata: orEmpty(b.Metadata),
	})
}

// PublishDisplay publishes display_data, or update_display_data when update
// is set and displayID names an earlier output.
func (k *execSink) PublishDisplay(b display.MIMEBundle, displayID string, update bool) {
	msgType := "display_data"
	content := map[string]any{"data": orEmpty(b.Data), "metadata": orEmpty(b.Metadata)}
	if displayID != "" {
		content["transient"] = map[string]any{"display_id": displayID}
		if update {
			msgType = "update_display_data"
		}
	}
	k.s.publish(msgType, k.parent, content)
}

// ClearOutput publishes clear_output.
func (k *execSink) ClearOutput(wait bool) {
	k.s.publish("clear_output", k.parent, map[string]bool{"wait": wait})
}

// ErrStdinNotAllowed is returned by Input when the frontend sent
// allow_stdin false (for example nbconvert and gopherlab run).
var ErrStdinNotAllowed = errors.New("stdin is not available: this frontend does not support input requests (allow_stdin is false)")

// Input sends input_request on stdin to the frontend that sent the
// execute_request and waits for its input_reply or for ctx.
func (k *execSink) Input(ctx context.Context, prompt string, password bool) (string, error) {
	if !k.allowStdin {
		return "", ErrStdinNotAllowed
	}
	s := k.s
	s.inputMu.Lock()
	defer s.inputMu.Unlock()
	// Forget a reply that arrived after an earlier request gave up.
	select {
	case <-s.inputCh:
	default:
	}
	req, err := wire.NewMessage("input_request", s.session, k.parent, map[string]any{"prompt": prompt, "password": password})
	if err != nil {
		return "", err
	}
	if err := s.stdin.WaitPeer(ctx, req); err != nil {
		return "", fmt.Errorf("input_request: waiting for the frontend's stdin channel: %w", err)
	}
	if err := s.stdin.Send(req); err != nil {
		return "", fmt.Errorf("input_request: %w", err)
	}
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-s.inputCh:
		var c struct {
			Value string `json:"value"`
		}
		if err := r.Decode(&c); err != nil {
			return "", err
		}
		return c.Value, nil
	}
}
