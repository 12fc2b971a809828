package convert

import (
	"context"
	"path/filepath"
	"testing"
)

// TestReadBackSeedShape converts the seed notebook's data set (lists of
// length 0–19, so pages with empty lists) and reads every chunk back with
// ReadParquet, as the tutorial notebook does.
func TestReadBackSeedShape(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	spec := Synthetic{Rows: 3000, Continuous: 5, Categorical: 7, ContinuousLists: 2, CategoricalLists: 3, Seed: 42}
	df, err := spec.Table()
	if err != nil {
		t.Fatal(err)
	}
	defer df.Release()
	in := filepath.Join(dir, "00000.tfrecords")
	if _, err := WriteTFRecords(ctx, df, in, TFRecordOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := TFRecordsToParquet(ctx, []string{in}, dir, Options{Chunks: 1000, ConvertLists: true})
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	for _, f := range res.Files {
		tbl, err := ReadParquet(f)
		if err != nil {
			t.Fatalf("ReadParquet(%s): %v", f, err)
		}
		rows += tbl.NumRows()
		tbl.Release()
	}
	if rows != 3000 {
		t.Fatalf("read back %d rows from %d files, want 3000", rows, len(res.Files))
	}
}
