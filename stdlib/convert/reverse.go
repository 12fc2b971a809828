package convert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/gopherlab/gopherlab/stdlib/convert/example"
	"github.com/gopherlab/gopherlab/stdlib/convert/tfrecord"
)

// TFRecordOptions configure writing TFRecord files.
type TFRecordOptions struct {
	// Compression of the output: "" (none), "ZLIB" or "GZIP".
	Compression string
}

// featureOut describes how one feature is rebuilt from columns.
type featureOut struct {
	name string
	kind example.Kind
	mode colMode
	cols []int
	// scratch, reused per row
	f example.Feature
}

// featuresOf maps columns back to features: from MetadataKey when the
// schema carries it (an exact round trip, expanded name_i columns joined
// again), otherwise one feature per column by its Arrow type (float64 is
// narrowed to float32, the width of float_list).
func featuresOf(s *arrow.Schema) ([]*featureOut, error) {
	var recorded []column
	if i := s.Metadata().FindKey(MetadataKey); i >= 0 {
		if err := json.Unmarshal([]byte(s.Metadata().Values()[i]), &recorded); err != nil {
			return nil, fmt.Errorf("convert: schema metadata %s: %v", MetadataKey, err)
		}
	}
	byCol := map[string]column{}
	for _, c := range recorded {
		byCol[c.Name] = c
	}
	var outs []*featureOut
	byFeature := map[string]*featureOut{}
	for i, f := range s.Fields() {
		dt := f.Type
		mode := modeScalar
		if lt, ok := dt.(*arrow.ListType); ok {
			mode, dt = modeList, lt.Elem()
		}
		var kind example.Kind
		switch dt.ID() {
		case arrow.FLOAT32, arrow.FLOAT64, arrow.FLOAT16:
			kind = example.KindFloat
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64, arrow.BOOL:
			kind = example.KindInt64
		case arrow.STRING, arrow.BINARY, arrow.LARGE_STRING, arrow.LARGE_BINARY:
			kind = example.KindBytes
		default:
			return nil, fmt.Errorf("convert: column %q: type %s has no tf.train.Feature equivalent", f.Name, f.Type)
		}
		name := f.Name
		if r, ok := byCol[f.Name]; ok {
			name = r.Feature
			if r.Mode == modeElem.String() {
				mode = modeElem
			}
		}
		fo, ok := byFeature[name]
		if !ok {
			fo = &featureOut{name: name, kind: kind, mode: mode}
			byFeature[name] = fo
			outs = append(outs, fo)
		} else if fo.mode != modeElem || mode != modeElem || fo.kind != kind {
			return nil, fmt.Errorf("convert: columns %q and others both map to feature %q", f.Name, name)
		}
		fo.cols = append(fo.cols, i)
	}
	return outs, nil
}

// rowEncoder turns Arrow rows into serialized Examples.
type rowEncoder struct {
	feats []*featureOut
	ex    *example.Example
	buf   []byte
}

func newRowEncoder(s *arrow.Schema) (*rowEncoder, error) {
	feats, err := featuresOf(s)
	if err != nil {
		return nil, err
	}
	return &rowEncoder{feats: feats, ex: example.New()}, nil
}

// encode returns the serialized Example of row i of rec (valid until the
// next call). Null values are missing features.
func (e *rowEncoder) encode(rec arrow.Record, i int) ([]byte, error) {
	clear(e.ex.Features)
	for _, fo := range e.feats {
		f := &fo.f
		f.Kind = fo.kind
		f.Floats, f.Int64s, f.Bytes = f.Floats[:0], f.Int64s[:0], f.Bytes[:0]
		present := false
		for _, ci := range fo.cols {
			col := rec.Column(ci)
			if col.IsNull(i) {
				continue
			}
			present = true
			if l, ok := col.(*array.List); ok {
				start, end := l.ValueOffsets(i)
				values := l.ListValues()
				for j := int(start); j < int(end); j++ {
					if err := appendValue(f, values, j); err != nil {
						return nil, fmt.Errorf("column %q: %w", rec.ColumnName(ci), err)
					}
				}
				continue
			}
			if err := appendValue(f, col, i); err != nil {
				return nil, fmt.Errorf("column %q: %w", rec.ColumnName(ci), err)
			}
		}
		if present {
			if fo.mode == modeElem && f.Len() != len(fo.cols) {
				return nil, fmt.Errorf("feature %q: %d of its %d element columns are null", fo.name, len(fo.cols)-f.Len(), len(fo.cols))
			}
			e.ex.Features[fo.name] = *f
		}
	}
	e.buf = example.MarshalOptions{}.AppendExample(e.buf[:0], e.ex)
	return e.buf, nil
}

func appendValue(f *example.Feature, a arrow.Array, j int) error {
	if a.IsNull(j) {
		return fmt.Errorf("null list element at %d (tf.train.Feature lists cannot hold nulls)", j)
	}
	switch v := a.(type) {
	case *array.Float32:
		f.Floats = append(f.Floats, v.Value(j))
	case *array.Float64:
		f.Floats = append(f.Floats, float32(v.Value(j)))
	case *array.Float16:
		f.Floats = append(f.Floats, v.Value(j).Float32())
	case *array.Int64:
		f.Int64s = append(f.Int64s, v.Value(j))
	case *array.Int32:
		f.Int64s = append(f.Int64s, int64(v.Value(j)))
	case *array.Int16:
		f.Int64s = append(f.Int64s, int64(v.Value(j)))
	case *array.Int8:
		f.Int64s = append(f.Int64s, int64(v.Value(j)))
	case *array.Uint64:
		f.Int64s = append(f.Int64s, int64(v.Value(j)))
	case *array.Uint32:
		f.Int64s = append(f.Int64s, int64(v.Value(j)))
	case *array.Uint16:
		f.Int64s = append(f.Int64s, int64(v.Value(j)))
	case *array.Uint8:
		f.Int64s = append(f.Int64s, int64(v.Value(j)))
	case *array.Boolean:
		b := int64(0)
		if v.Value(j) {
			b = 1
		}
		f.Int64s = append(f.Int64s, b)
	case *array.String:
		f.Bytes = append(f.Bytes, []byte(v.Value(j)))
	case *array.LargeString:
		f.Bytes = append(f.Bytes, []byte(v.Value(j)))
	case *array.Binary:
		f.Bytes = append(f.Bytes, v.Value(j))
	case *array.LargeBinary:
		f.Bytes = append(f.Bytes, v.Value(j))
	default:
		return fmt.Errorf("unsupported array type %s", a.DataType())
	}
	return nil
}

// ParquetToTFRecords writes the rows of Parquet files, in order, as
// tf.train.Example records into one TFRecord file at outPath (written
// atomically). Files written by TFRecordsToParquet carry their feature
// mapping, so the records come back exactly as they were (scalar columns
// become one-value lists, name_i columns are joined, nulls are missing
// features). Other Parquet files map one column to one feature.
func ParquetToTFRecords(ctx context.Context, files []string, outPath string, opts TFRecordOptions) (*Result, error) {
	start := time.Now()
	comp, err := tfrecord.ParseCompression(opts.Compression)
	if err != nil {
		return nil, err
	}
	res := &Result{Inputs: append([]string(nil), files...)}
	w, err := tfrecord.Create(outPath, tfrecord.WriterOptions{Compression: comp})
	if err != nil {
		return res, fmt.Errorf("convert: %w", err)
	}
	defer w.Abort()
	var enc *rowEncoder
	for _, path := range files {
		st, err := os.Stat(path)
		if err != nil {
			return res, fmt.Errorf("convert: %w", err)
		}
		res.BytesIn += st.Size()
		err = eachParquetRecord(ctx, path, func(schema *arrow.Schema, rec arrow.Record) error {
			if enc == nil {
				res.Schema = schema
				if enc, err = newRowEncoder(schema); err != nil {
					return err
				}
			} else if !sameFields(res.Schema, schema) {
				return fmt.Errorf("schema differs from %s", files[0])
			}
			for i := 0; i < int(rec.NumRows()); i++ {
				b, err := enc.encode(rec, i)
				if err != nil {
					return fmt.Errorf("row %d: %w", res.Rows, err)
				}
				if err := w.Write(b); err != nil {
					return err
				}
				res.Rows++
			}
			return ctx.Err()
		})
		if err != nil {
			res.Elapsed = time.Since(start)
			return res, fmt.Errorf("convert: %s: %w", path, err)
		}
	}
	if err := w.Close(); err != nil {
		return res, err
	}
	res.Files = []string{outPath}
	if st, err := os.Stat(outPath); err == nil {
		res.BytesOut = st.Size()
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// eachParquetRecord streams a Parquet file in record batches.
// fn gets the file's schema (with its metadata) and each batch.
func eachParquetRecord(ctx context.Context, path string, fn func(*arrow.Schema, arrow.Record) error) error {
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return err
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 8192}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	schema, err := fr.Schema()
	if err != nil {
		return err
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return err
	}
	defer rr.Release()
	for rr.Next() {
		if err := fn(schema, rr.Record()); err != nil {
			return err
		}
	}
	// pqarrow's record reader reports the end of the data as io.EOF.
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// WriteTFRecords writes the rows of t as tf.train.Example records (see
// ParquetToTFRecords for the mapping) into a TFRecord file at path, written
// atomically, and returns the number of records.
func WriteTFRecords(ctx context.Context, t arrow.Table, path string, opts TFRecordOptions) (int64, error) {
	comp, err := tfrecord.ParseCompression(opts.Compression)
	if err != nil {
		return 0, err
	}
	enc, err := newRowEncoder(t.Schema())
	if err != nil {
		return 0, err
	}
	w, err := tfrecord.Create(path, tfrecord.WriterOptions{Compression: comp})
	if err != nil {
		return 0, err
	}
	defer w.Abort()
	tr := array.NewTableReader(t, 8192)
	defer tr.Release()
	var n int64
	for tr.Next() {
		rec := tr.Record()
		for i := 0; i < int(rec.NumRows()); i++ {
			b, err := enc.encode(rec, i)
			if err != nil {
				return n, fmt.Errorf("convert: row %d: %w", n, err)
			}
			if err := w.Write(b); err != nil {
				return n, err
			}
			n++
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
	}
	return n, w.Close()
}
