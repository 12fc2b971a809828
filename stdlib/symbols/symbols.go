// Package symbols holds the yaegi symbol tables of gopherlab's compiled
// packages, so that notebook cells can import them. The tables are generated
// by `yaegi extract`; adding a package is one more path on the go:generate
// line below followed by `go generate ./stdlib/symbols`.
//
// Keys have yaegi's form "import/path/name". The kernel also registers every
// package under a short path: github.com/gopherlab/gopherlab/display is
// importable as "gopherlab/display", github.com/gopherlab/gopherlab/stdlib/X
// as "gopherlab/X".
package symbols

import "reflect"

//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract github.com/gopherlab/gopherlab/display github.com/gopherlab/gopherlab/stdlib/convert github.com/gopherlab/gopherlab/stdlib/train

// Symbols maps "import/path/name" to the exported symbols of that package,
// as interp.Interpreter.Use expects them.
var Symbols = map[string]map[string]reflect.Value{}
