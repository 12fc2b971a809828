package convert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/gopherlab/gopherlab/stdlib/convert/example"
	"github.com/gopherlab/gopherlab/stdlib/convert/tfrecord"
)

var ctx = context.Background()

func writeExamples(t testing.TB, path string, comp tfrecord.Compression, exs []*example.Example) {
	t.Helper()
	w, err := tfrecord.Create(path, tfrecord.WriterOptions{Compression: comp})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exs {
		if err := w.Write(e.Marshal()); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func readExamples(t testing.TB, path string) []*example.Example {
	t.Helper()
	r, err := tfrecord.Open(path, tfrecord.ReaderOptions{Compression: tfrecord.Auto})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []*example.Example
	for {
		b, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		e, err := example.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
}

// mixed returns records with every feature type and shape: scalars, a
// fixed-length list, variable and empty lists, features missing from some
// records, UTF-8 and non-UTF-8 bytes.
func mixed(n int) []*example.Example {
	var out []*example.Example
	for i := 0; i < n; i++ {
		e := example.New().
			Set("f", example.Floats(float32(i)/3)).
			Set("i", example.Int64s(int64(i)*1e12-5)).
			Set("s", example.Strings(fmt.Sprintf("row %d ✓", i))).
			Set("fixed", example.Floats(float32(i), -float32(i), float32(math.Pi))).
			Set("fl", example.Floats(make([]float32, i%4)...)).
			Set("il", example.Int64s(seq(i%5)...)).
			Set("bin", example.Bytes([]byte{0xff, byte(i)}, []byte{})).
			Set("strs", example.Strings(strings.Split("a,bb,ccc", ",")[:i%4]...))
		if i%3 != 1 {
			e.Set("sometimes", example.Int64s(int64(i)))
		}
		if i%4 == 2 {
			e.Set("sparse_list", example.Floats(1, 2))
		} else if i%4 == 3 {
			e.Set("sparse_list", example.Floats())
		}
		out = append(out, e)
	}
	return out
}

func seq(n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(i * i)
	}
	return s
}

func normalize(m map[string]example.Feature) map[string]string {
	out := map[string]string{}
	for k, f := range m {
		out[k] = f.String()
	}
	return out
}

func sameExamples(t *testing.T, got, want []*example.Example) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		if g, w := normalize(got[i].Features), normalize(want[i].Features); !reflect.DeepEqual(g, w) {
			t.Fatalf("record %d:\n got %v\nwant %v", i, g, w)
		}
	}
}

func fieldTypes(s *arrow.Schema) map[string]string {
	m := map[string]string{}
	for _, f := range s.Fields() {
		m[f.Name] = typeName(f.Type)
	}
	return m
}

// TFRecord → Parquet → TFRecord gives back the same records, for every
// input compression, output codec and list mode.
func TestRoundTrip(t *testing.T) {
	src := mixed(23)
	for _, comp := range []tfrecord.Compression{tfrecord.None, tfrecord.Zlib, tfrecord.Gzip} {
		for _, pq := range []string{"snappy", "zstd", "gzip", "none"} {
			for _, lists := range []bool{true, false} {
				if testing.Short() && comp != tfrecord.None && pq != "snappy" {
					continue // -short: every codec once, not every pair
				}
				name := fmt.Sprintf("%s/%s/convertLists=%v", comp, pq, lists)
				t.Run(name, func(t *testing.T) {
					dir := t.TempDir()
					in := filepath.Join(dir, "data.tfrecords")
					writeExamples(t, in, comp, src)
					res, err := TFRecordsToParquet(ctx, []string{in}, filepath.Join(dir, "pq"), Options{
						Compression: string(comp), Chunks: 10, ConvertLists: lists, ParquetCompression: pq, RowGroupSize: 4})
					if err != nil {
						t.Fatal(err)
					}
					if res.Rows != 23 || len(res.Files) != 3 {
						t.Fatalf("rows %d files %v", res.Rows, res.Files)
					}
					back := filepath.Join(dir, "back.tfrecords")
					if _, err := ParquetToTFRecords(ctx, res.Files, back, TFRecordOptions{Compression: string(comp)}); err != nil {
						t.Fatal(err)
					}
					sameExamples(t, readExamples(t, back), src)
				})
			}
		}
	}
}

func TestConvertListsSchema(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "data.tfrecords")
	writeExamples(t, in, tfrecord.None, mixed(12))
	res, err := TFRecordsToParquet(ctx, []string{in}, dir, Options{ConvertLists: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"f": "float32", "i": "int64", "s": "utf8", "fixed_0": "float32", "fixed_1": "float32", "fixed_2": "float32",
		"fl": "list<float32>", "il": "list<int64>", "bin_0": "binary", "bin_1": "binary", "strs": "list<utf8>",
		"sometimes": "int64", "sparse_list": "list<float32>",
	}
	if got := fieldTypes(res.Schema); !reflect.DeepEqual(got, want) {
		t.Errorf("schema %v\nwant   %v", got, want)
	}
	tbl, err := ReadParquet(res.Files...)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	// "sometimes" is missing from records 1, 4, 7, 10: nulls there.
	col := tbl.Column(indexOf(tbl.Schema(), "sometimes")).Data().Chunk(0)
	for i := 0; i < 12; i++ {
		if col.IsNull(i) != (i%3 == 1) {
			t.Errorf("sometimes[%d] null=%v", i, col.IsNull(i))
		}
	}
	res2, err := TFRecordsToParquet(ctx, []string{in}, filepath.Join(dir, "nolists"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range fieldTypes(res2.Schema) {
		if !strings.HasPrefix(typ, "list<") {
			t.Errorf("without ConvertLists %s is %s, want a list", name, typ)
		}
	}
}

func indexOf(s *arrow.Schema, name string) int {
	idx := s.FieldIndices(name)
	if len(idx) == 0 {
		return -1
	}
	return idx[0]
}

func parquetSchema(t *testing.T, path string) (*arrow.Schema, int64) {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	return s, rdr.NumRows()
}

// The schema is decided over all inputs, not per chunk: a feature that is
// scalar in the first chunk but a list later is a list in every file.
func TestSchemaIdenticalAcrossChunks(t *testing.T) {
	dir := t.TempDir()
	var a, b []*example.Example
	for i := 0; i < 30; i++ {
		e := example.New().Set("x", example.Int64s(int64(i))).Set("y", example.Floats(1))
		if i == 27 {
			e.Set("x", example.Int64s(1, 2)) // only the last chunk has a longer list
		}
		a = append(a, e)
	}
	for i := 0; i < 5; i++ {
		b = append(b, example.New().Set("x", example.Int64s(7)).Set("z", example.Strings("late feature")))
	}
	writeExamples(t, filepath.Join(dir, "a.tfrecords"), tfrecord.None, a)
	writeExamples(t, filepath.Join(dir, "b.tfrecords"), tfrecord.Gzip, b)
	res, err := TFRecordsToParquet(ctx, []string{filepath.Join(dir, "a.tfrecords"), filepath.Join(dir, "b.tfrecords")}, dir,
		Options{Chunks: 10, ConvertLists: true, Compression: "AUTO"})
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{"a_0.parquet", "a_1.parquet", "a_2.parquet", "b_0.parquet"}
	wantRows := []int64{10, 10, 10, 5}
	if len(res.Files) != len(wantFiles) {
		t.Fatalf("files %v", res.Files)
	}
	for i, f := range res.Files {
		if filepath.Base(f) != wantFiles[i] {
			t.Errorf("file %d is %s, want %s", i, f, wantFiles[i])
		}
		s, rows := parquetSchema(t, f)
		if rows != wantRows[i] {
			t.Errorf("%s has %d rows, want %d", f, rows, wantRows[i])
		}
		if !sameFields(s, res.Schema) || s.Metadata().String() != res.Schema.Metadata().String() {
			t.Errorf("%s schema\n%s\ndiffers from\n%s", f, s, res.Schema)
		}
	}
	if got := fieldTypes(res.Schema); got["x"] != "list<int64>" || got["y"] != "float32" || got["z"] != "utf8" {
		t.Errorf("schema %v", got)
	}
}

func TestEmptyInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "empty.tfrecords")
	writeExamples(t, in, tfrecord.None, nil)
	_, err := TFRecordsToParquet(ctx, []string{in}, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "no features") {
		t.Fatalf("inferring from an empty file: %v", err)
	}
	s := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	res, err := TFRecordsToParquet(ctx, []string{in}, dir, Options{Schema: s})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || res.Rows != 0 {
		t.Fatalf("%v", res.Files)
	}
	if _, rows := parquetSchema(t, res.Files[0]); rows != 0 {
		t.Errorf("rows %d", rows)
	}
}

// recordOffset returns the byte offset of record i.
func recordOffset(t *testing.T, path string, i int) int64 {
	r, err := tfrecord.Open(path, tfrecord.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for k := 0; k <= i; k++ {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	return r.Offset()
}

func noParquet(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".parquet") || strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

func TestTypeConflict(t *testing.T) {
	dir := t.TempDir()
	var exs []*example.Example
	for i := 0; i < 10; i++ {
		exs = append(exs, example.New().Set("x", example.Floats(1)).Set("k", example.Int64s(1)))
	}
	exs[6].Set("x", example.Int64s(1, 2, 3))
	in := filepath.Join(dir, "conflict.tfrecords")
	writeExamples(t, in, tfrecord.None, exs)
	out := filepath.Join(dir, "out")
	_, err := TFRecordsToParquet(ctx, []string{in}, out, Options{ConvertLists: true})
	var re *RecordError
	if !errors.As(err, &re) {
		t.Fatalf("want *RecordError, got %v", err)
	}
	off := recordOffset(t, in, 6)
	if re.File != in || re.Record != 6 || re.Offset != off || re.Feature != "x" {
		t.Errorf("error at %s record %d offset %d feature %q; want record 6 offset %d", re.File, re.Record, re.Offset, re.Feature, off)
	}
	for _, want := range []string{in, "record 6", fmt.Sprintf("byte offset %d", off), `feature "x"`, "expected float_list", "found int64_list of length 3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	noParquet(t, out)

	// With an explicit schema the contradiction is found while writing.
	s := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float32, Nullable: true}}, nil)
	_, err = TFRecordsToParquet(ctx, []string{in}, out, Options{Schema: s, Chunks: 3})
	if !errors.As(err, &re) || re.Record != 6 || !errors.Is(err, ErrSchemaMismatch) {
		t.Fatalf("explicit schema: %v", err)
	}
	// Chunks 0 and 1 (records 0-5) completed before the bad record.
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") || (strings.HasSuffix(e.Name(), ".parquet") && e.Name() != "conflict_0.parquet" && e.Name() != "conflict_1.parquet") {
			t.Errorf("unexpected %s after a failed conversion", e.Name())
		}
	}
	// SkipCorrupt drops the record and reports it.
	res, err := TFRecordsToParquet(ctx, []string{in}, filepath.Join(dir, "skip"), Options{Schema: s, SkipCorrupt: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 9 || res.Skipped != 1 || len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "record 6") {
		t.Errorf("rows %d skipped %d problems %v", res.Rows, res.Skipped, res.Problems)
	}
}

func TestConflictAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.tfrecords"), filepath.Join(dir, "b.tfrecords")
	writeExamples(t, a, tfrecord.None, []*example.Example{example.New().Set("x", example.Floats(1))})
	writeExamples(t, b, tfrecord.None, []*example.Example{example.New().Set("y", example.Floats(1)), example.New().Set("x", example.Strings("oops"))})
	_, err := TFRecordsToParquet(ctx, []string{a, b}, dir, Options{})
	var re *RecordError
	if !errors.As(err, &re) || re.File != b || re.Record != 1 || re.Feature != "x" || !strings.Contains(err.Error(), "bytes_list") {
		t.Fatalf("got %v", err)
	}
}

// With a sampled scan, a later record that contradicts the schema fails.
func TestInferSample(t *testing.T) {
	dir := t.TempDir()
	var exs []*example.Example
	for i := 0; i < 20; i++ {
		exs = append(exs, example.New().Set("x", example.Int64s(int64(i))))
	}
	exs[15].Set("x", example.Int64s(1, 2))
	in := filepath.Join(dir, "s.tfrecords")
	writeExamples(t, in, tfrecord.None, exs)
	_, err := TFRecordsToParquet(ctx, []string{in}, dir, Options{ConvertLists: true, InferSample: 10})
	if err == nil || !strings.Contains(err.Error(), "record 15") || !strings.Contains(err.Error(), "length 1") || !strings.Contains(err.Error(), "length 2") {
		t.Fatalf("got %v", err)
	}
	noParquet(t, dir)
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.tfrecords")
	writeExamples(t, good, tfrecord.None, mixed(5))
	data, _ := os.ReadFile(good)
	second := recordOffset(t, good, 1)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	flipped := append([]byte{}, data...)
	flipped[second+20] ^= 1
	gz := filepath.Join(dir, "gz.tfrecords")
	writeExamples(t, gz, tfrecord.Gzip, mixed(5))
	// A record whose payload is not an Example.
	var notEx strings.Builder
	w, _ := tfrecord.NewWriter(&notEx, tfrecord.WriterOptions{})
	w.Write(mixed(1)[0].Marshal())
	w.Write([]byte("this is not a protocol buffer"))
	w.Close()
	tests := []struct {
		name, path, comp string
		want             []string
	}{
		{"truncated", write("trunc.tfrecords", data[:second+30]), "", []string{"trunc.tfrecords", "record 1", fmt.Sprintf("byte offset %d", second), "truncated record"}},
		{"crc", write("crc.tfrecords", flipped), "", []string{"crc.tfrecords", "record 1", fmt.Sprintf("byte offset %d", second), "data checksum mismatch"}},
		{"wrong compression", gz, "", []string{"gz.tfrecords", "record 0", "byte offset 0", "looks GZIP-compressed"}},
		{"not an example", write("notex.tfrecords", []byte(notEx.String())), "", []string{"notex.tfrecords", "record 1", "not a tf.train.Example"}},
		{"missing file", filepath.Join(dir, "nope.tfrecords"), "", []string{"nope.tfrecords", "no such file"}},
		{"directory", dir, "", []string{"is a directory"}},
		{"bad compression name", good, "LZ4", []string{"unknown compression"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			_, err := TFRecordsToParquet(ctx, []string{tt.path}, out, Options{Compression: tt.comp})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			noParquet(t, out)
		})
	}
	// Unreadable file (skipped when running as root, who can read anything).
	if os.Geteuid() != 0 {
		p := write("secret.tfrecords", data)
		os.Chmod(p, 0)
		if _, err := TFRecordsToParquet(ctx, []string{p}, t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("unreadable: %v", err)
		}
	}
	// SkipCorrupt gets past a bad data checksum.
	res, err := TFRecordsToParquet(ctx, []string{filepath.Join(dir, "crc.tfrecords")}, t.TempDir(), Options{SkipCorrupt: true})
	if err != nil || res.Rows != 4 || res.Skipped != 1 {
		t.Fatalf("SkipCorrupt: %v rows %d skipped %d", err, res.Rows, res.Skipped)
	}
}

func TestSequenceExampleContext(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "seq.tfrecords")
	w, _ := tfrecord.Create(in, tfrecord.WriterOptions{})
	for i := 0; i < 4; i++ {
		s := &example.SequenceExample{
			Context:      map[string]example.Feature{"user": example.Int64s(int64(i)), "name": example.Strings("n")},
			FeatureLists: map[string][]example.Feature{"clicks": {example.Int64s(1), example.Int64s(2, 3)}},
		}
		w.Write(s.Marshal())
	}
	w.Close()
	res, err := TFRecordsToParquet(ctx, []string{in}, dir, Options{ConvertLists: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := fieldTypes(res.Schema); !reflect.DeepEqual(got, map[string]string{"name": "utf8", "user": "int64"}) {
		t.Errorf("schema %v", got)
	}
}

func TestResultDisplay(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "00000.tfrecords")
	if _, err := SeedSynthetic(50, 1).WriteTFRecords(ctx, in, ""); err != nil {
		t.Fatal(err)
	}
	res, err := TFRecordsToParquet(ctx, []string{in}, dir, Options{Chunks: 20, ConvertLists: true})
	if err != nil {
		t.Fatal(err)
	}
	b := res.MimeBundle()
	html, _ := b["text/html"].(string)
	for _, want := range []string{"files written", "rows", "50", "rows/s", "bytes out"} {
		if !strings.Contains(html, want) {
			t.Errorf("result HTML lacks %q", want)
		}
	}
	tbl, err := ReadParquet(res.Files...)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if r, c := tbl.Shape(); r != 50 || c != 18 {
		t.Errorf("shape %d×%d", r, c)
	}
	head := tbl.Head(5)
	defer head.Release()
	hb := head.MimeBundle()
	h, _ := hb["text/html"].(string)
	if !strings.Contains(h, "cont_list0") || !strings.Contains(h, "5 rows") {
		t.Errorf("head HTML: %.300s", h)
	}
	files, err := ListFiles(res.Files...)
	if err != nil || len(files) != 3 || files[2].Rows != 10 || files.TotalBytes() != res.BytesOut {
		t.Errorf("ListFiles %v %v (out %d)", files, err, res.BytesOut)
	}
	// The Result of one conversion fixes the schema of the next.
	res2, err := TFRecordsToParquet(ctx, []string{in}, filepath.Join(dir, "again"), Options{Schema: res.Schema})
	if err != nil || !res2.Schema.Equal(res.Schema) {
		t.Fatalf("reusing schema: %v", err)
	}
}

// The synthetic table and the synthetic TFRecords hold the same data, and
// a seed always gives the same data.
func TestSynthetic(t *testing.T) {
	spec := SeedSynthetic(100, 42)
	tbl, err := spec.Table()
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if r, c := tbl.Shape(); r != 100 || c != 18 {
		t.Fatalf("shape %d×%d", r, c)
	}
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.tfrecords"), filepath.Join(dir, "b.tfrecords"), filepath.Join(dir, "c.tfrecords")
	spec.WriteTFRecords(ctx, a, "")
	WriteTFRecords(ctx, tbl, b, TFRecordOptions{})
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if string(da) != string(db) {
		t.Error("table and streamed TFRecords differ")
	}
	spec.Seed = 43
	spec.WriteTFRecords(ctx, c, "")
	if dc, _ := os.ReadFile(c); string(dc) == string(da) {
		t.Error("different seeds give the same data")
	}
	// Lengths 0..19 and categories 0..9, as in the seed notebook.
	lens := map[int]bool{}
	for _, e := range readExamples(t, a) {
		lens[e.Features["cat_list0"].Len()] = true
		for _, v := range e.Features["cat_list0"].Int64s {
			if v < 0 || v > 9 {
				t.Fatalf("category %d", v)
			}
		}
		if v := e.Features["cont0"].Floats[0]; v < -1 || v >= 1 {
			t.Fatalf("cont0 %v", v)
		}
	}
	keys := make([]int, 0, len(lens))
	for k := range lens {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	if keys[0] != 0 || keys[len(keys)-1] != 19 {
		t.Errorf("list lengths %v", keys)
	}
}

// Whole batches and row groups with only nulls or only empty lists must be
// written correctly (Parquet encoders see writes without any value).
func TestSparseFeatures(t *testing.T) {
	dir := t.TempDir()
	var exs []*example.Example
	for i := 0; i < 3000; i++ {
		e := example.New().Set("id", example.Int64s(int64(i))).Set("rare_list", example.Int64s())
		if i >= 2500 {
			e.Set("late", example.Int64s(int64(i)))
			e.Set("rare_list", example.Int64s(1, 2, int64(i)))
			e.Set("late_s", example.Strings("x"))
		}
		exs = append(exs, e)
	}
	in := filepath.Join(dir, "sparse.tfrecords")
	writeExamples(t, in, tfrecord.None, exs)
	res, err := TFRecordsToParquet(ctx, []string{in}, filepath.Join(dir, "pq"), Options{ConvertLists: true, Chunks: 2000, RowGroupSize: 256, BatchSize: 128})
	if err != nil {
		t.Fatal(err)
	}
	if got := fieldTypes(res.Schema); got["late"] != "int64" || got["rare_list"] != "list<int64>" || got["id"] != "int64" {
		t.Errorf("schema %v", got)
	}
	if res.Schema.Field(indexOf(res.Schema, "id")).Nullable || !res.Schema.Field(indexOf(res.Schema, "late")).Nullable {
		t.Errorf("nullability: %s", res.Schema)
	}
	back := filepath.Join(dir, "back.tfrecords")
	if _, err := ParquetToTFRecords(ctx, res.Files, back, TFRecordOptions{}); err != nil {
		t.Fatal(err)
	}
	sameExamples(t, readExamples(t, back), exs)
	// A required column rejects a record without the feature.
	exs[100].Features = map[string]example.Feature{"late": example.Int64s(1)}
	writeExamples(t, in, tfrecord.None, exs)
	_, err = TFRecordsToParquet(ctx, []string{in}, filepath.Join(dir, "pq2"), Options{Schema: res.Schema})
	if err == nil || !strings.Contains(err.Error(), "record 100") || !strings.Contains(err.Error(), "not nullable") {
		t.Fatalf("missing required feature: %v", err)
	}
}

// Required int columns are delta-encoded; values spanning several data
// pages and row groups must come back exactly.
func TestDeltaEncodedIntsManyPages(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200000 records")
	}
	dir := t.TempDir()
	var exs []*example.Example
	x := uint64(88172645463325252)
	for i := 0; i < 200000; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		exs = append(exs, example.New().Set("big", example.Int64s(int64(x))).Set("small", example.Int64s(int64(i%7-3))))
	}
	in := filepath.Join(dir, "delta.tfrecords")
	writeExamples(t, in, tfrecord.None, exs)
	res, err := TFRecordsToParquet(ctx, []string{in}, filepath.Join(dir, "pq"), Options{ConvertLists: true, Chunks: 150000, RowGroupSize: 100000})
	if err != nil {
		t.Fatal(err)
	}
	back := filepath.Join(dir, "back.tfrecords")
	if _, err := ParquetToTFRecords(ctx, res.Files, back, TFRecordOptions{}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(in)
	b, _ := os.ReadFile(back)
	if string(a) != string(b) {
		t.Fatal("delta-encoded columns do not round-trip")
	}
}
