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
type Publisher interface {
	// PublishDisplay shows b. A non-empty displayID names the output so that
	// it can be replaced later; update replaces an earlier output with that ID
	// instead of adding a new one.
	PublishDisplay(b MIMEBundle, displayID string, update bool)
	// ClearOutput clears the current cell's output; with wait the frontend
	// clears only when the next output arrives (no flicker).
	ClearOutput(wait bool)
}

var (
	pubMu     sync.RWMutex
	publisher Publisher = TextPublisher{W: os.Stdout}
)

// SetPublisher installs p as the destination of every display call and
// returns the previous publisher. A nil p restores the default text publisher.
func SetPublisher(p Publisher) Publisher {
	if p == nil {
		p = TextPublisher{W: os.Stdout}
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

// TextPublisher writes the "text/plain" part of every bundle to W, one
// bundle per line. Updates are written as new lines; clears are ignored.
type TextPublisher struct {
	W io.Writer
}

// PublishDisplay writes the plain-text rendering of b.
func (t TextPublisher) PublishDisplay(b MIMEBundle, displayID string, update bool) {
	if t.W == nil {
		return
	}
	s, _ := b.Data["text/plain"].(string)
	if s == "" {
		return
	}
	fmt.Fprintln(t.W, s)
}

// ClearOutput does nothing: a text stream cannot be cleared.
func (t TextPublisher) ClearOutput(wait bool) {}
