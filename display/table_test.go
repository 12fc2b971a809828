package display

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

type trial struct {
	ID       int
	Model    string
	Loss     float64 `display:"loss,format=%.3f"`
	Accuracy float32
	LR       *float64
	Tags     []string
	Secret   string `display:"-"`
	Elapsed  time.Duration
	hidden   int
}

func trials(n int) []trial {
	out := make([]trial, n)
	for i := range out {
		lr := 0.001 * float64(i+1)
		out[i] = trial{ID: i, Model: fmt.Sprintf("model-%d", i), Loss: 1 / float64(i+1), Accuracy: float32(i) / float32(n),
			LR: &lr, Tags: []string{"a", "b", "c", "d", "e", "f", "g"}[:i%8], Secret: "s", Elapsed: time.Duration(i) * time.Second}
	}
	if n > 2 {
		out[2].LR = nil
	}
	return out
}

// buildRecord makes an Arrow record with ints, floats with nulls, strings,
// lists and timestamps.
func buildRecord(t *testing.T, mem memory.Allocator, n int) arrow.Record {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "tokens", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond}},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	ids := b.Field(0).(*array.Int64Builder)
	scores := b.Field(1).(*array.Float64Builder)
	labels := b.Field(2).(*array.StringBuilder)
	tokens := b.Field(3).(*array.ListBuilder)
	tokVals := tokens.ValueBuilder().(*array.Int32Builder)
	ts := b.Field(4).(*array.TimestampBuilder)
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		ids.Append(int64(i))
		if i%3 == 1 {
			scores.AppendNull()
		} else {
			scores.Append(float64(i) * 1.25)
		}
		if i == 0 {
			labels.AppendNull()
		} else {
			labels.Append(fmt.Sprintf("row %d", i))
		}
		tokens.Append(true)
		for k := 0; k < i%7; k++ {
			tokVals.Append(int32(100 + k))
		}
		ts.Append(arrow.Timestamp(base.Add(time.Duration(i) * time.Hour).UnixMilli()))
	}
	return b.NewRecord()
}

func TestTableGolden(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := buildRecord(t, mem, 30)
	defer rec.Release()

	recTable, err := TableOf(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer recTable.Release()
	structs, err := TableOf(trials(4))
	if err != nil {
		t.Fatal(err)
	}
	wide := make([][]any, 3)
	var headers []string
	for c := 0; c < 30; c++ {
		headers = append(headers, fmt.Sprintf("c%d", c))
		for r := range wide {
			wide[r] = append(wide[r], r*100+c)
		}
	}
	cases := []struct {
		name string
		t    *Table
	}{
		{"structs", structs},
		{"record", recTable},
		{"record_head", recTable.Head(3)},
		{"record_tail", recTable.Tail(3)},
		{"rows", NewTable([]string{"name", "value", "ok"}, [][]any{{"a", 1.5, true}, {"b", nil, false}, {"c", 1e-7}})},
		{"wide", NewTable(headers, wide)},
		{"map", mustTable(t, map[string]float64{"recall": 0.8125, "precision": 0.75, "f1": 0.78})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			golden(t, "table_"+c.name, bundleText(c.t.Bundle()))
		})
	}
}

func mustTable(t *testing.T, v any) *Table {
	t.Helper()
	tb, err := TableOf(v)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestTableStructTags(t *testing.T) {
	tb := mustTable(t, trials(3))
	cols := strings.Join(tb.Columns(), ",")
	if cols != "ID,Model,loss,Accuracy,LR,Tags,Elapsed" {
		t.Errorf("columns = %s (Secret and hidden must be left out, Loss renamed)", cols)
	}
	text := tb.String()
	for _, want := range []string{"0.333", "null", "[a, b]", "2s", "*float64"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	type bad struct {
		X int `display:"x,width=3"`
	}
	if _, err := TableOf([]bad{{1}}); err == nil || !strings.Contains(err.Error(), "bad.X") || !strings.Contains(err.Error(), "width") {
		t.Errorf("unknown tag option: err = %v, want one naming the field and option", err)
	}
	type noVerb struct {
		X int `display:"x,format=abc"`
	}
	if _, err := TableOf([]noVerb{{1}}); err == nil || !strings.Contains(err.Error(), "noVerb.X") {
		t.Errorf("format without verb: err = %v", err)
	}
}

func TestTableEmbeddedAndPointers(t *testing.T) {
	type Base struct{ Run string }
	type Row struct {
		*Base
		Value int
	}
	rows := []*Row{{&Base{"r1"}, 1}, nil, {nil, 3}}
	tb := mustTable(t, rows)
	if got := strings.Join(tb.Columns(), ","); got != "Run,Value" {
		t.Fatalf("columns = %s", got)
	}
	l := tb.layout()
	want := [][]string{{"r1", "1"}, {"null", "null"}, {"null", "3"}}
	for i := range want {
		for j := range want[i] {
			if l.cells[i][j].s != want[i][j] {
				t.Errorf("cell %d,%d = %q, want %q", i, j, l.cells[i][j].s, want[i][j])
			}
		}
	}
}

func TestTableTruncation(t *testing.T) {
	long := strings.Repeat("x", 80)
	rows := make([][]any, 100)
	for i := range rows {
		rows[i] = []any{i, long}
	}
	tb := NewTable([]string{"i", "text"}, rows)
	l := tb.layout()
	if len(l.rows) != 11 || l.rows[5] != -1 || l.rows[0] != 0 || l.rows[10] != 99 {
		t.Errorf("shown rows %v, want 0-4, …, 95-99", l.rows)
	}
	if got := l.cells[0][1].s; len([]rune(got)) != 50 || !strings.HasSuffix(got, "…") {
		t.Errorf("long cell %q, want 50 runes ending in …", got)
	}
	if !strings.Contains(tb.HTML(), `title="`+long+`"`) {
		t.Error("HTML does not keep the full text in the title")
	}
	if !strings.Contains(tb.String(), "100 rows × 2 columns") {
		t.Error("footer missing")
	}
	head := tb.Head(3).layout()
	if fmt.Sprint(head.rows) != "[0 1 2]" {
		t.Errorf("head rows %v", head.rows)
	}
	tail := tb.Tail(2).layout()
	if fmt.Sprint(tail.rows) != "[98 99]" {
		t.Errorf("tail rows %v", tail.rows)
	}
	if !strings.Contains(tb.Tail(2).String(), "last 2 of 100 rows") {
		t.Errorf("tail footer: %s", tb.Tail(2).String())
	}
	big := tb.WithOptions(TableOptions{MaxRows: 200}).layout()
	if len(big.rows) != 100 {
		t.Errorf("MaxRows 200 shows %d rows", len(big.rows))
	}
}

func TestFloatFormatting(t *testing.T) {
	cases := []struct {
		in   []float64
		want []string
	}{
		{[]float64{1, 2, 3}, []string{"1.0", "2.0", "3.0"}},
		{[]float64{0.5, 0.25, 1}, []string{"0.50", "0.25", "1.00"}},
		{[]float64{1.0 / 3, 2}, []string{"0.333333", "2.000000"}},
		{[]float64{123456.789, 1}, []string{"123456.8", "1.0"}},
		{[]float64{1e-7, 1}, []string{"1.0000e-07", "1.0000e+00"}},
		{[]float64{2e20}, []string{"2.0000e+20"}},
		{[]float64{math.NaN(), math.Inf(1), 1.5}, []string{"NaN", "+Inf", "1.5"}},
	}
	for _, c := range cases {
		f := floatFormatter(c.in)
		for i, v := range c.in {
			if got := f(v); got != c.want[i] {
				t.Errorf("%v: value %v formatted %q, want %q", c.in, v, got, c.want[i])
			}
		}
	}
}

func TestArrowTableChunks(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r1 := buildRecord(t, mem, 4)
	defer r1.Release()
	r2 := buildRecord(t, mem, 3)
	defer r2.Release()
	tbl := array.NewTableFromRecords(r1.Schema(), []arrow.Record{r1, r2})
	defer tbl.Release()

	tb := mustTable(t, tbl)
	defer tb.Release()
	if tb.Rows() != 7 {
		t.Fatalf("rows = %d", tb.Rows())
	}
	l := tb.layout()
	// Row 5 is row 1 of the second chunk: score null, label "row 1", one token.
	got := []string{l.cells[5][0].s, l.cells[5][1].s, l.cells[5][2].s, l.cells[5][3].s, l.cells[5][4].s}
	want := []string{"1", "null", "row 1", "[100]", "2024-03-01 13:00:00"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("row 5 = %q, want %q", got, want)
	}
	if !l.numeric[0] || !l.numeric[1] || l.numeric[2] {
		t.Errorf("numeric columns %v, want id and score right-aligned only", l.numeric)
	}
	// Render releases what it retains: the checked allocator verifies it.
	if b := Render(tbl); !strings.Contains(b.PlainText(), "7 rows × 5 columns") {
		t.Errorf("Render: %s", b.PlainText())
	}
}

func TestDataResource(t *testing.T) {
	tb := NewTable([]string{"n", "x", "index"}, [][]any{{1, 0.5, "a"}, {2, math.NaN(), "b"}})
	dr := tb.MimeBundle()[MIMEDataResource].(map[string]any)
	fields := dr["schema"].(map[string]any)["fields"].([]any)
	var names []string
	for _, f := range fields {
		m := f.(map[string]any)
		names = append(names, m["name"].(string)+":"+m["type"].(string))
	}
	if got := strings.Join(names, ","); got != "index:integer,n:integer,x:number,index_:string" {
		t.Errorf("fields = %s", got)
	}
	data := dr["data"].([]any)
	if len(data) != 2 || data[1].(map[string]any)["x"] != nil || data[1].(map[string]any)["index"] != 1.0 {
		t.Errorf("data = %v (NaN must become null)", data)
	}
}

// hostile strings that must never reach HTML unescaped.
var hostile = []string{
	`<script>alert("x")</script>`,
	`"><img src=x onerror=alert(1)>`,
	`' onmouseover='alert(1)`,
	`a & b &amp; c`,
	"ünïcødé ✓ 日本語 🚀",
	"line1\nline2\ttab",
}

func TestTableEscaping(t *testing.T) {
	var rows [][]any
	for _, h := range hostile {
		rows = append(rows, []any{h, []string{h}})
	}
	tb := NewTable([]string{`<th onclick="x">`, "list & <b>"}, rows)
	out := tb.HTML()
	for _, bad := range []string{"<script", "<img", `onclick="x"`, "<b>", `' onmouseover`} {
		if strings.Contains(out, bad) {
			t.Errorf("HTML contains unescaped %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;", "&amp;amp;", "ünïcødé ✓ 日本語 🚀", "line1↵line2 tab"} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if !strings.Contains(tb.String(), `<script>alert("x")</script>`) {
		t.Error("plain text must show the string as is")
	}
	golden(t, "table_hostile", bundleText(tb.Bundle()))
}

func ExampleTableOf() {
	type result struct {
		Model   string
		Latency float64 `display:"latency ms,format=%.1f"`
		Batch   *int
	}
	b := 32
	t, _ := TableOf([]result{{"resnet50", 12.345, &b}, {"bert", 48.9, nil}})
	fmt.Println(t.Head(5).String())
	// Output:
	//    Model     latency ms  Batch
	//    string       float64   *int
	// 0  resnet50        12.3     32
	// 1  bert            48.9   null
	//
	// [2 rows × 3 columns]
}

func ExampleNewTable() {
	t := NewTable([]string{"split", "rows"}, [][]any{{"train", 8000}, {"test", 2000}})
	fmt.Println("sizes:")
	fmt.Println(t)
	// Output:
	// sizes:
	//    split   rows
	//    string   int
	// 0  train   8000
	// 1  test    2000
	//
	// [2 rows × 2 columns]
}

func TestTableOfRecords(t *testing.T) {
	recs := []map[string]any{{"name": "a", "n": 1}, {"name": "b", "extra": true}}
	tb := mustTable(t, recs)
	if got := strings.Join(tb.Columns(), ","); got != "extra,n,name" {
		t.Fatalf("columns %s", got)
	}
	l := tb.layout()
	if got := fmt.Sprint(l.cells[0][0].s, l.cells[0][1].s, l.cells[1][1].s, l.cells[1][2].s); got != "null1nullb" {
		t.Errorf("cells %q", got)
	}
	if !strings.Contains(Render(recs).PlainText(), "2 rows × 3 columns") {
		t.Error("Render does not show records as a table")
	}
	if _, err := TableOf(42); err == nil || !strings.Contains(err.Error(), "cannot show int as a table") {
		t.Errorf("TableOf(42): %v", err)
	}
}
