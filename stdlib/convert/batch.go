package convert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"
	"unsafe"

	"github.com/gopherlab/gopherlab/stdlib/convert/example"
)

// colBuf accumulates one column of a batch in plain Go slices, which the
// page encoder (pqwrite.go) turns into Parquet pages.
type colBuf struct {
	f32   []float32
	f64   []float64
	i64   []int64
	i32   []int32
	data  []byte  // bytes values, concatenated
	voffs []int32 // bytes value offsets (len values+1)
	offs  []int32 // list offsets (len rows+1)
	nulls []int32 // rows that are null
}

// colHint remembers the capacities one column of a batch needed.
type colHint struct {
	vals, offs, voffs, data int
}

func (h *colHint) update(c *colBuf, e elemType) {
	switch e {
	case elemF32:
		h.vals = max(h.vals, cap(c.f32))
	case elemF64:
		h.vals = max(h.vals, cap(c.f64))
	case elemI64:
		h.vals = max(h.vals, cap(c.i64))
	case elemI32:
		h.vals = max(h.vals, cap(c.i32))
	default:
		h.voffs = max(h.voffs, cap(c.voffs))
		h.data = max(h.data, len(c.data))
	}
	h.offs = max(h.offs, cap(c.offs))
}

// grow preallocates c for the capacities in h.
func (c *colBuf) grow(h colHint, e elemType) {
	switch e {
	case elemF32:
		c.f32 = make([]float32, 0, h.vals)
	case elemF64:
		c.f64 = make([]float64, 0, h.vals)
	case elemI64:
		c.i64 = make([]int64, 0, h.vals)
	case elemI32:
		c.i32 = make([]int32, 0, h.vals)
	default:
		c.voffs = make([]int32, 0, h.voffs)
	}
	c.offs = make([]int32, 0, h.offs)
}

// nvals returns the number of values (elements) stored.
func (c *colBuf) nvals(e elemType) int {
	switch e {
	case elemF32:
		return len(c.f32)
	case elemF64:
		return len(c.f64)
	case elemI64:
		return len(c.i64)
	case elemI32:
		return len(c.i32)
	}
	return len(c.voffs) - 1
}

// truncVals cuts the values back to n.
func (c *colBuf) truncVals(e elemType, n int) {
	switch e {
	case elemF32:
		c.f32 = c.f32[:n]
	case elemF64:
		c.f64 = c.f64[:n]
	case elemI64:
		c.i64 = c.i64[:n]
	case elemI32:
		c.i32 = c.i32[:n]
	default:
		c.voffs = c.voffs[:n+1]
		c.data = c.data[:c.voffs[n]]
	}
}

func (c *colBuf) reset(mode colMode, e elemType) {
	c.f32, c.f64, c.i64, c.i32 = c.f32[:0], c.f64[:0], c.i64[:0], c.i32[:0]
	c.data = c.data[:0]
	c.voffs = append(c.voffs[:0], 0)
	c.offs = c.offs[:0]
	if mode == modeList {
		c.offs = append(c.offs, 0)
	}
	c.nulls = c.nulls[:0]
}

// appendZero appends a placeholder value under a null scalar.
func (c *colBuf) appendZero(e elemType) {
	switch e {
	case elemF32:
		c.f32 = append(c.f32, 0)
	case elemF64:
		c.f64 = append(c.f64, 0)
	case elemI64:
		c.i64 = append(c.i64, 0)
	case elemI32:
		c.i32 = append(c.i32, 0)
	default:
		c.voffs = append(c.voffs, int32(len(c.data)))
	}
}

// batch is a run of records of one input file, raw and then decoded.
type batch struct {
	file     int   // input index
	chunk    int   // output chunk
	first    int64 // record index of the first record
	raw      []byte
	ends     []int   // end of each record in raw
	offsets  []int64 // byte offset of each record in the input stream
	cols     []colBuf
	pages    []page // encoded columns, filled after decoding
	rows     int
	skipped  int64
	skipErrs []string
	err      error
	done     chan struct{}
	last     bool // last batch of its chunk
	resumed  string
	eof      bool // last batch of the file
}

// decoder turns records into column buffers. One per worker.
type decoder struct {
	p       *plan
	present []bool
	lens    []int // length of each present feature's serialized Feature
	offs    []int
	tmpF    []float64
	tmpI    []int64
	tmpB    [][]byte
	next    int // predicted slot of the next feature
	slots   []slotInfo
	one     onePass
	skip    int // tests: 1 skips decodeFast, 2 also onePass (they compare the paths)
}

func newDecoder(p *plan) *decoder {
	n := len(p.names)
	d := &decoder{p: p, present: make([]bool, n), lens: make([]int, n), offs: make([]int, n)}
	d.one = onePass{d: d, seen: make([]uint32, n)}
	d.slots = fastSlots(p)
	return d
}

// errSlow stops the one-pass decoder: the record needs the two-pass path,
// which handles every layout and names every error.
var errSlow = errors.New("convert: record needs the general decoder")

// onePass decodes a record in one walk over its wire bytes, appending each
// feature's values to its columns as the feature is met. Anything unusual
// (a repeated name, an unknown feature, a kind or length that contradicts
// the plan, a malformed feature) returns errSlow; the caller then removes
// the partly appended row and decodes the record with the two-pass path.
type onePass struct {
	d    *decoder
	b    *batch
	row  int32
	gen  uint32   // generation of the current record
	seen []uint32 // slot -> generation in which it was last seen
	n    int      // slots seen in the current record
}

// VisitFeature appends one feature's values to its columns.
func (o *onePass) VisitFeature(name, fb []byte, off int) error {
	d := o.d
	p := d.p
	s, ok := d.next, d.next < len(p.names) && p.names[d.next] == string(name)
	if !ok {
		if s, ok = p.slots[string(name)]; !ok {
			if p.strict {
				return errSlow
			}
			d.next = len(p.names)
			return nil
		}
	}
	d.next = s + 1
	if o.seen[s] == o.gen {
		return errSlow // a repeated name: the last one wins
	}
	o.seen[s] = o.gen
	o.n++
	return o.add(s, fb)
}

// add appends the serialized Feature fb of slot s to its columns.
func (o *onePass) add(s int, fb []byte) error {
	d := o.d
	p := d.p
	cols := p.slotCols[s]
	pc := &p.cols[cols[0]]
	c := &o.b.cols[cols[0]]
	// Fast path: a float_list or int64_list as TensorFlow writes it, one
	// packed field with one-byte lengths: tag, len, 0x0a, len, payload.
	if k := p.kinds[s]; k != example.KindBytes && pc.mode != modeElem && len(fb) >= 4 &&
		fb[0] == byte(k)<<3|2 && int(fb[1])+2 == len(fb) && fb[2] == 0x0a && int(fb[3])+4 == len(fb) {
		pl := fb[4:]
		if pc.mode == modeList {
			if appendPayload(c, pc.elem, k, pl) {
				c.offs = append(c.offs, int32(c.nvals(pc.elem)))
				return nil
			}
		} else if k == example.KindFloat && pc.elem == elemF32 && len(pl) == 4 {
			c.f32 = append(c.f32, math.Float32frombits(binary.LittleEndian.Uint32(pl)))
			return nil
		} else if k == example.KindInt64 && pc.elem == elemI64 {
			if v, n := binary.Uvarint(pl); n == len(pl) && n > 0 {
				c.i64 = append(c.i64, int64(v))
				return nil
			}
		}
	}
	raw, err := example.ParseFeature(fb)
	if err != nil || raw.Kind != p.kinds[s] {
		return errSlow
	}
	switch pc.mode {
	case modeList:
		if !appendPacked(c, pc.elem, &raw) {
			if err := appendValues(c, pc.elem, &raw); err != nil {
				return errSlow
			}
		}
		c.offs = append(c.offs, int32(c.nvals(pc.elem)))
	case modeScalar:
		pl, ok := raw.Packed()
		switch {
		case ok && pc.elem == elemF32 && len(pl) == 4:
			c.f32 = append(c.f32, math.Float32frombits(binary.LittleEndian.Uint32(pl)))
		case ok && pc.elem == elemI64 && len(pl) > 0 && pl[0] < 0x80 && len(pl) == 1:
			c.i64 = append(c.i64, int64(pl[0]))
		default:
			before := c.nvals(pc.elem)
			if err := appendValues(c, pc.elem, &raw); err != nil || c.nvals(pc.elem)-before != 1 {
				return errSlow
			}
		}
	case modeElem:
		if d.appendElems(o.b, s, &raw, o.row) != nil {
			return errSlow
		}
	}
	return nil
}

// VisitFeature records where a feature's value is (phase one of a record).
func (d *decoder) VisitFeature(name, fb []byte, off int) error {
	p := d.p
	// Writers emit features in the same order in every record: try the
	// slot after the previous one before hashing the name.
	s, ok := d.next, d.next < len(p.names) && p.names[d.next] == string(name)
	if !ok {
		s, ok = p.slots[string(name)]
	}
	d.next = s + 1
	if !ok {
		if p.strict {
			return &mismatch{feature: string(name), offset: off, expected: "no such feature (not in the inferred schema; scan all records or pass Schema)", found: "a feature"}
		}
		return nil
	}
	if d.present[s] && p.exact {
		// The last one wins, but a full scan counts every one's length
		// and kind: an exact plan cannot tell what it would infer.
		return &mismatch{feature: string(name), offset: off, expected: "one entry per feature (schema from a sample)", found: "a repeated feature name"}
	}
	// Only positions are kept (fb is rec[off:off+len]): storing parsed
	// features, which hold slices, cost write barriers per feature.
	d.present[s] = true
	d.offs[s] = off
	d.lens[s] = len(fb)
	return nil
}

// mismatch is a record that contradicts the plan.
type mismatch struct {
	feature  string
	offset   int // byte offset inside the record
	expected string
	found    string
	err      error
}

func (m *mismatch) Error() string {
	if m.err != nil {
		return m.err.Error()
	}
	return fmt.Sprintf("feature %q: expected %s, found %s", m.feature, m.expected, m.found)
}

func (m *mismatch) Unwrap() error { return m.err }

// decodeBatch fills b.cols from b.raw. Records that contradict the plan stop
// the batch with an error, or are dropped when skip is set.
func (d *decoder) decodeBatch(b *batch, skip bool, name string) {
	p := d.p
	if len(b.cols) != len(p.cols) {
		b.cols = make([]colBuf, len(p.cols))
	}
	for i := range b.cols {
		b.cols[i].reset(p.cols[i].mode, p.cols[i].elem)
	}
	b.rows, b.skipped, b.skipErrs, b.err = 0, 0, nil, nil
	start := 0
	for i, end := range b.ends {
		rec := b.raw[start:end]
		start = end
		if m := d.decodeRecord(b, rec); m != nil {
			d.rollback(b)
			err := &RecordError{File: name, Record: b.first + int64(i), Offset: b.offsets[i], Feature: m.feature, Expected: m.expected, Found: m.found, RecordByte: m.offset, Err: m.err}
			if !skip {
				b.err = err
				return
			}
			b.skipped++
			if len(b.skipErrs) < maxSkipErrors {
				b.skipErrs = append(b.skipErrs, err.Error())
			}
			continue
		}
		b.rows++
	}
}

const maxSkipErrors = 20

// rollback removes a partly appended record from every column.
func (d *decoder) rollback(b *batch) {
	n := b.rows
	for i := range b.cols {
		c := &b.cols[i]
		pc := &d.p.cols[i]
		for len(c.nulls) > 0 && int(c.nulls[len(c.nulls)-1]) >= n {
			c.nulls = c.nulls[:len(c.nulls)-1]
		}
		if pc.mode == modeList {
			c.offs = c.offs[:n+1]
			c.truncVals(pc.elem, int(c.offs[n]))
		} else {
			c.truncVals(pc.elem, n)
		}
	}
}

func (d *decoder) decodeRecord(b *batch, rec []byte) *mismatch {
	if d.skip < 1 {
		if d.decodeFast(b, rec) {
			return nil
		}
		d.rollback(b)
	}
	if d.skip < 2 {
		if d.decodeOnePass(b, rec) {
			return nil
		}
		d.rollback(b)
	}
	return d.decodeTwoPass(b, rec)
}

// decodeOnePass appends rec in one walk; false means the record was left
// partly appended and needs the two-pass path.
func (d *decoder) decodeOnePass(b *batch, rec []byte) bool {
	o := &d.one
	o.begin(b)
	if err := example.WalkFeatures(rec, o); err != nil {
		o.b = nil
		return false
	}
	return o.finish()
}

// begin starts a record of batch b.
func (o *onePass) begin(b *batch) {
	o.gen++
	if o.gen == 0 {
		clear(o.seen)
		o.gen = 1
	}
	o.b, o.row = b, int32(b.rows)
	o.n = 0
	o.d.next = 0
}

// finish appends nulls for the features the record lacks; false means one
// of them is not nullable.
func (o *onePass) finish() bool {
	p := o.d.p
	b := o.b
	o.b = nil
	if o.n == len(o.seen) {
		return true // every feature present
	}
	for s, g := range o.seen {
		if g == o.gen {
			continue
		}
		cols := p.slotCols[s]
		if !p.cols[cols[0]].Nullable {
			return false
		}
		for _, ci := range cols {
			c := &b.cols[ci]
			c.nulls = append(c.nulls, o.row)
			if p.cols[ci].mode == modeList {
				c.offs = append(c.offs, c.offs[len(c.offs)-1])
			} else {
				c.appendZero(p.cols[ci].elem)
			}
		}
	}
	return true
}

// decodeTwoPass finds every feature of rec first, then appends them in
// slot order; it handles repeated names and names every error.
func (d *decoder) decodeTwoPass(b *batch, rec []byte) *mismatch {
	p := d.p
	for i := range d.present {
		d.present[i] = false
	}
	d.next = 0
	err := example.WalkFeatures(rec, d)
	if err != nil {
		if m, ok := err.(*mismatch); ok {
			return m
		}
		return &mismatch{err: err}
	}
	row := int32(b.rows)
	for s := range d.present {
		cols := p.slotCols[s]
		var rf example.RawFeature
		raw := &rf
		if d.present[s] {
			var err error
			if rf, err = example.ParseFeature(rec[d.offs[s] : d.offs[s]+d.lens[s]]); err != nil {
				return &mismatch{feature: p.names[s], offset: d.offs[s], err: err}
			}
		}
		if !d.present[s] || raw.Kind == example.KindNone {
			if d.present[s] && p.exact && p.cols[cols[0]].mode != modeList {
				return &mismatch{feature: p.names[s], offset: d.offs[s], expected: describe(p, s), found: "a feature with no value list"}
			}
			if !p.cols[cols[0]].Nullable {
				return &mismatch{feature: p.names[s], expected: describe(p, s) + ", not nullable", found: "no value (feature missing)"}
			}
			for _, ci := range cols {
				c := &b.cols[ci]
				c.nulls = append(c.nulls, row)
				if p.cols[ci].mode == modeList {
					c.offs = append(c.offs, c.offs[len(c.offs)-1])
				} else {
					c.appendZero(p.cols[ci].elem)
				}
			}
			continue
		}
		if raw.Kind != p.kinds[s] {
			n, _ := raw.Len()
			return &mismatch{feature: p.names[s], offset: d.offs[s], expected: describe(p, s), found: fmt.Sprintf("%s of length %d", raw.Kind, n)}
		}
		pc := &p.cols[cols[0]]
		switch pc.mode {
		case modeList:
			c := &b.cols[cols[0]]
			if err := appendValues(c, pc.elem, raw); err != nil {
				return &mismatch{feature: p.names[s], offset: d.offs[s], err: err}
			}
			c.offs = append(c.offs, int32(c.nvals(pc.elem)))
		case modeScalar:
			c := &b.cols[cols[0]]
			before := c.nvals(pc.elem)
			if err := appendValues(c, pc.elem, raw); err != nil {
				return &mismatch{feature: p.names[s], offset: d.offs[s], err: err}
			}
			if got := c.nvals(pc.elem) - before; got != 1 {
				c.truncVals(pc.elem, before)
				if got == 0 && pc.Nullable && !p.exact {
					// An empty list under a scalar column is a missing value.
					c.nulls = append(c.nulls, row)
					c.appendZero(pc.elem)
					continue
				}
				return &mismatch{feature: p.names[s], offset: d.offs[s], expected: describe(p, s), found: fmt.Sprintf("%s of length %d", raw.Kind, got)}
			}
		case modeElem:
			if m := d.appendElems(b, s, raw, row); m != nil {
				return m
			}
		}
	}
	return nil
}

// appendElems spreads a fixed-length feature over its k columns.
func (d *decoder) appendElems(b *batch, s int, raw *example.RawFeature, row int32) *mismatch {
	p := d.p
	cols := p.slotCols[s]
	var n int
	var err error
	switch raw.Kind {
	case example.KindFloat:
		d.tmpF, err = example.AppendFloats(d.tmpF[:0], raw)
		n = len(d.tmpF)
	case example.KindInt64:
		d.tmpI, err = example.AppendInt64s(d.tmpI[:0], raw)
		n = len(d.tmpI)
	case example.KindBytes:
		d.tmpB = d.tmpB[:0]
		err = raw.RangeBytes(func(v []byte) { d.tmpB = append(d.tmpB, v) })
		n = len(d.tmpB)
	}
	if err != nil {
		return &mismatch{feature: p.names[s], offset: d.offs[s], err: err}
	}
	if n == 0 && p.cols[cols[0]].Nullable && !p.exact {
		for _, ci := range cols {
			c := &b.cols[ci]
			c.nulls = append(c.nulls, row)
			c.appendZero(p.cols[ci].elem)
		}
		return nil
	}
	if n != len(cols) {
		return &mismatch{feature: p.names[s], offset: d.offs[s], expected: describe(p, s), found: fmt.Sprintf("%s of length %d", raw.Kind, n)}
	}
	for j, ci := range cols {
		c := &b.cols[ci]
		switch p.cols[ci].elem {
		case elemF32:
			c.f32 = append(c.f32, float32(d.tmpF[j]))
		case elemF64:
			c.f64 = append(c.f64, d.tmpF[j])
		case elemI64:
			c.i64 = append(c.i64, d.tmpI[j])
		case elemI32:
			c.i32 = append(c.i32, int32(d.tmpI[j]))
		default:
			if p.cols[ci].elem == elemString && !utf8.Valid(d.tmpB[j]) {
				return &mismatch{feature: p.names[s], offset: d.offs[s], expected: "UTF-8 text (string column)", found: "bytes that are not valid UTF-8"}
			}
			c.data = append(c.data, d.tmpB[j]...)
			c.voffs = append(c.voffs, int32(len(c.data)))
		}
	}
	return nil
}

func describe(p *plan, s int) string {
	cols := p.slotCols[s]
	c := p.cols[cols[0]]
	switch c.mode {
	case modeScalar:
		return fmt.Sprintf("%s of length 1 (scalar column %q)", p.kinds[s], c.Name)
	case modeElem:
		return fmt.Sprintf("%s of length %d (columns %s_0..%s_%d)", p.kinds[s], len(cols), c.Feature, c.Feature, len(cols)-1)
	}
	return fmt.Sprintf("%s (list column %q)", p.kinds[s], c.Name)
}

// appendPacked appends a packed float or int list straight from its
// payload; ok is false when the payload needs the general decoder (other
// layouts, or a malformed varint, for which the decoder names the error).
func appendPacked(c *colBuf, e elemType, raw *example.RawFeature) bool {
	pl, ok := raw.Packed()
	if !ok {
		return false
	}
	return appendPayload(c, e, raw.Kind, pl)
}

// appendPayload appends the values of the packed payload pl of a feature of
// kind k; ok is false when the payload needs the general decoder.
func appendPayload(c *colBuf, e elemType, k example.Kind, pl []byte) bool {
	switch {
	case k == example.KindFloat && e == elemF32:
		if len(pl)%4 != 0 {
			return false
		}
		if littleEndian && len(pl) > 0 {
			c.f32 = append(c.f32, unsafe.Slice((*float32)(unsafe.Pointer(&pl[0])), len(pl)/4)...)
			return true
		}
		for i := 0; i+4 <= len(pl); i += 4 {
			c.f32 = append(c.f32, math.Float32frombits(binary.LittleEndian.Uint32(pl[i:])))
		}
		return true
	case k == example.KindInt64 && e == elemI64:
		if len(pl) > 0 && pl[len(pl)-1] >= 0x80 {
			return false
		}
		// There are at most len(pl) values: write them into the spare
		// capacity, then extend the slice over what was written.
		n0 := len(c.i64)
		c.i64 = slices.Grow(c.i64, len(pl))
		out := c.i64[n0 : n0+len(pl)]
		j, i := 0, 0
		// Runs of eight one-byte varints (small numbers: categories, ids
		// below 128) are widened a word at a time.
		for ; i+8 <= len(pl); i, j = i+8, j+8 {
			w := binary.LittleEndian.Uint64(pl[i:])
			if w&0x8080808080808080 != 0 {
				break
			}
			o := out[j : j+8 : j+8]
			for k := range o {
				o[k] = int64(w >> (8 * k) & 0x7f)
			}
		}
		for ; i < len(pl); j++ {
			if b := pl[i]; b < 0x80 {
				out[j] = int64(b)
				i++
				continue
			}
			v, n := binary.Uvarint(pl[i:])
			if n <= 0 {
				c.i64 = c.i64[:n0] // nothing half appended
				return false
			}
			out[j] = int64(v)
			i += n
		}
		c.i64 = c.i64[:n0+j]
		return true
	case k == example.KindInt64 && e == elemI32:
		if len(pl) > 0 && pl[len(pl)-1] >= 0x80 {
			return false
		}
		n0 := len(c.i32)
		for i := 0; i < len(pl); {
			v, n := binary.Uvarint(pl[i:])
			if n <= 0 {
				c.i32 = c.i32[:n0]
				return false
			}
			c.i32 = append(c.i32, int32(int64(v)))
			i += n
		}
		return true
	}
	return false
}

func appendValues(c *colBuf, e elemType, raw *example.RawFeature) error {
	if raw.Kind != example.KindBytes {
		n := c.nvals(e)
		if appendPacked(c, e, raw) {
			return nil
		}
		c.truncVals(e, n)
	}
	var err error
	switch e {
	case elemF32:
		c.f32, err = example.AppendFloats(c.f32, raw)
	case elemF64:
		c.f64, err = example.AppendFloats(c.f64, raw)
	case elemI64:
		c.i64, err = example.AppendInt64s(c.i64, raw)
	case elemI32:
		c.i32, err = example.AppendInt64s(c.i32, raw)
	case elemString:
		bad := false
		err = raw.RangeBytes(func(v []byte) {
			if !utf8.Valid(v) {
				bad = true
			}
			c.data = append(c.data, v...)
			c.voffs = append(c.voffs, int32(len(c.data)))
		})
		if err == nil && bad {
			err = fmt.Errorf("bytes_list value is not valid UTF-8 but the column is string")
		}
	case elemBinary:
		err = raw.RangeBytes(func(v []byte) {
			c.data = append(c.data, v...)
			c.voffs = append(c.voffs, int32(len(c.data)))
		})
	}
	return err
}

func sliceBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z)))
}
