package display

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"image"
	"reflect"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"
)

// Render returns the richest rendering of v, as a cell's result shows it:
//
//   - a MIMEBundle as is (a "text/plain" entry is added when missing);
//   - a Renderer through its MimeBundle method (user types, stdlib results,
//     *Table, *Chart, *Progress);
//   - arrow.Record and arrow.Table, slices of structs, maps and [][]any as
//     tables (see Table);
//   - image.Image as PNG;
//   - error as its message, highlighted;
//   - fmt.Stringer through String;
//   - anything else formatted with %v.
//
// The result always has a "text/plain" entry. Render never panics: a
// panicking MimeBundle or String method is reported as text.
func Render(v any) (b MIMEBundle) {
	defer func() {
		if r := recover(); r != nil {
			b = Text(fmt.Sprintf("display: rendering %T panicked: %v", v, r))
		}
	}()
	switch x := v.(type) {
	case nil:
		return Text("<nil>")
	case MIMEBundle:
		return withPlain(x)
	case *MIMEBundle:
		if x == nil {
			return Text("<nil>")
		}
		return withPlain(*x)
	case Renderer:
		if isNilPointer(v) {
			return Text("<nil>")
		}
		m := x.MimeBundle()
		if len(m) == 0 {
			return Text(fmt.Sprintf("%v", v))
		}
		return Bundle(m)
	case arrow.Record, arrow.Table:
		t, err := TableOf(x)
		if err != nil {
			return Text(err.Error())
		}
		defer t.Release()
		return t.Bundle()
	case image.Image:
		return Image(x)
	case error:
		msg := x.Error()
		return MIMEBundle{Data: map[string]any{
			MIMEPlain: "error: " + msg,
			MIMEHTML:  `<pre class="gopherlab-error" style="color:#b00020">error: ` + html.EscapeString(msg) + `</pre>`,
		}}
	case fmt.Stringer:
		if isNilPointer(v) {
			return Text(fmt.Sprintf("%v", v))
		}
		return Text(x.String())
	}
	if isTabular(v) {
		if t, err := TableOf(v); err == nil {
			return t.Bundle()
		}
	}
	return Text(fmt.Sprintf("%v", v))
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// Show publishes the richest rendering of v (see Render) as display data.
// It may be called from any goroutine.
func Show(v any) {
	CurrentPublisher().PublishDisplay(Render(v), "", false)
}

// Clear clears the output of the current cell. With wait the frontend
// clears only when new output arrives, which avoids flicker in loops that
// redraw.
func Clear(wait bool) {
	CurrentPublisher().ClearOutput(wait)
}

// Handle is an output that can be replaced in place: New shows a value under
// a fresh display ID and Update replaces it (update_display_data). A Handle
// keeps the publisher current when it was created, so updates from
// goroutines reach the same cell. It is safe for concurrent use.
type Handle struct {
	id    string
	pub   Publisher
	mu    sync.Mutex
	shown bool // an output with id exists
}

// New publishes the rendering of v with a fresh display ID and returns a
// handle to update it.
func New(v any) *Handle {
	h := NewHandle(CurrentPublisher())
	h.Show(v)
	return h
}

// NewHandle returns a handle with a fresh display ID that publishes to pub
// (the current publisher if nil) without showing anything yet; call Show to
// create the output.
func NewHandle(pub Publisher) *Handle {
	if pub == nil {
		pub = CurrentPublisher()
	}
	return &Handle{id: newDisplayID(), pub: pub}
}

// ID returns the display ID of the output.
func (h *Handle) ID() string { return h.id }

// Show publishes v as a new output carrying the handle's display ID. Every
// output with this ID is replaced by later updates.
func (h *Handle) Show(v any) {
	b := Render(v)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pub.PublishDisplay(b, h.id, false)
	h.shown = true
}

// Update replaces the output(s) shown under the handle's display ID with
// the rendering of v.
func (h *Handle) Update(v any) {
	b := Render(v)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pub.PublishDisplay(b, h.id, true)
	h.shown = true
}

// newDisplayID returns 16 random bytes in hex.
func newDisplayID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
