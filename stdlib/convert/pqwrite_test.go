package convert

import (
	"math/rand/v2"
	"testing"
)

// unpack reads n values of width w from a bit-packed run.
func unpack(b []byte, w uint, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		bit := uint(i) * w
		out[i] = uint64(b[bit/8]>>(bit%8)) & (1<<w - 1)
	}
	return out
}

// TestBitPacker checks runs against value-by-value packing, for both level
// widths, run lengths across word boundaries, and the padded run header.
func TestBitPacker(t *testing.T) {
	for _, w := range []uint{1, 2} {
		for seed := uint64(0); seed < 50; seed++ {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			var want []uint64
			var bp bitPacker
			for len(want) < 500 {
				v := r.Uint64N(1 << w)
				k := r.IntN(140)
				if r.IntN(2) == 0 {
					bp.putRun(v, w, k)
				} else {
					for j := 0; j < k; j++ {
						bp.put(v, w)
					}
				}
				for j := 0; j < k; j++ {
					want = append(want, v)
				}
			}
			if bp.count != len(want) {
				t.Fatalf("w=%d seed %d: count %d, want %d", w, seed, bp.count, len(want))
			}
			enc := appendLevels(nil, &bp, w)
			groups := (len(want) + 7) / 8
			// 4-byte length, varint header (groups<<1|1), groups*w bytes.
			if got := int(enc[0]) | int(enc[1])<<8; got != len(enc)-4 {
				t.Fatalf("w=%d seed %d: length prefix %d, body %d", w, seed, got, len(enc)-4)
			}
			hdr, n := uint64(0), 0
			for shift := 0; ; shift += 7 {
				c := enc[4+n]
				n++
				hdr |= uint64(c&0x7f) << shift
				if c < 0x80 {
					break
				}
			}
			if hdr != uint64(groups)<<1|1 || len(enc)-4-n != groups*int(w) {
				t.Fatalf("w=%d seed %d: header %d, %d data bytes; want %d groups", w, seed, hdr, len(enc)-4-n, groups)
			}
			got := unpack(enc[4+n:], w, len(want))
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("w=%d seed %d: value %d is %d, want %d", w, seed, i, got[i], want[i])
				}
			}
		}
	}
}
