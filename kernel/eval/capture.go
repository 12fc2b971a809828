package eval

import (
	"bytes"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// The process's file descriptors 1 and 2 are shared by every goroutine, so
// their redirection is process-wide: while at least one Evaluator with
// redirection exists, fd 1 and 2 are pipes read by two goroutines that
// hand the text to the output of the evaluator that ran the latest cell.
var capture struct {
	mu      sync.Mutex
	refs    int
	origOut *os.File // dups of the original fd 1 and 2
	origErr *os.File
	readers [2]*captureReader
	target  atomic.Pointer[output]
}

// syncMarker is written through a pipe to learn that everything written
// before it has been read.
var syncMarker = []byte("\x00\x01gopherlab-sync\x01\x00")

type captureReader struct {
	stream int
	r      *os.File
	synced chan struct{}
	done   chan struct{}
}

func (c *captureReader) run() {
	defer close(c.done)
	buf := make([]byte, 64<<10)
	var pending []byte
	for {
		n, err := c.r.Read(buf)
		if n > 0 {
			data := append(pending, buf[:n]...)
			pending = nil
			for {
				i := bytes.Index(data, syncMarker)
				if i < 0 {
					break
				}
				c.emit(data[:i])
				data = data[i+len(syncMarker):]
				select {
				case c.synced <- struct{}{}:
				default:
				}
			}
			// Keep a possible marker prefix for the next read.
			keep := 0
			for k := len(syncMarker) - 1; k > 0; k-- {
				if len(data) >= k && bytes.Equal(data[len(data)-k:], syncMarker[:k]) {
					keep = k
					break
				}
			}
			c.emit(data[:len(data)-keep])
			pending = append([]byte(nil), data[len(data)-keep:]...)
		}
		if err != nil {
			c.emit(pending)
			return
		}
	}
}

func (c *captureReader) emit(p []byte) {
	if len(p) == 0 {
		return
	}
	if o := capture.target.Load(); o != nil {
		o.write(c.stream, p)
		return
	}
	orig := capture.origOut
	if c.stream == streamErr {
		orig = capture.origErr
	}
	if orig != nil {
		orig.Write(p)
	}
}

// KernelStderr returns a file that writes to the kernel process's original
// standard error, also while fd 2 is redirected to cells: the kernel's own
// log belongs there.
func KernelStderr() *os.File {
	capture.mu.Lock()
	defer capture.mu.Unlock()
	if capture.origErr != nil {
		return capture.origErr
	}
	return os.Stderr
}

// startCapture redirects fd 1 and 2 to pipes (once per process).
func startCapture() error {
	capture.mu.Lock()
	defer capture.mu.Unlock()
	capture.refs++
	if capture.refs > 1 {
		return nil
	}
	os.Stdout.Sync()
	os.Stderr.Sync()
	var err error
	if capture.origOut == nil {
		if capture.origOut, err = dupFile(1, "stdout"); err != nil {
			capture.refs--
			return err
		}
		if capture.origErr, err = dupFile(2, "stderr"); err != nil {
			capture.refs--
			return err
		}
		// A fatal runtime error must still reach the real stderr.
		debug.SetCrashOutput(capture.origErr, debug.CrashOptions{})
	}
	for i, fd := range []int{1, 2} {
		r, w, err := os.Pipe()
		if err != nil {
			capture.refs--
			return err
		}
		if err := dup2(int(w.Fd()), fd); err != nil {
			r.Close()
			w.Close()
			capture.refs--
			return err
		}
		w.Close()
		c := &captureReader{stream: i, r: r, synced: make(chan struct{}, 1), done: make(chan struct{})}
		capture.readers[i] = c
		go c.run()
	}
	return nil
}

// stopCapture restores fd 1 and 2 when the last user is gone.
func stopCapture() {
	capture.mu.Lock()
	defer capture.mu.Unlock()
	capture.refs--
	if capture.refs > 0 {
		return
	}
	dup2(int(capture.origOut.Fd()), 1)
	dup2(int(capture.origErr.Fd()), 2)
	for i, c := range capture.readers {
		if c != nil {
			select {
			case <-c.done:
			case <-time.After(time.Second):
			}
			c.r.Close()
			capture.readers[i] = nil
		}
	}
}

// syncCapture waits until everything written to fd 1 and 2 so far has been
// handed to the target output (or a short timeout passed).
func syncCapture() {
	capture.mu.Lock()
	readers := capture.readers
	capture.mu.Unlock()
	for i, c := range readers {
		if c == nil {
			continue
		}
		select {
		case <-c.synced:
		default:
		}
		f := os.Stdout
		if i == streamErr {
			f = os.Stderr
		}
		if _, err := f.Write(syncMarker); err != nil {
			continue
		}
		select {
		case <-c.synced:
		case <-time.After(500 * time.Millisecond):
		}
	}
}
