package tfrecord

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

// FindRecord returns the offset of the first position in [from, to) of an
// uncompressed TFRecord stream of size bytes, read through ra, where an
// intact record starts: its length has a valid masked checksum, the record
// fits before size, its data matches the data checksum, and it is followed
// either by the end of the stream or by a header whose length checksum is
// valid and whose record fits. ok is false when no position qualifies.
// maxRecord bounds the length (0 means 1 GiB, the Reader's default).
//
// Record data can embed bytes that are themselves framed records, so the
// offset found is a candidate: a caller that needs certainty checks it
// against the end of the record before it.
func FindRecord(ra io.ReaderAt, from, to, size, maxRecord int64) (off int64, ok bool, err error) {
	if maxRecord <= 0 {
		maxRecord = 1 << 30
	}
	from, to = max(from, 0), min(to, size)
	if from >= to {
		return 0, false, nil
	}
	// Positions are tried a window at a time; the buffer holds the window
	// and the rest of the header at its last position.
	window := min(64<<10, to-from)
	buf := make([]byte, window+headerSize-1)
	var scratch []byte
	for base := from; base < to; base += window {
		n := int(min(int64(len(buf)), size-base))
		if n < headerSize {
			return 0, false, nil
		}
		if err := readFull(ra, buf[:n], base); err != nil {
			return 0, false, err
		}
		last := int(min(to-base, int64(n-headerSize+1)))
		for i := 0; i < last; i++ {
			pos := base + int64(i)
			if !plausible(buf[i:i+headerSize], pos, size, maxRecord) {
				continue
			}
			l := int64(binary.LittleEndian.Uint64(buf[i:]))
			good, err := intactAt(ra, pos, l, size, maxRecord, &scratch)
			if err != nil {
				return 0, false, err
			}
			if good {
				return pos, true, nil
			}
		}
	}
	return 0, false, nil
}

// plausible reports whether hdr, read at pos, is a header with a valid
// length checksum whose record fits in the stream.
func plausible(hdr []byte, pos, size, maxRecord int64) bool {
	l := binary.LittleEndian.Uint64(hdr)
	room := size - pos - headerSize - footerSize
	if room < 0 || l > uint64(min(room, maxRecord)) {
		return false
	}
	return MaskCRC(CRC32C(hdr[:8])) == binary.LittleEndian.Uint32(hdr[8:headerSize])
}

// intactAt checks the data checksum of the record of length l at pos and
// the header after it.
func intactAt(ra io.ReaderAt, pos, l, size, maxRecord int64, scratch *[]byte) (bool, error) {
	if int64(len(*scratch)) < min(l, 256<<10) {
		*scratch = make([]byte, min(l, 256<<10))
	}
	buf := *scratch
	var crc uint32
	for done := int64(0); done < l; {
		k := min(int64(len(buf)), l-done)
		if err := readFull(ra, buf[:k], pos+headerSize+done); err != nil {
			return false, err
		}
		crc = crc32.Update(crc, castagnoli, buf[:k])
		done += k
	}
	end := pos + headerSize + l + footerSize
	var foot [footerSize + headerSize]byte
	tail := foot[:footerSize]
	if end < size {
		if end+headerSize > size {
			return false, nil
		}
		tail = foot[:]
	}
	if err := readFull(ra, tail, end-footerSize); err != nil {
		return false, err
	}
	if MaskCRC(crc) != binary.LittleEndian.Uint32(tail) {
		return false, nil
	}
	return end == size || plausible(tail[footerSize:], end, size, maxRecord), nil
}

func readFull(ra io.ReaderAt, p []byte, off int64) error {
	n, err := ra.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}
