package convert

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/gopherlab/gopherlab/stdlib/convert/example"
	"github.com/gopherlab/gopherlab/stdlib/convert/tfrecord"
)

// TestSampleSchemaEqualsFullScan converts inputs whose records after the
// schema sample (the first sampleRecords of the first file) contradict
// it in each way a full scan notices, and checks that the conversion ends
// with the full scan's schema, all rows, and only its own files.
func TestSampleSchemaEqualsFullScan(t *testing.T) {
	if testing.Short() {
		t.Skip("writes inputs of more than sampleRecords records")
	}
	n := sampleRecords + 500
	base := func(i int) *example.Example {
		return example.New().
			Set("a", example.Floats(float32(i))).
			Set("k", example.Int64s(int64(i%7))).
			Set("pair", example.Int64s(1, int64(i))).
			Set("l", example.Floats(make([]float32, i%3)...))
	}
	late := sampleRecords + 100 // a record after the sample
	tests := []struct {
		name string
		edit func(i int, e *example.Example) // applied to every record of the first file
		more bool                            // a second file with feature "z"
	}{
		{"agrees", func(int, *example.Example) {}, false},
		{"longer scalar", func(i int, e *example.Example) {
			if i == late {
				e.Set("a", example.Floats(1, 2))
			}
		}, false},
		{"empty scalar", func(i int, e *example.Example) {
			if i%2 == 1 {
				delete(e.Features, "k") // nullable in the sample
			}
			if i == late {
				e.Set("k", example.Int64s())
			}
		}, false},
		{"valueless scalar", func(i int, e *example.Example) {
			if i%2 == 1 {
				delete(e.Features, "a")
			}
			if i == late {
				e.Set("a", example.Feature{})
			}
		}, false},
		{"empty element columns", func(i int, e *example.Example) {
			if i%2 == 1 {
				delete(e.Features, "pair")
			}
			if i == late {
				e.Set("pair", example.Int64s())
			}
		}, false},
		{"missing required", func(i int, e *example.Example) {
			if i == late {
				delete(e.Features, "l")
			}
		}, false},
		{"new feature", func(i int, e *example.Example) {
			if i >= late {
				e.Set("new", example.Floats(3))
			}
		}, false},
		{"other kind", func(i int, e *example.Example) {
			if i == late {
				e.Set("k", example.Floats(3))
			}
		}, false},
		{"feature first in a later file", func(i int, e *example.Example) {}, true},
		{"repeated name", nil, false}, // record late holds "a" twice: [1 2] then [3]
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var exs []*example.Example
			files := []string{filepath.Join(dir, "a.tfrecords")}
			if tt.edit != nil {
				for i := 0; i < n; i++ {
					e := base(i)
					tt.edit(i, e)
					exs = append(exs, e)
				}
				writeExamples(t, files[0], tfrecord.None, exs)
			} else {
				// Example is a map: repeat the entry in the wire bytes.
				var recs [][]byte
				for i := 0; i < n; i++ {
					rec := base(i).Marshal()
					if i == late {
						twice := example.New().Set("a", example.Floats(1, 2)).Marshal()
						rec = append(twice, rec...) // fields 1 concatenate: "a" appears twice
					}
					recs = append(recs, rec)
				}
				if err := os.WriteFile(files[0], framed(t, recs...), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rows := int64(n)
			if tt.more {
				files = append(files, filepath.Join(dir, "b.tfrecords"))
				writeExamples(t, files[1], tfrecord.None, []*example.Example{base(1).Set("z", example.Int64s(1))})
				rows++
			}
			for _, convertLists := range []bool{false, true} {
				opts := Options{ConvertLists: convertLists, Chunks: 4000, Workers: 2}
				full, err := inferPlan(ctx, files, opts)
				if tt.name == "other kind" {
					// The full scan fails: so must the conversion, with its error,
					// leaving no file.
					out := filepath.Join(dir, "out-conflict")
					_, cerr := TFRecordsToParquet(ctx, files, out, opts)
					if err == nil || cerr == nil || cerr.Error() != err.Error() {
						t.Fatalf("conversion error %v, full scan error %v", cerr, err)
					}
					if left, _ := filepath.Glob(filepath.Join(out, "*")); len(left) > 0 {
						t.Fatalf("files left after the failed conversion: %v", left)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(dir, "out")
				os.RemoveAll(out)
				res, err := TFRecordsToParquet(ctx, files, out, opts)
				if err != nil {
					t.Fatal(err)
				}
				if !res.Schema.Equal(full.schema) || !res.Schema.Metadata().Equal(full.schema.Metadata()) {
					t.Fatalf("ConvertLists %v: schema\n%s\nfull scan's\n%s", convertLists, res.Schema, full.schema)
				}
				if res.Rows != rows {
					t.Fatalf("%d rows, want %d", res.Rows, rows)
				}
				got, _ := filepath.Glob(filepath.Join(out, "*"))
				want := append([]string(nil), res.Files...)
				sort.Strings(got)
				sort.Strings(want)
				if len(got) != len(want) {
					t.Fatalf("output directory holds %v, result lists %v", got, want)
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("output directory holds %v, result lists %v", got, want)
					}
					if s, _ := parquetSchema(t, got[i]); len(s.Fields()) != len(full.schema.Fields()) {
						t.Fatalf("%s: %d columns, want %d", got[i], len(s.Fields()), len(full.schema.Fields()))
					}
				}
			}
		})
	}
}
