// Package openblas provides a BLAS implementation for gorgonia (gorgonia.Use)
// whose matrix products (Sgemm, Dgemm) run on OpenBLAS, loaded at run time
// through cgo, and whose other routines are gonum's pure Go. Without cgo,
// with the purego build tag, with GOPHERLAB_BLAS=gonum or when the library
// cannot be loaded, everything is gonum's.
package openblas

import "gonum.org/v1/gonum/blas/gonum"

// Implementation is gonum's BLAS with OpenBLAS matrix products; it
// satisfies gorgonia.BLAS.
type Implementation struct {
	gonum.Implementation
}
