package display

import (
	"fmt"
	"html"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// ProgressOptions configure a progress bar made by NewProgressWith. The
// zero value is usable.
type ProgressOptions struct {
	// Total is the count at which the work is complete; 0 or less means
	// unknown (the bar then shows count, rate and elapsed time only).
	Total int
	// Label is shown before the bar.
	Label string
	// Unit names what is counted in the rate ("it" if empty): "3.2 it/s".
	Unit string
	// Publisher receives the bar; nil means the publisher current when the
	// bar is created. A StatusPublisher (a terminal) gets one status line;
	// Discard gets nothing.
	Publisher Publisher
	// Now is the clock; nil means time.Now. Tests inject a fake clock.
	// With the real clock, an update held back by the rate limit is sent
	// by a timer MinInterval later if no other call sends it first, so the
	// bar is never more than MinInterval behind; with an injected clock
	// there is no timer.
	Now func() time.Time
	// MinInterval is the least time between two updates (100ms: at most 10
	// updates per second). The final state is always sent by Done.
	MinInterval time.Duration
}

// Progress is a progress bar, like tqdm: in a notebook one HTML bar (class
// "gopherlab-progress") replaced in place with update_display_data, in a
// terminal a single line rewritten with '\r'. It shows the count, the
// percentage, the rate, the elapsed time and the time left.
//
// Updates are rate-limited (see ProgressOptions.MinInterval), so calling Add
// in a tight loop is cheap. Bars nest: an outer bar over epochs and an
// inner bar over batches (Reset it for each epoch) each keep their own
// output. A Progress is safe for concurrent use.
type Progress struct {
	mu       sync.Mutex
	opts     ProgressOptions
	n, total int
	label    string
	start    time.Time
	lastSent time.Time
	done     bool
	trailing bool        // send held-back updates from a timer
	timer    *time.Timer // pending trailing update, if any
	dirty    bool        // the state changed since it was last sent

	handle *Handle         // notebook output; nil in the other modes
	status StatusPublisher // terminal; nil in the other modes
	term   *termEntry      // this bar's part of the terminal line
}

// NewProgress shows a progress bar for total units of work (0 if unknown)
// and returns it; call Add or Set as work completes and Done at the end.
func NewProgress(total int, label string) *Progress {
	return NewProgressWith(ProgressOptions{Total: total, Label: label})
}

// NewProgressWith shows a progress bar configured by opts.
func NewProgressWith(opts ProgressOptions) *Progress {
	realClock := opts.Now == nil
	if realClock {
		opts.Now = time.Now
	}
	if opts.MinInterval <= 0 {
		opts.MinInterval = 100 * time.Millisecond
	}
	if opts.Unit == "" {
		opts.Unit = "it"
	}
	pub := opts.Publisher
	if pub == nil {
		pub = CurrentPublisher()
	}
	p := &Progress{opts: opts, total: max(opts.Total, 0), label: opts.Label, start: opts.Now(), trailing: realClock}
	switch x := pub.(type) {
	case discard:
	case StatusPublisher:
		p.status = x
		p.term = &termEntry{pub: x}
	default:
		p.handle = NewHandle(pub)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.send()
	return p
}

// Add advances the bar by n units.
func (p *Progress) Add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.n += n
	p.maybeSend()
}

// Set sets the count of completed units.
func (p *Progress) Set(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.n = n
	p.maybeSend()
}

// SetLabel changes the label.
func (p *Progress) SetLabel(label string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.label = label
	if !p.done {
		p.maybeSend()
	}
}

// Reset starts the bar over with a new total (0 if unknown): count and
// clock restart, and the same output is reused. This is how an inner bar
// (batches) serves every iteration of an outer one (epochs).
func (p *Progress) Reset(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n, p.total, p.done = 0, max(total, 0), false
	p.start = p.opts.Now()
	p.send()
}

// Done marks the work finished and always shows the final state
// (data-state="done" in HTML). Further Add and Set calls are ignored.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	p.send()
}

// Count returns the count of completed units.
func (p *Progress) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// maybeSend sends the state unless the last update was too recent; then
// the trailing timer (if any) sends it later.
func (p *Progress) maybeSend() {
	if p.opts.Now().Sub(p.lastSent) >= p.opts.MinInterval {
		p.send()
		return
	}
	p.dirty = true
	if p.trailing && p.timer == nil {
		p.timer = time.AfterFunc(p.opts.MinInterval, p.flush)
	}
}

// flush sends a held-back update (the trailing timer).
func (p *Progress) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timer = nil
	if p.dirty && !p.done {
		p.send()
	}
}

// send publishes the current state: the first time as a new output, then
// as updates of it. p.mu is held.
func (p *Progress) send() {
	now := p.opts.Now()
	p.lastSent = now
	p.dirty = false
	if p.done && p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	st := p.state(now)
	switch {
	case p.handle != nil:
		b := st.bundle()
		p.handle.mu.Lock()
		defer p.handle.mu.Unlock()
		p.handle.pub.PublishDisplay(b, p.handle.id, p.handle.shown)
		p.handle.shown = true
	case p.status != nil:
		p.term.update(st.line(), st.done)
	}
}

// MimeBundle implements Renderer: the bar's current state.
func (p *Progress) MimeBundle() map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state(p.opts.Now()).bundle().Data
}

// progressState is a snapshot of a bar.
type progressState struct {
	label, unit string
	n, total    int
	elapsed     time.Duration
	done        bool
}

func (p *Progress) state(now time.Time) progressState {
	return progressState{label: p.label, unit: p.opts.Unit, n: p.n, total: p.total,
		elapsed: now.Sub(p.start), done: p.done}
}

func (s progressState) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.n) / s.elapsed.Seconds()
}

// eta is the estimated time left, or -1 if unknown.
func (s progressState) eta() time.Duration {
	r := s.rate()
	if s.total <= 0 || r <= 0 || s.done {
		return -1
	}
	left := float64(max(s.total-s.n, 0)) / r
	if left > 1e6 {
		return -1
	}
	return time.Duration(left * float64(time.Second))
}

func (s progressState) rateText() string {
	r := s.rate()
	switch {
	case r <= 0:
		return "? " + s.unit + "/s"
	case r < 1:
		return fmt.Sprintf("%.2f s/%s", 1/r, s.unit)
	case r < 100:
		return fmt.Sprintf("%.2f %s/s", r, s.unit)
	}
	return fmt.Sprintf("%.0f %s/s", r, s.unit)
}

// clock formats d as mm:ss, or h:mm:ss from one hour, counting whole
// seconds as tqdm does (0.7 s is 00:00).
func clock(d time.Duration) string {
	sec := int(d / time.Second)
	if sec >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", sec/3600, sec/60%60, sec%60)
	}
	return fmt.Sprintf("%02d:%02d", sec/60, sec%60)
}

// stats is "37/100 [00:12<00:20, 3.02 it/s]" (tqdm's layout).
func (s progressState) stats() string {
	left := "?"
	if e := s.eta(); e >= 0 {
		left = clock(e)
	}
	if s.done {
		left = "00:00"
	}
	if s.total <= 0 {
		return fmt.Sprintf("%d %s [%s, %s]", s.n, s.unit, clock(s.elapsed), s.rateText())
	}
	return fmt.Sprintf("%d/%d [%s<%s, %s]", s.n, s.total, clock(s.elapsed), left, s.rateText())
}

func (s progressState) fraction() float64 {
	if s.total <= 0 {
		return 0
	}
	return math.Min(math.Max(float64(s.n)/float64(s.total), 0), 1)
}

// line is the plain-text bar: "label  37%|███▋      | 37/100 [00:12<00:20, 3.02 it/s]".
func (s progressState) line() string {
	var b strings.Builder
	if s.label != "" {
		b.WriteString(oneLine(s.label) + ": ")
	}
	if s.total > 0 {
		const width = 20
		f := s.fraction()
		eighths := int(f * width * 8)
		bar := strings.Repeat("█", eighths/8)
		if rem := eighths % 8; rem > 0 {
			bar += string([]rune("▏▎▍▌▋▊▉")[rem-1])
		}
		bar += strings.Repeat(" ", width-utf8.RuneCountInString(bar))
		fmt.Fprintf(&b, "%3.0f%%|%s| ", f*100, bar)
	}
	b.WriteString(s.stats())
	return b.String()
}

// html is the notebook bar.
func (s progressState) html() string {
	state := "running"
	if s.done {
		state = "done"
	}
	bar := `<progress style="width:20em;vertical-align:middle"></progress>` // indeterminate
	switch {
	case s.total > 0:
		bar = fmt.Sprintf(`<progress value="%d" max="%d" style="width:20em;vertical-align:middle"></progress>`, min(max(s.n, 0), s.total), s.total)
	case s.done:
		bar = `<progress value="1" max="1" style="width:20em;vertical-align:middle"></progress>`
	}
	pct := ""
	if s.total > 0 {
		pct = fmt.Sprintf("%.0f%% ", s.fraction()*100)
	}
	return fmt.Sprintf(`<div class="gopherlab-progress" data-state="%s" data-value="%d" data-total="%d" style="font-family:monospace;font-size:0.9em;white-space:nowrap">`+
		`<span class="gopherlab-progress-label">%s</span> %s <span class="gopherlab-progress-text">%s%s</span></div>`,
		state, s.n, s.total, html.EscapeString(s.label), bar, pct, html.EscapeString(s.stats()))
}

func (s progressState) bundle() MIMEBundle {
	return MIMEBundle{Data: map[string]any{MIMEHTML: s.html(), MIMEPlain: s.line()}}
}

// Terminal bars: all live bars writing to one StatusPublisher share its
// single status line, outer bars first ("epoch … | batch …").

var (
	termMu   sync.Mutex
	termLive []*termEntry
	termLen  int // length of the last status line written, for padding
)

type termEntry struct {
	pub  StatusPublisher
	text string
	live bool
}

// samePub reports whether a and b are the same publisher; publishers of
// incomparable types are only equal to themselves by identity of entry.
func samePub(a, b StatusPublisher) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// update redraws the status line of e's publisher with e's new text. A
// finished bar leaves the line; the last one to finish ends it.
func (e *termEntry) update(text string, final bool) {
	termMu.Lock()
	defer termMu.Unlock()
	e.text = text
	if !e.live && !final {
		e.live = true
		termLive = append(termLive, e)
	}
	var parts []string
	others := 0
	for _, o := range termLive {
		if samePub(o.pub, e.pub) {
			parts = append(parts, o.text)
			if o != e {
				others++
			}
		}
	}
	if !e.live { // finished without ever being drawn
		parts = append(parts, e.text)
	}
	if final {
		for i, o := range termLive {
			if o == e {
				termLive = append(termLive[:i], termLive[i+1:]...)
				break
			}
		}
		e.live = false
		if others > 0 { // an inner bar finished: redraw without it
			parts = parts[:0]
			for _, o := range termLive {
				if samePub(o.pub, e.pub) {
					parts = append(parts, o.text)
				}
			}
			final = false
		}
	}
	line := strings.Join(parts, " | ")
	n := utf8.RuneCountInString(line)
	if pad := termLen - n; pad > 0 {
		line += strings.Repeat(" ", pad)
	}
	termLen = n
	if final {
		termLen = 0
	}
	e.pub.Status(line, final)
}
