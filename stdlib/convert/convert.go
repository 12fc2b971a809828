// Package convert converts tabular data sets between TFRecord files of
// tf.train.Example records, Parquet and CSV, streaming and in parallel, with
// one schema per conversion and atomic output files. It is the Go twin of
// NVTabular's convert_tfrecords_to_parquet:
//
//	res, err := convert.TFRecordsToParquet(ctx, files, outDir, convert.Options{
//		Chunks: 1000, ConvertLists: true,
//	})
//
// Schema. A conversion decides its schema before writing anything: either
// Options.Schema, or the schema a scan of every record of every input
// infers (Options.InferSample limits the scan to the first n records of
// each file). To infer it without an extra pass over the data, the
// conversion first takes the schema of the first 10000 records of the
// first input and checks every record against it as it converts; a record
// it does not describe exactly as the full scan would makes the conversion
// remove its files and start again after the full scan (always the case
// with SkipCorrupt or Resume). The full scan of an uncompressed input runs
// on Options.Workers goroutines, each over a byte range of the file, and
// does not verify data checksums (unless SkipCorrupt is set): the
// conversion verifies every record and names the damaged one. Compressed
// inputs are scanned from start to end. Each feature becomes a column:
// float_list → float32, int64_list → int64, bytes_list → string (binary
// when a value is not UTF-8). With ConvertLists, a feature holding exactly
// one value in every scanned record becomes a scalar column, one holding
// exactly k>1 values becomes columns name_0..name_{k-1}, and anything else
// stays a list column; without it every feature is a list column. A
// missing feature is a null. Every output file carries the same schema; a record that contradicts it is an error
// naming file, record index, byte offset, feature, expected and found, or
// is dropped and counted with SkipCorrupt.
//
// Output. Records of an input file go to <stem>_<k>.parquet, Chunks records
// per file, each written to a temporary name and renamed when complete. A
// cancelled context removes unfinished files and reports finished ones;
// Resume reuses complete chunk files of an earlier run.
package convert

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/gopherlab/gopherlab/stdlib/convert/tfrecord"
)

// Options configure TFRecordsToParquet. The zero value converts
// uncompressed TFRecords into snappy Parquet files of 100000 rows, using
// every CPU, with all features as list columns.
type Options struct {
	// Compression of the input TFRecord files: "" (none), "ZLIB", "GZIP" or
	// "AUTO" (detected per file).
	Compression string
	// Chunks is the number of records per output file (default 100000).
	Chunks int
	// ConvertLists turns features of constant length 1 into scalar columns
	// and of constant length k>1 into k columns name_0..name_{k-1}.
	ConvertLists bool
	// Schema, if set, is the output schema and no inference scan happens.
	// Field names are feature names; a scalar type takes exactly one value
	// (none means null), a list type any number. Features not in the schema
	// are ignored. The Schema of an earlier Result can be passed back as is.
	Schema *arrow.Schema
	// InferSample limits the inference scan to the first n records of each
	// input (0 scans everything). Records after the sample that contradict
	// the schema are errors.
	InferSample int
	// Workers is the number of decoding goroutines, and the most input
	// files read and chunk files written at once (default GOMAXPROCS). The
	// inference scan runs on as many goroutines.
	Workers int
	// ParquetCompression is "snappy" (default), "zstd", "gzip" or "none".
	ParquetCompression string
	// RowGroupSize is the maximum rows per Parquet row group (default 65536).
	RowGroupSize int
	// BatchSize is the number of records decoded as one unit (default 4096).
	BatchSize int
	// SkipCorrupt drops records that are not Examples, contradict the
	// schema or fail their data checksum, instead of failing; they are
	// counted in Result.Skipped. Damaged framing still ends that file.
	SkipCorrupt bool
	// Resume keeps existing full chunk files of an earlier, interrupted
	// conversion with the same schema instead of rewriting them.
	Resume bool
}

func (o *Options) defaults() error {
	if o.Chunks <= 0 {
		o.Chunks = 100000
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.RowGroupSize <= 0 {
		o.RowGroupSize = 65536
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 4096
	}
	if o.BatchSize > o.RowGroupSize {
		o.BatchSize = o.RowGroupSize
	}
	if _, err := tfrecord.ParseCompression(o.Compression); err != nil {
		return err
	}
	if _, err := parquetCodec(o.ParquetCompression); err != nil {
		return err
	}
	return nil
}

func parquetCodec(s string) (compress.Compression, error) {
	switch strings.ToLower(s) {
	case "", "snappy":
		return compress.Codecs.Snappy, nil
	case "zstd":
		return compress.Codecs.Zstd, nil
	case "gzip":
		return compress.Codecs.Gzip, nil
	case "none", "uncompressed":
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("convert: unknown ParquetCompression %q (want snappy, zstd, gzip or none)", s)
}

// writerProps returns the pqarrow writer properties for a schema, as
// CSVToParquet uses them (TFRecordsToParquet encodes its pages itself, see
// pqwrite.go).
func writerProps(schema *arrow.Schema, codec compress.Compression, rowGroup int) (*parquet.WriterProperties, pqarrow.ArrowWriterProperties) {
	opts := []parquet.WriterProperty{
		parquet.WithCompression(codec),
		parquet.WithMaxRowGroupLength(int64(rowGroup)),
		parquet.WithCreatedBy("gopherlab convert"),
		parquet.WithDictionaryDefault(true),
		// Data page v2: arrow/go v15 grows v1 level buffers a few bytes at a
		// time (quadratic copying); v2 pages avoid that path and every
		// current reader (DuckDB, pyarrow, Spark) reads them.
		parquet.WithDataPageVersion(parquet.DataPageV2),
	}
	// Floats rarely repeat: dictionary encoding them only costs time.
	// Strings keep the dictionary.
	for _, f := range schema.Fields() {
		dt := f.Type
		path := f.Name
		if lt, ok := dt.(*arrow.ListType); ok {
			dt = lt.Elem()
			path = f.Name + ".list.element" // pqarrow's element name
		}
		switch dt.ID() {
		case arrow.FLOAT32, arrow.FLOAT64:
			opts = append(opts, parquet.WithDictionaryFor(path, false))
		case arrow.INT64, arrow.INT32:
			// Delta bit-packing stores small categories about as compactly
			// as a dictionary but costs much less CPU than arrow/go's
			// hashing dictionary encoder. Only for required scalar columns:
			// arrow/go v15's delta encoder crashes on a write with no
			// values (all nulls or empty lists).
			if !f.Nullable && f.Type.ID() != arrow.LIST {
				opts = append(opts, parquet.WithDictionaryFor(path, false),
					parquet.WithEncodingFor(path, parquet.Encodings.DeltaBinaryPacked))
			} else {
				// Lists and nullable columns: plain values (the page codec
				// still compresses them); hashing every value into a
				// dictionary cost more CPU than the rest of the column.
				opts = append(opts, parquet.WithDictionaryFor(path, false))
			}
		}
	}
	return parquet.NewWriterProperties(opts...), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
}

// Result reports a conversion. It renders as a table in a notebook.
type Result struct {
	Inputs   []string      // input files
	Files    []string      // output files, in input and chunk order
	Resumed  []string      // output files kept from an earlier run (also in Files)
	Rows     int64         // rows written (including resumed files)
	Skipped  int64         // records dropped by SkipCorrupt
	Problems []string      // the first dropped records' errors
	Schema   *arrow.Schema // the one schema of every output file
	BytesIn  int64         // bytes of input files
	BytesOut int64         // bytes of output files
	Elapsed  time.Duration // wall time, including the inference scan
	ScanTime time.Duration // time spent inferring the schema
}

// RowsPerSecond returns Rows / Elapsed.
func (r *Result) RowsPerSecond() float64 {
	if r == nil || r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Rows) / r.Elapsed.Seconds()
}

// stem returns the file name without directory and extension(s) like
// ".tfrecords", ".tfrecord", ".gz".
func stem(path string) string {
	base := filepath.Base(path)
	for {
		ext := filepath.Ext(base)
		switch strings.ToLower(ext) {
		case ".tfrecords", ".tfrecord", ".gz", ".gzip", ".zlib", ".zz", ".parquet", ".csv", ".tfr":
			base = strings.TrimSuffix(base, ext)
			continue
		}
		return base
	}
}

// ChunkName returns the output file name of chunk k of input path.
func ChunkName(path string, k int) string {
	return fmt.Sprintf("%s_%d.parquet", stem(path), k)
}

// TFRecordsToParquet converts TFRecord files of tf.train.Example (or
// SequenceExample, whose context is used) records into Parquet files in
// outDir, named <stem>_<k>.parquet. See the package documentation for the
// schema rules. On error or cancellation the Result lists the files that
// were completed; no partial .parquet file is left behind.
func TFRecordsToParquet(ctx context.Context, files []string, outDir string, opts Options) (*Result, error) {
	start := time.Now()
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("convert: no input files")
	}
	res := &Result{Inputs: append([]string(nil), files...)}
	stems := map[string]string{}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return res, fmt.Errorf("convert: %w", err)
		}
		if st.IsDir() {
			return res, fmt.Errorf("convert: %s is a directory", f)
		}
		res.BytesIn += st.Size()
		s := stem(f)
		if other, ok := stems[s]; ok {
			return res, fmt.Errorf("convert: %s and %s would both write %s_<k>.parquet", other, f, s)
		}
		stems[s] = f
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return res, fmt.Errorf("convert: %w", err)
	}
	var p *plan
	var err error
	if opts.Schema != nil {
		p, err = planFromSchema(opts.Schema)
	} else {
		if done, err := tryFromSample(ctx, files, outDir, opts, res, start); done {
			return res, err
		}
		scanStart := time.Now()
		p, err = inferPlan(ctx, files, opts)
		res.ScanTime = time.Since(scanStart)
	}
	if err != nil {
		res.Elapsed = time.Since(start)
		return res, err
	}
	res.Schema = p.schema
	err = runConversion(ctx, files, outDir, p, opts, res)
	res.Elapsed = time.Since(start)
	return res, err
}

// sampleRecords is how many records of the first input decide the schema
// that a conversion then verifies on every record (see tryFromSample).
const sampleRecords = 10000

// tryFromSample infers the schema from the first sampleRecords records of
// the first input and converts with it, checking every record against it:
// a record that the schema does not describe exactly as a scan of all
// records would (a feature it lacks, a length or kind it does not allow,
// a missing value in a required column, an empty list under a scalar
// column) stops the conversion. The schema is then the one a full scan
// infers: its columns are the features in order of first appearance
// (all in the sample, the start of the inputs), each with the kind, length
// rule and nullability of the sample, which every record satisfies. done
// is false when the conversion has to start again with the full scan
// (its files are removed first), or when the options rule the shortcut
// out: SkipCorrupt (records dropped from the scan), Resume (kept files are
// not read) or InferSample.
func tryFromSample(ctx context.Context, files []string, outDir string, opts Options, res *Result, start time.Time) (done bool, err error) {
	if opts.SkipCorrupt || opts.Resume || opts.InferSample > 0 {
		return false, nil
	}
	scanStart := time.Now()
	sample := opts
	sample.InferSample = sampleRecords
	stats, n, err := scanSequential(ctx, files[0], sample)
	if err != nil || n == 0 {
		return false, nil
	}
	p, err := planFromStats(stats, n, opts.ConvertLists)
	if err != nil {
		return false, nil
	}
	p.exact = true
	try := &Result{Inputs: res.Inputs, BytesIn: res.BytesIn, Schema: p.schema, ScanTime: time.Since(scanStart)}
	err = runConversion(ctx, files, outDir, p, opts, try)
	if err == nil || ctx.Err() != nil {
		*res = *try
		res.Elapsed = time.Since(start)
		return true, err
	}
	for _, f := range try.Files {
		os.Remove(f)
	}
	return false, nil
}

// inferPlan scans the inputs in parallel and decides the schema.
func inferPlan(ctx context.Context, files []string, opts Options) (*plan, error) {
	type scanOut struct {
		stats   []*featureStats
		records int64
		err     error
	}
	outs := make([]scanOut, len(files))
	// Up to Workers files are open at once; slots bounds the scans running
	// at once, so that the byte ranges of a large file share the CPUs with
	// the scans of other files.
	sem := make(chan struct{}, opts.Workers)
	slots := make(chan struct{}, opts.Workers)
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, f string) {
			defer wg.Done()
			defer func() { <-sem }()
			st, n, err := scanFile(ctx, f, opts, slots)
			outs[i] = scanOut{st, n, err}
		}(i, f)
	}
	wg.Wait()
	m := newStatsMerge()
	var records int64
	for _, o := range outs {
		if o.err != nil {
			return nil, o.err
		}
		records += o.records
		// Record indexes stay per file.
		if g, st := m.add(o.stats, 0); g != nil {
			return nil, &RecordError{File: st.file, Record: st.record, Offset: st.offset, Feature: st.name,
				Expected: fmt.Sprintf("%s (as first seen in %s, record %d)", g.kind, g.file, g.record), Found: st.kind.String()}
		}
	}
	return planFromStats(m.order, records, opts.ConvertLists)
}

// Time budget checks: the scan and conversion loops poll ctx every
// ctxEvery records.
const ctxEvery = 4096

func openInput(path string, opts Options) (*tfrecord.Reader, error) {
	comp, _ := tfrecord.ParseCompression(opts.Compression)
	r, err := tfrecord.Open(path, tfrecord.ReaderOptions{Compression: comp})
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	return r, nil
}

// sortFiles orders output files by input then chunk number.
func sortFiles(files []outFile) []string {
	sort.Slice(files, func(i, j int) bool {
		if files[i].input != files[j].input {
			return files[i].input < files[j].input
		}
		return files[i].chunk < files[j].chunk
	})
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.path
	}
	return out
}

type outFile struct {
	input, chunk int
	path         string
	rows         int64
	bytes        int64
	resumed      bool
}

// existingChunk reports whether path is a complete chunk of an earlier run:
// rows rows and the same schema.
func existingChunk(path string, schema *arrow.Schema, rows int) (int64, bool) {
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return 0, false
	}
	defer rdr.Close()
	if rdr.NumRows() != int64(rows) {
		return 0, false
	}
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, nil)
	if err != nil {
		return 0, false
	}
	s, err := fr.Schema()
	if err != nil || !sameFields(s, schema) {
		return 0, false
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, false
	}
	return st.Size(), true
}

func sameFields(a, b *arrow.Schema) bool {
	if len(a.Fields()) != len(b.Fields()) {
		return false
	}
	for i := range a.Fields() {
		fa, fb := a.Field(i), b.Field(i)
		// typeName ignores list element names, which Parquet readers rename.
		if fa.Name != fb.Name || typeName(fa.Type) != typeName(fb.Type) {
			return false
		}
	}
	return true
}
