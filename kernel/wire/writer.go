package wire

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// peerWriter sends ZMTP bytes to one peer without ever blocking the
// sender, the way libzmq's per-peer queue does, but without a goroutine
// hand-off in the common case: a send writes on the calling goroutine with
// a non-blocking system call. What the peer cannot take at once (it reads
// slowly or not at all) goes to a backlog that a goroutine flushes; while
// the backlog is there, later messages queue behind it, and once it holds
// sendHWM messages or maxBacklog bytes further messages to the peer are
// dropped, as libzmq drops them at its high-water mark. A peer that takes
// nothing for peerWriteTimeout is disconnected.
type peerWriter struct {
	c  net.Conn
	rc syscall.RawConn // nil: the connection only supports blocking writes

	mu       sync.Mutex
	backlog  []byte // bytes the flusher still has to write
	queued   int    // messages in backlog
	flushing bool   // the flusher owns the connection's writes
	dead     bool   // a write failed; the connection is closed
}

// Limits of one peer's backlog.
const (
	sendHWM          = 1000 // messages, libzmq's default ZMQ_SNDHWM
	maxBacklog       = 64 << 20
	peerWriteTimeout = 10 * time.Second
)

// newPeerWriter returns the writer for connection c. The flusher it may
// start ends when c is closed.
func newPeerWriter(c net.Conn) *peerWriter {
	w := &peerWriter{c: c}
	if sc, ok := c.(syscall.Conn); ok && nonblockingWrites {
		if rc, err := sc.SyscallConn(); err == nil {
			w.rc = rc
		}
	}
	return w
}

// send writes b, which holds n whole messages, or queues it behind the
// backlog, or drops it when the backlog is full. It reports whether b was
// written or queued.
func (w *peerWriter) send(b []byte, n int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dead {
		return false
	}
	if w.flushing {
		if w.queued+n > sendHWM || len(w.backlog)+len(b) > maxBacklog {
			return false
		}
		w.backlog = append(w.backlog, b...)
		w.queued += n
		return true
	}
	written, err := w.writeNow(b)
	if err != nil {
		w.fail()
		return false
	}
	if written < len(b) {
		w.backlog = append(w.backlog[:0], b[written:]...)
		w.queued = n
		w.flushing = true
		go w.flush()
	}
	return true
}

// writeNow writes as much of b as the connection takes without waiting.
func (w *peerWriter) writeNow(b []byte) (int, error) {
	if w.rc == nil {
		w.c.SetWriteDeadline(time.Now().Add(peerWriteTimeout))
		return w.c.Write(b)
	}
	n := 0
	var werr error
	err := w.rc.Write(func(fd uintptr) bool {
		n, werr = writeNonblocking(fd, b)
		return true // never wait for the socket to become writable
	})
	if err == nil {
		err = werr
	}
	return n, err
}

// flush writes the backlog until it is empty, waiting for the peer.
func (w *peerWriter) flush() {
	var buf []byte
	for {
		w.mu.Lock()
		if len(w.backlog) == 0 {
			w.flushing = false
			w.mu.Unlock()
			return
		}
		// Swap buffers so that senders append to the other one meanwhile.
		buf, w.backlog = w.backlog, buf[:0]
		w.queued = 0
		w.mu.Unlock()
		w.c.SetWriteDeadline(time.Now().Add(peerWriteTimeout))
		if _, err := w.c.Write(buf); err != nil {
			w.mu.Lock()
			w.fail()
			w.mu.Unlock()
			return
		}
	}
}

// fail closes the connection after a write error; the peer's reader sees
// it and drops the peer. The caller holds w.mu.
func (w *peerWriter) fail() {
	w.dead = true
	w.backlog = nil
	w.c.Close()
}
