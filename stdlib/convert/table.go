package convert

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/gopherlab/gopherlab/display"
)

// Table is an Arrow table that shows itself like a pandas DataFrame in a
// notebook. It embeds arrow.Table, so it is one; Release it when done.
type Table struct {
	arrow.Table
}

// Head returns the first n rows (all if fewer), like DataFrame.head(n).
// The view shares the data; Release it too.
func (t *Table) Head(n int) *Table {
	if n < 0 {
		n = 0
	}
	if int64(n) > t.NumRows() {
		n = int(t.NumRows())
	}
	cols := make([]arrow.Column, t.NumCols())
	for i := range cols {
		cols[i] = *array.NewColumnSlice(t.Column(i), 0, int64(n))
	}
	tbl := array.NewTable(t.Schema(), cols, int64(n))
	for i := range cols {
		cols[i].Release()
	}
	return &Table{Table: tbl}
}

// Shape returns (rows, columns), like DataFrame.shape.
func (t *Table) Shape() (int, int) { return int(t.NumRows()), int(t.NumCols()) }

// Columns returns the column names.
func (t *Table) Columns() []string {
	names := make([]string, t.NumCols())
	for i, f := range t.Schema().Fields() {
		names[i] = f.Name
	}
	return names
}

// MimeBundle renders the table (HTML, text and data resource).
func (t *Table) MimeBundle() map[string]any {
	dt, err := display.TableOf(t.Table)
	if err != nil {
		return map[string]any{"text/plain": err.Error()}
	}
	defer dt.Release()
	return dt.MimeBundle()
}

// String renders the table as aligned text.
func (t *Table) String() string {
	dt, err := display.TableOf(t.Table)
	if err != nil {
		return err.Error()
	}
	defer dt.Release()
	return dt.String()
}

// ReadParquet reads Parquet files into one table. The files must share a
// schema (as every chunk of one conversion does); rows keep file order.
func ReadParquet(paths ...string) (*Table, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("convert: ReadParquet needs at least one file")
	}
	var schema *arrow.Schema
	var cols [][]arrow.Array
	var rows int64
	release := func() {
		for _, c := range cols {
			for _, a := range c {
				a.Release()
			}
		}
	}
	for _, path := range paths {
		tbl, err := readParquetFile(path)
		if err != nil {
			release()
			return nil, err
		}
		if schema == nil {
			schema = tbl.Schema()
			cols = make([][]arrow.Array, tbl.NumCols())
		} else if !sameFields(schema, tbl.Schema()) {
			tbl.Release()
			release()
			return nil, fmt.Errorf("convert: %s: schema differs from %s:\n%s\nvs\n%s", path, paths[0], tbl.Schema(), schema)
		}
		for i := range cols {
			for _, a := range tbl.Column(i).Data().Chunks() {
				a.Retain()
				cols[i] = append(cols[i], a)
			}
		}
		rows += tbl.NumRows()
		tbl.Release()
	}
	columns := make([]arrow.Column, len(cols))
	for i := range cols {
		ch := arrow.NewChunked(schema.Field(i).Type, cols[i])
		columns[i] = *arrow.NewColumn(schema.Field(i), ch)
		ch.Release()
	}
	release()
	tbl := array.NewTable(schema, columns, rows)
	for i := range columns {
		columns[i].Release()
	}
	return &Table{Table: tbl}, nil
}

func readParquetFile(path string) (arrow.Table, error) {
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("convert: %s: %w", path, err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{Parallel: true, BatchSize: 65536}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("convert: %s: %w", path, err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		return nil, fmt.Errorf("convert: %s: %w", path, err)
	}
	return tbl, nil
}

// FileInfo is one row of a file listing.
type FileInfo struct {
	Name  string `display:"file"`
	Bytes int64  `display:"bytes"`
	Rows  int64  `display:"rows"`
}

// Files lists files with their sizes and, for Parquet files, row counts; it
// displays as a table.
type Files []FileInfo

// ListFiles describes the given files (typically Result.Files).
func ListFiles(paths ...string) (Files, error) {
	out := make(Files, 0, len(paths))
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("convert: %w", err)
		}
		fi := FileInfo{Name: p, Bytes: st.Size(), Rows: -1}
		if strings.HasSuffix(p, ".parquet") {
			if r, err := file.OpenParquetFile(p, false); err == nil {
				fi.Rows = r.NumRows()
				r.Close()
			}
		}
		out = append(out, fi)
	}
	return out, nil
}

// TotalBytes returns the summed size.
func (f Files) TotalBytes() int64 {
	var n int64
	for _, x := range f {
		n += x.Bytes
	}
	return n
}

// MimeBundle renders the listing as a table.
func (f Files) MimeBundle() map[string]any {
	t, err := display.TableOf([]FileInfo(f))
	if err != nil {
		return map[string]any{"text/plain": err.Error()}
	}
	return t.MimeBundle()
}

// MimeBundle renders the result as a two-column table.
func (r *Result) MimeBundle() map[string]any {
	return r.table().MimeBundle()
}

// String renders the result as aligned text.
func (r *Result) String() string { return r.table().String() }

func (r *Result) table() *display.Table {
	rows := [][]any{
		{"inputs", fmt.Sprintf("%d file(s)", len(r.Inputs))},
		{"files written", fmt.Sprintf("%d", len(r.Files))},
		{"rows", r.Rows},
	}
	if len(r.Resumed) > 0 {
		rows = append(rows, []any{"resumed files", fmt.Sprintf("%d", len(r.Resumed))})
	}
	if r.Skipped > 0 {
		rows = append(rows, []any{"skipped records", r.Skipped})
	}
	if r.Schema != nil {
		rows = append(rows, []any{"columns", fmt.Sprintf("%d: %s", len(r.Schema.Fields()), schemaSummary(r.Schema))})
	}
	rows = append(rows,
		[]any{"bytes in", humanBytes(r.BytesIn)},
		[]any{"bytes out", humanBytes(r.BytesOut)},
		[]any{"size ratio", ratio(r.BytesIn, r.BytesOut)},
		[]any{"elapsed", r.Elapsed.Round(1e6).String()},
		[]any{"rows/s", fmt.Sprintf("%.0f", r.RowsPerSecond())},
	)
	return display.NewTable([]string{"", "value"}, rows)
}

func ratio(in, out int64) string {
	if out <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", float64(in)/float64(out))
}

func schemaSummary(s *arrow.Schema) string {
	parts := make([]string, len(s.Fields()))
	for i, f := range s.Fields() {
		parts[i] = f.Name + " " + typeName(f.Type)
	}
	return strings.Join(parts, ", ")
}

func typeName(t arrow.DataType) string {
	if lt, ok := t.(*arrow.ListType); ok {
		return "list<" + typeName(lt.Elem()) + ">"
	}
	return t.String()
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
