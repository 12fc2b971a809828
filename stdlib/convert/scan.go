package convert

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gopherlab/gopherlab/stdlib/convert/example"
	"github.com/gopherlab/gopherlab/stdlib/convert/tfrecord"
)

// The inference scan of an uncompressed input is split into byte ranges
// scanned by Options.Workers goroutines. A range's worker starts at the
// first record boundary at or after the range start (tfrecord.FindRecord)
// and scans every record that starts before the range end, so the record
// that straddles the end is the previous range's. The statistics of the
// ranges are merged in file order, after checking that each range starts
// exactly where the previous one ended: record data can embed bytes that
// look like a framed record, and a range that started at such a false
// boundary is scanned again from the true one. Any bad record, or ranges
// that disagree on a feature's type, send the file to the sequential scan,
// which reports the first error exactly as a scan without ranges does.
// With one worker, or a small input, the whole file is one range.
//
// Ranges read the framing themselves and check the length checksums but
// not the data checksums (see scanRecords), and walk each record with
// scanner.fast, a single loop that knows the layout TensorFlow writes.

// minScanRange is the smallest byte range of a parallel scan: inputs no
// larger are scanned as one range.
const minScanRange = 4 << 20

// scanInfo says how scanFile ran (tests check it).
type scanInfo struct {
	ranges   int  // byte ranges scanned in parallel (0: sequential scan)
	redone   int  // ranges scanned again because they began at a false boundary
	fellBack bool // a bad record sent the file to the sequential scan
}

// scanFile collects feature statistics of one input for schema inference.
// It returns the statistics and the number of records scanned. slots, if
// not nil, bounds the scans (sequential ones or ranges) running at once
// across the files of a conversion.
func scanFile(ctx context.Context, path string, opts Options, slots chan struct{}) ([]*featureStats, int64, error) {
	stats, n, _, err := scanFileRanges(ctx, path, opts, slots, 0)
	return stats, n, err
}

// scanFileRanges is scanFile with an explicit byte range size (0 picks
// one from the file size and Options.Workers).
func scanFileRanges(ctx context.Context, path string, opts Options, slots chan struct{}, rangeSize int64) ([]*featureStats, int64, scanInfo, error) {
	var info scanInfo
	if opts.InferSample <= 0 {
		if f, size, ok := openUncompressed(path, opts); ok {
			rs := rangeSize
			if rs <= 0 {
				rs = size
				if opts.Workers >= 2 {
					rs = max(minScanRange, size/int64(4*opts.Workers))
				}
			}
			stats, n, ok, err := scanRanges(ctx, f, path, size, max(rs, 1), max(opts.Workers, 1), opts.SkipCorrupt, slots, &info)
			f.Close()
			if err != nil || ok {
				return stats, n, info, err
			}
			info.fellBack = true
		}
	}
	if !acquire(ctx, slots) {
		return nil, 0, info, ctx.Err()
	}
	defer release(slots)
	stats, n, err := scanSequential(ctx, path, opts)
	return stats, n, info, err
}

func acquire(ctx context.Context, slots chan struct{}) bool {
	if slots == nil || ctx.Err() != nil {
		return ctx.Err() == nil
	}
	select {
	case slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func release(slots chan struct{}) {
	if slots != nil {
		<-slots
	}
}

// openUncompressed opens path when it is a regular file of uncompressed
// records (Compression NONE, or AUTO detecting NONE).
func openUncompressed(path string, opts Options) (*os.File, int64, bool) {
	comp, _ := tfrecord.ParseCompression(opts.Compression)
	if comp != tfrecord.None && comp != tfrecord.Auto {
		return nil, 0, false
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, false
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, false
	}
	if comp == tfrecord.Auto && tfrecord.Detect(bufio.NewReaderSize(io.NewSectionReader(f, 0, st.Size()), 16)) != tfrecord.None {
		f.Close()
		return nil, 0, false
	}
	return f, st.Size(), true
}

// scanRange is one byte range [from, limit) of a parallel scan.
type scanRange struct {
	from, limit int64
	start       int64 // the first record boundary found in the range
	found       bool  // there is one
	end         int64 // offset after the last record scanned
	stats       []*featureStats
	records     int64
	bad         bool  // a record failed to read or to scan
	err         error // the scan could not run (context, I/O)
	done        chan struct{}
}

// scanRanges scans f in byte ranges of about rangeSize with up to workers
// goroutines and merges their statistics. ok is false when the file must be
// scanned sequentially instead (a bad record somewhere).
func scanRanges(ctx context.Context, f *os.File, path string, size, rangeSize int64, workers int, checkData bool, slots chan struct{}, info *scanInfo) (stats []*featureStats, records int64, ok bool, err error) {
	n := int(max(1, (size+rangeSize-1)/rangeSize))
	ranges := make([]scanRange, n)
	for k := range ranges {
		ranges[k] = scanRange{from: size * int64(k) / int64(n), limit: size * int64(k+1) / int64(n), done: make(chan struct{})}
	}
	info.ranges = n
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	var next atomic.Int64
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= n {
					return
				}
				rg := &ranges[k]
				if acquire(wctx, slots) {
					rg.run(wctx, f, path, size, checkData)
					release(slots)
				} else {
					rg.err = wctx.Err()
				}
				close(rg.done)
			}
		}()
	}
	m := newStatsMerge()
	end := int64(0) // where the record after the merged ones starts
	for k := range ranges {
		rg := &ranges[k]
		select {
		case <-rg.done:
		case <-ctx.Done():
			return nil, 0, false, ctx.Err()
		}
		if ctx.Err() != nil {
			return nil, 0, false, ctx.Err()
		}
		if rg.err != nil {
			return nil, 0, false, nil
		}
		switch {
		case rg.found && rg.start == end:
		case !rg.found && end >= rg.limit:
			continue // no record starts in the range
		default:
			// The range began at a false boundary (or skipped a damaged
			// record): scan it again from where the previous one ended.
			info.redone++
			rg.stats, rg.records, rg.end, rg.bad, rg.err = scanRecords(ctx, f, path, size, end, rg.limit, checkData)
			if rg.err != nil {
				return nil, 0, false, rg.err
			}
		}
		if rg.bad {
			return nil, 0, false, nil
		}
		if g, _ := m.add(rg.stats, m.records); g != nil {
			return nil, 0, false, nil
		}
		m.records += rg.records
		end = rg.end
	}
	if end != size {
		return nil, 0, false, nil
	}
	return m.order, m.records, true, nil
}

// run finds the range's first record and scans from there.
func (rg *scanRange) run(ctx context.Context, f *os.File, path string, size int64, checkData bool) {
	if rg.from > 0 {
		rg.start, rg.found, rg.err = tfrecord.FindRecord(f, rg.from, rg.limit, size, 0)
		if rg.err != nil || !rg.found {
			return
		}
	} else {
		rg.start, rg.found = 0, true
	}
	rg.stats, rg.records, rg.end, rg.bad, rg.err = scanRecords(ctx, f, path, size, rg.start, rg.limit, checkData)
}

// scanRecords scans the records of f that start in [start, limit), the
// first at start. Record indexes in the statistics count from start. bad
// reports a record that could not be read or scanned; err is the context's.
//
// It reads the framing straight from f into buf (grown as needed and
// returned for reuse) and checks each length checksum, but not the data
// checksums unless checkData is set: the conversion verifies every record
// and names the damaged one, and a record whose bytes are not an Example
// sends the file to the sequential scan anyway. With SkipCorrupt the
// data checksums are checked, so that the records the conversion will drop
// are not counted here either.
func scanRecords(ctx context.Context, f *os.File, path string, size, start, limit int64, checkData bool) (stats []*featureStats, records, end int64, bad bool, err error) {
	sc := newScanner(path)
	buf := make([]byte, min(256<<10, max(4<<10, limit-start)))
	pos := start        // offset of the next record
	bufOff, n := pos, 0 // buf[:n] holds the file from bufOff
	fill := func(need int) bool {
		bufOff = pos
		n = 0
		want := int(min(int64(len(buf)), size-pos))
		if want < need {
			return false
		}
		n, _ = f.ReadAt(buf[:want], pos)
		return n >= need
	}
	for pos < limit && pos < size {
		if records%ctxEvery == 0 && ctx.Err() != nil {
			return nil, 0, start, false, ctx.Err()
		}
		rel := int(pos - bufOff)
		if rel+headerSize > n {
			if !fill(headerSize) {
				return nil, 0, start, true, nil
			}
			rel = 0
		}
		hdr := buf[rel : rel+headerSize]
		l := binary.LittleEndian.Uint64(hdr)
		if tfrecord.MaskCRC(tfrecord.CRC32C(hdr[:8])) != binary.LittleEndian.Uint32(hdr[8:]) {
			return nil, 0, start, true, nil
		}
		room := size - pos - headerSize - footerSize
		if room < 0 || l > uint64(min(room, maxScanRecord)) {
			return nil, 0, start, true, nil
		}
		total := headerSize + int(l) + footerSize
		if rel+total > n {
			if total > len(buf) {
				buf = make([]byte, total)
			}
			if !fill(total) {
				return nil, 0, start, true, nil
			}
			rel = 0
		}
		data := buf[rel+headerSize : rel+headerSize+int(l)]
		if checkData && tfrecord.MaskCRC(tfrecord.CRC32C(data)) != binary.LittleEndian.Uint32(buf[rel+total-footerSize:]) {
			return nil, 0, start, true, nil
		}
		if !sc.scan(data, records, pos) {
			return nil, 0, start, true, nil
		}
		records++
		pos += int64(total)
	}
	return sc.order, records, pos, false, nil
}

// Framing sizes (see package tfrecord) and the largest record the scan
// accepts, as the Reader's default MaxRecordSize.
const (
	headerSize    = 12
	footerSize    = 4
	maxScanRecord = 1 << 30
)

// statsMerge combines feature statistics in scan order.
type statsMerge struct {
	order   []*featureStats
	byName  map[string]*featureStats
	records int64 // records merged so far (kept by the caller)
}

func newStatsMerge() *statsMerge {
	return &statsMerge{byName: map[string]*featureStats{}}
}

// add merges stats whose record indexes count from base. It returns the
// merged and the new statistics of a feature whose types disagree.
func (m *statsMerge) add(stats []*featureStats, base int64) (*featureStats, *featureStats) {
	for _, st := range stats {
		g := m.byName[st.name]
		if g == nil {
			c := *st
			c.record += base
			c.idx = len(m.order)
			m.byName[c.name] = &c
			m.order = append(m.order, &c)
			continue
		}
		if st.kind != example.KindNone {
			if g.kind == example.KindNone {
				g.kind = st.kind
			} else if g.kind != st.kind {
				return g, st
			}
		}
		g.minLen = min(g.minLen, st.minLen)
		g.maxLen = max(g.maxLen, st.maxLen)
		g.count += st.count
		g.nonUTF8 = g.nonUTF8 || st.nonUTF8
	}
	return nil, nil
}

// scanSequential is scanFile record by record in one goroutine: the scan
// of compressed inputs, of samples, with SkipCorrupt after a bad record,
// and the one whose errors every other path reproduces.
func scanSequential(ctx context.Context, path string, opts Options) ([]*featureStats, int64, error) {
	r, err := openInput(path, opts)
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	sc := newScanner(path)
	var rec, scanned int64
	for ; opts.InferSample <= 0 || rec < int64(opts.InferSample); rec++ {
		if rec%ctxEvery == 0 && ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		data, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if opts.SkipCorrupt && errors.Is(err, tfrecord.ErrDataChecksum) {
				continue
			}
			if opts.SkipCorrupt && errors.Is(err, tfrecord.ErrCorrupt) {
				break
			}
			return nil, 0, err
		}
		if err := sc.add(data, rec, r.Offset()); err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				err = &RecordError{File: path, Record: rec, Offset: sc.off, Err: err}
			}
			if opts.SkipCorrupt {
				continue
			}
			return nil, 0, err
		}
		scanned++
	}
	return sc.order, scanned, nil
}

// scanner collects feature statistics record by record; it is the
// FeatureVisitor of the inference scan.
type scanner struct {
	path   string
	order  []*featureStats
	byName map[string]*featureStats
	keys   []scanKey // the names in order, for fast
	seen   []int64   // last record index each feature was counted at
	next   int       // predicted index in order of the next feature
	rec    int64     // current record
	off    int64     // its byte offset
	bad    error     // first kind conflict in the record
	walk   bool      // tests: always use the general walk
}

func newScanner(path string) *scanner {
	return &scanner{path: path, byName: map[string]*featureStats{}}
}

// scan adds the features of record rec at byte offset off; false means
// the record is not an Example or contradicts the records before it.
func (sc *scanner) scan(data []byte, rec, off int64) bool {
	return sc.add(data, rec, off) == nil
}

// add is scan returning the error that names the problem.
func (sc *scanner) add(data []byte, rec, off int64) error {
	sc.rec, sc.off = rec, off
	if !sc.walk && sc.fast(data) {
		return nil
	}
	// The general walk; statistics the fast walk updated before it gave
	// up are updated again to the same values.
	sc.bad, sc.next = nil, 0
	err := example.WalkFeatures(data, sc)
	if err == nil {
		err = sc.bad
	}
	return err
}

// fast adds a record laid out as TensorFlow writers lay out an Example
// (field 1 only; map entries of key then value; float and int64 lists as
// one packed field; bytes lists as their values) whose features are all
// known and of their known kind, in one loop over its bytes without a call
// per feature. Anything else returns false, leaving the rest to add's
// general walk.
func (sc *scanner) fast(rec []byte) bool {
	if len(rec) == 0 {
		return true
	}
	if rec[0] != 0x0a {
		return false
	}
	l, i := uvarint(rec, 1)
	if i < 0 || i+l != len(rec) {
		return false
	}
	fs := rec[i:]
	order, keys, seen := sc.order, sc.keys, sc.seen
	next := 0
	for pos := 0; pos < len(fs); {
		// Map entry: 0x0a len, key (0x0a len name), value (0x12 len Feature).
		if fs[pos] != 0x0a {
			return false
		}
		el, i := 0, pos+2
		if i <= len(fs) && fs[i-1] < 0x80 {
			el = int(fs[i-1])
		} else {
			el, i = uvarint(fs, pos+1)
		}
		if i < 0 || el > len(fs)-i {
			return false
		}
		entry := fs[i : i+el]
		pos = i + el
		if len(entry) < 4 || entry[0] != 0x0a || entry[1] >= 0x80 {
			return false
		}
		v := 2 + int(entry[1])
		if v+2 > len(entry) || entry[v] != 0x12 {
			return false
		}
		// Writers emit features in the same order in every record: compare
		// the name with the one after the previous feature, a word at a
		// time, before looking it up.
		k := next
		if k >= len(keys) || !keys[k].is(entry, v) {
			st := sc.byName[string(entry[2:v])]
			if st == nil {
				return false
			}
			k = st.idx
		}
		next = k + 1
		if keys[k].tmpl.matches(entry) {
			// A one-value float or int feature as writers lay it out.
			if entry[len(entry)-1] >= 0x80 && keys[k].tag == byte(example.KindInt64)<<3|2 {
				return false
			}
			st := order[k]
			st.minLen, st.maxLen = min(st.minLen, 1), max(st.maxLen, 1)
			if seen[k] != sc.rec {
				seen[k] = sc.rec
				st.count++
			}
			continue
		}
		fl, j := int(entry[v+1]), v+2
		if fl >= 0x80 {
			fl, j = uvarint(entry, v+1)
		}
		if j < 0 || j+fl != len(entry) || fl < 2 || entry[j] != keys[k].tag {
			return false
		}
		// Feature: tag (checked: the kind is the known one), length, then
		// the list: empty or one field 0x0a len payload (packed values for
		// floats and ints, the first value for bytes).
		ll, p := int(entry[j+1]), j+2
		if ll >= 0x80 || p+ll != len(entry) {
			return false
		}
		var n int
		if ll > 0 {
			if entry[p] != 0x0a || ll < 2 || entry[p+1] >= 0x80 {
				return false
			}
			m := int(entry[p+1])
			switch keys[k].tag {
			case byte(example.KindFloat)<<3 | 2:
				if m+2 != ll || m%4 != 0 {
					return false
				}
				n = m / 4
			case byte(example.KindInt64)<<3 | 2:
				if m+2 != ll {
					return false
				}
				var ok bool
				if n, ok = countVarints(entry, len(entry)-m); !ok {
					return false
				}
			default:
				var ok bool
				if _, n, ok = bytesLen(entry[j:], !order[k].nonUTF8); !ok {
					return false
				}
			}
		}
		st := order[k]
		st.minLen = min(st.minLen, n)
		st.maxLen = max(st.maxLen, n)
		if seen[k] != sc.rec {
			seen[k] = sc.rec
			st.count++
		}
	}
	return true
}

// scanKey is what fast knows of a feature: its name, its kind's list
// field and its one-value template.
type scanKey struct {
	nameKey
	tag  byte // the Feature's list field of the feature's kind
	tmpl scalarTemplate
}

func newScanKey(name string, kind example.Kind) scanKey {
	return scanKey{nameKey: newNameKey(name), tag: byte(kind)<<3 | 2, tmpl: newScalarTemplate(name, kind)}
}

// nameKey is a feature name as the record walks compare it: its length,
// its first 16 bytes as two little-endian words (zero padded) and the
// masks that keep a name's bytes of two words loaded from a record.
type nameKey struct {
	name           string
	n              int
	w0, w1, m0, m1 uint64
}

func newNameKey(name string) nameKey {
	var b [16]byte
	copy(b[:], name)
	return nameKey{name: name, n: len(name),
		w0: binary.LittleEndian.Uint64(b[:8]), w1: binary.LittleEndian.Uint64(b[8:]),
		m0: mask64(min(len(name), 8)), m1: mask64(min(max(len(name)-8, 0), 8))}
}

// mask64 keeps the low n bytes of a word.
func mask64(n int) uint64 {
	if n >= 8 {
		return ^uint64(0)
	}
	return 1<<(8*uint(n)) - 1
}

// is reports whether the map entry whose name ends at v (and starts at 2)
// names k.
func (k *nameKey) is(entry []byte, v int) bool {
	switch {
	case v-2 != k.n:
		return false
	case k.n <= 8 && len(entry) >= 10:
		return binary.LittleEndian.Uint64(entry[2:10])&k.m0 == k.w0
	case k.n <= 16 && len(entry) >= 18:
		return binary.LittleEndian.Uint64(entry[2:10]) == k.w0 &&
			binary.LittleEndian.Uint64(entry[10:18])&k.m1 == k.w1
	}
	return string(entry[2:v]) == k.name
}

// countVarints counts the varints of the packed payload b[from:] and
// checks that the last one ends with it. It reads whole words, the first
// one possibly starting before from: the caller guarantees 8 bytes of b
// before the payload.
func countVarints(b []byte, from int) (n int, ok bool) {
	m := len(b) - from
	if m == 0 {
		return 0, true
	}
	if b[len(b)-1] >= 0x80 || from < 8 {
		return 0, false
	}
	// A varint ends at each byte below 0x80.
	const hi = 0x8080808080808080
	p := from
	for ; len(b)-p >= 8; p += 8 {
		n += bits.OnesCount64(^binary.LittleEndian.Uint64(b[p:]) & hi)
	}
	if r := len(b) - p; r > 0 {
		// The last r bytes, as the top bytes of the word that ends there.
		w := binary.LittleEndian.Uint64(b[len(b)-8:])
		n += bits.OnesCount64(^w & hi & ^mask64(8-r))
	}
	return n, true
}

// bytesLen reads the length of a serialized bytes_list Feature laid out
// as writers lay it out (one list field of values with one-byte lengths),
// checking that the values are UTF-8 when utf8Check is set; ok is false for
// any other layout or a value that is not UTF-8, which the general walk
// handles.
func bytesLen(fb []byte, utf8Check bool) (kind example.Kind, n int, ok bool) {
	if len(fb) < 2 || fb[0] != byte(example.KindBytes)<<3|2 {
		return 0, 0, false
	}
	ll, k := int(fb[1]), 2
	if ll >= 0x80 {
		ll, k = uvarint(fb, 1)
	}
	if k < 0 || k+ll != len(fb) {
		return 0, 0, false
	}
	for p := k; p < len(fb); n++ {
		if fb[p] != 0x0a || p+1 >= len(fb) {
			return 0, 0, false
		}
		vl, q := int(fb[p+1]), p+2
		if vl >= 0x80 {
			vl, q = uvarint(fb, p+1)
		}
		if q < 0 || vl > len(fb)-q {
			return 0, 0, false
		}
		if utf8Check && !utf8.Valid(fb[q:q+vl]) {
			return 0, 0, false
		}
		p = q + vl
	}
	return example.KindBytes, n, true
}

// VisitFeature updates the statistics of one feature of the record.
func (sc *scanner) VisitFeature(name, fb []byte, foff int) error {
	var raw example.RawFeature
	kind, n, ok := packedLen(fb)
	if !ok {
		var err error
		raw, err = example.ParseFeature(fb)
		if err == nil {
			n, err = featureLen(&raw)
		}
		if err != nil {
			return &RecordError{File: sc.path, Record: sc.rec, Offset: sc.off, Feature: string(name), RecordByte: foff, Err: err}
		}
		kind = raw.Kind
	}
	// Writers emit features in the same order in every record: try the
	// one after the previous feature before the map.
	var st *featureStats
	if sc.next < len(sc.order) && sc.order[sc.next].name == string(name) {
		st = sc.order[sc.next]
	} else if st = sc.byName[string(name)]; st == nil {
		st = &featureStats{name: string(name), kind: kind, minLen: n, maxLen: n, file: sc.path, record: sc.rec, offset: sc.off, idx: len(sc.order)}
		sc.byName[st.name] = st
		sc.order = append(sc.order, st)
		sc.keys = append(sc.keys, newScanKey(st.name, kind))
		sc.seen = append(sc.seen, -1)
	}
	idx := st.idx
	sc.next = idx + 1
	if kind != example.KindNone {
		if st.kind == example.KindNone {
			st.kind = kind
			sc.keys[idx].tag = byte(kind)<<3 | 2
			sc.keys[idx].tmpl = newScalarTemplate(st.name, kind)
		} else if st.kind != kind {
			if sc.bad == nil {
				sc.bad = &RecordError{File: sc.path, Record: sc.rec, Offset: sc.off, Feature: st.name, RecordByte: foff,
					Expected: fmt.Sprintf("%s (as in record %d)", st.kind, st.record), Found: fmt.Sprintf("%s of length %d", kind, n)}
			}
			return nil
		}
	}
	if kind == example.KindBytes && !st.nonUTF8 {
		raw.RangeBytes(func(v []byte) {
			if !utf8.Valid(v) {
				st.nonUTF8 = true
			}
		})
	}
	st.minLen = min(st.minLen, n)
	st.maxLen = max(st.maxLen, n)
	if sc.seen[idx] != sc.rec && kind != example.KindNone {
		sc.seen[idx] = sc.rec
		st.count++
	}
	return nil
}

// packedLen reads the kind and length of a serialized float or int64
// Feature laid out as TensorFlow writes it (one list field holding one
// packed field, one-byte lengths) without parsing it into a RawFeature;
// ok is false for any other layout, which ParseFeature and featureLen
// handle with the same results.
func packedLen(fb []byte) (kind example.Kind, n int, ok bool) {
	if len(fb) < 2 || fb[1] >= 0x80 || int(fb[1])+2 != len(fb) {
		return 0, 0, false
	}
	kind = example.Kind(fb[0] >> 3)
	if fb[0]&7 != 2 || (kind != example.KindFloat && kind != example.KindInt64) {
		return 0, 0, false
	}
	pl := fb[2:]
	if len(pl) > 0 {
		if len(pl) < 2 || pl[0] != 0x0a || pl[1] >= 0x80 || int(pl[1]) != len(pl)-2 {
			return 0, 0, false
		}
		pl = pl[2:]
	}
	if kind == example.KindFloat {
		return kind, len(pl) / 4, len(pl)%4 == 0
	}
	if len(pl) > 0 && pl[len(pl)-1] >= 0x80 {
		return 0, 0, false
	}
	// A varint ends at each byte below 0x80: count them 8 bytes at a time.
	for len(pl) >= 8 {
		n += bits.OnesCount64(^binary.LittleEndian.Uint64(pl) & 0x8080808080808080)
		pl = pl[8:]
	}
	for _, c := range pl {
		if c < 0x80 {
			n++
		}
	}
	return kind, n, true
}

// featureLen is raw.Len with a fast path for packed lists.
func featureLen(raw *example.RawFeature) (int, error) {
	if pl, ok := raw.Packed(); ok {
		switch raw.Kind {
		case example.KindFloat:
			if len(pl)%4 == 0 {
				return len(pl) / 4, nil
			}
		case example.KindInt64:
			if len(pl) == 0 {
				return 0, nil
			}
			if pl[len(pl)-1] < 0x80 {
				n := 0
				for _, c := range pl {
					if c < 0x80 {
						n++
					}
				}
				return n, nil
			}
		}
	}
	return raw.Len()
}
