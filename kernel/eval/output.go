package eval

import (
	"bytes"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/kernel/cell"
)

// Batching limits of stream output: text is sent when this much is
// buffered, or this long after it was written, whichever comes first.
const (
	flushSize     = 64 << 10
	flushInterval = 50 * time.Millisecond
)

const (
	streamOut = 0
	streamErr = 1
)

var streamNames = [2]string{"stdout", "stderr"}

// output batches stdout and stderr text into sink.Stream calls and routes
// display calls to the sink of the running cell, or of the last cell once
// it has finished (goroutines started by a cell keep publishing there).
type output struct {
	mu      sync.Mutex
	bufs    [2][]byte
	sink    cell.Sink
	flushMu sync.Mutex // serializes calls into the sink
	stop    chan struct{}
	done    chan struct{}
}

func newOutput() *output {
	o := &output{stop: make(chan struct{}), done: make(chan struct{})}
	go o.loop()
	return o
}

func (o *output) loop() {
	defer close(o.done)
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			o.flush()
			return
		case <-t.C:
			o.flush()
		}
	}
}

// setSink makes s the destination of everything that follows; pending text
// goes to the previous sink first.
func (o *output) setSink(s cell.Sink) {
	o.flush()
	o.mu.Lock()
	o.sink = s
	o.mu.Unlock()
}

func (o *output) currentSink() cell.Sink {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sink
}

// write appends p to a stream; a full buffer is sent at once.
func (o *output) write(stream int, p []byte) {
	o.mu.Lock()
	o.bufs[stream] = append(o.bufs[stream], p...)
	full := len(o.bufs[stream]) >= flushSize
	o.mu.Unlock()
	if full {
		o.flush()
	}
}

// take removes the sendable text of a stream: everything except an
// incomplete UTF-8 sequence at the end.
func (o *output) take(stream int) string {
	b := o.bufs[stream]
	n := len(b)
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				n = len(b) - i
			}
			break
		}
	}
	s := string(b[:n])
	o.bufs[stream] = append(b[:0], b[n:]...)
	return s
}

// flush sends all buffered text to the current sink.
func (o *output) flush() {
	o.flushMu.Lock()
	defer o.flushMu.Unlock()
	{
		o.mu.Lock()
		sink := o.sink
		var out, errs string
		if len(o.bufs[streamOut]) > 0 {
			out = o.take(streamOut)
		}
		if len(o.bufs[streamErr]) > 0 {
			errs = o.take(streamErr)
		}
		o.mu.Unlock()
		if sink == nil {
			return
		}
		for len(out) > 0 {
			chunk := out
			if len(chunk) > flushSize {
				chunk = cutUTF8(chunk, flushSize)
			}
			sink.Stream(streamNames[streamOut], chunk)
			out = out[len(chunk):]
		}
		for len(errs) > 0 {
			chunk := errs
			if len(chunk) > flushSize {
				chunk = cutUTF8(chunk, flushSize)
			}
			sink.Stream(streamNames[streamErr], chunk)
			errs = errs[len(chunk):]
		}
	}
}

func cutUTF8(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	if n == 0 {
		return s
	}
	return s[:n]
}

func (o *output) close() {
	select {
	case <-o.stop:
	default:
		close(o.stop)
		<-o.done
	}
}

// streamWriter is an io.Writer into one stream of an output.
type streamWriter struct {
	o      *output
	stream int
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.o.write(w.stream, p)
	return len(p), nil
}

// PublishDisplay sends b to the current cell's sink after its pending text.
func (o *output) PublishDisplay(b display.MIMEBundle, displayID string, update bool) {
	o.flush()
	if s := o.currentSink(); s != nil {
		s.PublishDisplay(b, displayID, update)
	}
}

// ClearOutput clears the current cell's output.
func (o *output) ClearOutput(wait bool) {
	o.flush()
	if s := o.currentSink(); s != nil {
		s.ClearOutput(wait)
	}
}

// panicFilter is the interpreter's stderr: it keeps the "file:line:col:
// panic: fn(...)" lines yaegi writes while a panic unwinds (they become
// the traceback) and passes everything else on.
type panicFilter struct {
	next   func([]byte)
	mu     sync.Mutex
	frames []string
	part   []byte
}

func (f *panicFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	data := append(f.part, p...)
	f.part = nil
	var pass bytes.Buffer
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if isPanicFrame(string(data)) || strings.HasPrefix(string(data), "cell") {
				f.part = append([]byte(nil), data...)
			} else {
				pass.Write(data)
			}
			break
		}
		line := string(data[:i])
		if isPanicFrame(line) {
			f.frames = append(f.frames, line)
		} else {
			pass.Write(data[:i+1])
		}
		data = data[i+1:]
	}
	f.mu.Unlock()
	if pass.Len() > 0 {
		f.next(pass.Bytes())
	}
	return len(p), nil
}

func isPanicFrame(line string) bool {
	return strings.Contains(line, ": panic: ") && strings.HasSuffix(line, "(...)")
}

// takeFrames returns and forgets the recorded panic frames.
func (f *panicFilter) takeFrames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	fr := f.frames
	f.frames = nil
	return fr
}
