package eval

import (
	"errors"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// errWouldBlock is what readNonblocking returns for an empty pipe.
var errWouldBlock = errors.New("eval: no data in the pipe")

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

// captureReader hands what is written to one redirected file descriptor
// to the target output. Its goroutine waits until the pipe is readable
// and then reads it without blocking; syncCapture reads what is left in
// the pipe on the caller's goroutine. Both hold mu from taking bytes out
// of the pipe until they are handed over, so once syncCapture holds mu
// and has found the pipe empty, everything written before it was called
// has been handed over: no round trip through the reader goroutine.
type captureReader struct {
	stream int
	r      *os.File
	rc     syscall.RawConn
	done   chan struct{}

	mu  sync.Mutex
	buf []byte
}

func (c *captureReader) run() {
	defer close(c.done)
	c.rc.Read(func(fd uintptr) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		// false: the pipe is empty, wait until it is readable again.
		return c.drain(fd) != errWouldBlock
	})
}

// drain reads the pipe until it is empty, handing every piece over. It
// returns errWouldBlock once the pipe is empty, or why reading stopped
// (io.EOF when the last writer is gone). The caller holds c.mu.
func (c *captureReader) drain(fd uintptr) error {
	for {
		n, err := readNonblocking(fd, c.buf)
		if n > 0 {
			c.emit(c.buf[:n])
			continue
		}
		if err == nil {
			return io.EOF
		}
		return err
	}
}

// sync hands over everything still in the pipe.
func (c *captureReader) sync() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rc.Control(func(fd uintptr) { c.drain(fd) })
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
		rc, err := r.SyscallConn()
		if err != nil {
			r.Close()
			capture.refs--
			return err
		}
		c := &captureReader{stream: i, r: r, rc: rc, done: make(chan struct{}), buf: make([]byte, 64<<10)}
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

// syncCapture hands everything written to fd 1 and 2 so far to the
// target output.
func syncCapture() {
	capture.mu.Lock()
	readers := capture.readers
	capture.mu.Unlock()
	for _, c := range readers {
		if c != nil {
			c.sync()
		}
	}
}
