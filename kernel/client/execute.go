package client

import (
	"context"
	"fmt"

	"github.com/gopherlab/gopherlab/kernel/wire"
)

// ExecuteOptions are the flags of an execute_request. The zero value is
// what a notebook sends: not silent, store history, stop on error.
type ExecuteOptions struct {
	Silent          bool
	NoStoreHistory  bool
	ContinueOnError bool // stop_on_error false
	UserExpressions map[string]string
}

// Output is one iopub output of an execution, shaped like the nbformat
// output it becomes.
type Output struct {
	Type           string // stream, display_data, update_display_data, execute_result, error, clear_output
	Name           string // stream name
	Text           string // stream text
	Data           map[string]any
	Metadata       map[string]any
	DisplayID      string // transient.display_id
	ExecutionCount int    // execute_result
	EName, EValue  string
	Traceback      []string
	Wait           bool // clear_output
}

// ExecuteResult is everything one execute_request produced.
type ExecuteResult struct {
	Status         string // "ok", "error" or "aborted"
	ExecutionCount int
	EName, EValue  string   // set when Status is "error"
	Traceback      []string // set when Status is "error"
	// UserExpressions holds the reply's user_expressions.
	UserExpressions map[string]map[string]any
	Outputs         []Output
	Reply           *wire.Message
	IOPub           []*wire.Message // every iopub message of the request, busy to idle
}

// Execute runs code and waits for both the execute_reply and the status
// idle, returning the reply and the outputs in order.
func (c *Client) Execute(ctx context.Context, code string, opts ExecuteOptions) (*ExecuteResult, error) {
	content := map[string]any{
		"code":             code,
		"silent":           opts.Silent,
		"store_history":    !opts.NoStoreHistory,
		"user_expressions": orEmptyStrings(opts.UserExpressions),
		"allow_stdin":      c.opts.Input != nil,
		"stop_on_error":    !opts.ContinueOnError,
	}
	reply, iopub, err := c.Request(ctx, wire.Shell, "execute_request", content)
	if err != nil {
		return nil, err
	}
	var rc struct {
		Status          string                    `json:"status"`
		ExecutionCount  int                       `json:"execution_count"`
		EName           string                    `json:"ename"`
		EValue          string                    `json:"evalue"`
		Traceback       []string                  `json:"traceback"`
		UserExpressions map[string]map[string]any `json:"user_expressions"`
	}
	if err := reply.Decode(&rc); err != nil {
		return nil, err
	}
	res := &ExecuteResult{
		Status: rc.Status, ExecutionCount: rc.ExecutionCount, EName: rc.EName, EValue: rc.EValue,
		Traceback: rc.Traceback, UserExpressions: rc.UserExpressions, Reply: reply, IOPub: iopub,
	}
	for _, m := range iopub {
		o, ok, err := ParseOutput(m)
		if err != nil {
			return nil, err
		}
		if ok {
			res.Outputs = append(res.Outputs, o)
		}
	}
	return res, nil
}

func orEmptyStrings(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// ParseOutput converts an iopub message into an Output; ok is false for
// messages that are not outputs (status, execute_input, comm messages).
func ParseOutput(m *wire.Message) (o Output, ok bool, err error) {
	var c struct {
		Name           string         `json:"name"`
		Text           string         `json:"text"`
		Data           map[string]any `json:"data"`
		Metadata       map[string]any `json:"metadata"`
		Transient      map[string]any `json:"transient"`
		ExecutionCount int            `json:"execution_count"`
		EName          string         `json:"ename"`
		EValue         string         `json:"evalue"`
		Traceback      []string       `json:"traceback"`
		Wait           bool           `json:"wait"`
	}
	switch m.Type() {
	case "stream", "display_data", "update_display_data", "execute_result", "error", "clear_output":
	default:
		return o, false, nil
	}
	if err := m.Decode(&c); err != nil {
		return o, false, fmt.Errorf("client: %w", err)
	}
	o = Output{
		Type: m.Type(), Name: c.Name, Text: c.Text, Data: c.Data, Metadata: c.Metadata,
		ExecutionCount: c.ExecutionCount, EName: c.EName, EValue: c.EValue, Traceback: c.Traceback, Wait: c.Wait,
	}
	if id, _ := c.Transient["display_id"].(string); id != "" {
		o.DisplayID = id
	}
	return o, true, nil
}
