//go:build !cgo || purego

package train

// BLAS names the matrix-product backend in use; this build (purego tag or
// no cgo) always uses gonum's pure-Go BLAS.
func BLAS() string { return "gonum (pure Go)" }

func sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	gonumSgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
