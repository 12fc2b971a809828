package convert

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/stdlib/convert/example"
)

// TestOnePassMatchesTwoPass decodes records that leave the fast paths part
// way (repeated names, empty or missing values, unpacked lists, wide
// varints, kind conflicts, long entries) and checks that the columns and
// errors of the default decoder, and of the one-pass decoder alone, equal
// those of the two-pass decoder.
func TestOnePassMatchesTwoPass(t *testing.T) {
	cols := testDecodeCols()
	full := func(f float32, i int64) map[string]example.Feature {
		return map[string]example.Feature{
			"f": example.Floats(f), "i": example.Int64s(i), "s": example.Strings("x"),
			"fl": example.Floats(1, 2, 3), "il": example.Int64s(1, 200, -3), "e": example.Int64s(4, 5),
			"b": example.Bytes([]byte{0xff}, nil),
		}
	}
	enc := func(o example.MarshalOptions, m map[string]example.Feature) []byte {
		return o.AppendExample(nil, &example.Example{Features: m})
	}
	with := func(m map[string]example.Feature, edit func(map[string]example.Feature)) map[string]example.Feature {
		edit(m)
		return m
	}
	packed, unpacked := example.MarshalOptions{}, example.MarshalOptions{Unpacked: true}
	// -3 in the int list as a varint that overflows 64 bits.
	minus3 := "\xfd\xff\xff\xff\xff\xff\xff\xff\xff\x01"
	overflow := []byte(strings.Replace(string(enc(packed, full(1, 2))), minus3, minus3[:len(minus3)-1]+"\x03", 1))
	if string(overflow) == string(enc(packed, full(1, 2))) {
		t.Fatal("test record: varint of -3 not found")
	}
	tests := []struct {
		name    string
		records [][]byte
		wantErr string // substring of the first record's error (without skip)
	}{
		{"plain", [][]byte{enc(packed, full(1, 2)), enc(packed, full(-1.5, 127))}, ""},
		{"wide ints", [][]byte{enc(packed, full(0, 300)), enc(packed, full(0, -5))}, ""},
		{"unpacked", [][]byte{enc(unpacked, full(7, 8)), enc(packed, full(9, 10))}, ""},
		{"missing", [][]byte{enc(packed, with(full(1, 2), func(m map[string]example.Feature) { delete(m, "f"); delete(m, "e"); delete(m, "fl") })), enc(packed, full(3, 4))}, ""},
		{"empty scalar", [][]byte{enc(packed, with(full(1, 2), func(m map[string]example.Feature) { m["f"] = example.Floats(); m["e"] = example.Int64s() }))}, ""},
		{"repeated name", [][]byte{append(enc(packed, full(1, 2)), enc(packed, map[string]example.Feature{"f": example.Floats(9), "il": example.Int64s(7)})...)}, ""},
		{"kind conflict", [][]byte{enc(packed, with(full(1, 2), func(m map[string]example.Feature) { m["i"] = example.Floats(1) })), enc(packed, full(3, 4))}, `feature "i"`},
		{"wrong width", [][]byte{enc(packed, with(full(1, 2), func(m map[string]example.Feature) { m["e"] = example.Int64s(1, 2, 3) })), enc(packed, full(3, 4))}, `feature "e"`},
		{"required missing", [][]byte{enc(packed, with(full(1, 2), func(m map[string]example.Feature) { delete(m, "s") })), enc(packed, full(3, 4))}, `feature "s"`},
		{"varint overflow", [][]byte{overflow, enc(packed, full(3, 4))}, `feature "il"`},
		{"long lists", [][]byte{enc(packed, with(full(1, 2), func(m map[string]example.Feature) {
			m["fl"] = example.Floats(make([]float32, 100)...)
			m["il"] = example.Int64s(seq(300)...)
		})), enc(packed, full(3, 4))}, ""},
		{"empty lists", [][]byte{enc(packed, with(full(1, 2), func(m map[string]example.Feature) { m["fl"] = example.Floats(); m["il"] = example.Int64s() }))}, ""},
		{"unknown feature", [][]byte{enc(packed, with(full(1, 2), func(m map[string]example.Feature) { m["zz"] = example.Floats(1) })), enc(packed, full(3, 4))}, `feature "zz"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &plan{cols: append([]column(nil), cols...), strict: true}
			if err := p.finish(); err != nil {
				t.Fatal(err)
			}
			decode := func(path int, skip bool) *batch {
				b := &batch{}
				for i, r := range tc.records {
					b.raw = append(b.raw, r...)
					b.ends = append(b.ends, len(b.raw))
					b.offsets = append(b.offsets, int64(i*100))
				}
				d := newDecoder(p)
				d.skip = path
				d.decodeBatch(b, skip, "in.tfrecords")
				return b
			}
			for _, skip := range []bool{false, true} {
				for path := 0; path < 2; path++ {
					one, two := decode(path, skip), decode(2, skip)
					if tc.wantErr != "" && !skip && (one.err == nil || !strings.Contains(one.err.Error(), tc.wantErr)) {
						t.Fatalf("error %v, want one naming %s", one.err, tc.wantErr)
					}
					if tc.wantErr == "" && one.err != nil {
						t.Fatalf("error %v", one.err)
					}
					if tc.wantErr != "" && skip && (one.skipped != 1 || one.rows != len(tc.records)-1) {
						t.Fatalf("skip: rows %d skipped %d", one.rows, one.skipped)
					}
					if !reflect.DeepEqual(errString(one.err), errString(two.err)) || one.rows != two.rows || !reflect.DeepEqual(one.skipErrs, two.skipErrs) {
						t.Fatalf("skip=%v: one-pass rows %d err %v, two-pass rows %d err %v", skip, one.rows, one.err, two.rows, two.err)
					}
					if one.err == nil && !sameCols(one.cols, two.cols) {
						t.Fatalf("skip=%v: columns differ\none-pass %+v\ntwo-pass %+v", skip, one.cols, two.cols)
					}
				}
			}
		})
	}
}

// testDecodeCols is a plan with every column mode and element kind.
func testDecodeCols() []column {
	return []column{
		{Name: "f", Feature: "f", kind: example.KindFloat, mode: modeScalar, elem: elemF32, Nullable: true},
		{Name: "i", Feature: "i", kind: example.KindInt64, mode: modeScalar, elem: elemI64, Nullable: true},
		{Name: "s", Feature: "s", kind: example.KindBytes, mode: modeScalar, elem: elemString},
		{Name: "fl", Feature: "fl", kind: example.KindFloat, mode: modeList, elem: elemF32, Nullable: true},
		{Name: "il", Feature: "il", kind: example.KindInt64, mode: modeList, elem: elemI64},
		{Name: "e_0", Feature: "e", kind: example.KindInt64, mode: modeElem, Index: 0, Width: 2, elem: elemI64, Nullable: true},
		{Name: "e_1", Feature: "e", kind: example.KindInt64, mode: modeElem, Index: 1, Width: 2, elem: elemI64, Nullable: true},
		{Name: "b", Feature: "b", kind: example.KindBytes, mode: modeList, elem: elemBinary, Nullable: true},
	}
}

// decodePaths decodes records with the default decoder, the one-pass
// decoder alone and the two-pass decoder.
func decodePaths(p *plan, records [][]byte, skip bool) [3]*batch {
	var out [3]*batch
	for path := range out {
		b := &batch{}
		for i, r := range records {
			b.raw = append(b.raw, r...)
			b.ends = append(b.ends, len(b.raw))
			b.offsets = append(b.offsets, int64(i*100))
		}
		d := newDecoder(p)
		d.skip = path
		d.decodeBatch(b, skip, "in.tfrecords")
		out[path] = b
	}
	return out
}

// FuzzDecodePaths feeds arbitrary records to the three decoders: none may
// panic, and all must give the two-pass decoder's columns and errors.
func FuzzDecodePaths(f *testing.F) {
	m := map[string]example.Feature{
		"f": example.Floats(1.5), "i": example.Int64s(300), "s": example.Strings("x"),
		"fl": example.Floats(1, 2, 3), "il": example.Int64s(1, 200, -3), "e": example.Int64s(4, 5),
		"b": example.Bytes([]byte{0xff}, nil),
	}
	f.Add(example.MarshalOptions{}.AppendExample(nil, &example.Example{Features: m}))
	f.Add(example.MarshalOptions{Unpacked: true}.AppendExample(nil, &example.Example{Features: m}))
	delete(m, "fl")
	m["il"] = example.Int64s()
	f.Add(example.MarshalOptions{}.AppendExample(nil, &example.Example{Features: m}))
	f.Add([]byte{})
	var plans []*plan
	for _, strict := range []bool{true, false} {
		p := &plan{cols: testDecodeCols(), strict: strict}
		if err := p.finish(); err != nil {
			f.Fatal(err)
		}
		plans = append(plans, p)
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		for _, p := range plans {
			for _, skip := range []bool{false, true} {
				b := decodePaths(p, [][]byte{rec, rec}, skip)
				for path := 0; path < 2; path++ {
					if errString(b[path].err) != errString(b[2].err) || b[path].rows != b[2].rows || b[path].skipped != b[2].skipped {
						t.Fatalf("path %d skip=%v: rows %d err %v; two-pass rows %d err %v", path, skip, b[path].rows, b[path].err, b[2].rows, b[2].err)
					}
					if b[2].err == nil && !sameCols(b[path].cols, b[2].cols) {
						t.Fatalf("path %d skip=%v: columns differ\n%+v\n%+v", path, skip, b[path].cols, b[2].cols)
					}
				}
			}
		}
	})
}

// sameCols compares column buffers by content (an empty slice equals nil).
func sameCols(a, b []colBuf) bool {
	return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestAppendPayloadInts checks the packed int64 fast path against the
// general decoder on lists mixing one-byte and wider varints.
func TestAppendPayloadInts(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		vals := make([]int64, r.IntN(50))
		for i := range vals {
			switch r.IntN(6) {
			case 0:
				vals[i] = r.Int64()
			case 1:
				vals[i] = -r.Int64N(1000)
			case 2:
				vals[i] = 128 + r.Int64N(20000)
			default:
				vals[i] = r.Int64N(128)
			}
		}
		rec := example.New().Set("x", example.Int64s(vals...)).Marshal()
		var raw example.RawFeature
		example.RangeFeatures(rec, func(name, fb []byte, off int) error {
			var err error
			raw, err = example.ParseFeature(fb)
			return err
		})
		pl, ok := raw.Packed()
		if !ok {
			t.Fatalf("seed %d: not packed", seed)
		}
		c := colBuf{i64: []int64{-1}}
		if !appendPayload(&c, elemI64, example.KindInt64, pl) {
			t.Fatalf("seed %d: fast path refused % x", seed, pl)
		}
		want, err := example.AppendInt64s([]int64{-1}, &raw)
		if err != nil || fmt.Sprint(c.i64) != fmt.Sprint(want) {
			t.Fatalf("seed %d: got %v, want %v (%v)", seed, c.i64, want, err)
		}
	}
}
