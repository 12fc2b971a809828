package main

import (
	"os"
	"path/filepath"
)

// FindONNXRuntime returns the path of the ONNX Runtime shared library the
// installer placed, so that the kernel can load it without any environment
// variable. It looks, in order, at:
//
//  1. $GOPHERLAB_ORT_LIB, when set (an explicit override for odd setups);
//  2. <dir of the running executable>/../lib/libonnxruntime.so.1 — the
//     installer always puts bin/gopherlab and lib/ side by side;
//  3. $XDG_DATA_HOME/gopherlab/lib or ~/.local/share/gopherlab/lib, the
//     default per-user install (for `go test` binaries and other tools);
//  4. /usr/local/lib and /usr/lib (a system-wide ONNX Runtime).
//
// It returns "" and false when none exists.
//
// This lives in the installer for now; the kernel or the ONNX Runtime
// binding package should carry a copy of this lookup.
func FindONNXRuntime() (string, bool) {
	for _, p := range ortCandidates(os.Getenv, os.Executable) {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

// ortCandidates lists where FindONNXRuntime looks, in order.
func ortCandidates(getenv func(string) string, executable func() (string, error)) []string {
	var c []string
	if p := getenv("GOPHERLAB_ORT_LIB"); p != "" {
		c = append(c, p)
	}
	if exe, err := executable(); err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		c = append(c, filepath.Join(filepath.Dir(filepath.Dir(exe)), "lib", ORTLibName))
	}
	if h, err := defaultHome(getenv); err == nil {
		c = append(c, filepath.Join(h, "lib", ORTLibName))
	}
	return append(c, filepath.Join("/usr/local/lib", ORTLibName), filepath.Join("/usr/lib", ORTLibName))
}
