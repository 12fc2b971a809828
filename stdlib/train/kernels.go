package train

import (
	"runtime"
	"sync"
)

// addBias adds b (length f, broadcast over rows) to y in one parallel
// pass.
func addBias(y, b []float32) {
	f := len(b)
	rows := len(y) / f
	parallelMin(rows, 4096/f+1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := y[r*f : (r+1)*f]
			for j := range row {
				row[j] += b[j]
			}
		}
	})
}

// sumRows writes the column sums of the rows of dz (row length len(db))
// into db.
func sumRows(dz, db []float32) {
	f := len(db)
	rows := len(dz) / f
	var mu sync.Mutex
	clear(db)
	parallelMin(rows, 4096/f+1, func(lo, hi int) {
		part := make([]float32, f)
		for r := lo; r < hi; r++ {
			for j, v := range dz[r*f : (r+1)*f] {
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

// parallel runs f over [0,n) split across all cores.
func parallel(n int, f func(lo, hi int)) {
	p := runtime.GOMAXPROCS(0)
	if p == 1 || n < 2 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + p - 1) / p
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// parallelMin is parallel but keeps at least minPer items per goroutine.
func parallelMin(n, minPer int, fn func(lo, hi int)) {
	if n < 2*minPer {
		fn(0, n)
		return
	}
	parallel(n, fn)
}
