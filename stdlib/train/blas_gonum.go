//go:build !cgo || purego

package train

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLAS names the matrix-product backend compiled in: "OpenBLAS (cgo)" by
// default, "gonum (pure Go)" with the purego build tag or without cgo.
func BLAS() string { return "gonum (pure Go)" }

// sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices,
// op(A) being m×k and op(B) k×n.
func sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	gonum.Implementation{}.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
