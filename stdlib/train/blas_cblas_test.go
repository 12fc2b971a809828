//go:build cgo && !purego

package train

import (
	"math"
	"os"
	"strings"
	"testing"
)

func TestOpenBLASMatchesGonum(t *testing.T) {
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/libopenblas.so.0"); err == nil && os.Getenv("GOPHERLAB_BLAS") == "" {
		if !strings.HasPrefix(BLAS(), "OpenBLAS") {
			t.Fatalf("libopenblas.so.0 is installed but BLAS() = %q", BLAS())
		}
	}
	t.Logf("backend: %s", BLAS())
	m, n, k := 37, 23, 19
	a, b := randTensor(1, m*k).Data, randTensor(2, k*n).Data
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		lda, ldb := k, n
		if tr[0] {
			lda = m
		}
		if tr[1] {
			ldb = k
		}
		c1, c2 := randTensor(3, m*n).Data, randTensor(3, m*n).Data
		sgemm(tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, 0.25, c1, n)
		gonumSgemm(tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, 0.25, c2, n)
		for i := range c1 {
			if math.Abs(float64(c1[i]-c2[i])) > 1e-4 {
				t.Fatalf("transpose %v: element %d: %v vs gonum %v", tr, i, c1[i], c2[i])
			}
		}
	}
}
