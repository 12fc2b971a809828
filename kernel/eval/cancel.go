package eval

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/traefik/yaegi/interp"
)

// canceler reaches the interpreter's run-cancellation state. yaegi's
// ExecuteWithContext returns on cancellation while its goroutine still
// writes the results it returned, a data race; the evaluator runs programs
// on its own goroutine instead and stops them the way yaegi does: by
// bumping the run id (interpreted frames stop at their next step) and
// closing the done channel (blocked channel operations wake up). The field
// names are those of yaegi v0.16.1; if they change, interrupts fall back to
// abandoning the cell (it keeps running in the background).
type canceler struct {
	id         *uint64
	done       *chan struct{}
	cancelChan *bool
	mutex      *sync.RWMutex
}

func newCanceler(in *interp.Interpreter) *canceler {
	v := reflect.ValueOf(in).Elem()
	field := func(name string, t reflect.Type) unsafe.Pointer {
		f := v.FieldByName(name)
		if !f.IsValid() || f.Type() != t {
			return nil
		}
		return unsafe.Pointer(f.UnsafeAddr())
	}
	c := &canceler{
		id:         (*uint64)(field("id", reflect.TypeOf(uint64(0)))),
		done:       (*chan struct{})(field("done", reflect.TypeOf((chan struct{})(nil)))),
		cancelChan: (*bool)(field("cancelChan", reflect.TypeOf(false))),
		mutex:      (*sync.RWMutex)(field("mutex", reflect.TypeOf(sync.RWMutex{}))),
	}
	if c.id == nil || c.done == nil || c.cancelChan == nil || c.mutex == nil {
		return nil
	}
	return c
}

// arm prepares a run: channel operations become cancelable.
func (c *canceler) arm() {
	c.mutex.Lock()
	*c.done = make(chan struct{})
	*c.cancelChan = true
	c.mutex.Unlock()
}

// stop ends the current run.
func (c *canceler) stop() {
	atomic.AddUint64(c.id, 1)
	c.mutex.Lock()
	close(*c.done)
	*c.done = make(chan struct{})
	c.mutex.Unlock()
}

// errStopped is reported when a run ended without returning.
var errStopped = errors.New("the cell's goroutine was stopped")

// runProgram executes prog until it ends or ctx is canceled.
func runProgram(ctx context.Context, in *interp.Interpreter, c *canceler, prog *interp.Program) (reflect.Value, error) {
	if c == nil {
		return in.ExecuteWithContext(ctx, prog)
	}
	type result struct {
		v   reflect.Value
		err error
	}
	c.arm()
	ch := make(chan result, 1)
	go func() {
		// A runaway recursion ends the goroutine with runtime.Goexit:
		// the deferred send still reports it.
		r := result{err: errStopped}
		defer func() { ch <- r }()
		r.v, r.err = in.Execute(prog)
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		c.stop()
		// Interpreted code stops at its next step; wait a little for it
		// so that the next cell does not run beside it. A blocking call
		// into compiled code (time.Sleep) is left to finish on its own.
		select {
		case <-ch:
		case <-time.After(500 * time.Millisecond):
		}
		return reflect.Value{}, ctx.Err()
	}
}
