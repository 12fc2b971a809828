package tfrecord

import (
	"bytes"
	"testing"
)

// TestFindRecord checks that FindRecord returns the next record start at or
// after every offset of a file, and nothing for a truncated last record or
// a range that holds no record start.
func TestFindRecord(t *testing.T) {
	recs := [][]byte{nil, []byte("a"), bytes.Repeat([]byte("xyz"), 100), {}, []byte("tail record")}
	data := writeAll(t, None, recs)
	var starts []int64
	off := int64(0)
	for _, r := range recs {
		starts = append(starts, off)
		off += int64(headerSize + len(r) + footerSize)
	}
	size := int64(len(data))
	for from := int64(0); from <= size; from++ {
		want, wantOK := int64(0), false
		for _, s := range starts {
			if s >= from {
				want, wantOK = s, true
				break
			}
		}
		got, ok, err := FindRecord(bytes.NewReader(data), from, size, size, 0)
		if err != nil || ok != wantOK || got != want {
			t.Fatalf("from %d: got %d %v %v, want %d %v", from, got, ok, err, want, wantOK)
		}
		// Limited to [from, from+1): only a record starting at from.
		got, ok, _ = FindRecord(bytes.NewReader(data), from, from+1, size, 0)
		if ok != (wantOK && want == from) || (ok && got != from) {
			t.Fatalf("[%d, %d): got %d %v", from, from+1, got, ok)
		}
	}
	// The last record cut short is not a record; the one before it, now
	// followed by a partial header, is not either.
	cut := data[:starts[4]+headerSize+3]
	if got, ok, err := FindRecord(bytes.NewReader(cut), starts[3], int64(len(cut)), int64(len(cut)), 0); ok || err != nil {
		t.Errorf("truncated file: got %d %v %v", got, ok, err)
	}
	// A length above maxRecord is rejected.
	if got, ok, _ := FindRecord(bytes.NewReader(data), starts[2], starts[3], size, 10); ok {
		t.Errorf("maxRecord 10: found %d", got)
	}
}
