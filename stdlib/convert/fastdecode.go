package convert

import (
	"encoding/binary"
	"math"

	"github.com/gopherlab/gopherlab/stdlib/convert/example"
)

// fastKind says how decodeFast appends a feature straight from its packed
// payload; fastNone features go through onePass.add.
type fastKind uint8

const (
	fastNone    fastKind = iota
	fastF32              // float32 scalar column
	fastI64              // int64 scalar column
	fastF32List          // list<float32> column
	fastI64List          // list<int64> column
)

// slotInfo is what decodeFast needs of a feature slot.
type slotInfo struct {
	nameKey
	kind fastKind
	tag  byte           // first byte of the Feature: its list field, length-delimited
	col  int            // the slot's (first) column
	tmpl scalarTemplate // for fastF32 and fastI64
}

// scalarTemplate is the layout of a map entry holding a one-value float
// or int64 feature with a one-byte varint: elen bytes, of which the first
// tlen depend only on the name and kind — key (0x0a, name length, name),
// then value (0x12, Feature length, list field, list length, 0x0a,
// payload length) — and the rest is the value. t0, t1 (and t2) are the
// words at 0, tlen-8 (and 8) of those bytes; elen is 0 when there is no
// template (other kinds, names over 16 bytes).
type scalarTemplate struct {
	elen, tlen int
	t0, t1, t2 uint64
}

func newScalarTemplate(name string, kind example.Kind) scalarTemplate {
	tag := byte(kind)<<3 | 2
	var fixed []byte
	switch kind {
	case example.KindFloat:
		fixed = []byte{0x12, 8, tag, 6, 0x0a, 4}
	case example.KindInt64:
		fixed = []byte{0x12, 5, tag, 3, 0x0a, 1}
	}
	if fixed == nil || len(name) > 16 {
		return scalarTemplate{}
	}
	t := append(append([]byte{0x0a, byte(len(name))}, name...), fixed...)
	le := binary.LittleEndian
	st := scalarTemplate{tlen: len(t), elen: len(t) + int(t[len(t)-1]), t0: le.Uint64(t), t1: le.Uint64(t[len(t)-8:])}
	if len(t) > 16 {
		st.t2 = le.Uint64(t[8:])
	}
	return st
}

// matches reports whether entry is laid out as the template (the value
// is entry[tlen:]). Every word read lies inside entry, which is elen >
// tlen >= 9 bytes long.
func (st *scalarTemplate) matches(entry []byte) bool {
	if len(entry) != st.elen || st.elen == 0 {
		return false
	}
	le := binary.LittleEndian
	return le.Uint64(entry) == st.t0 && le.Uint64(entry[st.tlen-8:]) == st.t1 &&
		(st.tlen <= 16 || le.Uint64(entry[8:]) == st.t2)
}

func fastSlots(p *plan) []slotInfo {
	out := make([]slotInfo, len(p.names))
	for s, name := range p.names {
		ci := p.slotCols[s][0]
		c := &p.cols[ci]
		k := fastNone
		switch {
		case c.mode == modeScalar && c.elem == elemF32 && c.kind == example.KindFloat:
			k = fastF32
		case c.mode == modeScalar && c.elem == elemI64 && c.kind == example.KindInt64:
			k = fastI64
		case c.mode == modeList && c.elem == elemF32 && c.kind == example.KindFloat:
			k = fastF32List
		case c.mode == modeList && c.elem == elemI64 && c.kind == example.KindInt64:
			k = fastI64List
		}
		out[s] = slotInfo{nameKey: newNameKey(name), kind: k, tag: byte(p.kinds[s])<<3 | 2, col: ci}
		if k == fastF32 || k == fastI64 {
			out[s].tmpl = newScalarTemplate(name, p.kinds[s])
		}
	}
	return out
}

// uvarint reads a varint length at b[i:]; j is the position after it, or
// -1 when it is malformed or larger than any slice.
// Hot loops test for a one-byte varint themselves before calling it.
func uvarint(b []byte, i int) (v, j int) {
	if i >= len(b) {
		return 0, -1
	}
	u, n := binary.Uvarint(b[i:])
	if n <= 0 || u > math.MaxInt32 {
		return 0, -1
	}
	return int(u), i + n
}

// decodeFast appends a record laid out as every TensorFlow writer lays out
// an Example — field 1 only; map entries of key then value; float and int64
// lists as one packed field — in a single loop over its bytes, without a
// call per feature. Anything else (other layouts, SequenceExample, bytes
// and expanded features are handed to onePass.add) returns false with the
// record partly appended; the caller rolls it back and uses the general
// decoders, which also name any error.
func (d *decoder) decodeFast(b *batch, rec []byte) bool {
	o := &d.one
	o.begin(b)
	if len(rec) == 0 {
		return o.finish()
	}
	if rec[0] != 0x0a {
		return false
	}
	l, i := uvarint(rec, 1)
	if i < 0 || i+l != len(rec) {
		return false
	}
	fs := rec[i:]
	slots := d.slots
	p := d.p
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
		// The expected next feature, a scalar laid out as usual: compare
		// its bytes with the template, take the value.
		if s := d.next; s < len(slots) && slots[s].tmpl.matches(entry) {
			if o.seen[s] == o.gen {
				return false
			}
			o.seen[s] = o.gen
			o.n++
			d.next = s + 1
			si := &slots[s]
			c := &b.cols[si.col]
			v := entry[si.tmpl.tlen:]
			if si.kind == fastF32 {
				c.f32 = append(c.f32, math.Float32frombits(binary.LittleEndian.Uint32(v)))
			} else {
				if v[0] >= 0x80 {
					return false
				}
				c.i64 = append(c.i64, int64(v[0]))
			}
			continue
		}
		if len(entry) < 4 || entry[0] != 0x0a || entry[1] >= 0x80 {
			return false
		}
		v := 2 + int(entry[1])
		if v+2 > len(entry) || entry[v] != 0x12 {
			return false
		}
		name := entry[2:v]
		fl, j := int(entry[v+1]), v+2
		if fl >= 0x80 {
			fl, j = uvarint(entry, v+1)
		}
		if j < 0 || j+fl != len(entry) {
			return false
		}
		fb := entry[j:]
		// Writers emit features in the same order in every record: try the
		// slot after the previous one before hashing the name.
		s := d.next
		if s >= len(slots) || !slots[s].is(entry, v) {
			var ok bool
			if s, ok = p.slots[string(name)]; !ok {
				if p.strict {
					return false
				}
				d.next = len(slots)
				continue
			}
		}
		d.next = s + 1
		if o.seen[s] == o.gen {
			return false // a repeated name: the last one wins
		}
		o.seen[s] = o.gen
		o.n++
		si := &slots[s]
		if si.kind == fastNone || len(fb) < 2 || fb[0] != si.tag {
			if o.add(s, fb) != nil {
				return false
			}
			continue
		}
		// Feature: tag, len, then the list message: empty, or one packed
		// field 0x0a len payload.
		ll, k := int(fb[1]), 2
		if ll >= 0x80 {
			ll, k = uvarint(fb, 1)
		}
		if k < 0 || k+ll != len(fb) {
			return false
		}
		var pl []byte
		if ll > 0 {
			if fb[k] != 0x0a {
				if o.add(s, fb) != nil {
					return false
				}
				continue
			}
			n, m := 0, k+2
			if m <= len(fb) && fb[m-1] < 0x80 {
				n = int(fb[m-1])
			} else {
				n, m = uvarint(fb, k+1)
			}
			if m < 0 || m+n != len(fb) {
				return false
			}
			pl = fb[m:]
		}
		c := &b.cols[si.col]
		switch si.kind {
		case fastF32:
			if len(pl) != 4 {
				if o.add(s, fb) != nil {
					return false
				}
				continue
			}
			c.f32 = append(c.f32, math.Float32frombits(binary.LittleEndian.Uint32(pl)))
		case fastI64:
			x, n := binary.Uvarint(pl)
			if n <= 0 || n != len(pl) {
				if o.add(s, fb) != nil {
					return false
				}
				continue
			}
			c.i64 = append(c.i64, int64(x))
		case fastF32List:
			if !appendPayload(c, elemF32, example.KindFloat, pl) {
				return false
			}
			c.offs = append(c.offs, int32(len(c.f32)))
		case fastI64List:
			if !appendPayload(c, elemI64, example.KindInt64, pl) {
				return false
			}
			c.offs = append(c.offs, int32(len(c.i64)))
		}
	}
	return o.finish()
}
