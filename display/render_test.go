package display

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// point is a user type with a rich rendering, as a cell might define.
type point struct{ X, Y int }

func (p point) MimeBundle() map[string]any {
	return map[string]any{"text/html": fmt.Sprintf("<i>(%d, %d)</i>", p.X, p.Y)}
}

type panicky struct{}

func (panicky) MimeBundle() map[string]any { panic("boom") }

type celsius float64

func (c celsius) String() string { return fmt.Sprintf("%.1f°C", float64(c)) }

func TestRender(t *testing.T) {
	var nilPoint *Chart
	cases := []struct {
		name     string
		v        any
		wantMIME string // a MIME type the bundle must carry besides text/plain
		wantText string // substring of text/plain
	}{
		{"nil", nil, "", "<nil>"},
		{"bundle", HTML("<b>x</b>"), MIMEHTML, "x"},
		{"bundle pointer", &MIMEBundle{Data: map[string]any{"text/html": "<b>y</b>"}}, MIMEHTML, "<text/html>"},
		{"renderer", point{1, 2}, MIMEHTML, "<text/html>"},
		{"nil renderer pointer", nilPoint, "", "<nil>"},
		{"panicking renderer", panicky{}, "", "panicked: boom"},
		{"error", errors.New("disk full"), MIMEHTML, "error: disk full"},
		{"image", testImage(), MIMEPNG, "<PNG image 4×3>"},
		{"stringer", celsius(21.5), "", "21.5°C"},
		{"int", 42, "", "42"},
		{"string", "hello", "", "hello"},
		{"float slice", []float64{1.5, 2}, "", "[1.5 2]"},
		{"struct slice", []point{{1, 2}, {3, 4}}, MIMEHTML, "2 rows × 2 columns"},
		{"map", map[string]int{"b": 2, "a": 1}, MIMEDataResource, "2 rows × 2 columns"},
		{"rows", [][]any{{1, "x"}, {2, "y"}}, MIMEHTML, "2 rows × 2 columns"},
		{"chart", LineChart().Series("s", nil, []float64{1, 2}), MIMEVegaLite, "LineChart"},
		{"chart error", LineChart(), "", "LineChart has no data"},
		{"table", NewTable([]string{"a"}, [][]any{{1}}), MIMEHTML, "1 row × 1 column"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := Render(c.v)
			text, ok := b.Data[MIMEPlain].(string)
			if !ok {
				t.Fatalf("no text/plain: %v", b.Data)
			}
			if !strings.Contains(text, c.wantText) {
				t.Errorf("text/plain = %q, want it to contain %q", text, c.wantText)
			}
			if c.wantMIME != "" {
				if _, ok := b.Data[c.wantMIME]; !ok {
					t.Errorf("bundle lacks %s: has %v", c.wantMIME, keys(b.Data))
				}
			} else if len(b.Data) != 1 {
				t.Errorf("want a plain-text bundle, got %v", keys(b.Data))
			}
		})
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestShowHandleUpdateClear(t *testing.T) {
	rec := &recorder{}
	usePublisher(t, rec)

	Show(Text("first"))
	h := New(Markdown("*working*"))
	h.Update(Markdown("**done**"))
	Clear(true)
	h2 := New(1)

	msgs := rec.messages()
	if len(msgs) != 5 {
		t.Fatalf("got %d messages, want 5: %+v", len(msgs), msgs)
	}
	if msgs[0].Kind != "display" || msgs[0].ID != "" || msgs[0].Bundle.PlainText() != "first" {
		t.Errorf("Show: %+v", msgs[0])
	}
	if msgs[1].Kind != "display" || msgs[1].ID == "" || msgs[1].ID != h.ID() {
		t.Errorf("New: %+v (handle id %q)", msgs[1], h.ID())
	}
	if msgs[2].Kind != "update" || msgs[2].ID != h.ID() || msgs[2].Bundle.Data[MIMEMarkdown] != "**done**" {
		t.Errorf("Update: %+v", msgs[2])
	}
	if msgs[3].Kind != "clear" || !msgs[3].Wait {
		t.Errorf("Clear: %+v", msgs[3])
	}
	if h2.ID() == h.ID() || len(h2.ID()) != 32 {
		t.Errorf("display ids %q and %q: want distinct 32-hex-digit ids", h.ID(), h2.ID())
	}
}

// TestHandleKeepsItsPublisher checks that a handle created while one cell's
// publisher was installed keeps publishing there after another is
// installed (a goroutine outliving its cell).
func TestHandleKeepsItsPublisher(t *testing.T) {
	cell1, cell2 := &recorder{}, &recorder{}
	usePublisher(t, cell1)
	h := New(Text("v1"))
	SetPublisher(cell2)
	h.Update(Text("v2"))
	Show(Text("in cell 2"))
	if got := cell1.messages(); len(got) != 2 || got[1].Kind != "update" {
		t.Errorf("cell 1 got %+v, want display then update", got)
	}
	if got := cell2.messages(); len(got) != 1 || got[0].Bundle.PlainText() != "in cell 2" {
		t.Errorf("cell 2 got %+v", got)
	}
}

// TestConcurrentPublishing publishes from many goroutines at once, while
// the publisher is swapped; run with -race. Every message must arrive whole.
func TestConcurrentPublishing(t *testing.T) {
	rec := &recorder{}
	usePublisher(t, rec)
	var buf bytes.Buffer
	text := TextPublisher{W: &buf}
	const workers, each = 8, 50
	var wg sync.WaitGroup
	h := New(Text("shared"))
	p := NewProgressWith(ProgressOptions{Total: workers * each, Label: "work"})
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				Show(Text(fmt.Sprintf("w%d-%d", w, i)))
				h.Update(Text(fmt.Sprintf("u%d-%d", w, i)))
				text.PublishDisplay(Text(fmt.Sprintf("line w%d-%d", w, i)), "", false)
				p.Add(1)
			}
		}(w)
	}
	wg.Add(1)
	go func() { // a cell boundary in the middle: swapping publishers is safe too
		defer wg.Done()
		for i := 0; i < 20; i++ {
			SetPublisher(rec)
			_ = CurrentPublisher()
		}
	}()
	wg.Wait()
	p.Done()

	shows := 0
	for _, m := range rec.messages() {
		if m.Kind == "display" && m.ID == "" {
			shows++
		}
	}
	if shows != workers*each {
		t.Errorf("got %d displays, want %d", shows, workers*each)
	}
	if p.Count() != workers*each {
		t.Errorf("progress count %d, want %d", p.Count(), workers*each)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != workers*each {
		t.Fatalf("text publisher wrote %d lines, want %d", len(lines), workers*each)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "line w") || strings.Count(l, "line") != 1 {
			t.Fatalf("interleaved line %q", l)
		}
	}
}

// failingWriter panics on write, like a closed pipe wrapper might.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { panic("broken writer") }

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestTextPublisherNeverPanics(t *testing.T) {
	for _, w := range []TextPublisher{{W: failingWriter{}}, {W: errWriter{}}, {W: nil}} {
		w.PublishDisplay(Text("x"), "", false)
		w.Status("y", true)
		w.ClearOutput(false)
	}
}

func TestTextPublisher(t *testing.T) {
	var buf bytes.Buffer
	usePublisher(t, TextPublisher{W: &buf})
	Show(HTML("<p>hello &amp; bye</p>"))
	h := New(Text("v1"))
	h.Update(Text("v2"))
	Clear(false)
	Show([]point{{1, 2}})
	want := "hello & bye\nv1\nv2\n" + `     X    Y
   int  int
0    1    2

[1 row × 2 columns]
`
	if buf.String() != want {
		t.Errorf("wrote:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestDefaultPublisherWritesToStdout(t *testing.T) {
	SetPublisher(nil)
	if _, ok := CurrentPublisher().(StatusPublisher); !ok {
		t.Fatal("default publisher cannot draw status lines")
	}
	// Silence: the default publisher never blocks even when nothing reads
	// it; here stdout is the test's output.
	done := make(chan bool)
	go func() {
		Show(Text("default publisher output"))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Show blocked")
	}
}

func ExampleNew() {
	SetPublisher(nil)
	h := New(Text("loading…"))
	h.Update(Text("loaded 3 files"))
	// Output:
	// loading…
	// loaded 3 files
}

func ExampleShow() {
	SetPublisher(nil)
	type run struct {
		Name string
		Loss float64 `display:"loss,format=%.2f"`
	}
	fmt.Println("runs:")
	Show([]run{{"baseline", 0.4321}, {"tuned", 0.25}})
	// Output:
	// runs:
	//    Name         loss
	//    string    float64
	// 0  baseline     0.43
	// 1  tuned        0.25
	//
	// [2 rows × 2 columns]
}
