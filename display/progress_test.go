package display

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a manually advanced clock for rate-limit tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func htmlOf(m message) string { s, _ := m.Bundle.Data[MIMEHTML].(string); return s }

func TestProgressRateLimit(t *testing.T) {
	rec := &recorder{}
	clk := newFakeClock()
	p := NewProgressWith(ProgressOptions{Total: 1000, Label: "train", Publisher: rec, Now: clk.Now})
	for i := 0; i < 1000; i++ { // 1000 steps of 1ms: one second of work
		clk.Advance(time.Millisecond)
		p.Add(1)
	}
	p.Done()
	msgs := rec.messages()
	// One display at creation, one update per 100ms (10 in one second),
	// one final update from Done.
	if len(msgs) != 12 {
		t.Fatalf("got %d messages, want 12 (display + 10 rate-limited updates + final)", len(msgs))
	}
	id := msgs[0].ID
	if msgs[0].Kind != "display" || id == "" {
		t.Errorf("first message %+v, want a display with an id", msgs[0])
	}
	for i, m := range msgs[1:] {
		if m.Kind != "update" || m.ID != id {
			t.Errorf("message %d: %s id %q, want update of %q", i+1, m.Kind, m.ID, id)
		}
	}
	last := htmlOf(msgs[len(msgs)-1])
	for _, want := range []string{`class="gopherlab-progress"`, `data-state="done"`, `data-value="1000"`, `value="1000" max="1000"`} {
		if !strings.Contains(last, want) {
			t.Errorf("final HTML lacks %s:\n%s", want, last)
		}
	}
	for _, m := range msgs[:len(msgs)-1] {
		if strings.Contains(htmlOf(m), `data-state="done"`) {
			t.Errorf("a non-final message says done: %s", htmlOf(m))
		}
	}
}

func TestProgressDoneAlwaysSendsFinalState(t *testing.T) {
	rec := &recorder{}
	clk := newFakeClock()
	p := NewProgressWith(ProgressOptions{Total: 10, Publisher: rec, Now: clk.Now})
	p.Add(3)
	p.Add(4) // both within the interval: not sent
	if n := len(rec.messages()); n != 1 {
		t.Fatalf("%d messages before Done, want only the initial display", n)
	}
	p.Done()
	p.Done()  // idempotent
	p.Add(50) // ignored after Done
	msgs := rec.messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	if h := htmlOf(msgs[1]); !strings.Contains(h, `data-value="7"`) || !strings.Contains(h, `data-state="done"`) {
		t.Errorf("final state: %s", h)
	}
	if p.Count() != 7 {
		t.Errorf("count %d after Done and Add, want 7", p.Count())
	}
}

func TestProgressText(t *testing.T) {
	clk := newFakeClock()
	rec := &recorder{}
	p := NewProgressWith(ProgressOptions{Total: 100, Label: "epoch", Publisher: rec, Now: clk.Now})
	clk.Advance(10 * time.Second)
	p.Set(25)
	b := Render(p)
	want := "epoch:  25%|█████               | 25/100 [00:10<00:30, 2.50 it/s]"
	if b.PlainText() != want {
		t.Errorf("text\n got %q\nwant %q", b.PlainText(), want)
	}
	golden(t, "progress_running", bundleText(b))
	clk.Advance(95 * time.Minute)
	p.Set(100)
	p.Done()
	golden(t, "progress_done", bundleText(Render(p)))

	slow := NewProgressWith(ProgressOptions{Label: "files", Unit: "file", Publisher: rec, Now: clk.Now})
	clk.Advance(4 * time.Second)
	slow.Add(2)
	if got := Render(slow).PlainText(); got != "files: 2 file [00:04, 2.00 s/file]" {
		t.Errorf("unknown total: %q", got)
	}
	if h := Render(slow).Data[MIMEHTML].(string); !strings.Contains(h, `<progress style=`) || strings.Contains(h, "<progress value=") {
		t.Errorf("unknown total must show an indeterminate bar: %s", h)
	}
}

func TestProgressClock(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "00:00"},
		{670 * time.Millisecond, "00:00"}, // a sub-second run shows 00:00, as tqdm does
		{1999 * time.Millisecond, "00:01"},
		{59*time.Second + 900*time.Millisecond, "00:59"},
		{61 * time.Second, "01:01"},
		{time.Hour + 2*time.Minute + 3*time.Second, "1:02:03"},
	} {
		if got := clock(c.d); got != c.want {
			t.Errorf("clock(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestProgressEscapesLabel(t *testing.T) {
	rec := &recorder{}
	p := NewProgressWith(ProgressOptions{Total: 2, Label: `<script>alert(1)</script> & "x"`, Publisher: rec})
	p.Done()
	for _, m := range rec.messages() {
		if h := htmlOf(m); strings.Contains(h, "<script") || !strings.Contains(h, "&lt;script&gt;") {
			t.Errorf("label not escaped: %s", h)
		}
	}
}

func TestProgressTerminal(t *testing.T) {
	var buf bytes.Buffer
	clk := newFakeClock()
	pub := TextPublisher{W: &buf, Terminal: true}
	p := NewProgressWith(ProgressOptions{Total: 3, Label: "load", Publisher: pub, Now: clk.Now})
	for i := 0; i < 3; i++ {
		clk.Advance(time.Second)
		p.Add(1)
	}
	p.Done()
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Errorf("want one line ended once, got %q", out)
	}
	frames := strings.Split(strings.TrimSuffix(out, "\n"), "\r")
	if frames[0] != "" || len(frames) != 6 { // "" before the first \r; initial, 3 adds, done (the last add and done are distinct frames)
		t.Errorf("frames %q", frames)
	}
	if last := frames[len(frames)-1]; !strings.HasPrefix(last, "load: 100%|████████████████████| 3/3 [00:03<00:00, 1.00 it/s]") {
		t.Errorf("last frame %q", last)
	}

	// Not a terminal: only the finished line.
	buf.Reset()
	pub.Terminal = false
	q := NewProgressWith(ProgressOptions{Total: 3, Label: "load", Publisher: pub, Now: clk.Now})
	clk.Advance(time.Second)
	q.Add(3)
	q.Done()
	if got := buf.String(); strings.Contains(got, "\r") || strings.Count(got, "\n") != 1 || !strings.Contains(got, "3/3") {
		t.Errorf("non-terminal output %q", got)
	}
}

func TestProgressNestedTerminal(t *testing.T) {
	var buf bytes.Buffer
	clk := newFakeClock()
	pub := TextPublisher{W: &buf, Terminal: true}
	outer := NewProgressWith(ProgressOptions{Total: 2, Label: "epoch", Publisher: pub, Now: clk.Now})
	inner := NewProgressWith(ProgressOptions{Total: 4, Label: "batch", Publisher: pub, Now: clk.Now})
	for e := 0; e < 2; e++ {
		inner.Reset(4)
		for b := 0; b < 4; b++ {
			clk.Advance(time.Second)
			inner.Add(1)
		}
		outer.Add(1)
	}
	inner.Done()
	outer.Done()
	out := buf.String()
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("nested bars must share one line; output %q", out)
	}
	if !strings.Contains(out, "epoch:   0%") || !strings.Contains(out, " | batch:  25%") {
		t.Errorf("the line must show the outer then the inner bar: %q", out)
	}
	frames := strings.Split(strings.TrimSuffix(out, "\n"), "\r")
	last := frames[len(frames)-1]
	if !strings.HasPrefix(last, "epoch: 100%") || strings.Contains(last, "batch") {
		t.Errorf("final line %q, want the finished outer bar only", last)
	}
}

func TestProgressNestedNotebook(t *testing.T) {
	rec := &recorder{}
	clk := newFakeClock()
	usePublisher(t, rec)
	outer := NewProgressWith(ProgressOptions{Total: 3, Label: "epoch", Now: clk.Now})
	inner := NewProgressWith(ProgressOptions{Total: 5, Label: "batch", Now: clk.Now})
	for e := 0; e < 3; e++ {
		inner.Reset(5)
		for b := 0; b < 5; b++ {
			clk.Advance(time.Second)
			inner.Add(1)
		}
		outer.Add(1)
	}
	inner.Done()
	outer.Done()
	ids := map[string][]message{}
	var order []string
	for _, m := range rec.messages() {
		if _, ok := ids[m.ID]; !ok {
			order = append(order, m.ID)
		}
		ids[m.ID] = append(ids[m.ID], m)
	}
	if len(order) != 2 {
		t.Fatalf("%d outputs, want 2 (outer and inner)", len(order))
	}
	for _, id := range order {
		ms := ids[id]
		displays := 0
		for _, m := range ms {
			if m.Kind == "display" {
				displays++
			}
		}
		if displays != 1 || ms[0].Kind != "display" {
			t.Errorf("output %s: %d displays, want exactly one first", id, displays)
		}
		if h := htmlOf(ms[len(ms)-1]); !strings.Contains(h, `data-state="done"`) {
			t.Errorf("output %s does not end done: %s", id, h)
		}
	}
	if h := htmlOf(ids[order[0]][len(ids[order[0]])-1]); !strings.Contains(h, "epoch") || !strings.Contains(h, `data-value="3"`) {
		t.Errorf("outer final %s", h)
	}
}

func TestProgressSilent(t *testing.T) {
	rec := &recorder{}
	usePublisher(t, Discard)
	p := NewProgress(10, "quiet")
	SetPublisher(rec) // a bar keeps the publisher it was made with
	p.Add(10)
	p.Done()
	if n := len(rec.messages()); n != 0 {
		t.Errorf("silent bar published %d messages", n)
	}
}

func TestProgressConcurrent(t *testing.T) {
	rec := &recorder{}
	var buf bytes.Buffer
	for _, pub := range []Publisher{rec, TextPublisher{W: &buf, Terminal: true}} {
		p := NewProgressWith(ProgressOptions{Total: 800, Publisher: pub, MinInterval: time.Nanosecond})
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 100; i++ {
					p.Add(1)
					if i%10 == 0 {
						p.SetLabel(fmt.Sprint("step ", i))
					}
				}
			}()
		}
		wg.Wait()
		p.Done()
		if p.Count() != 800 {
			t.Errorf("%T: count %d, want 800", pub, p.Count())
		}
	}
	msgs := rec.messages()
	if h := htmlOf(msgs[len(msgs)-1]); !strings.Contains(h, `data-value="800"`) || !strings.Contains(h, `data-state="done"`) {
		t.Errorf("final message %s", h)
	}
}

// The bar is drawn in the notebook (or on one terminal line) and updated
// at most ten times a second; Done shows the final state.
func ExampleNewProgress() {
	epochs := NewProgress(3, "epoch")
	batches := NewProgress(100, "batch")
	for e := 0; e < 3; e++ {
		batches.Reset(100)
		for b := 0; b < 100; b++ {
			// train on batch b …
			batches.Add(1)
		}
		epochs.Add(1)
	}
	batches.Done()
	epochs.Done()
}

// TestProgressTrailingUpdate checks that, with the real clock, an update
// held back by the rate limit still arrives once the interval has passed.
func TestProgressTrailingUpdate(t *testing.T) {
	rec := &recorder{}
	p := NewProgressWith(ProgressOptions{Total: 10, Publisher: rec, MinInterval: 20 * time.Millisecond})
	p.Add(3) // held back: the bar was just drawn
	deadline := time.Now().Add(10 * time.Second)
	for {
		msgs := rec.messages()
		if len(msgs) >= 2 {
			if h := htmlOf(msgs[len(msgs)-1]); !strings.Contains(h, `data-value="3"`) || strings.Contains(h, `data-state="done"`) {
				t.Errorf("trailing update %s", h)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the held-back update never arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.Done()
	n := len(rec.messages())
	time.Sleep(50 * time.Millisecond)
	if len(rec.messages()) != n {
		t.Error("an update arrived after Done")
	}
}
