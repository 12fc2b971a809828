// Package tfrecord reads and writes the TFRecord container format used by
// TensorFlow: a sequence of records, each framed as
//
//	uint64 length (little endian)
//	uint32 masked CRC32C of the 8 length bytes
//	length bytes of data
//	uint32 masked CRC32C of the data
//
// optionally wrapped as a whole in ZLIB or GZIP compression. Both checksums
// are verified on read. Reading and writing are streaming: one record at a
// time, never the whole file in memory.
package tfrecord

import (
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
)

// Compression is the whole-file compression of a TFRecord file. The names
// match tf.io.TFRecordOptions: "" (none), "ZLIB" and "GZIP".
type Compression string

const (
	// None means the records are stored uncompressed.
	None Compression = ""
	// Zlib means the whole stream is ZLIB (RFC 1950) compressed.
	Zlib Compression = "ZLIB"
	// Gzip means the whole stream is GZIP (RFC 1952) compressed.
	Gzip Compression = "GZIP"
	// Auto, accepted by readers only, detects None, Zlib or Gzip from the
	// first bytes of the file.
	Auto Compression = "AUTO"
)

// ParseCompression accepts the spellings TensorFlow users write ("", "NONE",
// "ZLIB", "GZIP", "AUTO", any case) and returns the Compression.
func ParseCompression(s string) (Compression, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "NONE":
		return None, nil
	case "ZLIB":
		return Zlib, nil
	case "GZIP", "GZ":
		return Gzip, nil
	case "AUTO":
		return Auto, nil
	}
	return None, fmt.Errorf("tfrecord: unknown compression %q (want \"\", \"ZLIB\", \"GZIP\" or \"AUTO\")", s)
}

// String returns the TensorFlow name of c, "NONE" for no compression.
func (c Compression) String() string {
	if c == None {
		return "NONE"
	}
	return string(c)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CRC32C returns the CRC-32C (Castagnoli) checksum of b.
func CRC32C(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

const maskDelta = 0xa282ead8

// MaskCRC applies TensorFlow's CRC mask: rotate right by 15 bits and add a
// constant, so that checksums of data containing checksums stay strong.
func MaskCRC(crc uint32) uint32 { return ((crc >> 15) | (crc << 17)) + maskDelta }

// UnmaskCRC inverts MaskCRC.
func UnmaskCRC(masked uint32) uint32 {
	rot := masked - maskDelta
	return (rot >> 17) | (rot << 15)
}

// headerSize is the size of the length field plus its CRC.
const headerSize = 12

// footerSize is the size of the data CRC.
const footerSize = 4

// ErrCorrupt is wrapped by every error about damaged framing (bad checksum,
// truncated record). Use errors.Is(err, tfrecord.ErrCorrupt).
var ErrCorrupt = errors.New("corrupt TFRecord")

// ErrDataChecksum is wrapped by the error for a record whose data does not
// match its checksum. The framing is intact, so reading can go on with the
// next record.
var ErrDataChecksum = fmt.Errorf("%w: data checksum mismatch", ErrCorrupt)

// Error describes a problem at one record of one file. Offset is the byte
// offset of the record's header in the (uncompressed) record stream; for an
// uncompressed file that is the offset in the file.
type Error struct {
	File       string // file name, or "" when reading an unnamed stream
	Record     int64  // zero-based index of the record
	Offset     int64  // byte offset of the record header
	Compressed bool   // the offset counts uncompressed bytes of a compressed file
	Err        error  // what went wrong
}

func (e *Error) Error() string {
	name := e.File
	if name == "" {
		name = "<stream>"
	}
	where := "byte offset"
	if e.Compressed {
		where = "uncompressed byte offset"
	}
	return fmt.Sprintf("%s: record %d at %s %d: %v", name, e.Record, where, e.Offset, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
