package tfrecord

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Published CRC-32C check values: RFC 3720 (iSCSI) appendix B.4 and the
// "123456789" check value of the Castagnoli polynomial.
func TestCRC32CVectors(t *testing.T) {
	ascending := make([]byte, 32)
	descending := make([]byte, 32)
	for i := range ascending {
		ascending[i] = byte(i)
		descending[i] = byte(31 - i)
	}
	tests := []struct {
		name string
		data []byte
		want uint32
	}{
		{"check string", []byte("123456789"), 0xE3069283},
		{"32 zeros", make([]byte, 32), 0x8A9136AA},
		{"32 0xff", bytes.Repeat([]byte{0xff}, 32), 0x62A8AB43},
		{"ascending", ascending, 0x46DD794E},
		{"descending", descending, 0x113FDB5C},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		if got := CRC32C(tt.data); got != tt.want {
			t.Errorf("%s: CRC32C = %#08x, want %#08x", tt.name, got, tt.want)
		}
	}
}

func TestMaskCRC(t *testing.T) {
	// The mask is rotate-right-15 plus 0xa282ead8 (TensorFlow's crc32c::Mask).
	tests := []struct{ crc, masked uint32 }{
		{0, 0xa282ead8},
		{0xE3069283, ((0xE3069283>>15)|(0xE3069283<<17))&0xffffffff + 0xa282ead8},
		{1, (1 << 17) + 0xa282ead8},
	}
	for _, tt := range tests {
		if got := MaskCRC(tt.crc); got != tt.masked {
			t.Errorf("MaskCRC(%#x) = %#x, want %#x", tt.crc, got, tt.masked)
		}
		if got := UnmaskCRC(tt.masked); got != tt.crc {
			t.Errorf("UnmaskCRC(%#x) = %#x, want %#x", tt.masked, got, tt.crc)
		}
	}
}

// TestFramingBytes checks the exact bytes of one record against a frame
// assembled by hand from the format description.
func TestFramingBytes(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]byte("123456789")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 0, 25)
	want = binary.LittleEndian.AppendUint64(want, 9)
	want = binary.LittleEndian.AppendUint32(want, MaskCRC(CRC32C(want[:8])))
	want = append(want, "123456789"...)
	want = binary.LittleEndian.AppendUint32(want, MaskCRC(0xE3069283))
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("frame = %x\nwant    %x", buf.Bytes(), want)
	}
}

func records() [][]byte {
	recs := [][]byte{nil, []byte("a"), []byte("hello, tfrecord"), bytes.Repeat([]byte{0xab}, 3<<20)}
	for i := 0; i < 100; i++ {
		recs = append(recs, []byte(strings.Repeat(fmt.Sprint(i), i)))
	}
	return recs
}

func writeAll(t testing.TB, comp Compression, recs [][]byte) []byte {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Compression: comp})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(data []byte, opts ReaderOptions) ([][]byte, error) {
	r, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out [][]byte
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, append([]byte{}, rec...))
	}
}

func TestRoundTripCompressions(t *testing.T) {
	recs := records()
	for _, comp := range []Compression{None, Zlib, Gzip} {
		for _, readAs := range []Compression{comp, Auto} {
			t.Run(comp.String()+"/read="+readAs.String(), func(t *testing.T) {
				data := writeAll(t, comp, recs)
				got, err := readAll(data, ReaderOptions{Compression: readAs, BufferSize: 1 << 16})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(recs) {
					t.Fatalf("read %d records, wrote %d", len(got), len(recs))
				}
				for i := range recs {
					if !bytes.Equal(got[i], recs[i]) {
						t.Fatalf("record %d differs (len %d vs %d)", i, len(got[i]), len(recs[i]))
					}
				}
			})
		}
	}
}

func TestDetect(t *testing.T) {
	for _, comp := range []Compression{None, Zlib, Gzip} {
		data := writeAll(t, comp, [][]byte{[]byte("x")})
		r, err := NewReader(bytes.NewReader(data), ReaderOptions{Compression: Auto})
		if err != nil {
			t.Fatal(err)
		}
		if r.Compression() != comp {
			t.Errorf("detected %s, want %s", r.Compression(), comp)
		}
	}
	// An empty file is a valid empty uncompressed stream.
	got, err := readAll(nil, ReaderOptions{Compression: Auto})
	if err != nil || len(got) != 0 {
		t.Fatalf("empty stream: %v records, err %v", len(got), err)
	}
}

func TestAppendNextAndOffsets(t *testing.T) {
	recs := [][]byte{[]byte("ab"), []byte(""), []byte("cdef")}
	data := writeAll(t, None, recs)
	r, _ := NewReader(bytes.NewReader(data), ReaderOptions{})
	var dst []byte
	var offs []int64
	for {
		var err error
		dst, err = r.AppendNext(dst)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		offs = append(offs, r.Offset())
	}
	if string(dst) != "abcdef" {
		t.Errorf("appended %q", dst)
	}
	want := []int64{0, 16 + 2, 16 + 2 + 16}
	if fmt.Sprint(offs) != fmt.Sprint(want) {
		t.Errorf("offsets %v, want %v", offs, want)
	}
	if r.BytesRead() != int64(len(data)) {
		t.Errorf("BytesRead %d, want %d", r.BytesRead(), len(data))
	}
}

func TestCorruption(t *testing.T) {
	recs := [][]byte{[]byte("first record"), []byte("second record"), []byte("third")}
	good := writeAll(t, None, recs)
	second := int64(16 + len(recs[0]))
	gz := writeAll(t, Gzip, recs)
	tests := []struct {
		name       string
		data       []byte
		comp       Compression
		wantRecord int64
		wantOffset int64
		wantMsg    string
		wantRead   int // records read before the error
	}{
		{"truncated header", good[:second+5], None, 1, second, "truncated record header: 5 of 12 bytes", 1},
		{"truncated data", good[:second+12+3], None, 1, second, "truncated record: needs 29 bytes, stream ends after 15", 1},
		{"truncated footer", good[:len(good)-2], None, 2, second + 16 + int64(len(recs[1])), "truncated record", 2},
		{"length crc", flip(good, second+9), None, 1, second, "length checksum mismatch", 1},
		{"length value", flip(good, second+1), None, 1, second, "length checksum mismatch", 1},
		{"data crc", flip(good, second+12+4), None, 1, second, "data checksum mismatch", 1},
		{"gzip read as none", gz, None, 0, 0, "looks GZIP-compressed", 0},
		{"not a tfrecord", []byte("this is plainly some text, not records"), None, 0, 0, "not a TFRecord file", 0},
		// Cutting the GZIP trailer loses no record, but the stream is damaged.
		{"truncated gzip", gz[:len(gz)-10], Gzip, 3, int64(len(good)), "truncated record header", 3},
		{"truncated gzip data", gz[:len(gz)/2], Gzip, 0, 0, "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(tt.data, ReaderOptions{Compression: tt.comp, Name: "in.tfrecords"})
			if err == nil {
				t.Fatalf("no error; read %d records", len(got))
			}
			if tt.wantRead >= 0 && len(got) != tt.wantRead {
				t.Errorf("read %d records before the error, want %d", len(got), tt.wantRead)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *tfrecord.Error", err, err)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v does not wrap ErrCorrupt", err)
			}
			if tt.wantRead >= 0 && (e.File != "in.tfrecords" || e.Record != tt.wantRecord || e.Offset != tt.wantOffset) {
				t.Errorf("error at %s record %d offset %d, want record %d offset %d", e.File, e.Record, e.Offset, tt.wantRecord, tt.wantOffset)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), "in.tfrecords: record") {
				t.Errorf("message %q does not say %q", err, tt.wantMsg)
			}
		})
	}
}

func flip(b []byte, at int64) []byte {
	c := append([]byte{}, b...)
	c[at] ^= 0x40
	return c
}

// A bad data checksum leaves the framing intact: the reader reports it and
// can go on with the next record.
func TestDataChecksumIsRecoverable(t *testing.T) {
	recs := [][]byte{[]byte("one"), []byte("two"), []byte("three")}
	data := flip(writeAll(t, None, recs), 16+3+12)
	r, _ := NewReader(bytes.NewReader(data), ReaderOptions{})
	if rec, err := r.Next(); err != nil || string(rec) != "one" {
		t.Fatalf("first: %q %v", rec, err)
	}
	if _, err := r.Next(); !errors.Is(err, ErrDataChecksum) {
		t.Fatalf("second: want ErrDataChecksum, got %v", err)
	}
	if rec, err := r.Next(); err != nil || string(rec) != "three" {
		t.Fatalf("third: %q %v", rec, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestMaxRecordSize(t *testing.T) {
	data := writeAll(t, None, [][]byte{make([]byte, 1000)})
	_, err := readAll(data, ReaderOptions{MaxRecordSize: 999})
	if err == nil || !strings.Contains(err.Error(), "exceeds MaxRecordSize") {
		t.Fatalf("got %v", err)
	}
}

func TestCreateIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.tfrecords")
	w, err := Create(path, WriterOptions{Compression: Gzip})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("x"))
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("file visible before Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, ReaderOptions{Compression: Auto})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if rec, err := r.Next(); err != nil || string(rec) != "x" {
		t.Fatalf("%q %v", rec, err)
	}
	w2, _ := Create(filepath.Join(dir, "aborted.tfrecords"), WriterOptions{})
	w2.Write([]byte("y"))
	w2.Abort()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries after Abort, want 1", len(entries))
	}
}

func TestParseCompression(t *testing.T) {
	for in, want := range map[string]Compression{"": None, "none": None, "zlib": Zlib, "GZIP": Gzip, "auto": Auto} {
		if got, err := ParseCompression(in); err != nil || got != want {
			t.Errorf("ParseCompression(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseCompression("lz4"); err == nil {
		t.Error("lz4 accepted")
	}
}

func FuzzReader(f *testing.F) {
	f.Add(writeAll(f, None, [][]byte{[]byte("a"), []byte("bc")}))
	f.Add(writeAll(f, Gzip, [][]byte{[]byte("a")}))
	f.Add(writeAll(f, Zlib, [][]byte{[]byte("a")}))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), ReaderOptions{Compression: Auto, MaxRecordSize: 1 << 20, BufferSize: 256})
		if err != nil {
			return
		}
		defer r.Close()
		var total int64
		for i := 0; i < 10000; i++ {
			rec, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("error %v is not a *tfrecord.Error", err)
				}
				if errors.Is(err, ErrDataChecksum) {
					continue
				}
				return
			}
			total += int64(len(rec))
			// What was read must round-trip through the writer.
			var buf bytes.Buffer
			w, _ := NewWriter(&buf, WriterOptions{})
			w.Write(rec)
			w.Close()
			back, err := readAll(buf.Bytes(), ReaderOptions{})
			if err != nil || len(back) != 1 || !bytes.Equal(back[0], rec) {
				t.Fatalf("re-encoded record does not read back: %v", err)
			}
		}
	})
}
