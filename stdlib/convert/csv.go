package convert

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/gopherlab/gopherlab/stdlib/convert/internal/atomicfile"
)

// CSVOptions configure CSVToParquet. The zero value reads comma-separated
// text with a header line, infers column types from every line, treats
// empty cells as nulls and writes snappy Parquet.
type CSVOptions struct {
	// Schema gives the column types (int64, int32, float64, float32, bool,
	// string); its field names must match the header. Without it types are
	// inferred: int64 if every non-empty cell is an integer, else float64 if
	// every one is a number, else bool for true/false, else string.
	Schema *arrow.Schema
	// Delimiter separates fields (default ',').
	Delimiter rune
	// InferRows limits type inference to the first n data lines (0: all).
	InferRows int
	// NullValues are cell texts read as null (default: "" only).
	NullValues []string
	// SkipCorrupt drops bad lines (wrong field count, unparsable cell)
	// instead of failing; they are counted in Result.Skipped.
	SkipCorrupt bool
	// ParquetCompression is "snappy" (default), "zstd", "gzip" or "none".
	ParquetCompression string
	// RowGroupSize is the rows per row group and per batch (default 65536).
	RowGroupSize int
}

// CSVLineError is a line of a CSV file that cannot be converted.
type CSVLineError struct {
	File   string
	Line   int    // 1-based line number
	Column string // column name, if one cell is at fault
	Err    error
}

func (e *CSVLineError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("%s:%d: column %q: %v", e.File, e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

// Unwrap returns the underlying error.
func (e *CSVLineError) Unwrap() error { return e.Err }

type csvFile struct {
	f      *os.File
	r      *csv.Reader
	header []string
	path   string
}

func openCSV(path string, opts CSVOptions) (*csvFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	if opts.Delimiter != 0 {
		r.Comma = opts.Delimiter
	}
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		f.Close()
		if err == io.EOF {
			return nil, fmt.Errorf("convert: %s: empty file, no header line", path)
		}
		return nil, fmt.Errorf("convert: %s: header: %w", path, err)
	}
	return &csvFile{f: f, r: r, header: append([]string(nil), header...), path: path}, nil
}

// next returns the next line's fields and its line number.
func (c *csvFile) next() ([]string, int, error) {
	rec, err := c.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.StartLine, &CSVLineError{File: c.path, Line: pe.StartLine, Err: pe.Err}
		}
		return nil, 0, err
	}
	line, _ := c.r.FieldPos(0)
	if len(rec) != len(c.header) {
		return rec, line, &CSVLineError{File: c.path, Line: line, Err: fmt.Errorf("expected %d fields, found %d", len(c.header), len(rec))}
	}
	return rec, line, nil
}

func isNull(s string, nulls []string) bool {
	if len(nulls) == 0 {
		return s == ""
	}
	for _, n := range nulls {
		if s == n {
			return true
		}
	}
	return false
}

// inferCSVSchema scans the file and picks a type per column.
func inferCSVSchema(ctx context.Context, path string, opts CSVOptions) (*arrow.Schema, error) {
	c, err := openCSV(path, opts)
	if err != nil {
		return nil, err
	}
	defer c.f.Close()
	n := len(c.header)
	isInt, isFloat, isBool := make([]bool, n), make([]bool, n), make([]bool, n)
	for i := range isInt {
		isInt[i], isFloat[i], isBool[i] = true, true, true
	}
	for rows := 0; opts.InferRows <= 0 || rows < opts.InferRows; rows++ {
		if rows%ctxEvery == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rec, _, err := c.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if opts.SkipCorrupt {
				var le *CSVLineError
				if errors.As(err, &le) {
					continue
				}
			}
			return nil, err
		}
		for i, s := range rec {
			if isNull(s, opts.NullValues) {
				continue
			}
			if isInt[i] {
				if _, err := strconv.ParseInt(s, 10, 64); err != nil {
					isInt[i] = false
				}
			}
			if isFloat[i] && !isInt[i] {
				if _, err := strconv.ParseFloat(s, 64); err != nil {
					isFloat[i] = false
				}
			}
			if isBool[i] {
				if l := strings.ToLower(s); l != "true" && l != "false" {
					isBool[i] = false
				}
			}
		}
	}
	fields := make([]arrow.Field, n)
	for i, name := range c.header {
		dt := arrow.DataType(arrow.BinaryTypes.String)
		switch {
		case isBool[i] && !isInt[i]:
			dt = arrow.FixedWidthTypes.Boolean
		case isInt[i]:
			dt = arrow.PrimitiveTypes.Int64
		case isFloat[i]:
			dt = arrow.PrimitiveTypes.Float64
		}
		// A column with no value at all is inferred as string.
		fields[i] = arrow.Field{Name: name, Type: dt, Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

// appendCell parses s into builder b.
func appendCell(b array.Builder, s string) error {
	switch b := b.(type) {
	case *array.Int64Builder:
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("cannot parse %q as int64", s)
		}
		b.Append(v)
	case *array.Int32Builder:
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return fmt.Errorf("cannot parse %q as int32", s)
		}
		b.Append(int32(v))
	case *array.Float64Builder:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("cannot parse %q as float64", s)
		}
		b.Append(v)
	case *array.Float32Builder:
		v, err := strconv.ParseFloat(s, 32)
		if err != nil {
			return fmt.Errorf("cannot parse %q as float32", s)
		}
		b.Append(float32(v))
	case *array.BooleanBuilder:
		v, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("cannot parse %q as bool", s)
		}
		b.Append(v)
	case *array.StringBuilder:
		b.Append(s)
	default:
		return fmt.Errorf("unsupported column type %s", b.Type())
	}
	return nil
}

// CSVToParquet converts a CSV file with a header line into one Parquet
// file at outPath, written atomically. Column types come from opts.Schema
// or from a scan of the file; a bad line is an error naming its line number
// (and column), or is skipped with SkipCorrupt.
func CSVToParquet(ctx context.Context, csvPath, outPath string, opts CSVOptions) (*Result, error) {
	start := time.Now()
	if opts.RowGroupSize <= 0 {
		opts.RowGroupSize = 65536
	}
	codec, err := parquetCodec(opts.ParquetCompression)
	if err != nil {
		return nil, err
	}
	res := &Result{Inputs: []string{csvPath}}
	if st, err := os.Stat(csvPath); err == nil {
		res.BytesIn = st.Size()
	}
	schema := opts.Schema
	if schema == nil {
		scan := time.Now()
		if schema, err = inferCSVSchema(ctx, csvPath, opts); err != nil {
			return res, err
		}
		res.ScanTime = time.Since(scan)
	}
	res.Schema = schema
	c, err := openCSV(csvPath, opts)
	if err != nil {
		return res, err
	}
	defer c.f.Close()
	if len(c.header) != len(schema.Fields()) {
		return res, fmt.Errorf("convert: %s: header has %d columns, schema %d", csvPath, len(c.header), len(schema.Fields()))
	}
	for i, f := range schema.Fields() {
		if f.Name != c.header[i] {
			return res, fmt.Errorf("convert: %s: header column %d is %q, schema field is %q", csvPath, i+1, c.header[i], f.Name)
		}
	}
	af, err := atomicfile.Create(outPath)
	if err != nil {
		return res, fmt.Errorf("convert: %w", err)
	}
	defer af.Abort()
	props, aprops := writerProps(schema, codec, opts.RowGroupSize)
	w, err := pqarrow.NewFileWriter(schema, writeOnly{af}, props, aprops)
	if err != nil {
		return res, fmt.Errorf("convert: %w", err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	flush := func() error {
		if b.Field(0).Len() == 0 {
			return nil
		}
		rec := b.NewRecord()
		defer rec.Release()
		res.Rows += rec.NumRows()
		return w.Write(rec)
	}
	rows := 0
	for {
		if rows%ctxEvery == 0 && ctx.Err() != nil {
			return res, ctx.Err()
		}
		rec, line, err := c.next()
		if err == io.EOF {
			break
		}
		if err == nil {
			for i, s := range rec {
				if isNull(s, opts.NullValues) {
					b.Field(i).AppendNull()
					continue
				}
				if cerr := appendCell(b.Field(i), s); cerr != nil {
					err = &CSVLineError{File: csvPath, Line: line, Column: c.header[i], Err: cerr}
					// Undo the cells already appended for this line.
					for j := 0; j < i; j++ {
						undoLast(b.Field(j))
					}
					break
				}
			}
		}
		if err != nil {
			var le *CSVLineError
			if opts.SkipCorrupt && errors.As(err, &le) {
				res.Skipped++
				if len(res.Problems) < maxSkipErrors {
					res.Problems = append(res.Problems, err.Error())
				}
				continue
			}
			return res, err
		}
		rows++
		if rows%opts.RowGroupSize == 0 {
			if err := flush(); err != nil {
				return res, fmt.Errorf("convert: writing %s: %w", outPath, err)
			}
		}
	}
	if err := flush(); err != nil {
		return res, fmt.Errorf("convert: writing %s: %w", outPath, err)
	}
	if err := w.Close(); err != nil {
		return res, fmt.Errorf("convert: writing %s: %w", outPath, err)
	}
	if err := af.Commit(); err != nil {
		return res, fmt.Errorf("convert: %w", err)
	}
	res.Files = []string{outPath}
	if st, err := os.Stat(outPath); err == nil {
		res.BytesOut = st.Size()
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// undoLast removes the last appended value of a builder by rebuilding it;
// rare (only for a bad line), so simplicity beats speed.
func undoLast(b array.Builder) {
	arr := b.NewArray()
	defer arr.Release()
	n := arr.Len() - 1
	for i := 0; i < n; i++ {
		if arr.IsNull(i) {
			b.AppendNull()
			continue
		}
		switch a := arr.(type) {
		case *array.Int64:
			b.(*array.Int64Builder).Append(a.Value(i))
		case *array.Int32:
			b.(*array.Int32Builder).Append(a.Value(i))
		case *array.Float64:
			b.(*array.Float64Builder).Append(a.Value(i))
		case *array.Float32:
			b.(*array.Float32Builder).Append(a.Value(i))
		case *array.Boolean:
			b.(*array.BooleanBuilder).Append(a.Value(i))
		case *array.String:
			b.(*array.StringBuilder).Append(a.Value(i))
		}
	}
}

// writeOnly hides Close: pqarrow closes a sink that has one, but the
// atomic file must stay open until Commit.
type writeOnly struct{ w io.Writer }

func (w writeOnly) Write(p []byte) (int, error) { return w.w.Write(p) }
