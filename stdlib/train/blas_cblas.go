//go:build cgo && !purego

package train

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// cblas_sgemm with the CBLAS enums as ints (RowMajor 101, NoTrans 111,
// Trans 112) and 32-bit indices, as Debian's libopenblas0 exports it.
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                         const float *, int, float, float *, int);

static sgemm_fn gl_sgemm;

static int gl_load_blas(const char *name) {
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!h) return 0;
	gl_sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
	return gl_sgemm != 0;
}

static void gl_call_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                          const float *b, int ldb, float beta, float *c, int ldc) {
	gl_sgemm(101, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
*/
import "C"

import (
	"os"
	"sync"
	"unsafe"
)

var (
	blasOnce sync.Once
	blasLib  string // shared library in use, "" for gonum
)

// loadOpenBLAS opens OpenBLAS at run time (no headers or dev package are
// needed to build): $GOPHERLAB_OPENBLAS if set, else libopenblas.so.0
// (Debian package libopenblas0). GOPHERLAB_BLAS=gonum forces pure Go.
func loadOpenBLAS() {
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
			blasLib = n
			return
		}
	}
}

// BLAS names the matrix-product backend in use: "OpenBLAS (<library>)"
// when libopenblas could be loaded, otherwise "gonum (pure Go)" (also with
// the purego build tag, without cgo, or with GOPHERLAB_BLAS=gonum).
func BLAS() string {
	blasOnce.Do(loadOpenBLAS)
	if blasLib == "" {
		return "gonum (pure Go)"
	}
	return "OpenBLAS (" + blasLib + ")"
}

// sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices,
// op(A) being m×k and op(B) k×n.
func sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	blasOnce.Do(loadOpenBLAS)
	if blasLib == "" {
		gonumSgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	ta, tb := C.int(111), C.int(111)
	if tA {
		ta = 112
	}
	if tB {
		tb = 112
	}
	C.gl_call_sgemm(ta, tb, C.int(m), C.int(n), C.int(k), C.float(alpha),
		(*C.float)(unsafe.Pointer(&a[0])), C.int(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.int(ldb), C.float(beta),
		(*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}
