package convert

import (
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

func writeFile(t *testing.T, dir, name, body string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCSVInferTypes(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "t.csv", "id,price,ok,name,empty\n1,2.5,true,\"a, b\",\n2,,false,c,\n-3,1e3,TRUE,,\n")
	out := filepath.Join(dir, "t.parquet")
	res, err := CSVToParquet(ctx, in, out, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"id": "int64", "price": "float64", "ok": "bool", "name": "utf8", "empty": "utf8"}
	if got := fieldTypes(res.Schema); len(got) != 5 || got["id"] != want["id"] || got["price"] != want["price"] || got["ok"] != want["ok"] || got["name"] != want["name"] {
		t.Errorf("types %v, want %v", got, want)
	}
	tbl, err := ReadParquet(out)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if tbl.NumRows() != 3 {
		t.Fatalf("rows %d", tbl.NumRows())
	}
	price := tbl.Column(1).Data().Chunk(0).(*array.Float64)
	if price.Value(0) != 2.5 || !price.IsNull(1) || price.Value(2) != 1000 {
		t.Errorf("price %v", price)
	}
	name := tbl.Column(3).Data().Chunk(0).(*array.String)
	if name.Value(0) != "a, b" || !name.IsNull(2) {
		t.Errorf("name %v", name)
	}
}

func TestCSVBadLines(t *testing.T) {
	dir := t.TempDir()
	body := "a,b\n1,x\n2,y\n3\n4,z,extra\n5,w\n"
	in := writeFile(t, dir, "bad.csv", body)
	out := filepath.Join(dir, "bad.parquet")
	_, err := CSVToParquet(ctx, in, out, CSVOptions{})
	var le *CSVLineError
	if !errors.As(err, &le) || le.Line != 4 || !strings.Contains(err.Error(), "bad.csv:4: expected 2 fields, found 1") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("a failed conversion left its output")
	}
	res, err := CSVToParquet(ctx, in, out, CSVOptions{SkipCorrupt: true})
	if err != nil || res.Rows != 3 || res.Skipped != 2 {
		t.Fatalf("SkipCorrupt: %v rows %d skipped %d %v", err, res.Rows, res.Skipped, res.Problems)
	}
	// A cell that does not parse as the given type names line and column.
	s := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, {Name: "b", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)
	in2 := writeFile(t, dir, "typed.csv", "a,b\n1,2\n3,oops\n")
	_, err = CSVToParquet(ctx, in2, filepath.Join(dir, "typed.parquet"), CSVOptions{Schema: s})
	if err == nil || !strings.Contains(err.Error(), `typed.csv:3: column "b": cannot parse "oops" as float64`) {
		t.Fatalf("got %v", err)
	}
	res, err = CSVToParquet(ctx, in2, filepath.Join(dir, "typed.parquet"), CSVOptions{Schema: s, SkipCorrupt: true})
	if err != nil || res.Rows != 1 {
		t.Fatalf("%v %d", err, res.Rows)
	}
	tbl, _ := ReadParquet(filepath.Join(dir, "typed.parquet"))
	defer tbl.Release()
	if a := tbl.Column(0).Data().Chunk(0).(*array.Int64); a.Len() != 1 || a.Value(0) != 1 {
		t.Errorf("after skipping a half-parsed line: %v", a)
	}
	// Quoting errors carry the line too.
	in3 := writeFile(t, dir, "quote.csv", "a,b\n1,2\n3,\"x\"y\n")
	if _, err := CSVToParquet(ctx, in3, filepath.Join(dir, "q.parquet"), CSVOptions{}); err == nil || !strings.Contains(err.Error(), "quote.csv:3") {
		t.Fatalf("got %v", err)
	}
}

// The Chicago taxi sample: every cell must come back as encoding/csv read it.
func TestCSVChicagoTaxi(t *testing.T) {
	in := "/work/shared/data/chicago_taxi_simple.csv"
	if _, err := os.Stat(in); err != nil {
		in = filepath.Join(repoRoot(t), "..", "shared", "data", "chicago_taxi_simple.csv")
		if _, err := os.Stat(in); err != nil {
			t.Skip("chicago_taxi_simple.csv not available")
		}
	}
	out := filepath.Join(t.TempDir(), "taxi.parquet")
	res, err := CSVToParquet(ctx, in, out, CSVOptions{RowGroupSize: 4000})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(in)
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header, lines := all[0], all[1:]
	if res.Rows != int64(len(lines)) {
		t.Fatalf("rows %d, csv has %d", res.Rows, len(lines))
	}
	types := fieldTypes(res.Schema)
	for col, want := range map[string]string{"fare": "float64", "trip_start_timestamp": "int64", "company": "utf8", "pickup_community_area": "int64", "pickup_latitude": "float64"} {
		if types[col] != want {
			t.Errorf("%s inferred as %s, want %s", col, types[col], want)
		}
	}
	tbl, err := ReadParquet(out)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	for c, name := range header {
		row := 0
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := 0; i < chunk.Len(); i, row = i+1, row+1 {
				cell := lines[row][c]
				if cell == "" {
					if !chunk.IsNull(i) {
						t.Fatalf("%s line %d: empty cell not null", name, row+2)
					}
					continue
				}
				var ok bool
				switch a := chunk.(type) {
				case *array.Int64:
					v, _ := strconv.ParseInt(cell, 10, 64)
					ok = a.Value(i) == v
				case *array.Float64:
					v, _ := strconv.ParseFloat(cell, 64)
					ok = a.Value(i) == v
				case *array.String:
					ok = a.Value(i) == cell
				case *array.Boolean:
					v, _ := strconv.ParseBool(cell)
					ok = a.Value(i) == v
				}
				if !ok {
					t.Fatalf("%s line %d: parquet %v, csv %q", name, row+2, chunk, cell)
				}
			}
		}
		if row != len(lines) {
			t.Fatalf("%s: %d values", name, row)
		}
	}
}
