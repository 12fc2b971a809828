package example

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// MarshalOptions control encoding. The zero value writes packed numeric
// lists and sorted feature names, as TensorFlow does, so equal Examples
// encode to equal bytes.
type MarshalOptions struct {
	// Unpacked writes every float and int64 value as its own field instead
	// of one packed field (valid protobuf that old writers produce).
	Unpacked bool
}

// Marshal encodes e with the default options.
func (e *Example) Marshal() []byte { return MarshalOptions{}.AppendExample(nil, e) }

// Marshal encodes s with the default options.
func (s *SequenceExample) Marshal() []byte { return MarshalOptions{}.AppendSequenceExample(nil, s) }

// AppendExample appends the encoding of e to dst.
func (o MarshalOptions) AppendExample(dst []byte, e *Example) []byte {
	if len(e.Features) == 0 {
		// An Example with an empty Features message still sets field 1, as
		// TensorFlow does for tf.train.Example(features=tf.train.Features()).
		if e.Features != nil {
			dst = protowire.AppendTag(dst, 1, protowire.BytesType)
			dst = protowire.AppendVarint(dst, 0)
		}
		return dst
	}
	return o.appendFeaturesField(dst, 1, e.Features)
}

// AppendSequenceExample appends the encoding of s to dst.
func (o MarshalOptions) AppendSequenceExample(dst []byte, s *SequenceExample) []byte {
	if s.Context != nil {
		dst = o.appendFeaturesField(dst, 1, s.Context)
	}
	if s.FeatureLists != nil {
		var body []byte
		for _, name := range Names(s.FeatureLists) {
			var list []byte
			for _, f := range s.FeatureLists[name] {
				list = appendBytesField(list, 1, o.appendFeature(nil, f))
			}
			var entry []byte
			entry = appendBytesField(entry, 1, []byte(name))
			entry = appendBytesField(entry, 2, list)
			body = appendBytesField(body, 1, entry)
		}
		dst = appendBytesField(dst, 2, body)
	}
	return dst
}

func (o MarshalOptions) appendFeaturesField(dst []byte, num protowire.Number, m map[string]Feature) []byte {
	var body []byte
	for _, name := range Names(m) {
		fb := o.appendFeature(nil, m[name])
		entryLen := sizeBytesField(1, len(name)) + sizeBytesField(2, len(fb))
		body = protowire.AppendTag(body, 1, protowire.BytesType)
		body = protowire.AppendVarint(body, uint64(entryLen))
		body = appendBytesField(body, 1, []byte(name))
		body = appendBytesField(body, 2, fb)
	}
	return appendBytesField(dst, num, body)
}

func (o MarshalOptions) appendFeature(dst []byte, f Feature) []byte {
	var list []byte
	switch f.Kind {
	case KindBytes:
		for _, b := range f.Bytes {
			list = appendBytesField(list, 1, b)
		}
		return appendBytesField(dst, 1, list)
	case KindFloat:
		if o.Unpacked {
			for _, v := range f.Floats {
				list = protowire.AppendTag(list, 1, protowire.Fixed32Type)
				list = binary.LittleEndian.AppendUint32(list, math.Float32bits(v))
			}
		} else if len(f.Floats) > 0 {
			list = protowire.AppendTag(list, 1, protowire.BytesType)
			list = protowire.AppendVarint(list, uint64(4*len(f.Floats)))
			for _, v := range f.Floats {
				list = binary.LittleEndian.AppendUint32(list, math.Float32bits(v))
			}
		}
		return appendBytesField(dst, 2, list)
	case KindInt64:
		if o.Unpacked {
			for _, v := range f.Int64s {
				list = protowire.AppendTag(list, 1, protowire.VarintType)
				list = protowire.AppendVarint(list, uint64(v))
			}
		} else if len(f.Int64s) > 0 {
			n := 0
			for _, v := range f.Int64s {
				n += protowire.SizeVarint(uint64(v))
			}
			list = protowire.AppendTag(list, 1, protowire.BytesType)
			list = protowire.AppendVarint(list, uint64(n))
			for _, v := range f.Int64s {
				list = protowire.AppendVarint(list, uint64(v))
			}
		}
		return appendBytesField(dst, 3, list)
	}
	return dst
}

func appendBytesField(dst []byte, num protowire.Number, b []byte) []byte {
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendBytes(dst, b)
}

func sizeBytesField(num protowire.Number, n int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}
