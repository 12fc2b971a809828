// Package example encodes and decodes tf.train.Example and
// tf.train.SequenceExample protocol buffers without generated code or
// reflection: a hand-written decoder over protowire that can walk a record's
// features without allocating, plus plain Go types for building and reading
// examples.
//
// The wire schema (tensorflow/core/example/{example,feature}.proto):
//
//	Example         { Features features = 1; }
//	SequenceExample { Features context = 1; FeatureLists feature_lists = 2; }
//	Features        { map<string, Feature> feature = 1; }
//	FeatureLists    { map<string, FeatureList> feature_list = 1; }
//	FeatureList     { repeated Feature feature = 1; }
//	Feature         { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } }
//	BytesList       { repeated bytes value = 1; }
//	FloatList       { repeated float value = 1 [packed = true]; }
//	Int64List       { repeated int64 value = 1 [packed = true]; }
//
// Both packed and unpacked encodings of the numeric lists are accepted. The
// Features of an Example and the context of a SequenceExample share field
// number 1, so RangeFeatures reads the context of a SequenceExample too.
package example

import (
	"fmt"
	"sort"
)

// Kind is the value type of a Feature.
type Kind uint8

const (
	// KindNone is a Feature with no list set.
	KindNone Kind = iota
	// KindBytes is a bytes_list.
	KindBytes
	// KindFloat is a float_list (float32 values).
	KindFloat
	// KindInt64 is an int64_list.
	KindInt64
)

// String returns the proto field name of the kind: "bytes_list",
// "float_list", "int64_list", or "none".
func (k Kind) String() string {
	switch k {
	case KindBytes:
		return "bytes_list"
	case KindFloat:
		return "float_list"
	case KindInt64:
		return "int64_list"
	}
	return "none"
}

// Feature is one named value of an Example: a list of bytes, float32 or
// int64 values. Only the slice matching Kind is used.
type Feature struct {
	Kind   Kind
	Bytes  [][]byte
	Floats []float32
	Int64s []int64
}

// Floats returns a float_list Feature.
func Floats(v ...float32) Feature { return Feature{Kind: KindFloat, Floats: v} }

// Int64s returns an int64_list Feature.
func Int64s(v ...int64) Feature { return Feature{Kind: KindInt64, Int64s: v} }

// Bytes returns a bytes_list Feature.
func Bytes(v ...[]byte) Feature { return Feature{Kind: KindBytes, Bytes: v} }

// Strings returns a bytes_list Feature holding the strings.
func Strings(v ...string) Feature {
	b := make([][]byte, len(v))
	for i, s := range v {
		b[i] = []byte(s)
	}
	return Feature{Kind: KindBytes, Bytes: b}
}

// Len returns the number of values in f.
func (f Feature) Len() int {
	switch f.Kind {
	case KindBytes:
		return len(f.Bytes)
	case KindFloat:
		return len(f.Floats)
	case KindInt64:
		return len(f.Int64s)
	}
	return 0
}

// String formats f like "float_list[0.5 1]".
func (f Feature) String() string {
	switch f.Kind {
	case KindBytes:
		s := make([]string, len(f.Bytes))
		for i, b := range f.Bytes {
			s[i] = string(b)
		}
		return fmt.Sprintf("%s%q", f.Kind, s)
	case KindFloat:
		return fmt.Sprintf("%s%v", f.Kind, f.Floats)
	case KindInt64:
		return fmt.Sprintf("%s%v", f.Kind, f.Int64s)
	}
	return "none"
}

// Example is a tf.train.Example: named features.
type Example struct {
	Features map[string]Feature
}

// New returns an Example with an empty feature map.
func New() *Example { return &Example{Features: map[string]Feature{}} }

// Set stores a feature and returns e, for chaining.
func (e *Example) Set(name string, f Feature) *Example {
	if e.Features == nil {
		e.Features = map[string]Feature{}
	}
	e.Features[name] = f
	return e
}

// SequenceExample is a tf.train.SequenceExample: context features plus named
// lists of features (one per time step).
type SequenceExample struct {
	Context      map[string]Feature
	FeatureLists map[string][]Feature
}

// Names returns the feature names of m in sorted order.
func Names[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
