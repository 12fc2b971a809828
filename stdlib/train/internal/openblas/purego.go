//go:build !cgo || purego

package openblas

const cgoBuild = false

// Library returns "": this build (purego tag or no cgo) always computes on
// gonum's pure Go.
func Library() string { return "" }
