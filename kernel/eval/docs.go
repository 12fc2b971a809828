package eval

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"sync"
)

//go:generate go run ./internal/gendocs -o docs.json.gz

// docsData is the documentation of importable packages, extracted at build
// time with go/doc (see internal/gendocs).
//
//go:embed docs.json.gz
var docsData []byte

var docs = sync.OnceValue(func() map[string]map[string]string {
	m := map[string]map[string]string{}
	zr, err := gzip.NewReader(bytes.NewReader(docsData))
	if err != nil {
		return m
	}
	_ = json.NewDecoder(zr).Decode(&m)
	return m
})

// lookupDoc returns the documentation of name in package path (the package
// doc when name is empty), or "" when none is known.
func lookupDoc(path, name string) string {
	return docs()[normPath(path)][name]
}
