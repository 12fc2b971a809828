package train

import (
	"math"
	"sync"
)

// biasActivate adds the bias b (length f, broadcast over rows) to y and
// applies the activation, in one parallel pass.
func biasActivate(act string, y, b []float32, f int) {
	rows := len(y) / f
	parallelMin(rows, 4096/f+1, func(lo, hi int) {
		part := y[lo*f : hi*f]
		for r := 0; r < hi-lo; r++ {
			row := part[r*f : (r+1)*f]
			for j := range row {
				row[j] += b[j]
			}
		}
		if act == "relu" {
			reluInPlace(part)
		} else {
			activate(act, part, f)
		}
	})
}

// reluInPlace zeroes negative values without branches (random signs make
// a branch mispredict half the time).
func reluInPlace(y []float32) {
	for i, v := range y {
		bits := math.Float32bits(v)
		mask := uint32(int32(^bits) >> 31) // all ones when the sign bit is clear
		y[i] = math.Float32frombits(bits & mask)
	}
}

// activationBackward writes into dz the gradient w.r.t. the pre-activation
// from dout and the activation output y, and sums it per column into db
// (length f), in one parallel pass.
func activationBackward(act string, y, dout, dz, db []float32, f int, fused bool) {
	rows := len(y) / f
	var mu sync.Mutex
	clear(db)
	parallelMin(rows, 4096/f+1, func(lo, hi int) {
		yy, dd, zz := y[lo*f:hi*f], dout[lo*f:hi*f], dz[lo*f:hi*f]
		if act == "relu" && !fused {
			for i, v := range yy {
				// y is +0 or positive after relu; the mask is all ones for y > 0.
				m := -((math.Float32bits(v) + 0x7fffffff) >> 31)
				zz[i] = math.Float32frombits(math.Float32bits(dd[i]) & m)
			}
		} else {
			copy(zz, dd)
			activateGrad(act, yy, zz, f, fused)
		}
		part := make([]float32, f)
		for r := 0; r < hi-lo; r++ {
			for j, v := range zz[r*f : (r+1)*f] {
				part[j] += v
			}
		}
		mu.Lock()
		for j, v := range part {
			db[j] += v
		}
		mu.Unlock()
	})
}

// parallelMin is parallel but keeps at least minPer items per goroutine.
func parallelMin(n, minPer int, fn func(lo, hi int)) {
	if n < 2*minPer {
		fn(0, n)
		return
	}
	parallel(n, fn)
}
