package train

import (
	"github.com/gopherlab/gopherlab/stdlib/train/internal/openblas"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
)

// blasImpl is the BLAS of gorgonia's graphs and of this package's custom
// ops: gonum's, with matrix products on OpenBLAS when it can be loaded.
var blasImpl openblas.Implementation

func init() { G.Use(blasImpl) }

// BLAS names the BLAS that gorgonia (set with gorgonia.Use) and the custom
// ops use: "OpenBLAS (<library>)" for matrix products when libopenblas
// could be loaded at run time through cgo (Debian package libopenblas0),
// otherwise "gonum (pure Go)": with the purego build tag, without cgo, or
// with GOPHERLAB_BLAS=gonum.
func BLAS() string {
	if lib := openblas.Library(); lib != "" {
		return "OpenBLAS (" + lib + ")"
	}
	return "gonum (pure Go)"
}

// sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices,
// op(A) being m×k and op(B) k×n.
func sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	blasImpl.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
