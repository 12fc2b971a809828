package tfrecord

import (
	"io"
	"sync"
)

// readAhead runs a decompressor in its own goroutine, a few blocks ahead
// of the reader, so that inflating overlaps with framing, checksums and
// whatever the caller does with the records: inflating is the serial part
// of reading a compressed file.
type readAhead struct {
	full chan block
	free chan []byte
	stop chan struct{}
	done sync.WaitGroup
	cur  block
	err  error
}

type block struct {
	buf []byte // inflated bytes, followed by err
	off int
	err error
}

const (
	readAheadBlock  = 256 << 10
	readAheadBlocks = 4
)

func newReadAhead(src io.Reader) *readAhead {
	r := &readAhead{full: make(chan block, readAheadBlocks), free: make(chan []byte, readAheadBlocks), stop: make(chan struct{})}
	for i := 0; i < readAheadBlocks; i++ {
		r.free <- make([]byte, readAheadBlock)
	}
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		for {
			var buf []byte
			select {
			case buf = <-r.free:
			case <-r.stop:
				return
			}
			n, err := 0, error(nil)
			for n < len(buf) && err == nil {
				var k int
				k, err = src.Read(buf[n:])
				n += k
			}
			select {
			case r.full <- block{buf: buf[:n], err: err}:
			case <-r.stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return r
}

// Read returns the inflated bytes in order, then the decompressor's error.
func (r *readAhead) Read(p []byte) (int, error) {
	for r.cur.off == len(r.cur.buf) {
		if r.err != nil {
			return 0, r.err
		}
		if r.cur.buf != nil {
			r.free <- r.cur.buf[:cap(r.cur.buf)]
		}
		r.cur = <-r.full
		r.cur.off = 0
		if r.cur.err != nil {
			r.err = r.cur.err
		}
	}
	n := copy(p, r.cur.buf[r.cur.off:])
	r.cur.off += n
	return n, nil
}

// Close stops the goroutine and waits for it, so the decompressor can be
// closed after it.
func (r *readAhead) Close() error {
	close(r.stop)
	r.done.Wait()
	return nil
}
