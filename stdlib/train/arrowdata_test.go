package train

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// tabular builds rows with x1 (float64), x2 (int32), px (list of 4 float32;
// fixed-size when fixed), flag (bool), y (int64) where y = row % 3; x1 is
// null at nullRow. (Parquet files get variable lists: pqarrow v15 reads
// fixed-size lists back as nulls.)
func tabular(t *testing.T, n, start, nullRow int, fixed bool) arrow.Record {
	pxType := arrow.DataType(arrow.ListOf(arrow.PrimitiveTypes.Float32))
	if fixed {
		pxType = arrow.FixedSizeListOf(4, arrow.PrimitiveTypes.Float32)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "x1", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "x2", Type: arrow.PrimitiveTypes.Int32},
		{Name: "px", Type: pxType},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "y", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := start; i < start+n; i++ {
		if i == nullRow {
			b.Field(0).(*array.Float64Builder).AppendNull()
		} else {
			b.Field(0).(*array.Float64Builder).Append(float64(i) / 10)
		}
		b.Field(1).(*array.Int32Builder).Append(int32(i))
		lb := b.Field(2).(array.ListLikeBuilder)
		lb.Append(true)
		for k := 0; k < 4; k++ {
			lb.ValueBuilder().(*array.Float32Builder).Append(float32(i*4 + k))
		}
		b.Field(3).(*array.BooleanBuilder).Append(i%2 == 1)
		b.Field(4).(*array.Int64Builder).Append(int64(i % 3))
	}
	return b.NewRecord()
}

func writeParquet(t *testing.T, path string, recs ...arrow.Record) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tbl := array.NewTableFromRecords(recs[0].Schema(), recs)
	defer tbl.Release()
	if err := pqarrow.WriteTable(tbl, f, 7, nil, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
}

func writeIPC(t *testing.T, path string, recs ...arrow.Record) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(recs[0].Schema()))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	f.Close()
}

func TestArrowDataset(t *testing.T) {
	dir := t.TempDir()
	r1, r2 := tabular(t, 20, 0, -1, false), tabular(t, 15, 20, -1, true)
	defer r1.Release()
	defer r2.Release()
	writeParquet(t, filepath.Join(dir, "a.parquet"), r1)
	writeIPC(t, filepath.Join(dir, "b.arrow"), r2)
	opts := ArrowOptions{
		Features: []Feature{{Columns: []string{"x1", "x2", "flag"}}, {Columns: []string{"px"}, Shape: []int{2, 2, 1}}},
		Label:    "y",
		ReadRows: 6,
	}
	ds, err := NewArrowDataset([]string{filepath.Join(dir, "a.parquet"), filepath.Join(dir, "*.arrow")}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 35 {
		t.Fatalf("Len = %d", ds.Len())
	}
	ctx := context.Background()
	for _, shuffle := range []bool{false, true} {
		it, err := ds.Batches(ctx, BatchOptions{BatchSize: 8, Shuffle: shuffle, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		var sizes []int
		for {
			b, err := it.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, b.Y.Len())
			if got := b.X[1].Shape; len(got) != 4 || got[1] != 2 || got[3] != 1 {
				t.Fatalf("pixel feature shape %v", got)
			}
			for r := 0; r < b.Y.Len(); r++ {
				i := int(b.X[0].Data[r*3+1]) // x2 is the row id
				if seen[i] {
					t.Fatalf("row %d twice", i)
				}
				seen[i] = true
				want := []float32{float32(float64(i) / 10), float32(i), float32(i % 2)}
				for k, w := range want {
					if b.X[0].Data[r*3+k] != w {
						t.Fatalf("row %d feature 0 = %v, want %v", i, b.X[0].Data[r*3:r*3+3], want)
					}
				}
				if b.X[1].Data[r*4+3] != float32(i*4+3) || b.Y.Data[r] != float32(i%3) {
					t.Fatalf("row %d: px %v y %v", i, b.X[1].Data[r*4:r*4+4], b.Y.Data[r])
				}
			}
		}
		it.Close()
		if len(seen) != 35 || fmt.Sprint(sizes) != "[8 8 8 8 3]" {
			t.Fatalf("shuffle=%v: saw %d rows, batch sizes %v", shuffle, len(seen), sizes)
		}
	}
	// A two-input model trains straight from the files.
	m, err := NewModel([]*Node{Input(3), Input(2, 2, 1)}, nil)
	if err == nil {
		t.Fatal("NewModel with a nil output succeeded")
	}
	a, p := Input(3), Input(2, 2, 1)
	out := Apply(Concatenate(), a, Apply(Flatten(), p)).Then(Dense(3, "softmax"))
	if m, err = NewModel([]*Node{a, p}, out); err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(CompileOptions{Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
		t.Fatal(err)
	}
	h, err := m.Fit(ctx, ds, FitOptions{Epochs: 2, BatchSize: 8, Shuffle: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Metrics["accuracy"]; !ok || len(h.Epochs) != 2 {
		t.Fatalf("history %v", h)
	}
}

func TestArrowDatasetErrors(t *testing.T) {
	dir := t.TempDir()
	rec := tabular(t, 10, 0, 7, false)
	defer rec.Release()
	path := filepath.Join(dir, "n.parquet")
	writeParquet(t, path, rec)
	ds, err := NewArrowDataset([]string{path}, ArrowOptions{Features: []Feature{{Columns: []string{"x1"}}}, Label: "y", ReadRows: 4})
	if err != nil {
		t.Fatal(err)
	}
	it, _ := ds.Batches(context.Background(), BatchOptions{BatchSize: 10})
	_, err = it.Next()
	if err == nil || !strings.Contains(err.Error(), "n.parquet") || !strings.Contains(err.Error(), `"x1"`) || !strings.Contains(err.Error(), "row 7") {
		t.Errorf("null: err = %v, want file, column and row 7", err)
	}
	if _, err := NewArrowDataset([]string{path}, ArrowOptions{Features: []Feature{{Columns: []string{"nope"}}}}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("missing column: err = %v", err)
	}
	if _, err := NewArrowDataset([]string{filepath.Join(dir, "none*.parquet")}, ArrowOptions{Features: []Feature{{Columns: []string{"x1"}}}}); err == nil {
		t.Error("no files: no error")
	}
}
