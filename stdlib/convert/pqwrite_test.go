package convert

import (
	"bytes"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"
	"github.com/gopherlab/gopherlab/stdlib/convert/example"
	"github.com/gopherlab/gopherlab/stdlib/convert/tfrecord"
)

// unpack reads n values of width w from a bit-packed run.
func unpack(b []byte, w uint, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		bit := uint(i) * w
		out[i] = uint64(b[bit/8]>>(bit%8)) & (1<<w - 1)
	}
	return out
}

// TestBitPacker checks runs against value-by-value packing, for both level
// widths, run lengths across word boundaries, and the padded run header.
func TestBitPacker(t *testing.T) {
	for _, w := range []uint{1, 2} {
		for seed := uint64(0); seed < 50; seed++ {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			var want []uint64
			var bp bitPacker
			for len(want) < 500 {
				v := r.Uint64N(1 << w)
				k := r.IntN(140)
				if r.IntN(2) == 0 {
					bp.putRun(v, w, k)
				} else {
					for j := 0; j < k; j++ {
						bp.put(v, w)
					}
				}
				for j := 0; j < k; j++ {
					want = append(want, v)
				}
			}
			if bp.count != len(want) {
				t.Fatalf("w=%d seed %d: count %d, want %d", w, seed, bp.count, len(want))
			}
			enc := appendLevels(nil, &bp, w)
			groups := (len(want) + 7) / 8
			// 4-byte length, varint header (groups<<1|1), groups*w bytes.
			if got := int(enc[0]) | int(enc[1])<<8; got != len(enc)-4 {
				t.Fatalf("w=%d seed %d: length prefix %d, body %d", w, seed, got, len(enc)-4)
			}
			hdr, n := uint64(0), 0
			for shift := 0; ; shift += 7 {
				c := enc[4+n]
				n++
				hdr |= uint64(c&0x7f) << shift
				if c < 0x80 {
					break
				}
			}
			if hdr != uint64(groups)<<1|1 || len(enc)-4-n != groups*int(w) {
				t.Fatalf("w=%d seed %d: header %d, %d data bytes; want %d groups", w, seed, hdr, len(enc)-4-n, groups)
			}
			got := unpack(enc[4+n:], w, len(want))
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("w=%d seed %d: value %d is %d, want %d", w, seed, i, got[i], want[i])
				}
			}
		}
	}
}

// Column chunk statistics must give the minimum and maximum of each
// column's values (nulls and NaN left out) and the null count of scalar
// columns, as a reader like arrow's sees them.
func TestColumnStatistics(t *testing.T) {
	dir := t.TempDir()
	var exs []*example.Example
	for i := 0; i < 300; i++ {
		e := example.New().
			Set("f", example.Floats(float32(i)-100.5)).
			Set("il", example.Int64s([]int64{int64(i)*3 - 7, -int64(i) * int64(i)}[:i%3]...)).
			Set("s", example.Strings(fmt.Sprintf("k%03d", (i*7)%300)))
		if i%4 != 0 {
			e.Set("maybe", example.Int64s(int64(1000-i)))
		}
		if i == 17 {
			e.Set("f", example.Floats(float32(math.NaN())))
		}
		exs = append(exs, e)
	}
	in := filepath.Join(dir, "stats.tfrecords")
	writeExamples(t, in, tfrecord.None, exs)
	res, err := TFRecordsToParquet(ctx, []string{in}, filepath.Join(dir, "pq"), Options{ConvertLists: true, BatchSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := file.OpenParquetFile(res.Files[0], false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	rg := rdr.MetaData().RowGroup(0)
	stat := func(name string) metadata.TypedStatistics {
		t.Helper()
		i := rdr.MetaData().Schema.ColumnIndexByName(name)
		if i < 0 {
			t.Fatalf("no column %s", name)
		}
		cc, err := rg.ColumnChunk(i)
		if err != nil {
			t.Fatal(err)
		}
		st, err := cc.Statistics()
		if err != nil || st == nil {
			t.Fatalf("%s: no statistics (%v)", name, err)
		}
		return st
	}
	tests := []struct {
		col      string
		min, max any
		nulls    int64 // -1: not checked (list column)
	}{
		{"f", float32(-100.5), float32(198.5), 0},
		{"il.list.element", int64(-299 * 299), int64(299*3 - 7), -1},
		{"s", "k000", "k299", 0},
		{"maybe", int64(1000 - 299), int64(1000 - 1), 75},
	}
	for _, tt := range tests {
		st := stat(tt.col)
		var lo, hi any
		switch s := st.(type) {
		case *metadata.Float32Statistics:
			lo, hi = s.Min(), s.Max()
		case *metadata.Int64Statistics:
			lo, hi = s.Min(), s.Max()
		case *metadata.ByteArrayStatistics:
			lo, hi = string(s.Min()), string(s.Max())
		default:
			t.Fatalf("%s: statistics of type %T", tt.col, st)
		}
		if lo != tt.min || hi != tt.max {
			t.Errorf("%s: min %v max %v, want %v %v", tt.col, lo, hi, tt.min, tt.max)
		}
		if tt.nulls >= 0 && st.NullCount() != tt.nulls {
			t.Errorf("%s: null count %d, want %d", tt.col, st.NullCount(), tt.nulls)
		}
	}
}

// Small non-negative ints (categories, list entries) are stored as
// dictionary indexes; pages whose values do not fit a small dictionary
// (negative or large values) fall back to PLAIN in the same column chunk.
// Both kinds of chunk, with nulls, empty lists and int32 columns, must read
// back exactly, and the small-category chunks must carry a dictionary.
func TestDictionaryEncodedInts(t *testing.T) {
	dir := t.TempDir()
	var exs []*example.Example
	for i := 0; i < 1000; i++ {
		e := example.New().Set("cat", example.Int64s(int64(i%10))).Set("cats", example.Int64s(seq(i%6)...))
		if i%3 != 0 {
			e.Set("maybe", example.Int64s(int64(i%7)))
		}
		// Batches of 64: every third one leaves the dictionary range.
		v := int64(i % 50)
		if (i/64)%3 == 2 {
			v = int64(i) * -1000003
		}
		e.Set("mixed", example.Int64s(v, 3))
		e.Set("small32", example.Int64s(int64(i%5)))
		exs = append(exs, e)
	}
	in := filepath.Join(dir, "dict.tfrecords")
	writeExamples(t, in, tfrecord.None, exs)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "cat", Type: arrow.PrimitiveTypes.Int64},
		{Name: "cats", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)},
		{Name: "maybe", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "mixed", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)},
		{Name: "small32", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)},
	}, nil)
	res, err := TFRecordsToParquet(ctx, []string{in}, filepath.Join(dir, "pq"), Options{Schema: schema, BatchSize: 64, RowGroupSize: 400})
	if err != nil {
		t.Fatal(err)
	}
	back := filepath.Join(dir, "back.tfrecords")
	if _, err := ParquetToTFRecords(ctx, res.Files, back, TFRecordOptions{}); err != nil {
		t.Fatal(err)
	}
	sameExamples(t, readExamples(t, back), exs)

	rdr, err := file.OpenParquetFile(res.Files[0], false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	if rdr.NumRowGroups() != 3 {
		t.Fatalf("%d row groups, want 3", rdr.NumRowGroups())
	}
	for _, name := range []string{"cats.list.element", "maybe", "mixed.list.element", "small32.list.element"} {
		i := rdr.MetaData().Schema.ColumnIndexByName(name)
		for g := 0; g < rdr.NumRowGroups(); g++ {
			cc, err := rdr.MetaData().RowGroup(g).ColumnChunk(i)
			if err != nil {
				t.Fatal(err)
			}
			if !cc.HasDictionaryPage() {
				t.Errorf("%s, row group %d: no dictionary page", name, g)
			}
			// PLAIN pages: the dictionary page, and fallback data pages in
			// "mixed" only.
			plain := 0
			for _, st := range cc.EncodingStats() {
				if st.Encoding == parquet.Encodings.Plain {
					plain++
				}
			}
			if want := map[bool]int{false: 1, true: 2}[name == "mixed.list.element"]; plain != want {
				t.Errorf("%s, row group %d: %d PLAIN page kinds, want %d (%v)", name, g, plain, want, cc.EncodingStats())
			}
		}
	}
}

// TestListLevels checks the word-at-a-time list levels against levels put
// one row at a time, for required and nullable lists with empty and null
// rows.
func TestListLevels(t *testing.T) {
	var e pageEncoder
	for seed := uint64(0); seed < 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		rows := r.IntN(300)
		offs := []int32{0}
		var nulls []int32
		maxDef, empty := int16(2), uint64(0)
		if seed%2 == 1 {
			maxDef, empty = 3, 1
		}
		for i := 0; i < rows; i++ {
			k := r.IntN(70)
			if r.IntN(4) == 0 {
				k = 0
				if maxDef == 3 && r.IntN(2) == 0 {
					nulls = append(nulls, int32(i))
				}
			}
			offs = append(offs, offs[i]+int32(k))
		}
		// One row at a time: rep 0 then k-1 ones; def maxDef per value, or
		// one entry for an empty (empty) or null (0) list.
		var bp bitPacker
		for i := 0; i < rows; i++ {
			bp.put(0, 1)
			bp.putRun(1, 1, int(offs[i+1]-offs[i])-1)
		}
		want := appendLevels(nil, &bp, 1)
		w := uint(bits.Len16(uint16(maxDef)))
		bp = bitPacker{}
		nl := nulls
		for i := 0; i < rows; i++ {
			k := int(offs[i+1] - offs[i])
			if k > 0 {
				bp.putRun(uint64(maxDef), w, k)
			} else if len(nl) > 0 && int(nl[0]) == i {
				nl = nl[1:]
				bp.put(0, w)
			} else {
				bp.put(empty, w)
			}
		}
		want = appendLevels(want, &bp, w)
		got, n := e.appendListLevels(nil, offs, nulls, maxDef, empty)
		if n != bp.count || !bytes.Equal(got, want) {
			t.Fatalf("seed %d (%d rows, maxDef %d): %d levels\n got % x\nwant % x", seed, rows, maxDef, n, got, want)
		}
	}
}

// TestFloat32Range checks the branch-free range against floatRange on
// values with NaNs, infinities, signed zeros and subnormals.
func TestFloat32Range(t *testing.T) {
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32,
		math.Float32frombits(0xffc00001)} // a negative NaN
	for seed := uint64(0); seed < 500; seed++ {
		r := rand.New(rand.NewPCG(seed, 3))
		vs := make([]float32, r.IntN(40))
		for i := range vs {
			if r.IntN(5) == 0 {
				vs[i] = special[r.IntN(len(special))]
			} else {
				vs[i] = float32(r.NormFloat64() * 1e3)
			}
		}
		lo, hi, ok := float32Range(vs)
		wlo, whi, wok := floatRange(vs)
		if ok != wok || lo != wlo || hi != whi {
			t.Fatalf("%v: float32Range %v %v %v, floatRange %v %v %v", vs, lo, hi, ok, wlo, whi, wok)
		}
	}
}

// TestAppendIndexesWords checks the word-at-a-time packing of int64
// dictionary indexes against the value-at-a-time packing (the int32 path).
func TestAppendIndexesWords(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 5))
		w := uint(1 + r.IntN(12))
		n := r.IntN(200)
		c64, c32 := colBuf{}, colBuf{}
		for i := 0; i < n; i++ {
			v := r.Int64N(1 << w)
			c64.i64 = append(c64.i64, v)
			c32.i32 = append(c32.i32, int32(v))
		}
		got := appendIndexes([]byte{9}, &c64, elemI64, nil, n, w, n)
		want := appendIndexes([]byte{9}, &c32, elemI32, nil, n, w, n)
		if !bytes.Equal(got, want) {
			t.Fatalf("seed %d, width %d, %d values:\n got % x\nwant % x", seed, w, n, got, want)
		}
	}
}
