package convert

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/stdlib/convert/example"
)

// TestOnePassMatchesTwoPass decodes records that leave the one-pass fast
// path part way (repeated names, empty or missing values, unpacked lists,
// wide varints, kind conflicts) and checks the columns and errors equal
// those of the two-pass decoder.
func TestOnePassMatchesTwoPass(t *testing.T) {
	cols := []column{
		{Name: "f", Feature: "f", kind: example.KindFloat, mode: modeScalar, elem: elemF32, Nullable: true},
		{Name: "i", Feature: "i", kind: example.KindInt64, mode: modeScalar, elem: elemI64, Nullable: true},
		{Name: "s", Feature: "s", kind: example.KindBytes, mode: modeScalar, elem: elemString},
		{Name: "fl", Feature: "fl", kind: example.KindFloat, mode: modeList, elem: elemF32, Nullable: true},
		{Name: "il", Feature: "il", kind: example.KindInt64, mode: modeList, elem: elemI64},
		{Name: "e_0", Feature: "e", kind: example.KindInt64, mode: modeElem, Index: 0, Width: 2, elem: elemI64, Nullable: true},
		{Name: "e_1", Feature: "e", kind: example.KindInt64, mode: modeElem, Index: 1, Width: 2, elem: elemI64, Nullable: true},
		{Name: "b", Feature: "b", kind: example.KindBytes, mode: modeList, elem: elemBinary, Nullable: true},
	}
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
		{"unknown feature", [][]byte{enc(packed, with(full(1, 2), func(m map[string]example.Feature) { m["zz"] = example.Floats(1) })), enc(packed, full(3, 4))}, `feature "zz"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &plan{cols: append([]column(nil), cols...), strict: true}
			if err := p.finish(); err != nil {
				t.Fatal(err)
			}
			decode := func(twoPass, skip bool) *batch {
				b := &batch{}
				for i, r := range tc.records {
					b.raw = append(b.raw, r...)
					b.ends = append(b.ends, len(b.raw))
					b.offsets = append(b.offsets, int64(i*100))
				}
				d := newDecoder(p)
				d.twoPass = twoPass
				d.decodeBatch(b, skip, "in.tfrecords")
				return b
			}
			for _, skip := range []bool{false, true} {
				one, two := decode(false, skip), decode(true, skip)
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
				if one.err == nil && !reflect.DeepEqual(one.cols, two.cols) {
					t.Fatalf("skip=%v: columns differ\none-pass %+v\ntwo-pass %+v", skip, one.cols, two.cols)
				}
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
