// Command gendocs extracts the documentation of every package the notebook
// interpreter can import (the Go standard library as yaegi exposes it, and
// gopherlab's packages) with go/doc, and writes it as gzip-compressed JSON
// for kernel/eval to embed: package path -> name -> "signature\n\ndoc".
// The package's own entry has the empty name. Methods are "Type.Method".
//
// Usage (from kernel/eval): go run ./internal/gendocs -o docs.json.gz
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"log"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/traefik/yaegi/stdlib"
)

const modulePath = "github.com/gopherlab/gopherlab"

// maxDoc bounds each doc comment: the first paragraphs up to this size.
const maxDoc = 700

func main() {
	out := flag.String("o", "docs.json.gz", "output file")
	flag.Parse()
	root, err := filepath.Abs("../..") // go generate runs in kernel/eval
	if err != nil {
		log.Fatal(err)
	}
	docs := map[string]map[string]string{}
	var paths []string
	for k := range stdlib.Symbols {
		paths = append(paths, path.Dir(k))
	}
	sort.Strings(paths)
	for _, p := range paths {
		dir := filepath.Join(runtime.GOROOT(), "src", filepath.FromSlash(p))
		if m, err := packageDocs(dir, p); err == nil {
			docs[p] = m
		}
	}
	for _, rel := range []string{"display", "stdlib/convert", "stdlib/train"} {
		dir := filepath.Join(root, filepath.FromSlash(rel))
		m, err := packageDocs(dir, modulePath+"/"+rel)
		if err != nil {
			log.Printf("skipping %s: %v", rel, err)
			continue
		}
		short := "gopherlab/" + strings.TrimPrefix(rel, "stdlib/")
		docs[short] = m
		docs[modulePath+"/"+rel] = m
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err := json.NewEncoder(zw).Encode(docs); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote %s: %d packages, %d bytes\n", *out, len(docs), buf.Len())
}

func packageDocs(dir, importPath string) (map[string]string, error) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool {
		n := fi.Name()
		return !strings.HasSuffix(n, "_test.go") && !strings.Contains(n, "_windows") && !strings.Contains(n, "_darwin")
	}, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	name := path.Base(importPath)
	if strings.HasPrefix(name, "v") && len(name) <= 3 {
		name = path.Base(path.Dir(importPath))
	}
	astPkg, ok := pkgs[name]
	if !ok {
		for n, p := range pkgs {
			if n != "main" && !strings.HasSuffix(n, "_test") {
				astPkg = p
				break
			}
		}
	}
	if astPkg == nil {
		return nil, fmt.Errorf("no package in %s", dir)
	}
	files := make([]*ast.File, 0, len(astPkg.Files))
	for _, f := range astPkg.Files {
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, importPath)
	if err != nil {
		return nil, err
	}
	m := map[string]string{"": "package " + p.Name + " // import \"" + importPath + "\"\n\n" + trim(p.Doc)}
	sig := func(n ast.Node) string {
		var b bytes.Buffer
		(&printer.Config{Mode: printer.UseSpaces, Tabwidth: 4}).Fprint(&b, fset, n)
		s := b.String()
		if len(s) > 1200 {
			s = s[:1200] + "\n\t…"
		}
		return s
	}
	addFunc := func(key string, f *doc.Func) {
		d := *f.Decl
		d.Body = nil
		d.Doc = nil
		m[key] = sig(&d) + "\n\n" + trim(f.Doc)
	}
	addValues := func(vs []*doc.Value) {
		for _, v := range vs {
			d := *v.Decl
			d.Doc = nil
			for _, spec := range v.Decl.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					if n.IsExported() {
						m[n.Name] = sig(&d) + "\n\n" + trim(v.Doc)
					}
				}
			}
		}
	}
	addValues(p.Consts)
	addValues(p.Vars)
	for _, f := range p.Funcs {
		addFunc(f.Name, f)
	}
	for _, t := range p.Types {
		d := *t.Decl
		d.Doc = nil
		m[t.Name] = sig(&d) + "\n\n" + trim(t.Doc)
		addValues(t.Consts)
		addValues(t.Vars)
		for _, f := range t.Funcs {
			addFunc(f.Name, f)
		}
		for _, f := range t.Methods {
			addFunc(t.Name+"."+f.Name, f)
		}
	}
	return m, nil
}

// trim keeps the first paragraphs of a doc comment, up to maxDoc bytes.
func trim(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxDoc {
		return s
	}
	cut := strings.LastIndex(s[:maxDoc], "\n\n")
	if cut < 200 {
		cut = maxDoc
	}
	return strings.TrimSpace(s[:cut]) + " …"
}
