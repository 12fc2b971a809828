package tfrecord

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
)

// ReaderOptions configure a Reader. The zero value reads an uncompressed
// stream with a 1 MiB buffer and records of at most 1 GiB.
type ReaderOptions struct {
	// Compression of the stream; Auto detects it from the first bytes.
	Compression Compression
	// Name is used in error messages (Open sets it to the path).
	Name string
	// MaxRecordSize rejects records whose length field is larger
	// (default 1 GiB), so a damaged length cannot exhaust memory.
	MaxRecordSize int64
	// BufferSize is the read buffer (default 1 MiB). Records up to this size
	// are returned without copying.
	BufferSize int
}

// Reader reads records one at a time. It is not safe for concurrent use.
type Reader struct {
	name    string
	comp    Compression
	br      *bufio.Reader
	closers []io.Closer
	max     int64
	big     []byte

	off     int64 // offset of the next record
	lastOff int64 // offset of the record last returned
	idx     int64 // index of the next record
	err     error // sticky error
}

// Open opens the TFRecord file at path. Close the Reader when done.
func Open(path string, opts ReaderOptions) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if opts.Name == "" {
		opts.Name = path
	}
	r, err := NewReader(f, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closers = append(r.closers, f)
	return r, nil
}

// NewReader returns a Reader of the records in src. Closing the Reader does
// not close src. Close it when done: a compressed stream is inflated by a
// goroutine that Close stops.
func NewReader(src io.Reader, opts ReaderOptions) (*Reader, error) {
	size := opts.BufferSize
	if size <= 0 {
		size = 1 << 20
	}
	if size < 64 {
		size = 64
	}
	r := &Reader{name: opts.Name, max: opts.MaxRecordSize}
	if r.max <= 0 {
		r.max = 1 << 30
	}
	comp := opts.Compression
	if comp != None && comp != Zlib && comp != Gzip && comp != Auto {
		c, err := ParseCompression(string(comp))
		if err != nil {
			return nil, err
		}
		comp = c
	}
	if comp == None {
		r.comp = None
		r.br = bufio.NewReaderSize(src, size)
		return r, nil
	}
	raw := bufio.NewReaderSize(src, 64<<10)
	if comp == Auto {
		comp = Detect(raw)
	}
	r.comp = comp
	switch comp {
	case None:
		r.br = bufio.NewReaderSize(raw, size)
		return r, nil
	case Gzip:
		zr, err := gzip.NewReader(raw)
		if err != nil {
			return nil, &Error{File: r.name, Compressed: true, Err: fmt.Errorf("%w: cannot open GZIP stream: %v (is the file really GZIP-compressed?)", ErrCorrupt, err)}
		}
		zr.Multistream(true)
		ra := newReadAhead(zr)
		r.closers = append(r.closers, zr, ra)
		r.br = bufio.NewReaderSize(ra, size)
	case Zlib:
		zr, err := zlib.NewReader(raw)
		if err != nil {
			return nil, &Error{File: r.name, Compressed: true, Err: fmt.Errorf("%w: cannot open ZLIB stream: %v (is the file really ZLIB-compressed?)", ErrCorrupt, err)}
		}
		ra := newReadAhead(zr)
		r.closers = append(r.closers, zr, ra)
		r.br = bufio.NewReaderSize(ra, size)
	}
	return r, nil
}

// Detect peeks at the start of br and guesses its compression: None when the
// first record header carries a valid length checksum (or the stream is
// empty), Gzip for the GZIP magic bytes, Zlib for a valid ZLIB header, and
// None otherwise (reading then reports the damaged header).
func Detect(br *bufio.Reader) Compression {
	p, _ := br.Peek(headerSize)
	if len(p) == 0 {
		return None
	}
	if len(p) == headerSize && MaskCRC(CRC32C(p[:8])) == binary.LittleEndian.Uint32(p[8:12]) {
		return None
	}
	return sniff(p)
}

func sniff(p []byte) Compression {
	if len(p) >= 2 && p[0] == 0x1f && p[1] == 0x8b {
		return Gzip
	}
	if len(p) >= 2 && p[0]&0x0f == 8 && p[0]>>4 <= 7 && (uint16(p[0])<<8|uint16(p[1]))%31 == 0 {
		return Zlib
	}
	return None
}

// Compression returns the compression in use (after detection).
func (r *Reader) Compression() Compression { return r.comp }

// Offset returns the byte offset of the record last returned by Next, in the
// uncompressed record stream.
func (r *Reader) Offset() int64 { return r.lastOff }

// Index returns the zero-based index of the record last returned by Next
// (-1 before the first).
func (r *Reader) Index() int64 { return r.idx - 1 }

// BytesRead returns the number of (uncompressed) stream bytes consumed.
func (r *Reader) BytesRead() int64 { return r.off }

// Next returns the next record's data. The slice is only valid until the next
// call. At the end of the stream it returns io.EOF; a damaged record gives an
// *Error wrapping ErrCorrupt, after which the Reader keeps returning it.
func (r *Reader) Next() ([]byte, error) {
	return r.read(nil, false)
}

// AppendNext appends the next record's data to dst and returns the extended
// slice. Errors are as for Next (dst is returned unchanged).
func (r *Reader) AppendNext(dst []byte) ([]byte, error) {
	return r.read(dst, true)
}

// Skip advances past the next record after verifying its checksums.
func (r *Reader) Skip() error {
	_, err := r.read(nil, false)
	return err
}

func (r *Reader) fail(err error) error {
	r.err = &Error{File: r.name, Record: r.idx, Offset: r.off, Compressed: r.comp != None, Err: err}
	return r.err
}

func (r *Reader) streamErr(err error, what string) error {
	if r.comp != None && !errors.Is(err, io.ErrUnexpectedEOF) {
		return r.fail(fmt.Errorf("%w: %s: %s stream: %v", ErrCorrupt, what, r.comp, err))
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.fail(fmt.Errorf("%w: truncated %s", ErrCorrupt, what))
	}
	return r.fail(err)
}

func (r *Reader) read(dst []byte, appendMode bool) ([]byte, error) {
	if r.err != nil {
		return dst, r.err
	}
	hdr, err := r.br.Peek(headerSize)
	if err != nil {
		if len(hdr) == 0 && err == io.EOF {
			r.err = io.EOF
			return dst, io.EOF
		}
		if err == io.EOF {
			return dst, r.fail(fmt.Errorf("%w: truncated record header: %d of %d bytes", ErrCorrupt, len(hdr), headerSize))
		}
		return dst, r.streamErr(err, "record header")
	}
	n := binary.LittleEndian.Uint64(hdr[:8])
	stored := binary.LittleEndian.Uint32(hdr[8:12])
	if got := MaskCRC(CRC32C(hdr[:8])); got != stored {
		hint := ""
		if r.idx == 0 && r.comp == None {
			if c := sniff(hdr); c != None {
				hint = fmt.Sprintf("; the file looks %s-compressed: set Compression to %q or \"AUTO\"", c, string(c))
			} else {
				hint = "; not a TFRecord file, or compressed with an unknown codec"
			}
		}
		return dst, r.fail(fmt.Errorf("%w: length checksum mismatch (stored %#08x, computed %#08x)%s", ErrCorrupt, stored, got, hint))
	}
	if n > uint64(r.max) {
		return dst, r.fail(fmt.Errorf("%w: record length %d exceeds MaxRecordSize %d", ErrCorrupt, n, r.max))
	}
	total := headerSize + int(n) + footerSize
	var data []byte
	if total <= r.br.Size() {
		p, err := r.br.Peek(total)
		if err != nil {
			if err == io.EOF {
				return dst, r.fail(fmt.Errorf("%w: truncated record: needs %d bytes, stream ends after %d", ErrCorrupt, total, len(p)))
			}
			return dst, r.streamErr(err, "record")
		}
		data = p[headerSize : headerSize+int(n)]
		if err := r.checkData(data, p[headerSize+int(n):]); err != nil {
			r.br.Discard(total)
			r.advance(total)
			return dst, err
		}
		if appendMode {
			dst = append(dst, data...)
		}
		r.br.Discard(total)
	} else {
		r.br.Discard(headerSize)
		// Grow progressively so a truncated file never forces a huge allocation.
		buf := r.big[:0]
		for uint64(len(buf)) < n {
			want := int(n) - len(buf)
			if want > 64<<20 {
				want = 64 << 20
			}
			start := len(buf)
			buf = append(buf, make([]byte, want)...)
			if k, err := io.ReadFull(r.br, buf[start:]); err != nil {
				r.big = buf[:0]
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					return dst, r.fail(fmt.Errorf("%w: truncated record: needs %d bytes, stream ends after %d", ErrCorrupt, total, headerSize+start+k))
				}
				return dst, r.streamErr(err, "record")
			}
		}
		r.big = buf[:0]
		var foot [footerSize]byte
		if k, err := io.ReadFull(r.br, foot[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return dst, r.fail(fmt.Errorf("%w: truncated record: needs %d bytes, stream ends after %d", ErrCorrupt, total, headerSize+int(n)+k))
			}
			return dst, r.streamErr(err, "record")
		}
		data = buf
		if err := r.checkData(data, foot[:]); err != nil {
			r.advance(total)
			return dst, err
		}
		if appendMode {
			dst = append(dst, data...)
		}
	}
	r.advance(total)
	if appendMode {
		return dst, nil
	}
	return data, nil
}

func (r *Reader) advance(total int) {
	r.lastOff = r.off
	r.off += int64(total)
	r.idx++
}

// checkData verifies the data checksum. A mismatch is not sticky: the
// length was verified, so the Reader can move on to the next record.
func (r *Reader) checkData(data, foot []byte) error {
	stored := binary.LittleEndian.Uint32(foot)
	if got := MaskCRC(CRC32C(data)); got != stored {
		return &Error{File: r.name, Record: r.idx, Offset: r.off, Compressed: r.comp != None,
			Err: fmt.Errorf("%w (stored %#08x, computed %#08x)", ErrDataChecksum, stored, got)}
	}
	return nil
}

// Close releases the decompressor and, for a Reader from Open, the file.
func (r *Reader) Close() error {
	var first error
	for i := len(r.closers) - 1; i >= 0; i-- {
		if err := r.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	r.closers = nil
	if r.err == nil {
		r.err = errors.New("tfrecord: reader closed")
	}
	return first
}
