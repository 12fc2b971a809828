package server

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/kernel/cell"
)

// scriptEvaluator is a protocol-test evaluator: each line of a cell is one
// command that drives a behaviour of the cell.Sink contract.
//
//	echo TEXT        stdout stream        stderr TEXT    stderr stream
//	result TEXT      execute_result       inc            add 1 to a counter and show it
//	display ID TEXT  display_data         update ID TEXT update_display_data
//	clear            clear_output(wait)   sleep DUR      sleep, interruptible
//	raise NAME MSG   fail with a cell.Error            panic       panic
//	input PROMPT     read a line via stdin and echo it
type scriptEvaluator struct {
	mu      sync.Mutex
	counter int
}

func (e *scriptEvaluator) Execute(ctx context.Context, req cell.Request, sink cell.Sink) error {
	for _, line := range strings.Split(req.Code, "\n") {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch cmd {
		case "":
		case "echo":
			sink.Stream("stdout", arg+"\n")
		case "stderr":
			sink.Stream("stderr", arg+"\n")
		case "result":
			sink.Result(display.MIMEBundle{Data: map[string]any{"text/plain": arg}})
		case "inc":
			e.mu.Lock()
			e.counter++
			n := e.counter
			e.mu.Unlock()
			sink.Result(display.MIMEBundle{Data: map[string]any{"text/plain": strconv.Itoa(n)}})
		case "display", "update":
			id, text, _ := strings.Cut(arg, " ")
			sink.PublishDisplay(display.MIMEBundle{Data: map[string]any{"text/plain": text, "text/html": "<b>" + text + "</b>"}}, id, cmd == "update")
		case "clear":
			sink.ClearOutput(true)
		case "sleep":
			d, err := time.ParseDuration(arg)
			if err != nil {
				return cell.NewError("BadDuration", err.Error())
			}
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return &cell.Error{Name: "Interrupted", Value: "interrupted during sleep", Traceback: []string{"Interrupted: sleep " + arg}}
			}
		case "hang": // a cell that ignores interrupts
			d, _ := time.ParseDuration(arg)
			time.Sleep(d)
		case "raise":
			name, msg, _ := strings.Cut(arg, " ")
			return &cell.Error{Name: name, Value: msg, Traceback: []string{name + ": " + msg, "  at line 1"}}
		case "rawerror":
			return errors.New(arg)
		case "nilerror":
			return &cell.Error{Name: "NoTrace", Value: arg}
		case "panic":
			panic(arg)
		case "input":
			v, err := sink.Input(ctx, arg, false)
			if err != nil {
				return cell.NewError("InputError", err.Error())
			}
			sink.Stream("stdout", "got "+v+"\n")
		default:
			return cell.NewError("SyntaxError", "unknown command "+cmd)
		}
	}
	return nil
}

func (e *scriptEvaluator) Evaluate(ctx context.Context, expr string) (display.MIMEBundle, error) {
	if expr == "counter" {
		e.mu.Lock()
		defer e.mu.Unlock()
		return display.MIMEBundle{Data: map[string]any{"text/plain": strconv.Itoa(e.counter)}}, nil
	}
	return display.MIMEBundle{}, cell.NewError("NameError", "undefined: "+expr)
}

var words = []string{"Printf", "Println", "Sprintf"}

func (e *scriptEvaluator) Complete(code string, cursor int) cell.Completion {
	r := []rune(code)
	start := cursor
	for start > 0 && r[start-1] != '.' && r[start-1] != ' ' {
		start--
	}
	prefix := string(r[start:cursor])
	c := cell.Completion{CursorStart: start, CursorEnd: cursor}
	for _, w := range words {
		if strings.HasPrefix(w, prefix) {
			c.Matches = append(c.Matches, w)
			c.Types = append(c.Types, cell.CompletionType{Text: w, Type: "function", Start: start, End: cursor})
		}
	}
	return c
}

func (e *scriptEvaluator) Inspect(code string, cursor, detail int) cell.Inspection {
	if strings.Contains(code, "Println") {
		return cell.Inspection{Found: true, Data: display.MIMEBundle{Data: map[string]any{"text/plain": "func Println(a ...any) (n int, err error)"}}}
	}
	if strings.Contains(code, "boom") {
		panic("inspect exploded")
	}
	return cell.Inspection{}
}

func (e *scriptEvaluator) IsComplete(code string) (cell.Completeness, string) {
	switch t := strings.TrimSpace(code); {
	case strings.HasSuffix(t, "{"):
		return cell.Incomplete, "\t"
	case strings.HasPrefix(t, "}"):
		return cell.Invalid, ""
	}
	return cell.Complete, ""
}

func (e *scriptEvaluator) Close() error { return nil }
