package eval

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/kernel/cell"
)

// testSink collects what a cell produces, as the protocol server would
// send it.
type testSink struct {
	mu       sync.Mutex
	stdout   strings.Builder
	stderr   strings.Builder
	streams  int
	results  []display.MIMEBundle
	displays []display.MIMEBundle
	inputs   []string // answers to input requests
	prompts  int
}

func (s *testSink) Stream(name, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streams++
	if name == "stdout" {
		s.stdout.WriteString(text)
	} else {
		s.stderr.WriteString(text)
	}
}

func (s *testSink) Result(b display.MIMEBundle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results = append(s.results, b)
}

func (s *testSink) PublishDisplay(b display.MIMEBundle, id string, update bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.displays = append(s.displays, b)
}

func (s *testSink) ClearOutput(wait bool) {}

func (s *testSink) Input(ctx context.Context, prompt string, password bool) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prompts++
	if len(s.inputs) == 0 {
		return "", errors.New("stdin is not allowed for this request")
	}
	in := s.inputs[0]
	s.inputs = s.inputs[1:]
	return in, nil
}

func (s *testSink) Out() string { s.mu.Lock(); defer s.mu.Unlock(); return s.stdout.String() }
func (s *testSink) Err() string { s.mu.Lock(); defer s.mu.Unlock(); return s.stderr.String() }

// Text returns the plain-text result, or "" when there is none.
func (s *testSink) Text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.results) == 0 {
		return ""
	}
	t, _ := s.results[len(s.results)-1].Data["text/plain"].(string)
	return t
}

func (s *testSink) HasResult() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.results) > 0 }

func newEval(t testing.TB) *Evaluator {
	t.Helper()
	e, err := New(Options{NoRedirect: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// run executes code and returns the sink and the cell error (nil on success).
func run(t testing.TB, e *Evaluator, code string) (*testSink, *cell.Error) {
	t.Helper()
	s := &testSink{}
	execCount++
	err := e.Execute(context.Background(), cell.Request{Code: code, ExecutionCount: execCount}, s)
	if err == nil {
		return s, nil
	}
	var ce *cell.Error
	if !errors.As(err, &ce) {
		t.Fatalf("Execute returned %T %v, want *cell.Error", err, err)
	}
	return s, ce
}

// execCount numbers test cells as a frontend would.
var execCount int
