package display

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// Publisher receives display messages. The kernel installs one that sends
// display_data, update_display_data and clear_output on iopub; outside a
// kernel the default TextPublisher writes the plain-text rendering.
// Implementations must be safe for concurrent use and must not block for long.
//
// Every function of this package that publishes (Show, New, Handle.Update,
// Clear, Progress) may be called from any goroutine. A Handle or Progress
// keeps the publisher that was current when it was created, so a goroutine
// started by a cell keeps updating that cell's output.
type Publisher interface {
	// PublishDisplay shows b. A non-empty displayID names the output so that
	// it can be replaced later; update replaces an earlier output with that ID
	// instead of adding a new one.
	PublishDisplay(b MIMEBundle, displayID string, update bool)
	// ClearOutput clears the current cell's output; with wait the frontend
	// clears only when the next output arrives (no flicker).
	ClearOutput(wait bool)
}

// StatusPublisher is implemented by publishers that write to a character
// stream rather than a notebook (a terminal, a log). Progress bars use it to
// draw one status line instead of publishing HTML.
type StatusPublisher interface {
	Publisher
	// Status replaces the current status line with line. final ends the
	// line: the next status starts on a new line.
	Status(line string, final bool)
}

var (
	pubMu     sync.RWMutex
	publisher Publisher = defaultPublisher()
)

func defaultPublisher() Publisher { return stdoutPublisher{} }

// stdoutPublisher is the default publisher: a TextPublisher on whatever
// os.Stdout is at the time of each call (tests and examples swap it).
type stdoutPublisher struct{}

func (stdoutPublisher) text() TextPublisher {
	return TextPublisher{W: os.Stdout, Terminal: isTerminal(os.Stdout)}
}

func (s stdoutPublisher) PublishDisplay(b MIMEBundle, displayID string, update bool) {
	s.text().PublishDisplay(b, displayID, update)
}
func (s stdoutPublisher) ClearOutput(wait bool)          { s.text().ClearOutput(wait) }
func (s stdoutPublisher) Status(line string, final bool) { s.text().Status(line, final) }

// isTerminal reports whether f is a character device.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// SetPublisher installs p as the destination of every display call and
// returns the previous publisher. A nil p restores the default publisher, a
// TextPublisher on os.Stdout (with Terminal set when stdout is a terminal).
func SetPublisher(p Publisher) Publisher {
	if p == nil {
		p = defaultPublisher()
	}
	pubMu.Lock()
	defer pubMu.Unlock()
	old := publisher
	publisher = p
	return old
}

// CurrentPublisher returns the publisher display calls go to.
func CurrentPublisher() Publisher {
	pubMu.RLock()
	defer pubMu.RUnlock()
	return publisher
}

// Discard is a Publisher that drops everything, for silent executions.
var Discard Publisher = discard{}

type discard struct{}

func (discard) PublishDisplay(MIMEBundle, string, bool) {}
func (discard) ClearOutput(bool)                        {}

// textMu serializes the writes of all TextPublishers, so that concurrent
// goroutines never interleave partial lines on a shared writer.
var textMu sync.Mutex

// TextPublisher writes the "text/plain" part of every bundle to W, one
// bundle per line. Updates are written as new lines; clears are ignored.
// Writes are serialized, and a panicking writer is recovered: publishing
// never panics.
type TextPublisher struct {
	W io.Writer
	// Terminal makes Status (progress bars) rewrite one line with '\r'.
	// Without it only finished status lines are written, which keeps logs
	// short. The default publisher sets it when stdout is a terminal.
	Terminal bool
}

// PublishDisplay writes the plain-text rendering of b.
func (t TextPublisher) PublishDisplay(b MIMEBundle, displayID string, update bool) {
	s, _ := b.Data["text/plain"].(string)
	if s == "" {
		return
	}
	t.write(s + "\n")
}

// ClearOutput does nothing: a text stream cannot be cleared.
func (t TextPublisher) ClearOutput(wait bool) {}

// Status writes a status line: on a terminal it overwrites the current line
// ("\r"); otherwise only final lines are written.
func (t TextPublisher) Status(line string, final bool) {
	switch {
	case t.Terminal && final:
		t.write("\r" + line + "\n")
	case t.Terminal:
		t.write("\r" + line)
	case final:
		t.write(line + "\n")
	}
}

func (t TextPublisher) write(s string) {
	if t.W == nil {
		return
	}
	textMu.Lock()
	defer textMu.Unlock()
	defer func() { _ = recover() }()
	fmt.Fprint(t.W, s)
}
