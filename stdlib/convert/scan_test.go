package convert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/stdlib/convert/example"
	"github.com/gopherlab/gopherlab/stdlib/convert/tfrecord"
)

// framed returns data framed as TFRecord records, back to back.
func framed(t testing.TB, records ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := tfrecord.NewWriter(&buf, tfrecord.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// statsText renders scan statistics for comparison and messages.
func statsText(stats []*featureStats, records int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d records\n", records)
	for _, st := range stats {
		fmt.Fprintf(&b, "%+v\n", *st)
	}
	return b.String()
}

// embedding returns n records that each carry, inside a bytes feature,
// inner framed records (valid Examples with a feature "ghost" the file
// never has at record level) between ordinary features: a scan that
// started at an inner record would count ghost.
func embedding(t testing.TB, n, inner int) []*example.Example {
	var out []*example.Example
	for i := 0; i < n; i++ {
		var recs [][]byte
		for k := 0; k < inner; k++ {
			recs = append(recs, example.New().Set("ghost", example.Int64s(int64(i), int64(k))).Marshal())
		}
		out = append(out, example.New().
			Set("a", example.Floats(float32(i))).
			Set("blob", example.Bytes(framed(t, recs...))).
			Set("z", example.Int64s(seq(i%3)...)))
	}
	return out
}

// tiny returns n records of 16 to about 40 bytes, including empty
// Examples.
func tiny(n int) []*example.Example {
	var out []*example.Example
	for i := 0; i < n; i++ {
		e := example.New()
		switch i % 4 {
		case 1:
			e.Set("x", example.Int64s(int64(i)))
		case 2:
			e.Set("x", example.Int64s(seq(i%7)...)).Set("y", example.Floats())
		case 3:
			e.Set("y", example.Floats(1, 2))
		}
		out = append(out, e)
	}
	return out
}

// large returns n records of about 6-12 KB each.
func large(n int) []*example.Example {
	var out []*example.Example
	for i := 0; i < n; i++ {
		out = append(out, example.New().
			Set("v", example.Floats(make([]float32, 1500+300*(i%5))...)).
			Set("s", example.Strings(strings.Repeat("q", 100*i))))
	}
	return out
}

// TestParallelScanMatchesSequential checks that scanning an uncompressed
// file in byte ranges gives exactly the statistics of the sequential
// scan, with range boundaries falling at every offset of the records.
func TestParallelScanMatchesSequential(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.tfrecords")
	if _, err := SeedSynthetic(300, 11).WriteTFRecords(ctx, seed, ""); err != nil {
		t.Fatal(err)
	}
	write := func(name string, exs []*example.Example) string {
		p := filepath.Join(dir, name)
		writeExamples(t, p, tfrecord.None, exs)
		return p
	}
	every := func(from, to int) []int64 {
		var s []int64
		for i := from; i <= to; i++ {
			s = append(s, int64(i))
		}
		return s
	}
	tests := []struct {
		name   string
		path   string
		ranges []int64 // byte range sizes to try
		redo   bool    // some range size must start a range at a false boundary
	}{
		{"seed schema", seed, []int64{97, 433, 1000, 4096, 50000}, false},
		{"mixed features", write("mixed.tfrecords", mixed(60)), append(every(1, 40), 127, 1000), false},
		{"tiny records", write("tiny.tfrecords", tiny(80)), every(1, 64), false},
		{"records larger than a range", write("large.tfrecords", large(8)), []int64{1, 100, 999, 4096, 7000, 20000}, false},
		{"one embedded framed record", write("embed1.tfrecords", embedding(t, 12, 1)), every(1, 120), false},
		{"embedded framed records", write("embed3.tfrecords", embedding(t, 12, 3)), every(1, 200), true},
		{"empty file", write("empty.tfrecords", nil), []int64{1, 10}, false},
		{"one record", write("one.tfrecords", mixed(1)), every(1, 200), false},
		{"one empty record", write("oneempty.tfrecords", tiny(1)), every(1, 20), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantStats, wantN, err := scanSequential(ctx, tt.path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := statsText(wantStats, wantN)
			st, _ := os.Stat(tt.path)
			redone := 0
			for _, rs := range tt.ranges {
				for _, workers := range []int{2, 3} {
					stats, n, info, err := scanFileRanges(ctx, tt.path, Options{Workers: workers}, nil, rs)
					if err != nil {
						t.Fatalf("range %d: %v", rs, err)
					}
					if info.fellBack || info.ranges != int(max(1, (st.Size()+rs-1)/rs)) {
						t.Fatalf("range %d: scan did not run in ranges: %+v", rs, info)
					}
					redone += info.redone
					if got := statsText(stats, n); got != want {
						t.Fatalf("range size %d, %d workers:\n got %s\nwant %s", rs, workers, got, want)
					}
				}
			}
			if tt.redo && redone == 0 {
				t.Errorf("no range began at an embedded record: the test does not exercise the check")
			}
		})
	}
}

// TestScanDefaultRanges checks the range size the conversion picks on its
// own, on a file large enough to be split.
func TestScanDefaultRanges(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 12 MB")
	}
	path := filepath.Join(t.TempDir(), "big.tfrecords")
	if _, err := SeedSynthetic(28000, 5).WriteTFRecords(ctx, path, ""); err != nil {
		t.Fatal(err)
	}
	wantStats, wantN, err := scanSequential(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, comp := range []string{"", "AUTO"} {
		stats, n, info, err := scanFileRanges(ctx, path, Options{Workers: 2, Compression: comp}, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if info.ranges < 2 || info.fellBack {
			t.Fatalf("compression %q: not scanned in ranges: %+v", comp, info)
		}
		if got, want := statsText(stats, n), statsText(wantStats, wantN); got != want {
			t.Fatalf("compression %q:\n got %s\nwant %s", comp, got, want)
		}
	}
	// The conversion infers the same schema on 1 worker (sequential scan)
	// and on 2.
	var schemas []string
	for _, workers := range []int{1, 2} {
		res, err := TFRecordsToParquet(ctx, []string{path}, t.TempDir(), Options{Workers: workers, ConvertLists: true, Chunks: 20000})
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != 28000 {
			t.Fatalf("%d workers: %d rows", workers, res.Rows)
		}
		schemas = append(schemas, res.Schema.String())
	}
	if schemas[0] != schemas[1] {
		t.Fatalf("schema on 1 worker:\n%s\non 2:\n%s", schemas[0], schemas[1])
	}
	// GZIP input stays sequential.
	gz := filepath.Join(t.TempDir(), "big.tfrecords.gz")
	if _, err := SeedSynthetic(28000, 5).WriteTFRecords(ctx, gz, "GZIP"); err != nil {
		t.Fatal(err)
	}
	stats, n, info, err := scanFileRanges(ctx, gz, Options{Workers: 2, Compression: "AUTO"}, nil, 0)
	if err != nil || info.ranges != 0 {
		t.Fatalf("GZIP: %v %+v", err, info)
	}
	wantStats, wantN, err = scanSequential(ctx, gz, Options{Compression: "GZIP"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := statsText(stats, n), statsText(wantStats, wantN); got != want {
		t.Fatalf("GZIP:\n got %s\nwant %s", got, want)
	}
}

// TestParallelScanErrors checks that a bad record in the middle of a file
// scanned in ranges gives the sequential scan's error, and that
// SkipCorrupt gives its statistics.
func TestParallelScanErrors(t *testing.T) {
	dir := t.TempDir()
	const n = 200
	good := filepath.Join(dir, "good.tfrecords")
	writeExamples(t, good, tfrecord.None, mixed(n))
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	mid := recordOffset(t, good, n/2)
	next := recordOffset(t, good, n/2+1)
	edit := func(name string, f func(b []byte) []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, f(append([]byte{}, data...)), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	conflict := mixed(n)
	conflict[n/2+3].Set("f", example.Int64s(7))
	conflictPath := filepath.Join(dir, "conflict.tfrecords")
	writeExamples(t, conflictPath, tfrecord.None, conflict)
	notEx := mixed(n)
	notExRecs := make([][]byte, n)
	for i, e := range notEx {
		notExRecs[i] = e.Marshal()
	}
	notExRecs[n/2] = []byte("not a protocol buffer")
	notExPath := filepath.Join(dir, "notex.tfrecords")
	os.WriteFile(notExPath, framed(t, notExRecs...), 0o644)

	tests := []struct {
		name, path string
		want       string // part of the error
		// The range scan does not verify data checksums (the conversion
		// does): it may pass a damaged record that still parses.
		scanMayPass bool
	}{
		{"data checksum", edit("crc.tfrecords", func(b []byte) []byte { b[mid+20] ^= 1; return b }), "data checksum mismatch", true},
		{"length checksum", edit("len.tfrecords", func(b []byte) []byte { b[mid+9] ^= 1; return b }), "length checksum mismatch", false},
		{"truncated", edit("trunc.tfrecords", func(b []byte) []byte { return b[:next-3] }), "truncated record", false},
		{"record removed bytes", edit("gap.tfrecords", func(b []byte) []byte { return append(b[:mid+5], b[mid+9:]...) }), "record 100", false},
		{"type conflict", conflictPath, "expected float_list", false},
		{"not an example", notExPath, "not a tf.train.Example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, seqErr := scanSequential(ctx, tt.path, Options{})
			if seqErr == nil || !strings.Contains(seqErr.Error(), tt.want) {
				t.Fatalf("sequential scan: %v, want %q", seqErr, tt.want)
			}
			st, _ := os.Stat(tt.path)
			for _, rs := range []int64{1, 333, 1000, st.Size() / 2} {
				_, _, info, err := scanFileRanges(ctx, tt.path, Options{Workers: 2}, nil, rs)
				if err == nil && tt.scanMayPass {
					continue
				}
				if err == nil || err.Error() != seqErr.Error() {
					t.Fatalf("range %d: error %v\nwant %v", rs, err, seqErr)
				}
				if !info.fellBack {
					t.Errorf("range %d: the error did not come from the sequential scan: %+v", rs, info)
				}
			}
			// The conversion reports it too.
			_, err := TFRecordsToParquet(ctx, []string{tt.path}, t.TempDir(), Options{Workers: 2})
			if err == nil || err.Error() != seqErr.Error() {
				t.Fatalf("conversion: %v\nwant %v", err, seqErr)
			}
			// SkipCorrupt keeps the sequential scan's behaviour.
			wantStats, wantN, wantErr := scanSequential(ctx, tt.path, Options{SkipCorrupt: true})
			stats, n, _, err := scanFileRanges(ctx, tt.path, Options{Workers: 2, SkipCorrupt: true}, nil, 333)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || statsText(stats, n) != statsText(wantStats, wantN) {
				t.Fatalf("SkipCorrupt: %v %s\nwant %v %s", err, statsText(stats, n), wantErr, statsText(wantStats, wantN))
			}
		})
	}
}

// featureSeeds returns serialized Features: every feature of mixed records
// and of seed-schema records, packed and unpacked, and hand-made layouts.
func featureSeeds(t testing.TB) [][]byte {
	var out [][]byte
	exs := append(mixed(30), large(2)...)
	exs = append(exs, tiny(8)...)
	exs = append(exs, example.New().Set("big", example.Int64s(1<<40, -1, 0, 300)).Set("f", example.Floats(make([]float32, 40)...)))
	for _, unpacked := range []bool{false, true} {
		for _, e := range exs {
			rec := example.MarshalOptions{Unpacked: unpacked}.AppendExample(nil, e)
			err := example.RangeFeatures(rec, func(name, fb []byte, off int) error {
				out = append(out, append([]byte{}, fb...))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return append(out,
		[]byte{}, []byte{0x12, 0x00}, []byte{0x1a, 0x00}, []byte{0x1a, 0x02, 0x0a, 0x00},
		[]byte{0x1a, 0x03, 0x0a, 0x01, 0x80}, []byte{0x1a, 0x02, 0x08, 0x05},
		[]byte{0x12, 0x05, 0x0a, 0x03, 1, 2, 3}, []byte{0x10, 0x02, 0x0a, 0x00},
		[]byte{0x12, 0x02, 0x0a, 0x01}, []byte{0x1a, 0x04, 0x0a, 0x02, 0x81, 0x01},
		[]byte{0x0a, 0x02, 0x0a, 0x00}, []byte{0x22, 0x02, 0x0a, 0x00})
}

// checkPackedLen fails when packedLen accepts fb but disagrees with the
// general parse.
func checkPackedLen(t *testing.T, fb []byte) bool {
	kind, n, ok := packedLen(fb)
	if !ok {
		return false
	}
	raw, err := example.ParseFeature(fb)
	var want int
	if err == nil {
		want, err = featureLen(&raw)
	}
	if err != nil || raw.Kind != kind || want != n {
		t.Fatalf("% x: packedLen %s %d; ParseFeature %s %d %v", fb, kind, n, raw.Kind, want, err)
	}
	return true
}

// TestPackedLen checks the scan's shortcut against the general parse.
func TestPackedLen(t *testing.T) {
	took := 0
	for _, fb := range featureSeeds(t) {
		if checkPackedLen(t, fb) {
			took++
		}
	}
	if took < 100 {
		t.Errorf("packedLen took only %d features", took)
	}
}

func FuzzPackedLen(f *testing.F) {
	for _, fb := range featureSeeds(f) {
		f.Add(fb)
	}
	f.Fuzz(func(t *testing.T, fb []byte) {
		checkPackedLen(t, fb)
	})
}

// TestParallelScanCancel checks that a cancelled context stops a scan in
// ranges, also one waiting for a scan slot.
func TestParallelScanCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.tfrecords")
	if _, err := SeedSynthetic(300, 3).WriteTFRecords(ctx, path, ""); err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, _, err := scanFileRanges(c, path, Options{Workers: 2}, nil, 500); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before: %v", err)
	}
	// Every slot is taken: the scan waits until the context ends.
	slots := make(chan struct{}, 1)
	slots <- struct{}{}
	c, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, _, _, err := scanFileRanges(c, path, Options{Workers: 2}, slots, 500); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for a slot: %v", err)
	}
}

// TestFastScanMatchesWalk checks the scan's one-loop walk against the
// general walk record by record: same statistics, same errors.
func TestFastScanMatchesWalk(t *testing.T) {
	seedPath := filepath.Join(t.TempDir(), "seed.tfrecords")
	if _, err := SeedSynthetic(500, 3).WriteTFRecords(ctx, seedPath, ""); err != nil {
		t.Fatal(err)
	}
	var seed [][]byte
	r, err := tfrecord.Open(seedPath, tfrecord.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		seed = append(seed, append([]byte{}, rec...))
	}
	r.Close()
	marshal := func(exs []*example.Example) (out [][]byte) {
		for i, e := range exs {
			// Every third record unpacked: both layouts in one file.
			out = append(out, example.MarshalOptions{Unpacked: i%3 == 2}.AppendExample(nil, e))
		}
		return out
	}
	notUTF8 := mixed(20)
	notUTF8[12].Set("s", example.Bytes([]byte{0xc3, 0x28}))
	conflict := mixed(20)
	conflict[9].Set("il", example.Floats(1))
	empty := mixed(10)
	empty[4] = example.New()
	garbage := marshal(mixed(10))
	garbage[6] = []byte("not a protocol buffer")
	sets := map[string][][]byte{
		"seed":      seed,
		"mixed":     marshal(mixed(60)),
		"tiny":      marshal(tiny(40)),
		"large":     marshal(large(4)),
		"embedding": marshal(embedding(t, 6, 2)),
		"not utf8":  marshal(notUTF8),
		"conflict":  marshal(conflict),
		"empty":     marshal(empty),
		"garbage":   garbage,
	}
	for name, recs := range sets {
		t.Run(name, func(t *testing.T) {
			fast, walk := newScanner("f"), newScanner("f")
			walk.walk = true
			for i, rec := range recs {
				errFast := fast.add(rec, int64(i), int64(100*i))
				errWalk := walk.add(rec, int64(i), int64(100*i))
				if fmt.Sprint(errFast) != fmt.Sprint(errWalk) {
					t.Fatalf("record %d: fast walk error %v, general walk %v", i, errFast, errWalk)
				}
				if got, want := statsText(fast.order, int64(i)), statsText(walk.order, int64(i)); got != want {
					t.Fatalf("record %d:\nfast walk %s\ngeneral walk %s", i, got, want)
				}
			}
		})
	}
	// Once every feature is known, seed-schema records take the fast walk.
	sc := newScanner("f")
	for i, rec := range seed {
		if err := sc.add(rec, int64(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	for i, rec := range seed {
		if !sc.fast(rec) {
			t.Fatalf("seed record %d: not taken by the fast walk", i)
		}
	}
}
