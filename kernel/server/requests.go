package server

import (
	"fmt"

	"github.com/gopherlab/gopherlab/kernel/cell"
	"github.com/gopherlab/gopherlab/kernel/history"
	"github.com/gopherlab/gopherlab/kernel/wire"
)

// safely runs fn, turning an evaluator panic into an error.
func safely(fn func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("evaluator panic: %v", p)
		}
	}()
	fn()
	return nil
}

func (s *Server) replyError(sock *wire.Socket, m *wire.Message, msgType string, err error) {
	s.log.Printf("%s: %v", m.Type(), err)
	s.reply(sock, m, msgType, map[string]any{"status": "error", "ename": "Error", "evalue": err.Error(), "traceback": []string{err.Error()}})
}

func (s *Server) isComplete(sock *wire.Socket, m *wire.Message) {
	var c struct {
		Code string `json:"code"`
	}
	if err := m.Decode(&c); err != nil {
		s.replyError(sock, m, "is_complete_reply", err)
		return
	}
	status, indent := cell.Unknown, ""
	if err := safely(func() { status, indent = s.ev.IsComplete(c.Code) }); err != nil {
		s.log.Printf("is_complete: %v", err)
		status = cell.Unknown
	}
	content := map[string]any{"status": string(status)}
	if status == cell.Incomplete {
		content["indent"] = indent
	}
	s.reply(sock, m, "is_complete_reply", content)
}

func (s *Server) complete(sock *wire.Socket, m *wire.Message) {
	var c struct {
		Code      string `json:"code"`
		CursorPos *int   `json:"cursor_pos"`
	}
	if err := m.Decode(&c); err != nil {
		s.replyError(sock, m, "complete_reply", err)
		return
	}
	cursor := len([]rune(c.Code))
	if c.CursorPos != nil {
		cursor = *c.CursorPos
	}
	var comp cell.Completion
	if err := safely(func() { comp = s.ev.Complete(c.Code, cursor) }); err != nil {
		s.replyError(sock, m, "complete_reply", err)
		return
	}
	matches := comp.Matches
	if matches == nil {
		matches = []string{}
	}
	meta := map[string]any{}
	if comp.Types != nil {
		meta["_jupyter_types_experimental"] = comp.Types
	}
	s.reply(sock, m, "complete_reply", map[string]any{
		"status": "ok", "matches": matches, "cursor_start": comp.CursorStart, "cursor_end": comp.CursorEnd, "metadata": meta,
	})
}

func (s *Server) inspect(sock *wire.Socket, m *wire.Message) {
	var c struct {
		Code        string `json:"code"`
		CursorPos   *int   `json:"cursor_pos"`
		DetailLevel int    `json:"detail_level"`
	}
	if err := m.Decode(&c); err != nil {
		s.replyError(sock, m, "inspect_reply", err)
		return
	}
	cursor := len([]rune(c.Code))
	if c.CursorPos != nil {
		cursor = *c.CursorPos
	}
	var in cell.Inspection
	if err := safely(func() { in = s.ev.Inspect(c.Code, cursor, c.DetailLevel) }); err != nil {
		s.replyError(sock, m, "inspect_reply", err)
		return
	}
	data := orEmpty(in.Data.Data)
	s.reply(sock, m, "inspect_reply", map[string]any{
		"status": "ok", "found": in.Found && len(data) > 0, "data": data, "metadata": orEmpty(in.Data.Metadata),
	})
}

type historyRequest struct {
	Output     bool   `json:"output"`
	Raw        bool   `json:"raw"`
	AccessType string `json:"hist_access_type"`
	Session    int    `json:"session"`
	Start      int    `json:"start"`
	Stop       *int   `json:"stop"`
	N          int    `json:"n"`
	Pattern    string `json:"pattern"`
	Unique     bool   `json:"unique"`
}

func (s *Server) history(sock *wire.Socket, m *wire.Message) {
	var c historyRequest
	if err := m.Decode(&c); err != nil {
		s.replyError(sock, m, "history_reply", err)
		return
	}
	var (
		es  []history.Entry
		err error
	)
	switch c.AccessType {
	case "tail", "":
		es, err = s.hist.Tail(c.N, c.Unique)
	case "range":
		stop := 0
		if c.Stop != nil {
			stop = *c.Stop
		}
		es, err = s.hist.Range(c.Session, c.Start, stop)
	case "search":
		es, err = s.hist.Search(c.Pattern, c.N, c.Unique)
	default:
		err = fmt.Errorf("unknown hist_access_type %q (want tail, range or search)", c.AccessType)
	}
	if err != nil {
		s.replyError(sock, m, "history_reply", err)
		return
	}
	items := make([][]any, 0, len(es))
	for _, e := range es {
		if c.Output {
			// Outputs are not stored; IPython reports None for them too
			// when output logging is off.
			items = append(items, []any{e.Session, e.Line, []any{e.Source, nil}})
		} else {
			items = append(items, []any{e.Session, e.Line, e.Source})
		}
	}
	s.reply(sock, m, "history_reply", map[string]any{"status": "ok", "history": items})
}
