package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// Feature maps columns of an Arrow or Parquet file to one model input.
type Feature struct {
	// Columns are read in order and placed side by side on the last axis.
	// A column may be numeric or boolean (one value per row) or a list /
	// fixed-size list of numbers (several values per row, e.g. pixels).
	Columns []string
	// Shape is the shape of one example; by default a vector holding every
	// value of the columns.
	Shape []int
}

// ArrowOptions select what an ArrowDataset reads.
type ArrowOptions struct {
	// Features lists one Feature per model input, in the model's input
	// order. Only these columns and Label are read from the files.
	Features []Feature
	// Label is the target column (numeric); empty for prediction.
	Label string
	// ReadRows is the number of rows decoded at a time (default 65536).
	// Shuffling reorders rows within each such chunk and the file order.
	ReadRows int
}

// ArrowDataset streams examples from Arrow IPC (.arrow, .feather, .ipc) or
// Parquet (.parquet) files in record batches, converting the selected
// columns to tensors; memory use is bounded by ReadRows.
type ArrowDataset struct {
	paths []string
	opts  ArrowOptions
	n     int
}

// NewArrowDataset opens the given files (glob patterns allowed) and checks
// that every selected column exists.
func NewArrowDataset(paths []string, opts ArrowOptions) (*ArrowDataset, error) {
	if len(opts.Features) == 0 {
		return nil, errors.New("train: ArrowOptions.Features is empty")
	}
	for i, f := range opts.Features {
		if len(f.Columns) == 0 {
			return nil, fmt.Errorf("train: feature %d has no columns", i)
		}
	}
	if opts.ReadRows <= 0 {
		opts.ReadRows = 65536
	}
	d := &ArrowDataset{opts: opts}
	for _, p := range paths {
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("train: %s: %w", p, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("train: %s: no such file", p)
		}
		d.paths = append(d.paths, m...)
	}
	for _, p := range d.paths {
		src, err := openArrowSource(context.Background(), p, d.columns(), opts.ReadRows)
		if err != nil {
			return nil, err
		}
		d.n += src.rows
		src.Close()
	}
	return d, nil
}

func (d *ArrowDataset) columns() []string {
	var cols []string
	for _, f := range d.opts.Features {
		cols = append(cols, f.Columns...)
	}
	if d.opts.Label != "" {
		cols = append(cols, d.opts.Label)
	}
	return cols
}

// Len returns the total number of rows.
func (d *ArrowDataset) Len() int { return d.n }

// Batches starts one streamed pass over the files.
func (d *ArrowDataset) Batches(ctx context.Context, opts BatchOptions) (BatchIterator, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 32
	}
	it := &arrowIter{d: d, ctx: ctx, bs: opts.BatchSize, order: make([]int, len(d.paths))}
	for i := range it.order {
		it.order[i] = i
	}
	if opts.Shuffle {
		it.rng = rand.New(rand.NewSource(opts.Seed))
		it.rng.Shuffle(len(it.order), func(i, j int) { it.order[i], it.order[j] = it.order[j], it.order[i] })
	}
	return it, nil
}

// arrowSource reads record batches of selected columns from one file.
type arrowSource struct {
	path  string
	rows  int
	next  func() (arrow.Record, error) // io.EOF at the end
	close func()
}

func (s *arrowSource) Close() {
	if s.close != nil {
		s.close()
	}
}

func openArrowSource(ctx context.Context, path string, cols []string, readRows int) (*arrowSource, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet", ".parq":
		pf, err := file.OpenParquetFile(path, false)
		if err != nil {
			return nil, fmt.Errorf("train: %s: %w", path, err)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(readRows)}, memory.DefaultAllocator)
		if err != nil {
			pf.Close()
			return nil, fmt.Errorf("train: %s: %w", path, err)
		}
		var leaves []int
		for _, c := range cols {
			found := false
			for _, f := range fr.Manifest.Fields {
				if f.Field.Name == c {
					found = true
					leaves = append(leaves, leafIndices(f)...)
				}
			}
			if !found {
				pf.Close()
				return nil, fmt.Errorf("train: %s: no column %q", path, c)
			}
		}
		rr, err := fr.GetRecordReader(ctx, leaves, nil)
		if err != nil {
			pf.Close()
			return nil, fmt.Errorf("train: %s: %w", path, err)
		}
		return &arrowSource{path: path, rows: int(pf.NumRows()),
			next: func() (arrow.Record, error) {
				if rr.Next() {
					rec := rr.Record()
					rec.Retain()
					return rec, nil
				}
				if err := rr.Err(); err != nil && err != io.EOF {
					return nil, err
				}
				return nil, io.EOF
			},
			close: func() { rr.Release(); pf.Close() }}, nil
	case ".arrow", ".feather", ".ipc":
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		r, err := ipc.NewFileReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("train: %s: %w", path, err)
		}
		for _, c := range cols {
			if len(r.Schema().FieldIndices(c)) == 0 {
				r.Close()
				f.Close()
				return nil, fmt.Errorf("train: %s: no column %q", path, c)
			}
		}
		rows := 0
		for i := 0; i < r.NumRecords(); i++ {
			rec, err := r.Record(i)
			if err != nil {
				r.Close()
				f.Close()
				return nil, fmt.Errorf("train: %s: record batch %d: %w", path, i, err)
			}
			rows += int(rec.NumRows())
		}
		i := 0
		return &arrowSource{path: path, rows: rows,
			next: func() (arrow.Record, error) {
				if i >= r.NumRecords() {
					return nil, io.EOF
				}
				rec, err := r.Record(i)
				i++
				if err != nil {
					return nil, err
				}
				rec.Retain()
				return rec, nil
			},
			close: func() { r.Close(); f.Close() }}, nil
	}
	return nil, fmt.Errorf("train: %s: unknown file type (want .parquet, .arrow, .feather or .ipc)", path)
}

func leafIndices(f pqarrow.SchemaField) []int {
	// Nested fields (lists) do not always carry ColIndex -1, so decide by
	// their children.
	if len(f.Children) == 0 {
		return []int{f.ColIndex}
	}
	var out []int
	for _, c := range f.Children {
		out = append(out, leafIndices(c)...)
	}
	return out
}

// chunk holds one decoded record batch: per feature, rows×width values.
type chunk struct {
	feats  [][]float32
	widths []int
	label  []float32
	rows   int
	order  []int
	pos    int
	row0   int // row number of the chunk's first row within its file
}

type arrowIter struct {
	d     *ArrowDataset
	ctx   context.Context
	bs    int
	rng   *rand.Rand
	order []int
	fi    int
	src   *arrowSource
	cur   *chunk
	rowIn int
}

func (it *arrowIter) Close() error {
	if it.src != nil {
		it.src.Close()
		it.src = nil
	}
	return nil
}

// load reads the next record batch, opening the next file as needed.
func (it *arrowIter) load() error {
	for {
		if it.src == nil {
			if it.fi >= len(it.order) {
				return io.EOF
			}
			src, err := openArrowSource(it.ctx, it.d.paths[it.order[it.fi]], it.d.columns(), it.d.opts.ReadRows)
			if err != nil {
				return err
			}
			it.fi++
			it.src, it.rowIn = src, 0
		}
		rec, err := it.src.next()
		if err == io.EOF {
			it.src.Close()
			it.src = nil
			continue
		}
		if err != nil {
			return fmt.Errorf("train: %s: %w", it.src.path, err)
		}
		c, err := it.decode(rec)
		rec.Release()
		if err != nil {
			return err
		}
		it.rowIn += c.rows
		if c.rows == 0 {
			continue
		}
		it.cur = c
		return nil
	}
}

func (it *arrowIter) decode(rec arrow.Record) (*chunk, error) {
	rows := int(rec.NumRows())
	c := &chunk{rows: rows, row0: it.rowIn}
	col := func(name string) arrow.Array {
		return rec.Column(rec.Schema().FieldIndices(name)[0])
	}
	for fi, f := range it.d.opts.Features {
		var vals [][]float32
		width := 0
		for _, name := range f.Columns {
			v, w, err := columnValues(col(name), rows)
			if err != nil {
				return nil, fmt.Errorf("train: %s: column %q: %w", it.src.path, name, shiftRow(err, c.row0))
			}
			vals = append(vals, v)
			width += w
		}
		if f.Shape != nil && numel(f.Shape) != width {
			return nil, fmt.Errorf("train: %s: feature %d has %d values per row, Shape %v needs %d", it.src.path, fi, width, f.Shape, numel(f.Shape))
		}
		out := make([]float32, rows*width)
		off := 0
		for _, v := range vals {
			w := len(v) / max(rows, 1)
			for r := 0; r < rows; r++ {
				copy(out[r*width+off:r*width+off+w], v[r*w:(r+1)*w])
			}
			off += w
		}
		c.feats = append(c.feats, out)
		c.widths = append(c.widths, width)
	}
	if it.d.opts.Label != "" {
		v, w, err := columnValues(col(it.d.opts.Label), rows)
		if err != nil {
			return nil, fmt.Errorf("train: %s: label column %q: %w", it.src.path, it.d.opts.Label, shiftRow(err, c.row0))
		}
		if w != 1 {
			return nil, fmt.Errorf("train: %s: label column %q has %d values per row, want 1", it.src.path, it.d.opts.Label, w)
		}
		c.label = v
	}
	if it.rng != nil {
		c.order = it.rng.Perm(rows)
	}
	return c, nil
}

// rowError is a conversion error at a row of a record batch.
type rowError struct {
	row int
	msg string
}

func (e *rowError) Error() string { return fmt.Sprintf("row %d: %s", e.row, e.msg) }

func shiftRow(err error, by int) error {
	var re *rowError
	if errors.As(err, &re) {
		return &rowError{row: re.row + by, msg: re.msg}
	}
	return err
}

// columnValues converts a column to float32, returning the values per row.
func columnValues(a arrow.Array, rows int) ([]float32, int, error) {
	for r := 0; r < rows; r++ {
		if a.IsNull(r) {
			return nil, 0, &rowError{row: r, msg: "null value"}
		}
	}
	switch arr := a.(type) {
	case *array.FixedSizeList:
		w := int(arr.DataType().(*arrow.FixedSizeListType).Len())
		child := array.NewSlice(arr.ListValues(), int64(arr.Offset()*w), int64((arr.Offset()+rows)*w))
		defer child.Release()
		v, _, err := columnValues(child, rows*w)
		return v, w, err
	case *array.List:
		off := arr.Offsets()
		w := int(off[1] - off[0])
		for r := 0; r < rows; r++ {
			if int(off[r+1]-off[r]) != w {
				return nil, 0, &rowError{row: r, msg: fmt.Sprintf("list has %d values, row 0 has %d", off[r+1]-off[r], w)}
			}
		}
		child := array.NewSlice(arr.ListValues(), int64(off[0]), int64(off[rows]))
		defer child.Release()
		v, _, err := columnValues(child, rows*w)
		return v, w, err
	}
	out := make([]float32, rows)
	switch arr := a.(type) {
	case *array.Float32:
		copy(out, arr.Float32Values())
	case *array.Float64:
		for i, v := range arr.Float64Values() {
			out[i] = float32(v)
		}
	case *array.Int8:
		for i, v := range arr.Int8Values() {
			out[i] = float32(v)
		}
	case *array.Int16:
		for i, v := range arr.Int16Values() {
			out[i] = float32(v)
		}
	case *array.Int32:
		for i, v := range arr.Int32Values() {
			out[i] = float32(v)
		}
	case *array.Int64:
		for i, v := range arr.Int64Values() {
			out[i] = float32(v)
		}
	case *array.Uint8:
		for i, v := range arr.Uint8Values() {
			out[i] = float32(v)
		}
	case *array.Uint16:
		for i, v := range arr.Uint16Values() {
			out[i] = float32(v)
		}
	case *array.Uint32:
		for i, v := range arr.Uint32Values() {
			out[i] = float32(v)
		}
	case *array.Uint64:
		for i, v := range arr.Uint64Values() {
			out[i] = float32(v)
		}
	case *array.Boolean:
		for i := 0; i < rows; i++ {
			if arr.Value(i) {
				out[i] = 1
			}
		}
	default:
		return nil, 0, fmt.Errorf("type %s cannot be converted to a tensor (want numbers, booleans or lists of numbers)", a.DataType())
	}
	return out, 1, nil
}

func (it *arrowIter) Next() (*Batch, error) {
	if err := it.ctx.Err(); err != nil {
		return nil, err
	}
	nf := len(it.d.opts.Features)
	feats := make([][]float32, nf)
	var label []float32
	n := 0
	var widths []int
	for n < it.bs {
		if it.cur == nil || it.cur.pos >= it.cur.rows {
			it.cur = nil
			if err := it.load(); err == io.EOF {
				break
			} else if err != nil {
				return nil, err
			}
		}
		c := it.cur
		widths = c.widths
		take := min(it.bs-n, c.rows-c.pos)
		for k := 0; k < take; k++ {
			r := c.pos + k
			if c.order != nil {
				r = c.order[r]
			}
			for f := 0; f < nf; f++ {
				w := c.widths[f]
				feats[f] = append(feats[f], c.feats[f][r*w:(r+1)*w]...)
			}
			if c.label != nil {
				label = append(label, c.label[r])
			}
		}
		c.pos += take
		n += take
	}
	if n == 0 {
		return nil, io.EOF
	}
	b := &Batch{}
	for f := 0; f < nf; f++ {
		shape := []int{n, widths[f]}
		if s := it.d.opts.Features[f].Shape; s != nil {
			shape = append([]int{n}, s...)
		}
		b.X = append(b.X, &Tensor{Shape: shape, Data: feats[f]})
	}
	if label != nil {
		b.Y = &Tensor{Shape: []int{n}, Data: label}
	}
	return b, nil
}
