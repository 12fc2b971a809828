package example

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// ErrInvalid is wrapped by every decoding error: the bytes are not a valid
// Example (or SequenceExample).
var ErrInvalid = errors.New("not a valid tf.train.Example")

// DecodeError locates a decoding problem inside one serialized record.
type DecodeError struct {
	Offset  int    // byte offset inside the serialized record
	Feature string // feature being decoded, if known
	Msg     string
}

func (e *DecodeError) Error() string {
	if e.Feature != "" {
		return fmt.Sprintf("%v: feature %q at byte %d of the record: %s", ErrInvalid, e.Feature, e.Offset, e.Msg)
	}
	return fmt.Sprintf("%v: at byte %d of the record: %s", ErrInvalid, e.Offset, e.Msg)
}

// Unwrap returns ErrInvalid.
func (e *DecodeError) Unwrap() error { return ErrInvalid }

func errAt(off int, format string, args ...any) error {
	return &DecodeError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// consumeTag reads a field tag with a fast path for one-byte tags.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return protowire.Number(b[0] >> 3), protowire.Type(b[0] & 7), 1
	}
	return protowire.ConsumeTag(b)
}

// consumeLen reads a length prefix and checks it fits in b.
func consumeLen(b []byte) (int, int) {
	var v uint64
	var n int
	if len(b) > 0 && b[0] < 0x80 {
		v, n = uint64(b[0]), 1
	} else {
		v, n = protowire.ConsumeVarint(b)
		if n < 0 {
			return 0, n
		}
	}
	if v > uint64(len(b)-n) {
		return 0, -1
	}
	return int(v), n
}

// skipField skips a field value of type typ at b and returns its length.
func skipField(num protowire.Number, typ protowire.Type, b []byte) int {
	return protowire.ConsumeFieldValue(num, typ, b)
}

// RangeFeatures calls fn for every entry of the Features message in field 1
// of msg: the features of an Example, or the context of a SequenceExample.
// name and feature alias msg (feature is a serialized Feature, see
// ParseFeature); off is feature's byte offset inside msg. Entries are
// visited in wire order; when a name repeats, protobuf says the last one
// wins. An error returned by fn stops the walk and is returned as is.
func RangeFeatures(msg []byte, fn func(name, feature []byte, off int) error) error {
	return WalkFeatures(msg, visitorFunc(fn))
}

// FeatureVisitor receives the features of a record from WalkFeatures.
type FeatureVisitor interface {
	// VisitFeature is called for each feature, as fn of RangeFeatures.
	VisitFeature(name, feature []byte, off int) error
}

type visitorFunc func(name, feature []byte, off int) error

func (f visitorFunc) VisitFeature(name, feature []byte, off int) error { return f(name, feature, off) }

// WalkFeatures is RangeFeatures with a visitor: a pointer visitor costs no
// allocation per record, unlike a closure that escapes.
func WalkFeatures(msg []byte, v FeatureVisitor) error {
	pos := 0
	for pos < len(msg) {
		num, typ, n := consumeTag(msg[pos:])
		if n < 0 {
			return errAt(pos, "bad field tag")
		}
		pos += n
		if (num != 1 && num != 2) || typ != protowire.BytesType {
			return errAt(pos, "unexpected field %d with wire type %d: payload is not a tf.train.Example or SequenceExample", num, typ)
		}
		if num == 2 {
			// feature_lists of a SequenceExample: not part of the context.
			m := skipField(num, typ, msg[pos:])
			if m < 0 {
				return errAt(pos, "bad length of feature_lists")
			}
			pos += m
			continue
		}
		l, n := consumeLen(msg[pos:])
		if n < 0 {
			return errAt(pos, "bad length of features")
		}
		pos += n
		if err := rangeEntries(msg[pos:pos+l], pos, v); err != nil {
			return err
		}
		pos += l
	}
	return nil
}

func rangeEntries(fs []byte, base int, v FeatureVisitor) error {
	pos := 0
	for pos < len(fs) {
		num, typ, n := consumeTag(fs[pos:])
		if n < 0 {
			return errAt(base+pos, "bad field tag in Features")
		}
		pos += n
		if num != 1 {
			m := skipField(num, typ, fs[pos:])
			if m < 0 {
				return errAt(base+pos, "bad value of field %d in Features", num)
			}
			pos += m
			continue
		}
		if typ != protowire.BytesType {
			return errAt(base+pos, "map entry has wire type %d, want length-delimited", typ)
		}
		l, n := consumeLen(fs[pos:])
		if n < 0 {
			return errAt(base+pos, "bad length of map entry")
		}
		pos += n
		entry := fs[pos : pos+l]
		entryBase := base + pos
		pos += l
		// Fast path: key then value, both with one-byte lengths (what every
		// writer produces for short names and small features).
		if l >= 4 && entry[0] == 0x0a && entry[1] < 0x80 {
			kl := int(entry[1])
			if vs := 2 + kl; vs+2 <= l && entry[vs] == 0x12 && entry[vs+1] < 0x80 && vs+2+int(entry[vs+1]) == l {
				if err := v.VisitFeature(entry[2:vs], entry[vs+2:], entryBase+vs+2); err != nil {
					return err
				}
				continue
			}
		}
		var name, value []byte
		valueOff := entryBase
		for ep := 0; ep < len(entry); {
			num, typ, n := consumeTag(entry[ep:])
			if n < 0 {
				return errAt(entryBase+ep, "bad field tag in map entry")
			}
			ep += n
			if (num == 1 || num == 2) && typ == protowire.BytesType {
				l, n := consumeLen(entry[ep:])
				if n < 0 {
					return errAt(entryBase+ep, "bad length in map entry")
				}
				ep += n
				if num == 1 {
					name = entry[ep : ep+l]
				} else {
					value, valueOff = entry[ep:ep+l], entryBase+ep
				}
				ep += l
				continue
			}
			if num == 1 || num == 2 {
				return errAt(entryBase+ep, "map entry field %d has wire type %d, want length-delimited", num, typ)
			}
			m := skipField(num, typ, entry[ep:])
			if m < 0 {
				return errAt(entryBase+ep, "bad value of field %d in map entry", num)
			}
			ep += m
		}
		if err := v.VisitFeature(name, value, valueOff); err != nil {
			return err
		}
	}
	return nil
}

// RawFeature is a parsed but not yet decoded Feature: its kind and the
// encoded list message. It aliases the record bytes.
type RawFeature struct {
	Kind Kind
	seg  []byte   // the list message
	more [][]byte // further list messages to merge (rare: a repeated oneof field)
}

// ParseFeature reads a serialized Feature. The returned value aliases b.
func ParseFeature(b []byte) (RawFeature, error) {
	var f RawFeature
	// Fast path: a single list field whose one-byte length spans the rest.
	if len(b) >= 2 && b[1] < 0x80 && int(b[1])+2 == len(b) {
		switch b[0] {
		case 0x0a, 0x12, 0x1a:
			return RawFeature{Kind: Kind(b[0] >> 3), seg: b[2:]}, nil
		}
	}
	pos := 0
	for pos < len(b) {
		num, typ, n := consumeTag(b[pos:])
		if n < 0 {
			return f, errAt(pos, "bad field tag in Feature")
		}
		pos += n
		if num < 1 || num > 3 {
			m := skipField(num, typ, b[pos:])
			if m < 0 {
				return f, errAt(pos, "bad value of field %d in Feature", num)
			}
			pos += m
			continue
		}
		if typ != protowire.BytesType {
			return f, errAt(pos, "Feature field %d has wire type %d, want length-delimited", num, typ)
		}
		l, n := consumeLen(b[pos:])
		if n < 0 {
			return f, errAt(pos, "bad length in Feature")
		}
		pos += n
		k := Kind(num) // 1 bytes, 2 float, 3 int64: same numbering as Kind
		seg := b[pos : pos+l]
		pos += l
		if k == f.Kind {
			// The same oneof member again: protobuf merges the messages.
			f.more = append(f.more, seg)
			continue
		}
		f = RawFeature{Kind: k, seg: seg}
	}
	return f, nil
}

func (f *RawFeature) segments(fn func(seg []byte) error) error {
	if err := fn(f.seg); err != nil {
		return err
	}
	for _, s := range f.more {
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

// Packed returns the payload of a float_list or int64_list written the way
// TensorFlow and this package write them: one packed field (4 bytes per
// float, or concatenated varints). ok is false for any other layout
// (unpacked values, several fields, other kinds), which the Append
// functions handle. An empty list is an empty payload with ok true. The
// payload aliases the record and is not validated.
func (f *RawFeature) Packed() (payload []byte, ok bool) {
	s := f.seg
	if len(f.more) != 0 || f.Kind == KindBytes {
		return nil, false
	}
	if len(s) == 0 {
		return s, true
	}
	if len(s) < 2 || s[0] != 0x0a {
		return nil, false
	}
	if s[1] < 0x80 {
		if int(s[1]) == len(s)-2 {
			return s[2:], true
		}
		return nil, false
	}
	l, n := protowire.ConsumeVarint(s[1:])
	if n < 0 || l != uint64(len(s)-1-n) {
		return nil, false
	}
	return s[1+n:], true
}

// Len returns the number of values in the feature.
func (f *RawFeature) Len() (int, error) {
	count := 0
	err := f.segments(func(seg []byte) error {
		c, err := segLen(f.Kind, seg)
		count += c
		return err
	})
	return count, err
}

func segLen(k Kind, seg []byte) (int, error) {
	count := 0
	pos := 0
	for pos < len(seg) {
		num, typ, n := consumeTag(seg[pos:])
		if n < 0 {
			return 0, errAt(pos, "bad field tag in %s", k)
		}
		pos += n
		if num != 1 {
			m := skipField(num, typ, seg[pos:])
			if m < 0 {
				return 0, errAt(pos, "bad value in %s", k)
			}
			pos += m
			continue
		}
		switch {
		case typ == protowire.BytesType:
			l, n := consumeLen(seg[pos:])
			if n < 0 {
				return 0, errAt(pos, "bad length in %s", k)
			}
			pos += n
			switch k {
			case KindBytes:
				count++
			case KindFloat:
				if l%4 != 0 {
					return 0, errAt(pos, "packed float_list of %d bytes is not a multiple of 4", l)
				}
				count += l / 4
			case KindInt64:
				p := seg[pos : pos+l]
				for _, c := range p {
					if c < 0x80 {
						count++
					}
				}
				if l > 0 && p[l-1] >= 0x80 {
					return 0, errAt(pos, "packed int64_list ends inside a varint")
				}
			}
			pos += l
		case k == KindFloat && typ == protowire.Fixed32Type:
			if len(seg)-pos < 4 {
				return 0, errAt(pos, "truncated float")
			}
			pos += 4
			count++
		case k == KindInt64 && typ == protowire.VarintType:
			_, n := protowire.ConsumeVarint(seg[pos:])
			if n < 0 {
				return 0, errAt(pos, "bad varint in int64_list")
			}
			pos += n
			count++
		default:
			return 0, errAt(pos, "%s value has wire type %d", k, typ)
		}
	}
	return count, nil
}

// Float is the set of element types floats can be decoded into.
type Float interface{ ~float32 | ~float64 }

// Integer is the set of element types int64 values can be decoded into.
type Integer interface {
	~int64 | ~int32 | ~int16 | ~int8 | ~uint64 | ~uint32 | ~uint16 | ~uint8 | ~float64 | ~float32
}

// AppendFloats appends the values of a float_list feature to dst.
func AppendFloats[T Float](dst []T, f *RawFeature) ([]T, error) {
	if f.Kind != KindFloat {
		return dst, fmt.Errorf("%w: feature is %s, not float_list", ErrInvalid, f.Kind)
	}
	var err error
	dst, err = appendFloatSeg(dst, f.seg)
	for _, s := range f.more {
		if err != nil {
			break
		}
		dst, err = appendFloatSeg(dst, s)
	}
	return dst, err
}

func appendFloatSeg[T Float](dst []T, seg []byte) ([]T, error) {
	pos := 0
	for pos < len(seg) {
		num, typ, n := consumeTag(seg[pos:])
		if n < 0 {
			return dst, errAt(pos, "bad field tag in float_list")
		}
		pos += n
		switch {
		case num == 1 && typ == protowire.BytesType:
			l, n := consumeLen(seg[pos:])
			if n < 0 {
				return dst, errAt(pos, "bad length in float_list")
			}
			pos += n
			if l%4 != 0 {
				return dst, errAt(pos, "packed float_list of %d bytes is not a multiple of 4", l)
			}
			p := seg[pos : pos+l]
			for i := 0; i+4 <= len(p); i += 4 {
				dst = append(dst, T(math.Float32frombits(binary.LittleEndian.Uint32(p[i:]))))
			}
			pos += l
		case num == 1 && typ == protowire.Fixed32Type:
			if len(seg)-pos < 4 {
				return dst, errAt(pos, "truncated float")
			}
			dst = append(dst, T(math.Float32frombits(binary.LittleEndian.Uint32(seg[pos:]))))
			pos += 4
		case num == 1:
			return dst, errAt(pos, "float_list value has wire type %d", typ)
		default:
			m := skipField(num, typ, seg[pos:])
			if m < 0 {
				return dst, errAt(pos, "bad value in float_list")
			}
			pos += m
		}
	}
	return dst, nil
}

// AppendInt64s appends the values of an int64_list feature to dst,
// converted to T.
func AppendInt64s[T Integer](dst []T, f *RawFeature) ([]T, error) {
	if f.Kind != KindInt64 {
		return dst, fmt.Errorf("%w: feature is %s, not int64_list", ErrInvalid, f.Kind)
	}
	var err error
	dst, err = appendIntSeg(dst, f.seg)
	for _, s := range f.more {
		if err != nil {
			break
		}
		dst, err = appendIntSeg(dst, s)
	}
	return dst, err
}

func appendIntSeg[T Integer](dst []T, seg []byte) ([]T, error) {
	pos := 0
	for pos < len(seg) {
		num, typ, n := consumeTag(seg[pos:])
		if n < 0 {
			return dst, errAt(pos, "bad field tag in int64_list")
		}
		pos += n
		switch {
		case num == 1 && typ == protowire.BytesType:
			l, n := consumeLen(seg[pos:])
			if n < 0 {
				return dst, errAt(pos, "bad length in int64_list")
			}
			pos += n
			p := seg[pos : pos+l]
			for i := 0; i < len(p); {
				if c := p[i]; c < 0x80 {
					dst = append(dst, T(int64(c)))
					i++
					continue
				}
				v, m := protowire.ConsumeVarint(p[i:])
				if m < 0 {
					return dst, errAt(pos+i, "bad varint in packed int64_list")
				}
				dst = append(dst, T(int64(v)))
				i += m
			}
			pos += l
		case num == 1 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(seg[pos:])
			if m < 0 {
				return dst, errAt(pos, "bad varint in int64_list")
			}
			dst = append(dst, T(int64(v)))
			pos += m
		case num == 1:
			return dst, errAt(pos, "int64_list value has wire type %d", typ)
		default:
			m := skipField(num, typ, seg[pos:])
			if m < 0 {
				return dst, errAt(pos, "bad value in int64_list")
			}
			pos += m
		}
	}
	return dst, nil
}

// RangeBytes calls fn for every value of a bytes_list feature; v aliases the
// record.
func (f *RawFeature) RangeBytes(fn func(v []byte)) error {
	if f.Kind != KindBytes {
		return fmt.Errorf("%w: feature is %s, not bytes_list", ErrInvalid, f.Kind)
	}
	return f.segments(func(seg []byte) error {
		pos := 0
		for pos < len(seg) {
			num, typ, n := consumeTag(seg[pos:])
			if n < 0 {
				return errAt(pos, "bad field tag in bytes_list")
			}
			pos += n
			if num == 1 && typ == protowire.BytesType {
				l, n := consumeLen(seg[pos:])
				if n < 0 {
					return errAt(pos, "bad length in bytes_list")
				}
				pos += n
				fn(seg[pos : pos+l])
				pos += l
				continue
			}
			if num == 1 {
				return errAt(pos, "bytes_list value has wire type %d", typ)
			}
			m := skipField(num, typ, seg[pos:])
			if m < 0 {
				return errAt(pos, "bad value in bytes_list")
			}
			pos += m
		}
		return nil
	})
}

// Decode converts a RawFeature into a Feature that owns its memory.
func (f *RawFeature) Decode() (Feature, error) {
	out := Feature{Kind: f.Kind}
	var err error
	switch f.Kind {
	case KindFloat:
		out.Floats, err = AppendFloats([]float32{}, f)
	case KindInt64:
		out.Int64s, err = AppendInt64s([]int64{}, f)
	case KindBytes:
		out.Bytes = [][]byte{}
		err = f.RangeBytes(func(v []byte) { out.Bytes = append(out.Bytes, append([]byte{}, v...)) })
	}
	return out, err
}

// Unmarshal decodes a serialized Example (or the context of a
// SequenceExample). The result does not alias b.
func Unmarshal(b []byte) (*Example, error) {
	e := &Example{Features: map[string]Feature{}}
	err := RangeFeatures(b, func(name, fb []byte, off int) error {
		raw, err := ParseFeature(fb)
		if err == nil {
			var f Feature
			if f, err = raw.Decode(); err == nil {
				e.Features[string(name)] = f
				return nil
			}
		}
		return featureErr(err, string(name), off)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

func featureErr(err error, name string, off int) error {
	var de *DecodeError
	if errors.As(err, &de) {
		return &DecodeError{Offset: off + de.Offset, Feature: name, Msg: de.Msg}
	}
	return &DecodeError{Offset: off, Feature: name, Msg: err.Error()}
}

// UnmarshalSequence decodes a serialized SequenceExample.
func UnmarshalSequence(b []byte) (*SequenceExample, error) {
	ex, err := Unmarshal(b)
	if err != nil {
		return nil, err
	}
	s := &SequenceExample{Context: ex.Features, FeatureLists: map[string][]Feature{}}
	pos := 0
	for pos < len(b) {
		num, typ, n := consumeTag(b[pos:])
		if n < 0 {
			return nil, errAt(pos, "bad field tag")
		}
		pos += n
		if num != 2 || typ != protowire.BytesType {
			m := skipField(num, typ, b[pos:])
			if m < 0 {
				return nil, errAt(pos, "bad value of field %d", num)
			}
			pos += m
			continue
		}
		l, n := consumeLen(b[pos:])
		if n < 0 {
			return nil, errAt(pos, "bad length of feature_lists")
		}
		pos += n
		// FeatureLists has the same shape as Features: map entries in field 1,
		// whose values are FeatureList messages.
		err := rangeEntries(b[pos:pos+l], pos, visitorFunc(func(name, fl []byte, off int) error {
			list := s.FeatureLists[string(name)][:0:0]
			for p := 0; p < len(fl); {
				num, typ, n := consumeTag(fl[p:])
				if n < 0 {
					return &DecodeError{Offset: off + p, Feature: string(name), Msg: "bad field tag in FeatureList"}
				}
				p += n
				if num != 1 || typ != protowire.BytesType {
					m := skipField(num, typ, fl[p:])
					if m < 0 {
						return &DecodeError{Offset: off + p, Feature: string(name), Msg: "bad value in FeatureList"}
					}
					p += m
					continue
				}
				l, n := consumeLen(fl[p:])
				if n < 0 {
					return &DecodeError{Offset: off + p, Feature: string(name), Msg: "bad length in FeatureList"}
				}
				p += n
				raw, err := ParseFeature(fl[p : p+l])
				if err == nil {
					var f Feature
					if f, err = raw.Decode(); err == nil {
						list = append(list, f)
						p += l
						continue
					}
				}
				return featureErr(err, string(name), off+p)
			}
			s.FeatureLists[string(name)] = list
			return nil
		}))
		if err != nil {
			return nil, err
		}
		pos += l
	}
	return s, nil
}
