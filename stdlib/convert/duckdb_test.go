package convert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/gopherlab/gopherlab/stdlib/convert/example"
	"github.com/gopherlab/gopherlab/stdlib/convert/tfrecord"
)

// repoRoot returns the module root: tests run in the package directory,
// two levels below it.
func repoRoot(t *testing.T) string {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// needTool fails under CI and skips elsewhere when an external checker is
// missing.
func needTool(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing (CI must install it)", what)
	}
	t.Skipf("%s is missing; install it to run this test (CI does)", what)
}

// duckRead reads Parquet files with DuckDB through node and @duckdb/node-api.
func duckRead(t *testing.T, files []string) (schema map[string][][2]string, rows map[string][]map[string]any) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		needTool(t, "node")
	}
	modules := filepath.Join(repoRoot(t), ".ci", "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "@duckdb", "node-api")); err != nil {
		needTool(t, "npm package @duckdb/node-api in "+modules)
	}
	args := append([]string{filepath.Join("testdata", "duckdb_read.mjs"), modules}, files...)
	cmd := exec.Command(node, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb_read.mjs: %v\n%s", err, stderr.String())
	}
	var res struct {
		Schema map[string][][2]string      `json:"schema"`
		Rows   map[string][]map[string]any `json:"rows"`
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("decoding DuckDB output: %v", err)
	}
	return res.Schema, res.Rows
}

func jsonFloat(t *testing.T, v any) float64 {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			t.Fatal(err)
		}
		return f
	case string: // BIGINT and special floats come as strings
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	t.Fatalf("not a number: %T %v", v, v)
	return 0
}

// featureFromJSON turns DuckDB's value back into a Feature of the given kind.
func featureFromJSON(t *testing.T, v any, kind example.Kind) example.Feature {
	var items []any
	if l, ok := v.([]any); ok {
		items = l
	} else {
		items = []any{v}
	}
	f := example.Feature{Kind: kind}
	for _, it := range items {
		switch kind {
		case example.KindFloat:
			f.Floats = append(f.Floats, float32(jsonFloat(t, it)))
		case example.KindInt64:
			n, err := strconv.ParseInt(fmt.Sprint(it), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			f.Int64s = append(f.Int64s, n)
		}
	}
	if f.Floats == nil && kind == example.KindFloat {
		f.Floats = []float32{}
	}
	if f.Int64s == nil && kind == example.KindInt64 {
		f.Int64s = []int64{}
	}
	return f
}

// DuckDB, an independent Parquet reader, must see exactly the source
// records in our output, with one schema in every chunk file.
func TestDuckDBReadsOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "00000.tfrecords")
	if _, err := SeedSynthetic(2500, 11).WriteTFRecords(ctx, in, "GZIP"); err != nil {
		t.Fatal(err)
	}
	res, err := TFRecordsToParquet(ctx, []string{in}, dir, Options{Compression: "GZIP", Chunks: 1000, ConvertLists: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 3 {
		t.Fatalf("files %v", res.Files)
	}
	schema, rows := duckRead(t, res.Files)
	first := schema[res.Files[0]]
	wantTypes := map[string]string{"cont0": "FLOAT", "cat0": "BIGINT", "cont_list0": "FLOAT[]", "cat_list2": "BIGINT[]", "label": "BIGINT"}
	seen := 0
	for _, c := range first {
		if w, ok := wantTypes[c[0]]; ok {
			seen++
			if c[1] != w {
				t.Errorf("DuckDB type of %s is %s, want %s", c[0], c[1], w)
			}
		}
	}
	if seen != len(wantTypes) || len(first) != 18 {
		t.Errorf("DuckDB schema %v", first)
	}
	for _, f := range res.Files[1:] {
		if !reflect.DeepEqual(schema[f], first) {
			t.Errorf("DuckDB schema of %s differs: %v vs %v", f, schema[f], first)
		}
	}
	src := readExamples(t, in)
	i := 0
	for _, f := range res.Files {
		for _, row := range rows[f] {
			want := src[i].Features
			if len(row) != len(want) {
				t.Fatalf("record %d: DuckDB row has %d columns, source %d features", i, len(row), len(want))
			}
			for name, wf := range want {
				v, ok := row[name]
				if !ok {
					t.Fatalf("record %d: DuckDB row lacks %s", i, name)
				}
				got := featureFromJSON(t, v, wf.Kind)
				if got.String() != wf.String() {
					t.Fatalf("record %d feature %s: DuckDB %v, source %v", i, name, got, wf)
				}
			}
			i++
		}
	}
	if i != len(src) {
		t.Fatalf("DuckDB read %d rows, source has %d", i, len(src))
	}
}

// DuckDB must read our delta-encoded int64 columns exactly at the edges:
// deltas that wrap around (64-bit widths), extreme values, pages with no
// values (all lists empty), and nulls in scalar and list columns, over
// many pages and row groups.
func TestDuckDBReadsEdgeInts(t *testing.T) {
	dir := t.TempDir()
	var exs []*example.Example
	x := uint64(88172645463325252)
	for i := 0; i < 500; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		e := example.New().Set("big", example.Int64s(int64(x))).Set("rare_list", example.Int64s())
		if i%3 != 0 {
			e.Set("maybe", example.Int64s(int64(i)-250))
		}
		if i >= 300 {
			e.Set("rare_list", example.Int64s(math.MinInt64, int64(x), math.MaxInt64, 0, -1))
		}
		if i%5 == 1 {
			e.Set("opt_list", example.Int64s(seq(i%7)...))
		} else if i%5 == 2 {
			e.Set("opt_list", example.Int64s())
		}
		exs = append(exs, e)
	}
	in := filepath.Join(dir, "edge.tfrecords")
	writeExamples(t, in, tfrecord.None, exs)
	res, err := TFRecordsToParquet(ctx, []string{in}, filepath.Join(dir, "pq"), Options{ConvertLists: true, BatchSize: 16, RowGroupSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	_, rows := duckRead(t, res.Files)
	got := rows[res.Files[0]]
	if len(got) != len(exs) {
		t.Fatalf("DuckDB read %d rows, want %d", len(got), len(exs))
	}
	for i, e := range exs {
		for _, name := range []string{"big", "rare_list", "maybe", "opt_list"} {
			v := got[i][name]
			want, ok := e.Features[name]
			if !ok {
				if v != nil {
					t.Fatalf("record %d %s: DuckDB %v, want null", i, name, v)
				}
				continue
			}
			if g := featureFromJSON(t, v, example.KindInt64); g.String() != want.String() {
				t.Fatalf("record %d %s: DuckDB %v, want %v", i, name, g, want)
			}
		}
	}
}
