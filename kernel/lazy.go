package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/kernel/cell"
)

type evaluator = cell.Evaluator

// lazyEvaluator builds the real evaluator on a goroutine at start, so the
// kernel binds its sockets and answers kernel_info while the interpreter
// loads its symbol tables. Calls that need the evaluator wait for it.
type lazyEvaluator struct {
	build   func() (cell.Evaluator, error)
	started sync.Once
	ready   chan struct{}
	ev      cell.Evaluator
	err     error
}

func newLazyEvaluator(build func() (cell.Evaluator, error)) *lazyEvaluator {
	return &lazyEvaluator{build: build, ready: make(chan struct{})}
}

// start begins building the evaluator; calls that need it before start
// start it themselves.
func (l *lazyEvaluator) start() {
	l.started.Do(func() { go l.run() })
}

func (l *lazyEvaluator) run() {
	l.ev, l.err = l.build()
	if l.err != nil {
		l.err = fmt.Errorf("the Go evaluator failed to start: %w", l.err)
	}
	close(l.ready)
	// Loading the interpreter's symbol tables leaves garbage behind;
	// return it to the OS, and unmap the code and data that only package
	// initialization and the evaluator's start used, so an idle kernel
	// stays small.
	debug.FreeOSMemory()
	releaseStartupPages()
}

func (l *lazyEvaluator) get(ctx context.Context) (cell.Evaluator, error) {
	l.start()
	select {
	case <-l.ready:
		return l.ev, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *lazyEvaluator) Execute(ctx context.Context, req cell.Request, sink cell.Sink) error {
	ev, err := l.get(ctx)
	if err != nil {
		return cell.NewError("KernelError", err.Error())
	}
	return ev.Execute(ctx, req, sink)
}

func (l *lazyEvaluator) Evaluate(ctx context.Context, expr string) (display.MIMEBundle, error) {
	ev, err := l.get(ctx)
	if err != nil {
		return display.MIMEBundle{}, err
	}
	return ev.Evaluate(ctx, expr)
}

func (l *lazyEvaluator) Complete(code string, cursor int) cell.Completion {
	if ev, err := l.get(context.Background()); err == nil {
		return ev.Complete(code, cursor)
	}
	return cell.Completion{CursorStart: cursor, CursorEnd: cursor}
}

func (l *lazyEvaluator) Inspect(code string, cursor, detail int) cell.Inspection {
	if ev, err := l.get(context.Background()); err == nil {
		return ev.Inspect(code, cursor, detail)
	}
	return cell.Inspection{}
}

func (l *lazyEvaluator) IsComplete(code string) (cell.Completeness, string) {
	if ev, err := l.get(context.Background()); err == nil {
		return ev.IsComplete(code)
	}
	return cell.Unknown, ""
}

func (l *lazyEvaluator) Close() error {
	l.start()
	<-l.ready
	if l.ev != nil {
		return l.ev.Close()
	}
	return nil
}
