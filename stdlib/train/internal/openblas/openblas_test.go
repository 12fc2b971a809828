package openblas

import (
	"math"
	"math/rand"
	"os"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

func TestGemmMatchesGonum(t *testing.T) {
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/libopenblas.so.0"); err == nil && os.Getenv("GOPHERLAB_BLAS") == "" && cgoBuild {
		if Library() == "" {
			t.Fatal("libopenblas.so.0 is installed but was not loaded")
		}
	}
	t.Logf("OpenBLAS library: %q", Library())
	r := rand.New(rand.NewSource(1))
	vals := func(n int) ([]float32, []float64) {
		f, d := make([]float32, n), make([]float64, n)
		for i := range f {
			d[i] = r.NormFloat64()
			f[i] = float32(d[i])
		}
		return f, d
	}
	m, n, k := 37, 23, 19
	af, ad := vals(m * k)
	bf, bd := vals(k * n)
	for _, ta := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		for _, tb := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			lda, ldb := k, n
			if ta == blas.Trans {
				lda = m
			}
			if tb == blas.Trans {
				ldb = k
			}
			cf, cd := vals(m * n)
			cf2, cd2 := append([]float32(nil), cf...), append([]float64(nil), cd...)
			Implementation{}.Sgemm(ta, tb, m, n, k, 0.5, af, lda, bf, ldb, 0.25, cf, n)
			gonum.Implementation{}.Sgemm(ta, tb, m, n, k, 0.5, af, lda, bf, ldb, 0.25, cf2, n)
			Implementation{}.Dgemm(ta, tb, m, n, k, 0.5, ad, lda, bd, ldb, 0.25, cd, n)
			gonum.Implementation{}.Dgemm(ta, tb, m, n, k, 0.5, ad, lda, bd, ldb, 0.25, cd2, n)
			for i := range cf {
				if math.Abs(float64(cf[i]-cf2[i])) > 1e-4 || math.Abs(cd[i]-cd2[i]) > 1e-10 {
					t.Fatalf("transposes %c %c: element %d: %v, %v vs gonum %v, %v", ta, tb, i, cf[i], cd[i], cf2[i], cd2[i])
				}
			}
		}
	}
}

func TestShortSlicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Sgemm accepted a C slice too short for the product")
		}
	}()
	Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 4, 4, 4, 1, make([]float32, 16), 4, make([]float32, 16), 4, 0, make([]float32, 15), 4)
}
