package convert

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"sync"

	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/metadata"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/apache/arrow/go/v15/parquet/schema"
	"github.com/klauspost/compress/s2"
)

// The conversion writes Parquet pages itself instead of going through
// pqarrow: the columns of a batch are already flat Go slices whose layout
// is known from the plan, so definition and repetition levels can be
// bit-packed straight from the list offsets and the values copied as PLAIN,
// at a small fraction of the CPU pqarrow spends computing and RLE-encoding
// levels value by value. The pages are encoded (and compressed) by the
// decode workers, in parallel; the chunk writer only appends them to the
// file. Schema conversion, column chunk, row group and footer metadata come
// from arrow's parquet packages, so the files are those pqarrow would
// describe (same Parquet schema, same key-value metadata including
// ARROW:schema), in data pages v1: floats and bytes PLAIN, required int
// scalars DELTA_BINARY_PACKED, and other int columns as dictionary indexes
// when a page's values are small non-negative numbers (categories, list
// entries): the value is its own index into a dictionary 0..max written in
// front of the column chunk, so pages are encoded independently with no
// hashing, and a page with other values falls back to PLAIN.

// pqLayout is the Parquet side of a plan, shared by all chunk files.
type pqLayout struct {
	schema *schema.Schema
	props  *parquet.WriterProperties
	kv     metadata.KeyValueMetadata
	codec  compress.Compression
	maxDef []int16
	maxRep []int16
	enc    []parquet.Encoding // value encoding of each column
	dict   []bool             // int column whose pages may be dictionary indexes
	elem   []elemType
	// free holds the row group buffers of finished files for the next
	// ones (at most one set per concurrent writer).
	mu   sync.Mutex
	free [][][]byte
}

func newPQLayout(p *plan, codecName string) (*pqLayout, error) {
	codec, err := parquetCodec(codecName)
	if err != nil {
		return nil, err
	}
	sc, err := pqarrow.ToParquet(p.schema, parquet.NewWriterProperties(), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	if sc.NumColumns() != len(p.cols) {
		return nil, fmt.Errorf("convert: internal error: %d Parquet columns for %d planned columns", sc.NumColumns(), len(p.cols))
	}
	l := &pqLayout{schema: sc, codec: codec, maxDef: make([]int16, len(p.cols)), maxRep: make([]int16, len(p.cols)), enc: make([]parquet.Encoding, len(p.cols)), dict: make([]bool, len(p.cols))}
	popts := []parquet.WriterProperty{
		parquet.WithCompression(codec),
		parquet.WithCreatedBy("gopherlab convert"),
		parquet.WithDictionaryDefault(false),
		parquet.WithEncoding(parquet.Encodings.Plain),
	}
	for i, c := range p.cols {
		// A scalar has definition level 1 when nullable. A list has one
		// level for the repeated group, one more if nullable, and pqarrow
		// declares the element optional, which adds one (values are never
		// null, so they are always at the maximum level).
		var def, rep int16
		if c.Nullable {
			def = 1
		}
		col := sc.Column(i)
		if c.mode == modeList {
			rep = 1
			if col.MaxDefinitionLevel() < def+1 {
				def = -1
			} else {
				def = col.MaxDefinitionLevel()
			}
		}
		if col.MaxDefinitionLevel() != def || col.MaxRepetitionLevel() != rep || def > 3 {
			return nil, fmt.Errorf("convert: internal error: column %q has levels %d/%d, want %d/%d", c.Name, col.MaxDefinitionLevel(), col.MaxRepetitionLevel(), def, rep)
		}
		l.maxDef[i], l.maxRep[i] = def, rep
		l.elem = append(l.elem, c.elem)
		l.enc[i] = parquet.Encodings.Plain
		if c.elem == elemI64 && def == 0 && rep == 0 {
			// Categories and counts are small numbers: delta bit-packing
			// stores them in a few bits each, and the codec then has far
			// fewer bytes to compress. Only for required scalar columns:
			// arrow/go v15's reader panics on delta pages that hold fewer
			// values than levels (lists with empty entries, nulls).
			l.enc[i] = parquet.Encodings.DeltaBinaryPacked
			popts = append(popts, parquet.WithEncodingFor(col.Path(), parquet.Encodings.DeltaBinaryPacked))
		} else if c.elem == elemI64 || c.elem == elemI32 {
			l.dict[i] = true
		}
	}
	l.props = parquet.NewWriterProperties(popts...)
	md := p.schema.Metadata()
	for i := 0; i < md.Len(); i++ {
		l.kv.Append(md.Keys()[i], md.Values()[i])
	}
	// ARROW:schema is the schema as an Arrow IPC stream without batches,
	// as pqarrow writes it.
	var ipcSchema bytes.Buffer
	if err := ipc.NewWriter(&ipcSchema, ipc.WithSchema(p.schema)).Close(); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	l.kv.Append("ARROW:schema", base64.StdEncoding.EncodeToString(ipcSchema.Bytes()))
	return l, nil
}

// page is one encoded data page of a batch column: header and body.
type page struct {
	hdr          []byte
	body         []byte // compressed
	numValues    int64  // level entries (values, nulls and empty lists)
	uncompressed int64  // header + uncompressed body
	enc          parquet.Encoding
	dictMax      int64 // largest dictionary index of an RLE_DICTIONARY page, else -1
	stats        colStats
}

// pageEncoder turns batch columns into pages. One per decode worker.
type pageEncoder struct {
	l      *pqLayout
	codec  compress.Codec
	body   []byte
	levels []byte
	words  []uint64
	tmp    []int64
}

func newPageEncoder(l *pqLayout) (*pageEncoder, error) {
	codec, err := compress.GetCodec(l.codec)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	return &pageEncoder{l: l, codec: codec}, nil
}

// encodeBatch fills b.pages with one page per column.
func (e *pageEncoder) encodeBatch(p *plan, b *batch) {
	if len(b.pages) != len(p.cols) {
		b.pages = make([]page, len(p.cols))
	}
	for i := range p.cols {
		e.encodeColumn(&b.pages[i], &b.cols[i], &p.cols[i], b.rows, i)
	}
}

func (e *pageEncoder) encodeColumn(pg *page, c *colBuf, pc *column, rows, col int) {
	l := e.l
	maxDef, enc := l.maxDef[col], l.enc[col]
	body := e.body[:0]
	var nlev int
	// The values are [0, to) of c, less the rows in nulls (placeholders
	// under null scalars).
	var nulls []int32
	var to int
	if pc.mode == modeList {
		var empty uint64
		if pc.Nullable {
			empty = 1
		}
		body, nlev = e.appendListLevels(body, c.offs[:rows+1], c.nulls, maxDef, empty)
		to = c.nvals(pc.elem)
	} else {
		nlev = rows
		if maxDef > 0 {
			bp := bitPacker{out: e.levels[:0]}
			prev := 0
			for _, r := range c.nulls {
				bp.putRun(1, 1, int(r)-prev)
				bp.put(0, 1)
				prev = int(r) + 1
			}
			bp.putRun(1, 1, rows-prev)
			body = appendLevels(body, &bp, 1)
			e.levels = bp.out
		}
		nulls, to = c.nulls, rows
	}
	pg.stats.reset()
	pg.dictMax = -1
	switch pc.elem {
	case elemI64, elemI32:
		lo, hi, ok := intRange(c, pc.elem, nulls, to)
		if ok {
			pg.stats.has, pg.stats.imin, pg.stats.imax = true, lo, hi
		}
		nv := to - len(nulls)
		switch {
		case l.dict[col] && ok && lo >= 0 && hi < int64(dictLimit(nv)):
			// The value is its own index in the dictionary 0..max that the
			// chunk writer puts in front of the column chunk.
			enc = parquet.Encodings.RLEDict
			pg.dictMax = hi
			body = appendIndexes(body, c, pc.elem, nulls, to, uint(max(1, bits.Len64(uint64(hi)))), nv)
		case enc == parquet.Encodings.DeltaBinaryPacked:
			vals := c.i64[:to]
			if len(nulls) > 0 {
				e.tmp = appendNonNull(e.tmp[:0], vals, nulls)
				vals = e.tmp
			}
			body = appendDelta(body, vals)
		default:
			body = appendPlain(body, c, pc.elem, nulls, 0, to)
		}
	default:
		body = appendPlain(body, c, pc.elem, nulls, 0, to)
		pg.stats.add(c, pc.elem, nulls, 0, to)
	}
	if pc.mode != modeList {
		pg.stats.nulls = int64(len(c.nulls))
	}
	switch l.codec {
	case compress.Codecs.Uncompressed:
		// The page takes the body; the encoder takes the page's old buffer.
		e.body, pg.body = pg.body[:0], body
	case compress.Codecs.Snappy:
		// klauspost's s2 writes the Snappy block format 2–3× faster than
		// golang/snappy (arrow's codec) on these pages, within 1% of its
		// size.
		e.body = body
		pg.body = s2.EncodeSnappy(pg.body[:cap(pg.body)], body)
	default:
		e.body = body
		pg.body = e.codec.Encode(pg.body[:cap(pg.body)], body)
	}
	pg.hdr = appendPageHeader(pg.hdr[:0], int32(len(body)), int32(len(pg.body)), int32(nlev), int32(enc))
	pg.numValues = int64(nlev)
	pg.enc = enc
	pg.uncompressed = int64(len(pg.hdr) + len(body))
}

// appendListLevels appends the repetition then the definition levels of
// the list rows with offsets offs (rows in nulls are null) and returns the
// number of level entries: one per value and one per empty or null list.
// Repetition levels are 0 where a row starts and 1 elsewhere; definition
// levels are maxDef for a value, empty for an empty list and 0 for a null
// one. Both are written as whole words: all ones (all maxDef), then each
// row start cleared (each empty or null list set) in one pass over the
// rows.
func (e *pageEncoder) appendListLevels(body []byte, offs, nulls []int32, maxDef int16, empty uint64) ([]byte, int) {
	rows := len(offs) - 1
	n := 0
	for r := 0; r < rows; r++ {
		n += max(int(offs[r+1]-offs[r]), 1)
	}
	w := uint(bits.Len16(uint16(maxDef))) // 1 or 2 (newPQLayout checks)
	nrep, ndef := (n+63)/64, (n*int(w)+63)/64
	words := slices.Grow(e.words[:0], nrep+ndef)[:nrep+ndef]
	e.words = words
	rep, def := words[:nrep], words[nrep:]
	for i := range rep {
		rep[i] = ^uint64(0)
	}
	pattern := uint64(maxDef) // maxDef repeated over the word
	for k := w; k < 64; k *= 2 {
		pattern |= pattern << k
	}
	for i := range def {
		def[i] = pattern
	}
	pos := 0
	for r := 0; r < rows; r++ {
		rep[pos>>6] &^= 1 << (pos & 63)
		k := int(offs[r+1] - offs[r])
		if k == 0 {
			v := empty
			if len(nulls) > 0 && int(nulls[0]) == r {
				nulls = nulls[1:]
				v = 0
			}
			bit := uint(pos) * w
			def[bit>>6] = def[bit>>6]&^((1<<w-1)<<(bit&63)) | v<<(bit&63)
			k = 1
		}
		pos += k
	}
	// Zero the padding after the last entry.
	if r := uint(n) % 64; r != 0 {
		rep[nrep-1] &= 1<<r - 1
	}
	if r := uint(n) * w % 64; r != 0 {
		def[ndef-1] &= 1<<r - 1
	}
	body = appendLevelWords(body, rep, n, 1)
	return appendLevelWords(body, def, n, w), n
}

// appendLevelWords appends n levels of width w, packed little-endian in
// words, as one length-prefixed bit-packed run (padded to a multiple of 8
// values), as data page v1 stores them.
func appendLevelWords(body []byte, words []uint64, n int, w uint) []byte {
	body, need := appendRunHeader(body, n, w)
	start := len(body)
	for _, x := range words {
		body = binary.LittleEndian.AppendUint64(body, x)
	}
	return body[:start+need]
}

// appendNonNull appends vals less the rows listed in nulls.
func appendNonNull(dst, vals []int64, nulls []int32) []int64 {
	prev := 0
	for _, r := range nulls {
		dst = append(dst, vals[prev:r]...)
		prev = int(r) + 1
	}
	return append(dst, vals[prev:]...)
}

// dictLimit bounds the dictionary of a page of n int values: the values
// must be below it for the page to store them as dictionary indexes. The
// dictionary holds every number up to the largest value, so it is kept
// small next to the data it replaces.
func dictLimit(n int) int {
	return min(maxDict, max(256, n))
}

// maxDict is the largest dictionary of an int column chunk (32 KiB of
// int64 values).
const maxDict = 4096

// intRange returns the smallest and largest of values [0, to) of an int
// column, leaving out the rows in nulls; ok is false when there are none.
func intRange(c *colBuf, e elemType, nulls []int32, to int) (lo, hi int64, ok bool) {
	lo, hi = math.MaxInt64, math.MinInt64
	from := 0
	for from < to {
		end := to
		if len(nulls) > 0 {
			end = int(nulls[0])
		}
		if e == elemI64 {
			for _, v := range c.i64[from:end] {
				lo, hi = min(lo, v), max(hi, v)
			}
		} else {
			for _, v := range c.i32[from:end] {
				lo, hi = min(lo, int64(v)), max(hi, int64(v))
			}
		}
		if end > from {
			ok = true
		}
		if len(nulls) == 0 {
			break
		}
		from = end + 1
		nulls = nulls[1:]
	}
	return lo, hi, ok
}

// appendIndexes appends the nv values [0, to) of an int column (rows in
// nulls left out), all in [0, 2^w), as the body of an RLE_DICTIONARY data
// page: the bit width, then one bit-packed run of the RLE/bit-packing
// hybrid encoding, padded to a multiple of 8 values.
func appendIndexes(body []byte, c *colBuf, e elemType, nulls []int32, to int, w uint, nv int) []byte {
	body = append(body, byte(w))
	groups := (nv + 7) / 8
	if groups == 0 {
		return body
	}
	body = binary.AppendUvarint(body, uint64(groups)<<1|1)
	start := len(body)
	var acc uint64
	var n uint
	from := 0
	if e == elemI64 && len(nulls) == 0 && 64%w == 0 {
		// Widths that divide 64: whole words of 64/w values, no value
		// across two words.
		per := int(64 / w)
		vals := c.i64[:to]
		for ; from+per <= len(vals); from += per {
			var word uint64
			for k, v := range vals[from : from+per] {
				word |= uint64(v) << (uint(k) * w)
			}
			body = binary.LittleEndian.AppendUint64(body, word)
		}
		for _, v := range vals[from:] {
			acc |= uint64(v) << n
			n += w
		}
		from = to
	}
	for from < to {
		end := to
		if len(nulls) > 0 {
			end = int(nulls[0])
		}
		if e == elemI64 {
			for _, v := range c.i64[from:end] {
				acc |= uint64(v) << n
				n += w
				if n >= 64 {
					body = binary.LittleEndian.AppendUint64(body, acc)
					n -= 64
					acc = uint64(v) >> (w - n) // 0 when n is 0
				}
			}
		} else {
			for _, v := range c.i32[from:end] {
				acc |= uint64(v) << n
				n += w
				if n >= 64 {
					body = binary.LittleEndian.AppendUint64(body, acc)
					n -= 64
					acc = uint64(v) >> (w - n)
				}
			}
		}
		if len(nulls) == 0 {
			break
		}
		from = end + 1
		nulls = nulls[1:]
	}
	for ; n > 0; n -= min(n, 8) {
		body = append(body, byte(acc))
		acc >>= 8
	}
	// Zero padding up to whole groups of 8 values.
	for len(body)-start < groups*int(w) {
		body = append(body, 0)
	}
	return body
}

// appendPlain appends values [from, to) of c, PLAIN-encoded, leaving out
// the rows listed in nulls (placeholders under null scalars).
func appendPlain(body []byte, c *colBuf, e elemType, nulls []int32, from, to int) []byte {
	for from < to {
		end := to
		if len(nulls) > 0 {
			end = int(nulls[0])
		}
		switch {
		case !littleEndian:
			body = appendPlainPortable(body, c, e, from, end)
		case e == elemF32:
			body = append(body, sliceBytes(c.f32[from:end])...)
		case e == elemF64:
			body = append(body, sliceBytes(c.f64[from:end])...)
		case e == elemI64:
			body = append(body, sliceBytes(c.i64[from:end])...)
		case e == elemI32:
			body = append(body, sliceBytes(c.i32[from:end])...)
		default:
			for i := from; i < end; i++ {
				v := c.data[c.voffs[i]:c.voffs[i+1]]
				body = binary.LittleEndian.AppendUint32(body, uint32(len(v)))
				body = append(body, v...)
			}
		}
		if len(nulls) == 0 {
			break
		}
		from = end + 1
		nulls = nulls[1:]
	}
	return body
}

// littleEndian says whether the memory of numeric slices is already in
// PLAIN byte order.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// appendPlainPortable is appendPlain's numeric case, value by value.
func appendPlainPortable(body []byte, c *colBuf, e elemType, from, end int) []byte {
	le := binary.LittleEndian
	for i := from; i < end; i++ {
		switch e {
		case elemF32:
			body = le.AppendUint32(body, math.Float32bits(c.f32[i]))
		case elemF64:
			body = le.AppendUint64(body, math.Float64bits(c.f64[i]))
		case elemI64:
			body = le.AppendUint64(body, uint64(c.i64[i]))
		case elemI32:
			body = le.AppendUint32(body, uint32(c.i32[i]))
		default:
			v := c.data[c.voffs[i]:c.voffs[i+1]]
			body = le.AppendUint32(body, uint32(len(v)))
			body = append(body, v...)
		}
	}
	return body
}

// colStats are the statistics of a page or column chunk: minimum and
// maximum (NaN left out) and, for scalar columns, the null count.
type colStats struct {
	has        bool
	fmin, fmax float64 // float columns
	imin, imax int64   // int columns
	bmin, bmax []byte  // bytes columns (owned copies)
	nulls      int64
}

func (s *colStats) reset() {
	s.has, s.nulls = false, 0
	s.bmin, s.bmax = s.bmin[:0], s.bmax[:0]
}

func (s *colStats) addFloat(v float64) {
	if v != v { // NaN has no order
		return
	}
	if !s.has {
		s.has, s.fmin, s.fmax = true, v, v
		return
	}
	s.fmin, s.fmax = min(s.fmin, v), max(s.fmax, v)
}

func (s *colStats) addInt(v int64) {
	if !s.has {
		s.has, s.imin, s.imax = true, v, v
		return
	}
	s.imin, s.imax = min(s.imin, v), max(s.imax, v)
}

func (s *colStats) addBytes(v []byte) {
	if !s.has {
		s.has = true
		s.bmin, s.bmax = append(s.bmin[:0], v...), append(s.bmax[:0], v...)
		return
	}
	if bytes.Compare(v, s.bmin) < 0 {
		s.bmin = append(s.bmin[:0], v...)
	}
	if bytes.Compare(v, s.bmax) > 0 {
		s.bmax = append(s.bmax[:0], v...)
	}
}

// add takes values [from, to) of c into s, leaving out rows in nulls.
func (s *colStats) add(c *colBuf, e elemType, nulls []int32, from, to int) {
	for from < to {
		end := to
		if len(nulls) > 0 {
			end = int(nulls[0])
		}
		switch e {
		case elemF32:
			if lo, hi, ok := float32Range(c.f32[from:end]); ok {
				s.addFloat(float64(lo))
				s.addFloat(float64(hi))
			}
		case elemF64:
			if lo, hi, ok := floatRange(c.f64[from:end]); ok {
				s.addFloat(lo)
				s.addFloat(hi)
			}
		case elemI64:
			for _, v := range c.i64[from:end] {
				s.addInt(v)
			}
		case elemI32:
			for _, v := range c.i32[from:end] {
				s.addInt(int64(v))
			}
		default:
			for i := from; i < end; i++ {
				s.addBytes(c.data[c.voffs[i]:c.voffs[i+1]])
			}
		}
		if len(nulls) == 0 {
			break
		}
		from = end + 1
		nulls = nulls[1:]
	}
}

// float32Range is floatRange without a branch per value: float32 bits
// map to int32s in the order of the floats (negative numbers with all but
// the sign bit flipped), whose minimum and maximum the compiler computes
// with conditional moves. NaNs map outside [-Inf, +Inf]; a slice holding
// one goes to floatRange.
func float32Range(vs []float32) (lo, hi float32, ok bool) {
	if len(vs) == 0 {
		return 0, 0, false
	}
	key := func(v float32) int32 {
		b := int32(math.Float32bits(v))
		return b ^ (b >> 31 & 0x7fffffff)
	}
	lo0, hi0 := key(vs[0]), key(vs[0])
	lo1, hi1 := lo0, hi0
	i := 1
	for ; i+1 < len(vs); i += 2 {
		a, b := key(vs[i]), key(vs[i+1])
		lo0, hi0 = min(lo0, a), max(hi0, a)
		lo1, hi1 = min(lo1, b), max(hi1, b)
	}
	if i < len(vs) {
		a := key(vs[i])
		lo0, hi0 = min(lo0, a), max(hi0, a)
	}
	l, h := min(lo0, lo1), max(hi0, hi1)
	if l < key(float32(math.Inf(-1))) || h > key(float32(math.Inf(1))) {
		return floatRange(vs)
	}
	back := func(k int32) float32 {
		return math.Float32frombits(uint32(k ^ (k >> 31 & 0x7fffffff)))
	}
	return back(l), back(h), true
}

// floatRange returns the smallest and largest value of vs, NaN left out;
// ok is false when there is none.
func floatRange[F float32 | float64](vs []F) (lo, hi F, ok bool) {
	i := 0
	for i < len(vs) && vs[i] != vs[i] {
		i++
	}
	if i == len(vs) {
		return 0, 0, false
	}
	lo, hi = vs[i], vs[i]
	// NaN compares false both ways, so it never replaces lo or hi.
	for _, v := range vs[i+1:] {
		if v < lo {
			lo = v
		} else if v > hi {
			hi = v
		}
	}
	return lo, hi, true
}

// merge takes the statistics of a page into a column chunk's.
func (s *colStats) merge(o *colStats, e elemType) {
	s.nulls += o.nulls
	if !o.has {
		return
	}
	switch e {
	case elemF32, elemF64:
		s.addFloat(o.fmin)
		s.addFloat(o.fmax)
	case elemI64, elemI32:
		s.addInt(o.imin)
		s.addInt(o.imax)
	default:
		s.addBytes(o.bmin)
		s.addBytes(o.bmax)
	}
}

// encode returns the statistics in Parquet's PLAIN form. A zero minimum
// is written as -0 and a zero maximum as +0, as the format asks of float
// statistics.
func (s *colStats) encode(e elemType, withNulls bool) metadata.EncodedStatistics {
	var st metadata.EncodedStatistics
	if withNulls {
		st.HasNullCount, st.NullCount = true, s.nulls
	}
	if !s.has {
		return st
	}
	le := binary.LittleEndian
	var lo, hi []byte
	switch e {
	case elemF32, elemF64:
		fmin, fmax := s.fmin, s.fmax
		if fmin == 0 {
			fmin = math.Copysign(0, -1)
		}
		if fmax == 0 {
			fmax = 0
		}
		if e == elemF32 {
			lo, hi = le.AppendUint32(nil, math.Float32bits(float32(fmin))), le.AppendUint32(nil, math.Float32bits(float32(fmax)))
		} else {
			lo, hi = le.AppendUint64(nil, math.Float64bits(fmin)), le.AppendUint64(nil, math.Float64bits(fmax))
		}
		st.Signed = true
	case elemI64:
		lo, hi = le.AppendUint64(nil, uint64(s.imin)), le.AppendUint64(nil, uint64(s.imax))
		st.Signed = true
	case elemI32:
		lo, hi = le.AppendUint32(nil, uint32(s.imin)), le.AppendUint32(nil, uint32(s.imax))
		st.Signed = true
	default:
		lo, hi = append([]byte{}, s.bmin...), append([]byte{}, s.bmax...)
	}
	st.HasMin, st.Min, st.HasMax, st.Max = true, lo, true, hi
	return st
}

// Delta bit-packing (DELTA_BINARY_PACKED) layout: blocks of deltaBlock
// values in deltaMinis miniblocks.
const (
	deltaBlock = 128
	deltaMinis = 4
	deltaMini  = deltaBlock / deltaMinis
)

// appendDelta appends vals in the DELTA_BINARY_PACKED encoding: a header
// (block size, miniblocks per block, count, first value), then per block
// the minimum delta, the bit width of each miniblock and the miniblocks'
// deltas minus the minimum, bit-packed. Arithmetic wraps, as the format
// allows.
func appendDelta(b []byte, vals []int64) []byte {
	b = binary.AppendUvarint(b, deltaBlock)
	b = binary.AppendUvarint(b, deltaMinis)
	b = binary.AppendUvarint(b, uint64(len(vals)))
	var first int64
	if len(vals) > 0 {
		first = vals[0]
	}
	b = binary.AppendVarint(b, first)
	var deltas [deltaBlock]uint64
	for i := 1; i < len(vals); i += deltaBlock {
		n := min(deltaBlock, len(vals)-i)
		minD := vals[i] - vals[i-1]
		for j := 0; j < n; j++ {
			d := vals[i+j] - vals[i+j-1]
			deltas[j] = uint64(d)
			minD = min(minD, d)
		}
		b = binary.AppendVarint(b, minD)
		var widths [deltaMinis]uint
		used := (n + deltaMini - 1) / deltaMini
		for m := 0; m < used; m++ {
			var or uint64
			for j := m * deltaMini; j < min((m+1)*deltaMini, n); j++ {
				deltas[j] -= uint64(minD)
				or |= deltas[j]
			}
			widths[m] = uint(bits.Len64(or))
		}
		for m := 0; m < deltaMinis; m++ {
			b = append(b, byte(widths[m]))
		}
		for m := 0; m < used; m++ {
			// Unused slots of the last miniblock are zero padding.
			for j := n; j < (m+1)*deltaMini && j < deltaBlock; j++ {
				deltas[j] = 0
			}
			b = packMini(b, deltas[m*deltaMini:(m+1)*deltaMini], widths[m])
		}
	}
	return b
}

// packMini bit-packs 32 values of width w, least significant bit first.
func packMini(b []byte, vs []uint64, w uint) []byte {
	if w == 0 {
		return b
	}
	var acc uint64
	var n uint
	for _, v := range vs {
		acc |= v << n
		if n+w >= 64 {
			b = binary.LittleEndian.AppendUint64(b, acc)
			acc = v >> (64 - n) // 0 when n is 0
			n = n + w - 64
		} else {
			n += w
		}
	}
	// 32 values of w bits end on a byte boundary.
	for ; n > 0; n -= 8 {
		b = append(b, byte(acc))
		acc >>= 8
	}
	return b
}

// bitPacker packs levels of width 1 or 2 bits, little-endian, as in the
// bit-packed runs of Parquet's RLE/bit-packing hybrid encoding.
type bitPacker struct {
	out   []byte
	acc   uint64
	n     uint // bits in acc
	count int  // values put
}

func (p *bitPacker) put(v uint64, w uint) {
	p.acc |= v << p.n
	p.n += w
	p.count++
	if p.n == 64 {
		p.out = binary.LittleEndian.AppendUint64(p.out, p.acc)
		p.acc, p.n = 0, 0
	}
}

// putRun puts k copies of v.
func (p *bitPacker) putRun(v uint64, w uint, k int) {
	if k <= 0 {
		return
	}
	p.count += k
	var word uint64 // 64/w copies of v
	if w == 1 {
		word = -v // v is 0 or 1
	} else {
		word = v * 0x5555555555555555
	}
	nb := uint(k) * w
	// Fill acc up to a word boundary, then whole words, then the rest.
	if p.n > 0 {
		room := 64 - p.n
		take := min(room, nb)
		p.acc |= (word & mask(take)) << p.n
		p.n += take
		nb -= take
		if p.n < 64 {
			return
		}
		p.out = binary.LittleEndian.AppendUint64(p.out, p.acc)
		p.acc, p.n = 0, 0
	}
	for nb >= 64 {
		p.out = binary.LittleEndian.AppendUint64(p.out, word)
		nb -= 64
	}
	p.acc = word & mask(nb)
	p.n = nb
}

func mask(n uint) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<n - 1
}

// appendRunHeader appends the length prefix and the bit-packed run header
// of n levels of width w (padded to a multiple of 8 values) and returns
// how many bytes of packed data the caller must append after it.
func appendRunHeader(body []byte, n int, w uint) ([]byte, int) {
	groups := (n + 7) / 8
	need := groups * int(w)
	var hdr [binary.MaxVarintLen64]byte
	hn := 0
	if groups > 0 {
		hn = binary.PutUvarint(hdr[:], uint64(groups)<<1|1)
	}
	body = binary.LittleEndian.AppendUint32(body, uint32(hn+need))
	return append(body, hdr[:hn]...), need
}

// appendLevels appends the levels in p as one length-prefixed bit-packed
// run (padded to a multiple of 8 values), as data page v1 stores them.
func appendLevels(body []byte, p *bitPacker, w uint) []byte {
	body, need := appendRunHeader(body, p.count, w)
	have := len(p.out)
	body = append(body, p.out...)
	var tail [8]byte
	binary.LittleEndian.PutUint64(tail[:], p.acc)
	return append(body, tail[:need-have]...)
}

// appendPageHeader appends a Thrift compact PageHeader of a data page v1
// with values in the given encoding and RLE levels.
func appendPageHeader(b []byte, uncompressed, compressed, numValues, encoding int32) []byte {
	const i32 = 5              // compact type id of i32
	b = append(b, 1<<4|i32, 0) // 1: type = DATA_PAGE
	b = append(b, 1<<4|i32)    // 2: uncompressed_page_size
	b = appendZigzag(b, uncompressed)
	b = append(b, 1<<4|i32) // 3: compressed_page_size
	b = appendZigzag(b, compressed)
	b = append(b, 2<<4|12) // 5: data_page_header (struct)
	b = append(b, 1<<4|i32)
	b = appendZigzag(b, numValues) // 1: num_values
	b = append(b, 1<<4|i32)
	b = appendZigzag(b, encoding) // 2: encoding
	b = append(b, 1<<4|i32, 3<<1) // 3: definition_level_encoding = RLE
	b = append(b, 1<<4|i32, 3<<1) // 4: repetition_level_encoding = RLE
	b = append(b, 0)              // end of DataPageHeader
	return append(b, 0)           // end of PageHeader
}

// appendDictPageHeader appends a Thrift compact PageHeader of a PLAIN
// dictionary page of n sorted values.
func appendDictPageHeader(b []byte, uncompressed, compressed, n int32) []byte {
	const i32 = 5
	b = append(b, 1<<4|i32, 2<<1) // 1: type = DICTIONARY_PAGE
	b = append(b, 1<<4|i32)       // 2: uncompressed_page_size
	b = appendZigzag(b, uncompressed)
	b = append(b, 1<<4|i32) // 3: compressed_page_size
	b = appendZigzag(b, compressed)
	b = append(b, 4<<4|12) // 7: dictionary_page_header (struct)
	b = append(b, 1<<4|i32)
	b = appendZigzag(b, n)     // 1: num_values
	b = append(b, 1<<4|i32, 0) // 2: encoding = PLAIN
	b = append(b, 1<<4|1)      // 3: is_sorted = true
	b = append(b, 0)           // end of DictionaryPageHeader
	return append(b, 0)        // end of PageHeader
}

func appendZigzag(b []byte, v int32) []byte {
	return binary.AppendUvarint(b, uint64(uint32(v<<1)^uint32(v>>31)))
}

// pqFile writes one Parquet file from encoded batch pages.
type pqFile struct {
	l        *pqLayout
	w        io.Writer
	pos      int64
	meta     *metadata.FileMetaDataBuilder
	maxRows  int
	expect   int      // rows a row group is expected to reach (sizes its buffers)
	cols     [][]byte // pending row group, per column
	nvals    []int64
	stats    []colStats
	unc      []int64
	pages    []map[parquet.Encoding]int32 // data pages by encoding
	dictMax  []int64                      // largest dictionary index used, -1 for none
	codec    compress.Codec
	dictBuf  []byte
	rows     int
	ordinal  int16
	rowsDone int64
}

var parquetMagic = []byte("PAR1")

func newPQFile(l *pqLayout, w io.Writer, maxRows int) (*pqFile, error) {
	f := &pqFile{l: l, w: w, maxRows: maxRows, meta: metadata.NewFileMetadataBuilder(l.schema, l.props, l.kv),
		nvals: make([]int64, len(l.maxDef)), stats: make([]colStats, len(l.maxDef)), unc: make([]int64, len(l.maxDef)),
		pages: make([]map[parquet.Encoding]int32, len(l.maxDef)), dictMax: make([]int64, len(l.maxDef))}
	for i := range f.pages {
		f.pages[i] = map[parquet.Encoding]int32{}
		f.dictMax[i] = -1
	}
	codec, err := compress.GetCodec(l.codec)
	if err != nil {
		return nil, err
	}
	f.codec = codec
	l.mu.Lock()
	if n := len(l.free); n > 0 {
		f.cols, l.free = l.free[n-1], l.free[:n-1]
	}
	l.mu.Unlock()
	if f.cols == nil {
		if cols, ok := spareColumns.Get().([][]byte); ok {
			f.cols = cols
		}
	}
	// Buffers of another layout: keep as many as fit.
	f.cols = slices.Grow(f.cols[:0:min(cap(f.cols), len(l.maxDef))], len(l.maxDef))[:len(l.maxDef)]
	if err := f.write(parquetMagic); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *pqFile) write(b []byte) error {
	n, err := f.w.Write(b)
	f.pos += int64(n)
	return err
}

// add appends the pages of a batch of rows, closing the row group first if
// it would grow past maxRows.
func (f *pqFile) add(pages []page, rows int) error {
	if rows == 0 {
		return nil
	}
	if f.rows > 0 && f.rows+rows > f.maxRows {
		if err := f.flushRowGroup(); err != nil {
			return err
		}
	}
	for i := range pages {
		need := len(f.cols[i]) + len(pages[i].hdr) + len(pages[i].body)
		if need > cap(f.cols[i]) {
			// Grow once to the size the row group will likely reach at
			// this many bytes per row, not by doubling (each doubling
			// copies the whole column chunk again).
			want := max(2*cap(f.cols[i]), need)
			if total := f.rows + rows; total < f.expect {
				want = max(want, int(int64(need)*int64(f.expect)/int64(total))+need/8)
			}
			f.cols[i] = slices.Grow(f.cols[i], want-len(f.cols[i]))
		}
		f.cols[i] = append(append(f.cols[i], pages[i].hdr...), pages[i].body...)
		f.nvals[i] += pages[i].numValues
		f.unc[i] += pages[i].uncompressed
		f.pages[i][pages[i].enc]++
		f.dictMax[i] = max(f.dictMax[i], pages[i].dictMax)
		f.stats[i].merge(&pages[i].stats, f.l.elem[i])
	}
	f.rows += rows
	return nil
}

func (f *pqFile) flushRowGroup() error {
	rg := f.meta.AppendRowGroup()
	var total int64
	for i := range f.cols {
		cc := rg.NextColumnChunk()
		start := f.pos
		var dictOff, dictUnc int64
		var dictStats map[parquet.Encoding]int32
		if f.dictMax[i] >= 0 {
			dictOff = start
			n, err := f.writeDictPage(i)
			if err != nil {
				return err
			}
			dictUnc = n
			dictStats = map[parquet.Encoding]int32{parquet.Encodings.Plain: 1}
		}
		dataStart := f.pos
		if err := f.write(f.cols[i]); err != nil {
			return err
		}
		info := metadata.ChunkMetaInfo{NumValues: f.nvals[i], DictPageOffset: dictOff, IndexPageOffset: -1, DataPageOffset: dataStart,
			CompressedSize: f.pos - start, UncompressedSize: f.unc[i] + dictUnc}
		stats := metadata.EncodingStats{DictEncodingStats: dictStats, DataEncodingStats: f.pages[i]}
		cc.SetStats(f.stats[i].encode(f.l.elem[i], f.l.maxRep[i] == 0))
		f.stats[i].reset()
		// A chunk with a dictionary falls back to PLAIN for the pages whose
		// values did not fit it.
		hasDict := dictOff > 0
		fallback := hasDict && len(f.pages[i]) > 1
		if err := cc.Finish(info, hasDict, fallback, stats, nil); err != nil {
			return err
		}
		total += f.unc[i] + dictUnc
		f.cols[i], f.nvals[i], f.unc[i], f.dictMax[i] = f.cols[i][:0], 0, 0, -1
		f.pages[i] = map[parquet.Encoding]int32{}
	}
	rg.SetNumRows(f.rows)
	if err := rg.Finish(total, f.ordinal); err != nil {
		return err
	}
	f.ordinal++
	f.rowsDone += int64(f.rows)
	f.rows = 0
	return nil
}

// writeDictPage writes the dictionary page of column i: the numbers 0 to
// the largest index its pages use, PLAIN. It returns the page's
// uncompressed size (header included).
func (f *pqFile) writeDictPage(i int) (int64, error) {
	n := f.dictMax[i] + 1
	var plain []byte
	if f.l.elem[i] == elemI32 {
		plain = make([]byte, 0, 4*n)
		for v := range n {
			plain = binary.LittleEndian.AppendUint32(plain, uint32(v))
		}
	} else {
		plain = make([]byte, 0, 8*n)
		for v := range n {
			plain = binary.LittleEndian.AppendUint64(plain, uint64(v))
		}
	}
	body := plain
	if f.l.codec != compress.Codecs.Uncompressed {
		f.dictBuf = f.codec.Encode(f.dictBuf[:cap(f.dictBuf)], plain)
		body = f.dictBuf
	}
	hdr := appendDictPageHeader(nil, int32(len(plain)), int32(len(body)), int32(n))
	if err := f.write(hdr); err != nil {
		return 0, err
	}
	if err := f.write(body); err != nil {
		return 0, err
	}
	return int64(len(hdr) + len(plain)), nil
}

// spareColumns keeps row group buffers ([][]byte, one per column) of
// finished conversions for the next ones, like spareBatches.
var spareColumns sync.Pool

// release hands the buffers of finished files to later conversions.
func (l *pqLayout) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, cols := range l.free {
		spareColumns.Put(cols)
	}
	l.free = nil
}

// release hands the row group buffers to the next file.
func (f *pqFile) release() {
	if f.cols == nil {
		return
	}
	for i := range f.cols {
		f.cols[i] = f.cols[i][:0]
	}
	f.l.mu.Lock()
	f.l.free = append(f.l.free, f.cols)
	f.l.mu.Unlock()
	f.cols = nil
}

// close writes the last row group and the footer.
func (f *pqFile) close() error {
	defer f.release()
	if f.rows > 0 {
		if err := f.flushRowGroup(); err != nil {
			return err
		}
	}
	md, err := f.meta.Finish()
	if err != nil {
		return err
	}
	start := f.pos
	if _, err := md.WriteTo(countWriter{f}, nil); err != nil {
		return err
	}
	var tail [8]byte
	binary.LittleEndian.PutUint32(tail[:], uint32(f.pos-start))
	copy(tail[4:], parquetMagic)
	return f.write(tail[:])
}

type countWriter struct{ f *pqFile }

func (c countWriter) Write(b []byte) (int, error) {
	n, err := c.f.w.Write(b)
	c.f.pos += int64(n)
	return n, err
}
