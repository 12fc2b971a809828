package tfrecord

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gopherlab/gopherlab/stdlib/convert/internal/atomicfile"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
)

// WriterOptions configure a Writer. The zero value writes uncompressed.
type WriterOptions struct {
	// Compression of the whole stream: None, Zlib or Gzip.
	Compression Compression
	// Level is the compression level (0 means the codec's default).
	Level int
}

// Writer writes records. It is not safe for concurrent use.
type Writer struct {
	bw      *bufio.Writer
	zw      io.WriteCloser
	file    *atomicfile.File
	records int64
	bytes   int64
	err     error
	hdr     [headerSize]byte
}

// NewWriter returns a Writer writing to w. Close flushes it but does not
// close w.
func NewWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	tw := &Writer{}
	comp := opts.Compression
	if comp != None && comp != Zlib && comp != Gzip {
		c, err := ParseCompression(string(comp))
		if err != nil {
			return nil, err
		}
		comp = c
	}
	level := opts.Level
	switch comp {
	case None:
		tw.bw = bufio.NewWriterSize(w, 1<<20)
	case Auto:
		return nil, errors.New("tfrecord: AUTO compression is for readers only")
	case Gzip:
		if level == 0 {
			level = gzip.DefaultCompression
		}
		zw, err := gzip.NewWriterLevel(w, level)
		if err != nil {
			return nil, err
		}
		tw.zw = zw
		tw.bw = bufio.NewWriterSize(zw, 1<<20)
	case Zlib:
		if level == 0 {
			level = zlib.DefaultCompression
		}
		zw, err := zlib.NewWriterLevel(w, level)
		if err != nil {
			return nil, err
		}
		tw.zw = zw
		tw.bw = bufio.NewWriterSize(zw, 1<<20)
	}
	return tw, nil
}

// Create writes a TFRecord file at path atomically: the data goes to a
// temporary file that Close renames to path. Abort discards it.
func Create(path string, opts WriterOptions) (*Writer, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, opts)
	if err != nil {
		f.Abort()
		return nil, err
	}
	w.file = f
	return w, nil
}

// Write appends one record.
func (w *Writer) Write(data []byte) error {
	if w.err != nil {
		return w.err
	}
	binary.LittleEndian.PutUint64(w.hdr[:8], uint64(len(data)))
	binary.LittleEndian.PutUint32(w.hdr[8:], MaskCRC(CRC32C(w.hdr[:8])))
	var foot [footerSize]byte
	binary.LittleEndian.PutUint32(foot[:], MaskCRC(CRC32C(data)))
	if _, err := w.bw.Write(w.hdr[:]); err != nil {
		w.err = err
		return err
	}
	if _, err := w.bw.Write(data); err != nil {
		w.err = err
		return err
	}
	if _, err := w.bw.Write(foot[:]); err != nil {
		w.err = err
		return err
	}
	w.records++
	w.bytes += int64(headerSize + len(data) + footerSize)
	return nil
}

// Records returns the number of records written so far.
func (w *Writer) Records() int64 { return w.records }

// Close flushes buffered data and finishes the compressed stream. For a
// Writer from Create it also moves the file to its final path.
func (w *Writer) Close() error {
	if w.err != nil {
		if w.file != nil {
			w.file.Abort()
		}
		if w.err == errClosed {
			return nil
		}
		return w.err
	}
	err := w.bw.Flush()
	if w.zw != nil {
		if cerr := w.zw.Close(); err == nil {
			err = cerr
		}
	}
	if w.file != nil {
		if err != nil {
			w.file.Abort()
		} else {
			err = w.file.Commit()
		}
	}
	if err != nil {
		w.err = fmt.Errorf("tfrecord: close: %w", err)
		return w.err
	}
	w.err = errClosed
	return nil
}

// Abort discards a Writer from Create without creating its file.
func (w *Writer) Abort() {
	if w.file != nil {
		w.file.Abort()
	}
	if w.err == nil {
		w.err = errClosed
	}
}

var errClosed = errors.New("tfrecord: writer closed")
