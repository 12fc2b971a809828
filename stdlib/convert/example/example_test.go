package example

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// tfProto is TensorFlow's example.proto and feature.proto as a descriptor,
// so that the protobuf runtime (an independent implementation) can check
// our encoder and feed our decoder.
const tfProto = `
name: "tf_example.proto" package: "tensorflow" syntax: "proto3"
message_type { name: "BytesList" field { name: "value" number: 1 label: LABEL_REPEATED type: TYPE_BYTES } }
message_type { name: "FloatList" field { name: "value" number: 1 label: LABEL_REPEATED type: TYPE_FLOAT options { packed: true } } }
message_type { name: "Int64List" field { name: "value" number: 1 label: LABEL_REPEATED type: TYPE_INT64 options { packed: true } } }
message_type { name: "Feature"
  field { name: "bytes_list" number: 1 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".tensorflow.BytesList" oneof_index: 0 }
  field { name: "float_list" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".tensorflow.FloatList" oneof_index: 0 }
  field { name: "int64_list" number: 3 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".tensorflow.Int64List" oneof_index: 0 }
  oneof_decl { name: "kind" } }
message_type { name: "Features"
  field { name: "feature" number: 1 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".tensorflow.Features.FeatureEntry" }
  nested_type { name: "FeatureEntry"
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".tensorflow.Feature" }
    options { map_entry: true } } }
message_type { name: "FeatureList" field { name: "feature" number: 1 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".tensorflow.Feature" } }
message_type { name: "FeatureLists"
  field { name: "feature_list" number: 1 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".tensorflow.FeatureLists.FeatureListEntry" }
  nested_type { name: "FeatureListEntry"
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".tensorflow.FeatureList" }
    options { map_entry: true } } }
message_type { name: "Example" field { name: "features" number: 1 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".tensorflow.Features" } }
message_type { name: "SequenceExample"
  field { name: "context" number: 1 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".tensorflow.Features" }
  field { name: "feature_lists" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".tensorflow.FeatureLists" } }
`

func tfDescriptors(t testing.TB) protoreflect.FileDescriptor {
	t.Helper()
	var fdp descriptorpb.FileDescriptorProto
	if err := prototext.Unmarshal([]byte(tfProto), &fdp); err != nil {
		t.Fatal(err)
	}
	fd, err := protodesc.NewFile(&fdp, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// fromDynamic converts a protobuf-runtime Features map to our type.
func fromDynamic(m protoreflect.Map) map[string]Feature {
	out := map[string]Feature{}
	m.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		out[k.String()] = featureFromDynamic(v.Message())
		return true
	})
	return out
}

func featureFromDynamic(fm protoreflect.Message) Feature {
	var f Feature
	fm.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		list := v.Message().Get(v.Message().Descriptor().Fields().ByNumber(1)).List()
		switch fd.Number() {
		case 1:
			f.Kind, f.Bytes = KindBytes, [][]byte{}
			for i := 0; i < list.Len(); i++ {
				f.Bytes = append(f.Bytes, list.Get(i).Bytes())
			}
		case 2:
			f.Kind, f.Floats = KindFloat, []float32{}
			for i := 0; i < list.Len(); i++ {
				f.Floats = append(f.Floats, float32(list.Get(i).Float()))
			}
		case 3:
			f.Kind, f.Int64s = KindInt64, []int64{}
			for i := 0; i < list.Len(); i++ {
				f.Int64s = append(f.Int64s, list.Get(i).Int())
			}
		}
		return true
	})
	return f
}

// toDynamic builds the protobuf-runtime message for our Example.
func toDynamic(fd protoreflect.FileDescriptor, e *Example) *dynamicpb.Message {
	ex := dynamicpb.NewMessage(fd.Messages().ByName("Example"))
	feats := ex.Mutable(ex.Descriptor().Fields().ByName("features")).Message()
	m := feats.Mutable(feats.Descriptor().Fields().ByName("feature")).Map()
	for name, f := range e.Features {
		fv := m.NewValue()
		fmsg := fv.Message()
		var lname protoreflect.Name
		switch f.Kind {
		case KindBytes:
			lname = "bytes_list"
		case KindFloat:
			lname = "float_list"
		case KindInt64:
			lname = "int64_list"
		}
		lmsg := fmsg.Mutable(fmsg.Descriptor().Fields().ByName(lname)).Message()
		list := lmsg.Mutable(lmsg.Descriptor().Fields().ByNumber(1)).List()
		for _, b := range f.Bytes {
			list.Append(protoreflect.ValueOfBytes(b))
		}
		for _, v := range f.Floats {
			list.Append(protoreflect.ValueOfFloat32(v))
		}
		for _, v := range f.Int64s {
			list.Append(protoreflect.ValueOfInt64(v))
		}
		m.Set(protoreflect.ValueOfString(name).MapKey(), fv)
	}
	return ex
}

func sample() *Example {
	return New().
		Set("f_scalar", Floats(1.5)).
		Set("f_list", Floats(-1, 0, float32(math.Inf(1)), math.MaxFloat32, math.SmallestNonzeroFloat32)).
		Set("f_empty", Floats()).
		Set("i_scalar", Int64s(42)).
		Set("i_list", Int64s(0, -1, math.MaxInt64, math.MinInt64, 127, 128, 300)).
		Set("i_empty", Int64s()).
		Set("b_list", Bytes([]byte("a"), []byte{}, []byte{0, 0xff})).
		Set("s", Strings("héllo")).
		Set("b_empty", Bytes()).
		Set("", Int64s(7)) // an empty name is legal protobuf
}

func normalize(m map[string]Feature) map[string]Feature {
	out := map[string]Feature{}
	for k, f := range m {
		g := Feature{Kind: f.Kind}
		switch f.Kind {
		case KindBytes:
			g.Bytes = [][]byte{}
			for _, b := range f.Bytes {
				g.Bytes = append(g.Bytes, append([]byte{}, b...))
			}
		case KindFloat:
			g.Floats = append([]float32{}, f.Floats...)
		case KindInt64:
			g.Int64s = append([]int64{}, f.Int64s...)
		}
		out[k] = g
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	for _, opts := range []MarshalOptions{{}, {Unpacked: true}} {
		e := sample()
		b := opts.AppendExample(nil, e)
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normalize(got.Features), normalize(e.Features)) {
			t.Errorf("unpacked=%v: round trip differs:\n got %v\nwant %v", opts.Unpacked, got.Features, e.Features)
		}
	}
}

// Our encoding must be what the protobuf runtime decodes, and what it
// encodes (packed and with its own field order) we must decode.
func TestAgainstProtobufRuntime(t *testing.T) {
	fd := tfDescriptors(t)
	e := sample()
	for _, opts := range []MarshalOptions{{}, {Unpacked: true}} {
		msg := dynamicpb.NewMessage(fd.Messages().ByName("Example"))
		if err := proto.Unmarshal(opts.AppendExample(nil, e), msg); err != nil {
			t.Fatalf("protobuf runtime rejects our encoding: %v", err)
		}
		feats := msg.Get(msg.Descriptor().Fields().ByName("features")).Message()
		got := fromDynamic(feats.Get(feats.Descriptor().Fields().ByName("feature")).Map())
		if !reflect.DeepEqual(normalize(got), normalize(e.Features)) {
			t.Errorf("runtime decodes\n %v\nwant %v", got, e.Features)
		}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(toDynamic(fd, e))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalize(got.Features), normalize(e.Features)) {
		t.Errorf("we decode runtime bytes as\n %v\nwant %v", got.Features, e.Features)
	}
	// Deterministic runtime output sorts map keys, as we do: same bytes.
	if ours := e.Marshal(); string(ours) != string(b) {
		t.Errorf("encodings differ:\n ours    %x\n runtime %x", ours, b)
	}
}

func TestSequenceExample(t *testing.T) {
	fd := tfDescriptors(t)
	s := &SequenceExample{
		Context: map[string]Feature{"user": Strings("u1"), "age": Int64s(30)},
		FeatureLists: map[string][]Feature{
			"clicks": {Int64s(1, 2), Int64s(), Int64s(3)},
			"dwell":  {Floats(0.5)},
		},
	}
	b := s.Marshal()
	msg := dynamicpb.NewMessage(fd.Messages().ByName("SequenceExample"))
	if err := proto.Unmarshal(b, msg); err != nil {
		t.Fatalf("runtime rejects our SequenceExample: %v", err)
	}
	ctx := msg.Get(msg.Descriptor().Fields().ByName("context")).Message()
	if got := fromDynamic(ctx.Get(ctx.Descriptor().Fields().ByName("feature")).Map()); !reflect.DeepEqual(normalize(got), normalize(s.Context)) {
		t.Errorf("context %v", got)
	}
	got, err := UnmarshalSequence(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalize(got.Context), normalize(s.Context)) {
		t.Errorf("context %v, want %v", got.Context, s.Context)
	}
	if len(got.FeatureLists["clicks"]) != 3 || got.FeatureLists["clicks"][2].Int64s[0] != 3 || got.FeatureLists["dwell"][0].Floats[0] != 0.5 {
		t.Errorf("feature lists %v", got.FeatureLists)
	}
	// The Example decoder reads the context of a SequenceExample.
	ex, err := Unmarshal(b)
	if err != nil || !reflect.DeepEqual(normalize(ex.Features), normalize(s.Context)) {
		t.Errorf("Unmarshal(SequenceExample) = %v, %v", ex, err)
	}
}

// Protobuf merge rules: a repeated map key keeps the last entry, a repeated
// list message concatenates, a different oneof member replaces.
func TestMergeSemantics(t *testing.T) {
	a := New().Set("x", Int64s(1)).Marshal()
	b := New().Set("x", Int64s(2, 3)).Marshal()
	got, err := Unmarshal(append(append([]byte{}, a...), b...))
	if err != nil || !reflect.DeepEqual(got.Features["x"].Int64s, []int64{2, 3}) {
		t.Errorf("repeated key: %v %v", got, err)
	}
	// Feature with int64_list twice: lists concatenate.
	f1 := MarshalOptions{}.appendFeature(nil, Int64s(1))
	f2 := MarshalOptions{}.appendFeature(nil, Int64s(2))
	raw, err := ParseFeature(append(f1, f2...))
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := raw.Decode(); !reflect.DeepEqual(f.Int64s, []int64{1, 2}) {
		t.Errorf("merged list %v", f)
	}
	if n, _ := raw.Len(); n != 2 {
		t.Errorf("Len %d", n)
	}
	f3 := MarshalOptions{}.appendFeature(nil, Floats(9))
	raw, _ = ParseFeature(append(append([]byte{}, f1...), f3...))
	if f, _ := raw.Decode(); f.Kind != KindFloat || f.Floats[0] != 9 {
		t.Errorf("oneof replacement %v", f)
	}
}

func TestEmptyExample(t *testing.T) {
	got, err := Unmarshal(nil)
	if err != nil || len(got.Features) != 0 {
		t.Fatalf("%v %v", got, err)
	}
	b := New().Marshal()
	if got, err := Unmarshal(b); err != nil || len(got.Features) != 0 {
		t.Fatalf("%x: %v %v", b, got, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := New().Set("x", Floats(1, 2)).Marshal()
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"text", []byte("hello world"), "payload is not a tf.train.Example"},
		{"truncated", good[:len(good)-3], "bad length"},
		{"bad tag", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "bad field tag"},
		{"features varint", []byte{0x08, 0x01}, "payload is not a tf.train.Example"},
		{"odd packed floats", fixLens(), "not a multiple of 4"},
	}
	for _, tt := range tests {
		_, err := Unmarshal(tt.data)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %q, want it to say %q", tt.name, err, tt.msg)
		}
	}
}

// fixLens builds an Example whose feature "x" is a packed float_list with
// 3 payload bytes.
func fixLens() []byte {
	list := []byte{0x0a, 0x03, 0, 0, 0}                                      // FloatList.value packed, 3 bytes
	feat := append([]byte{0x12, byte(len(list))}, list...)                   // Feature.float_list
	entry := append([]byte{0x0a, 0x01, 'x', 0x12, byte(len(feat))}, feat...) // key, value
	feats := append([]byte{0x0a, byte(len(entry))}, entry...)                // Features.feature
	return append([]byte{0x0a, byte(len(feats))}, feats...)                  // Example.features
}

func TestRawFeatureAccessors(t *testing.T) {
	b := New().Set("f", Floats(1, 2, 3)).Set("i", Int64s(5, 300)).Set("s", Strings("a", "bc")).Marshal()
	seen := map[string]bool{}
	err := RangeFeatures(b, func(name, fb []byte, off int) error {
		raw, err := ParseFeature(fb)
		if err != nil {
			return err
		}
		seen[string(name)] = true
		switch string(name) {
		case "f":
			v, err := AppendFloats([]float64(nil), &raw)
			if err != nil || !reflect.DeepEqual(v, []float64{1, 2, 3}) {
				t.Errorf("floats %v %v", v, err)
			}
			if _, err := AppendInt64s([]int64(nil), &raw); err == nil {
				t.Error("AppendInt64s on float_list succeeded")
			}
		case "i":
			v, err := AppendInt64s([]int32(nil), &raw)
			if err != nil || !reflect.DeepEqual(v, []int32{5, 300}) {
				t.Errorf("ints %v %v", v, err)
			}
		case "s":
			var got []string
			raw.RangeBytes(func(v []byte) { got = append(got, string(v)) })
			if !reflect.DeepEqual(got, []string{"a", "bc"}) {
				t.Errorf("bytes %v", got)
			}
		}
		if string(b[off:off+len(fb)]) != string(fb) {
			t.Errorf("offset %d of %q is wrong", off, name)
		}
		return nil
	})
	if err != nil || len(seen) != 3 {
		t.Fatalf("%v %v", seen, err)
	}
}

func FuzzDecodeExample(f *testing.F) {
	f.Add(sample().Marshal())
	f.Add(MarshalOptions{Unpacked: true}.AppendExample(nil, sample()))
	f.Add((&SequenceExample{Context: map[string]Feature{"a": Int64s(1)}, FeatureLists: map[string][]Feature{"b": {Floats(1)}}}).Marshal())
	f.Add([]byte{})
	f.Add(fixLens())
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Unmarshal(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		// What decodes must re-encode to something that decodes the same.
		again, err := Unmarshal(e.Marshal())
		if err != nil {
			t.Fatalf("re-encoded example does not decode: %v", err)
		}
		if !reflect.DeepEqual(normalize(again.Features), normalize(e.Features)) {
			t.Fatalf("re-encoding changed the example:\n%v\n%v", e.Features, again.Features)
		}
		UnmarshalSequence(data)
	})
}

// TestPacked checks the packed-payload fast path against the general
// decoders: it must either give exactly their values or decline.
func TestPacked(t *testing.T) {
	long := make([]float32, 100) // payload length needs a two-byte varint
	for i := range long {
		long[i] = float32(i) / 3
	}
	tests := []struct {
		name   string
		f      Feature
		opts   MarshalOptions
		wantOK bool
	}{
		{"floats", Floats(1, 2.5, -3), MarshalOptions{}, true},
		{"long floats", Floats(long...), MarshalOptions{}, true},
		{"ints", Int64s(5, 300, -1), MarshalOptions{}, true},
		{"empty floats", Floats(), MarshalOptions{}, true},
		{"unpacked floats", Floats(1, 2), MarshalOptions{Unpacked: true}, false},
		{"unpacked ints", Int64s(1, 2), MarshalOptions{Unpacked: true}, false},
		{"bytes", Strings("a"), MarshalOptions{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.opts.AppendExample(nil, New().Set("x", tt.f))
			err := RangeFeatures(b, func(_, fb []byte, _ int) error {
				raw, err := ParseFeature(fb)
				if err != nil {
					return err
				}
				pl, ok := raw.Packed()
				if ok != tt.wantOK {
					t.Fatalf("Packed ok = %v, want %v", ok, tt.wantOK)
				}
				if !ok {
					return nil
				}
				switch raw.Kind {
				case KindFloat:
					want, _ := AppendFloats([]float32(nil), &raw)
					if len(pl) != 4*len(want) {
						t.Fatalf("payload %d bytes for %d floats", len(pl), len(want))
					}
					for i, w := range want {
						if got := math.Float32frombits(binary.LittleEndian.Uint32(pl[4*i:])); got != w {
							t.Errorf("value %d: %v, want %v", i, got, w)
						}
					}
				case KindInt64:
					want, _ := AppendInt64s([]int64(nil), &raw)
					var got []int64
					for p := pl; len(p) > 0; {
						v, n := binary.Uvarint(p)
						got = append(got, int64(v))
						p = p[n:]
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("ints %v, want %v", got, want)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
