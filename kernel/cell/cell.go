// Package cell is the seam between the Jupyter protocol server and the code
// evaluator: what an execution gets (code, flags, a context that an interrupt
// cancels) and where its output goes (a Sink). The server knows nothing of Go
// evaluation; the evaluator knows nothing of ZMQ.
package cell

import (
	"context"
	"strings"

	"github.com/gopherlab/gopherlab/display"
)

// Request is one execute_request as the evaluator sees it.
type Request struct {
	Code            string
	Silent          bool
	StoreHistory    bool
	AllowStdin      bool
	ExecutionCount  int               // the count this execution is shown with
	UserExpressions map[string]string // name -> expression, evaluated after the code
}

// Sink receives what a running cell produces. Implementations are safe for
// concurrent use: goroutines started by a cell may write to it.
type Sink interface {
	// Stream appends text to the "stdout" or "stderr" stream.
	Stream(name, text string)
	// Result publishes the value of the cell's final expression.
	Result(b display.MIMEBundle)
	// Publisher publishes display_data, update_display_data and clear_output.
	display.Publisher
	// Input asks the frontend for a line of input (input_request on stdin).
	// It returns an error when the request did not allow stdin.
	Input(ctx context.Context, prompt string, password bool) (string, error)
}

// Error is a failed execution as Jupyter shows it: ename, evalue, traceback.
type Error struct {
	Name      string   // e.g. "CompileError", "panic", "Interrupted"
	Value     string   // one-line description
	Traceback []string // lines shown to the user; never nil
}

func (e *Error) Error() string {
	if e.Value == "" {
		return e.Name
	}
	return e.Name + ": " + e.Value
}

// Completion is the answer to a complete_request.
type Completion struct {
	Matches     []string
	CursorStart int // in Unicode code points, as the protocol counts
	CursorEnd   int
	// Types holds one entry per match for _jupyter_types_experimental; may be nil.
	Types []CompletionType
}

// CompletionType describes one match for frontends that show kinds.
type CompletionType struct {
	Text      string `json:"text"`
	Type      string `json:"type"`
	Start     int    `json:"start"`
	End       int    `json:"end"`
	Signature string `json:"signature,omitempty"`
}

// Inspection is the answer to an inspect_request.
type Inspection struct {
	Found bool
	Data  display.MIMEBundle
}

// Completeness is the status part of an is_complete_reply.
type Completeness string

// The statuses of an is_complete_reply.
const (
	Complete   Completeness = "complete"
	Incomplete Completeness = "incomplete"
	Invalid    Completeness = "invalid"
	Unknown    Completeness = "unknown"
)

// Evaluator runs cells. The server calls Execute for one request at a time;
// Complete, Inspect and IsComplete may be called while a cell runs.
type Evaluator interface {
	// Execute runs req.Code, sending output to sink. It returns nil on
	// success or a *Error (compile error, panic, interrupt) that the server
	// reports as an error reply. ctx is canceled when the user interrupts.
	Execute(ctx context.Context, req Request, sink Sink) error
	// Evaluate computes one user expression after a successful execution,
	// for user_expressions in execute_reply.
	Evaluate(ctx context.Context, expr string) (display.MIMEBundle, error)
	// Complete lists completions at cursor (a code-point offset in code).
	Complete(code string, cursor int) Completion
	// Inspect documents the identifier at cursor; detailLevel is 0 or 1.
	Inspect(code string, cursor, detailLevel int) Inspection
	// IsComplete tells a console whether code is ready to run and, if
	// incomplete, the indent to continue with.
	IsComplete(code string) (status Completeness, indent string)
	// Close releases the evaluator's resources at shutdown.
	Close() error
}

// NewError builds an Error whose traceback is the lines of value.
func NewError(name, value string) *Error {
	return &Error{Name: name, Value: value, Traceback: strings.Split(name+": "+value, "\n")}
}
