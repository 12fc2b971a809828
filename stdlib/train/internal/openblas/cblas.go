//go:build cgo && !purego

package openblas

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// cblas_sgemm/cblas_dgemm with the CBLAS enums as ints (RowMajor 101,
// NoTrans 111, Trans 112) and 32-bit indices, as Debian's libopenblas0
// exports them.
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                         const float *, int, float, float *, int);
typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double *, int,
                         const double *, int, double, double *, int);

static sgemm_fn gl_sgemm;
static dgemm_fn gl_dgemm;

static int gl_load_blas(const char *name) {
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!h) return 0;
	gl_sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
	gl_dgemm = (dgemm_fn)dlsym(h, "cblas_dgemm");
	return gl_sgemm != 0 && gl_dgemm != 0;
}

static void gl_call_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                          const float *b, int ldb, float beta, float *c, int ldc) {
	gl_sgemm(101, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void gl_call_dgemm(int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
                          const double *b, int ldb, double beta, double *c, int ldc) {
	gl_dgemm(101, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
*/
import "C"

import (
	"os"
	"sync"
	"unsafe"

	"gonum.org/v1/gonum/blas"
)

const cgoBuild = true

var (
	once sync.Once
	lib  string // shared library in use, "" when OpenBLAS is not loaded
)

// load opens OpenBLAS at run time (no headers or dev package are needed to
// build): $GOPHERLAB_OPENBLAS if set, else libopenblas.so.0 (Debian package
// libopenblas0). GOPHERLAB_BLAS=gonum keeps gonum's pure Go.
func load() {
	if os.Getenv("GOPHERLAB_BLAS") == "gonum" {
		return
	}
	names := []string{"libopenblas.so.0", "libopenblas.so"}
	if p := os.Getenv("GOPHERLAB_OPENBLAS"); p != "" {
		names = []string{p}
	}
	for _, n := range names {
		cs := C.CString(n)
		ok := C.gl_load_blas(cs) != 0
		C.free(unsafe.Pointer(cs))
		if ok {
			lib = n
			return
		}
	}
}

// Library returns the OpenBLAS shared library in use, or "" when matrix
// products run on gonum's pure Go.
func Library() string {
	once.Do(load)
	return lib
}

func trans(t blas.Transpose) C.int {
	if t == blas.NoTrans {
		return 111
	}
	return 112
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major float32
// matrices on OpenBLAS, or on gonum when OpenBLAS is not loaded.
func (i Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if Library() == "" || m == 0 || n == 0 || k == 0 {
		i.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	C.gl_call_sgemm(trans(tA), trans(tB), C.int(m), C.int(n), C.int(k), C.float(alpha),
		(*C.float)(unsafe.Pointer(&a[0])), C.int(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.int(ldb), C.float(beta),
		(*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}

// Dgemm is Sgemm for float64 matrices.
func (i Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if Library() == "" || m == 0 || n == 0 || k == 0 {
		i.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	C.gl_call_dgemm(trans(tA), trans(tB), C.int(m), C.int(n), C.int(k), C.double(alpha),
		(*C.double)(unsafe.Pointer(&a[0])), C.int(lda),
		(*C.double)(unsafe.Pointer(&b[0])), C.int(ldb), C.double(beta),
		(*C.double)(unsafe.Pointer(&c[0])), C.int(ldc))
}

// checkGemm panics, as gonum does, when a slice is too short for the
// product, so that C code never reads or writes out of bounds.
func checkGemm(tA, tB blas.Transpose, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	if lda < max(1, ac) || ldb < max(1, bc) || ldc < max(1, n) ||
		la < (ar-1)*lda+ac || lb < (br-1)*ldb+bc || lc < (m-1)*ldc+n {
		panic("openblas: gemm slice or leading dimension too short")
	}
}
