package eval

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"path"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"github.com/traefik/yaegi/interp"

	"github.com/gopherlab/gopherlab/kernel/cell"
)

var runtime_Callers = runtime.Callers // replaced in tests

// plan evaluates the units of one cell in a valid order.
type plan struct {
	e     *Evaluator
	name  string
	code  string
	units []unit
	rw    []string // rewritten text of each unit
	// cellInts are top-level names the cell defines with integer values.
	cellInts  map[string]bool
	cellFuncs map[string]bool // top-level names bound to function literals
	// autoNames are the autoImportNames of each unit (nil for imports).
	autoNames []map[string]bool
}

func (p *plan) isFunc(name string) bool { return p.cellFuncs[name] || p.e.isFuncDecl(name) }

func (p *plan) isInt(name string) bool { return p.cellInts[name] || p.e.isIntGlobal(name) }

// noteInts records the integer variables a unit defines at top level, so
// that later units of the same cell can range over them.
// pu is the unit parsed with parseUnit (nil if it does not parse).
func (p *plan) noteInts(u *unit, pu *parsedUnit) {
	if u.kind != unitStmt && u.kind != unitVar && u.kind != unitConst || pu == nil {
		return
	}
	f := pu.f
	r := &rewriter{fset: pu.fset, isIntName: p.isInt}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit, *ast.BlockStmt:
			if _, ok := n.(*ast.BlockStmt); ok && u.kind == unitStmt {
				return true
			}
			return false
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE && len(n.Lhs) == len(n.Rhs) {
				for i, l := range n.Lhs {
					id, ok := l.(*ast.Ident)
					if !ok {
						continue
					}
					if r.intExpr(n.Rhs[i], nil, 0) {
						p.cellInts[id.Name] = true
					}
					if _, isLit := n.Rhs[i].(*ast.FuncLit); isLit {
						p.cellFuncs[id.Name] = true
					}
				}
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				if t, ok := n.Type.(*ast.Ident); ok && intTypeNames[t.Name] {
					p.cellInts[id.Name] = true
				} else if n.Type == nil && i < len(n.Values) && r.intExpr(n.Values[i], nil, 0) {
					p.cellInts[id.Name] = true
				}
			}
		}
		return true
	})
}

// parsedUnit is a unit parsed with parseUnit, once for the analyses
// that read it (automatic imports, integer names).
type parsedUnit struct {
	f    *ast.File
	fset *token.FileSet
}

// placed is a unit's text to be placed at its cell position.
type placed struct {
	line, col int
	text      string
}

// buildSource lays texts out at their cell lines behind prefix: cell line L
// is line L+1 of the result, as parseUnit does.
func buildSource(prefix string, parts []placed, suffix string) string {
	var b strings.Builder
	b.WriteString(prefix)
	line, col := 0, 1
	for i, p := range parts {
		if p.line > line {
			b.WriteString(strings.Repeat("\n", p.line-line))
			line, col = p.line, 1
			if p.col > 1 {
				b.WriteString(strings.Repeat(" ", p.col-1))
				col = p.col
			}
		} else if i > 0 {
			b.WriteString("; ")
			col += 2
		}
		b.WriteString(p.text)
		if n := strings.Count(p.text, "\n"); n > 0 {
			line += n
			col = len(p.text) - strings.LastIndex(p.text, "\n")
		} else {
			col += len(p.text)
		}
	}
	b.WriteString(suffix)
	return b.String()
}

const (
	filePrefix = "package main;"
	funcPrefix = "package main; func main() {"
	funcSuffix = "\n}"
)

func (p *plan) run(ctx context.Context) error {
	e := p.e
	// Rewrite each unit on its own.
	p.rw = make([]string, len(p.units))
	names := e.displayNames()
	p.autoNames = make([]map[string]bool, len(p.units))
	parsed := make([]*parsedUnit, len(p.units))
	for i, u := range p.units {
		if u.kind == unitImport {
			continue
		}
		fset := token.NewFileSet()
		if f, err := parseUnit(fset, "cell", &u, u.text); err == nil {
			parsed[i] = &parsedUnit{f, fset}
			p.autoNames[i] = autoImportNames(f)
		}
		for n := range p.autoNames[i] {
			if e.knownPackage(n) == "gopherlab/display" {
				names[n] = true
			}
		}
	}
	p.cellInts = map[string]bool{}
	p.cellFuncs = map[string]bool{}
	for i := range p.units {
		u := &p.units[i]
		if u.kind == unitImport {
			p.rw[i] = u.text
			continue
		}
		p.noteInts(u, parsed[i])
		text, err := p.rewriteUnit(u, names)
		if err != nil {
			var ue *unsupportedError
			if errors.As(err, &ue) {
				return compileError(p.name, p.code, ue.line, 0, ue.msg)
			}
			return err
		}
		p.rw[i] = text
	}

	// 1. Imports, including packages used without an import.
	if err := p.imports(ctx); err != nil {
		return err
	}
	// 2. Types and constants, together (they may refer to each other).
	if err := p.typesAndConsts(ctx); err != nil {
		return err
	}
	// 3. Variables, functions and statements in order; a function used by
	// an earlier statement of the cell moves before it.
	order := p.order()
	for i := 0; i < len(order); {
		j := i
		stmt := p.units[order[i]].kind == unitStmt
		for j < len(order) && (p.units[order[j]].kind == unitStmt) == stmt && !p.units[order[j]].finalExpr {
			j++
		}
		if j == i { // the final expression alone
			if err := p.final(ctx, order[i]); err != nil {
				return err
			}
			i++
			continue
		}
		if err := p.group(ctx, order[i:j], stmt); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// rewriteUnit returns the unit's text as the interpreter should run it.
func (p *plan) rewriteUnit(u *unit, displayNames map[string]bool) (string, error) {
	fset := token.NewFileSet()
	var src, prefix, suffix string
	if u.kind == unitStmt {
		prefix, suffix = funcPrefix, funcSuffix
	} else {
		prefix = filePrefix
	}
	pad := strings.Repeat("\n", u.line) + strings.Repeat(" ", u.col-1)
	src = prefix + pad + u.text + suffix
	f, err := parser.ParseFile(fset, "cell", src, parser.SkipObjectResolution)
	if err != nil {
		return "", err
	}
	r := &rewriter{
		fset: fset, src: src, counter: &p.e.counter,
		isIntName:    p.isInt,
		isFuncName:   p.isFunc,
		displayNames: displayNames,
	}
	var root ast.Node = f
	if u.kind == unitStmt {
		root = f.Decls[0].(*ast.FuncDecl).Body
	}
	out, err := r.rewrite(root)
	if err != nil {
		return "", err
	}
	out = strings.TrimPrefix(out, prefix+pad)
	out = strings.TrimSuffix(out, suffix)
	return out, nil
}

// autoImportNames lists identifiers used as X in X.Sel that the unit f
// (parsed with parseUnit) does not declare itself: candidates for
// automatic imports.
func autoImportNames(f *ast.File) map[string]bool {
	declared := map[string]bool{}
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if id, ok := n.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						declared[id.Name] = true
					}
				}
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				declared[id.Name] = true
			}
		case *ast.Field:
			for _, id := range n.Names {
				declared[id.Name] = true
			}
		case *ast.RangeStmt:
			if id, ok := n.Key.(*ast.Ident); ok {
				declared[id.Name] = true
			}
			if id, ok := n.Value.(*ast.Ident); ok {
				declared[id.Name] = true
			}
		case *ast.TypeSpec:
			declared[n.Name.Name] = true
		case *ast.FuncDecl:
			declared[n.Name.Name] = true
		}
		return true
	})
	for n := range declared {
		delete(used, n)
	}
	return used
}

// importable maps an import path to its package name, for every package
// the interpreter has symbols for.
var importable = func() map[string]string {
	m := map[string]string{}
	for k := range allSymbols {
		m[path.Dir(k)] = path.Base(k)
	}
	return m
}()

// byName maps a package name to the path auto-imports use: gopherlab
// packages first, then the shortest standard path (math/rand before
// crypto/rand, text/template before html/template).
var byName = func() map[string]string {
	m := map[string]string{}
	paths := make([]string, 0, len(importable))
	for p := range importable {
		paths = append(paths, p)
	}
	rank := func(p string) int {
		switch {
		case strings.HasPrefix(p, "gopherlab/"):
			return 0
		case strings.HasPrefix(p, "github.com/"):
			return 3
		case strings.Contains(p, "."):
			return 2
		}
		return 1
	}
	sort.Slice(paths, func(i, j int) bool {
		a, b := paths[i], paths[j]
		if rank(a) != rank(b) {
			return rank(a) < rank(b)
		}
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return a < b
	})
	for _, p := range paths {
		n := importable[p]
		if strings.HasPrefix(p, "gopherlab/internal") {
			continue
		}
		if _, ok := m[n]; !ok {
			m[n] = p
		}
	}
	return m
}()

// knownPackage returns the path an unimported package name refers to.
func (e *Evaluator) knownPackage(name string) string {
	return byName[name]
}

// imports evaluates the cell's import declarations plus automatic imports
// of packages the cell uses without importing them.
func (p *plan) imports(ctx context.Context) error {
	e := p.e
	type spec struct{ name, path string }
	var specs []spec
	var explicit []placed
	for _, u := range p.units {
		if u.kind != unitImport {
			continue
		}
		f, err := parseUnit(token.NewFileSet(), "cell", &u, u.text)
		if err != nil {
			return compileError(p.name, p.code, u.line, u.col, err.Error())
		}
		for _, is := range f.Imports {
			ip := strings.Trim(is.Path.Value, "\"`")
			name := importable[ip]
			if name == "" {
				line := token.NewFileSet()
				_ = line
				return compileError(p.name, p.code, u.line, u.col, fmt.Sprintf(
					"cannot import %q: the interpreter has only the Go standard library and gopherlab packages (gopherlab/display, gopherlab/convert, ...); %%help lists them", ip))
			}
			if is.Name != nil {
				name = is.Name.Name
			}
			if name == "_" || name == "." {
				continue
			}
			specs = append(specs, spec{name, ip})
		}
		explicit = append(explicit, placed{u.line, u.col, u.text})
	}
	e.mu.RLock()
	have := map[string]string{}
	for k, v := range e.imports {
		have[k] = v
	}
	in := e.in
	e.mu.RUnlock()
	for _, s := range specs {
		have[s.name] = s.path
	}
	var globals map[string]reflect.Value // read only when needed: it is not cheap
	auto := map[string]string{}
	for i, u := range p.units {
		if u.kind == unitImport {
			continue
		}
		for n := range p.autoNames[i] {
			if _, ok := have[n]; ok {
				continue
			}
			if byName[n] == "" {
				continue
			}
			if globals == nil {
				globals = globalsOf(in)
			}
			if _, ok := globals[n]; ok {
				continue
			}
			if p.declaredInCell(n) || e.isFuncDecl(n) {
				continue
			}
			if ip := byName[n]; ip != "" {
				auto[n] = ip
			}
		}
	}
	for _, n := range sortedNames(auto) {
		specs = append(specs, spec{n, auto[n]})
	}
	e.mu.Lock()
	before := map[string]string{}
	for k, v := range e.imports {
		before[k] = v
	}
	added := map[string]string{}
	for _, s := range specs {
		if normPath(before[s.name]) != normPath(s.path) {
			added[s.name] = s.path
			if before[s.name] != "" {
				// Rebinding a name: later cells see only the new package.
				delete(e.imports, s.name)
			}
		}
	}
	e.mu.Unlock()
	if len(added) == 0 {
		return nil
	}
	_ = explicit
	if _, err := e.evalSource(ctx, p.name, importSource(added), false); err != nil {
		e.mu.Lock()
		e.imports = before
		e.mu.Unlock()
		return p.convert(err)
	}
	e.mu.Lock()
	for n, ip := range added {
		e.imports[n] = ip
	}
	e.mu.Unlock()
	return nil
}

func (p *plan) declaredInCell(name string) bool {
	for _, u := range p.units {
		if contains(u.names, name) {
			return true
		}
	}
	return false
}

// typesAndConsts evaluates the type and const declarations of the cell in
// one file. Redefining a type starts a fresh interpreter into which the
// session is replayed.
func (p *plan) typesAndConsts(ctx context.Context) error {
	e := p.e
	var parts []placed
	var idx []int
	redefined := false
	for i, u := range p.units {
		if u.kind != unitType && u.kind != unitConst {
			continue
		}
		if u.kind == unitType {
			if same, exists := e.sameDecl(u); exists {
				if same {
					continue
				}
				redefined = true
			}
		}
		parts = append(parts, placed{u.line, u.col, p.rw[i]})
		idx = append(idx, i)
	}
	if len(parts) == 0 {
		return nil
	}
	if redefined {
		var newDecls []*decl
		for _, i := range idx {
			newDecls = append(newDecls, p.declOf(i))
		}
		return e.replay(ctx, newDecls)
	}
	src := buildSource(filePrefix, parts, "")
	if _, err := e.evalSource(ctx, p.name, src, false); err != nil {
		return p.convert(err)
	}
	for _, i := range idx {
		e.record(p.declOf(i))
	}
	return nil
}

func (p *plan) declOf(i int) *decl {
	u := p.units[i]
	return &decl{kind: u.kind, names: u.names, recv: u.recv, src: p.rw[i], orig: u.text, file: p.name, line: u.line}
}

// sameDecl reports whether a declaration of u's names exists and whether
// it is textually the same.
func (e *Evaluator) sameDecl(u unit) (same, exists bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, d := range e.decls {
		if d.kind != u.kind || d.recv != u.recv {
			continue
		}
		for _, n := range u.names {
			if contains(d.names, n) {
				return strings.TrimSpace(d.orig) == strings.TrimSpace(u.text), true
			}
		}
	}
	return false, false
}

// record adds d to the session log, dropping older declarations of the
// same names.
func (e *Evaluator) record(d *decl) {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := func(x *decl, n string) string {
		if x.kind == unitFunc {
			return "func " + x.recv + "." + n
		}
		return n
	}
	keep := e.decls[:0]
	for _, old := range e.decls {
		drop := false
		for _, n := range d.names {
			for _, m := range old.names {
				if key(old, m) == key(d, n) || (old.kind != unitFunc && d.kind != unitFunc && m == n) {
					drop = true
				}
			}
		}
		if !drop {
			keep = append(keep, old)
		}
	}
	e.decls = append(keep, d)
}

// order lists the indexes of var, func and statement units, moving a
// function before the first statement of the cell that uses it.
func (p *plan) order() []int {
	var order []int
	for i, u := range p.units {
		switch u.kind {
		case unitVar, unitFunc, unitStmt:
			order = append(order, i)
		}
	}
	for k := 0; k < len(order); k++ {
		u := p.units[order[k]]
		if u.kind != unitFunc || u.recv != "" || len(u.names) == 0 {
			continue
		}
		re := regexp.MustCompile(`\b` + regexp.QuoteMeta(u.names[0]) + `\b`)
		for j := 0; j < k; j++ {
			v := p.units[order[j]]
			if v.kind == unitStmt && re.MatchString(v.text) {
				idx := order[k]
				copy(order[j+1:k+1], order[j:k])
				order[j] = idx
				break
			}
		}
	}
	return order
}

// group evaluates consecutive declarations (as one file) or statements (as
// one block).
func (p *plan) group(ctx context.Context, idx []int, stmt bool) error {
	e := p.e
	var parts []placed
	for _, i := range idx {
		u := p.units[i]
		parts = append(parts, placed{u.line, u.col, p.rw[i]})
	}
	var src string
	if stmt {
		src = buildSource(funcPrefix, parts, funcSuffix)
	} else {
		src = buildSource(filePrefix, parts, "")
	}
	var redefinedFuncs []string
	if !stmt {
		for _, i := range idx {
			u := p.units[i]
			if u.kind == unitFunc {
				if _, exists := e.sameDecl(u); exists {
					redefinedFuncs = append(redefinedFuncs, u.names...)
				}
			}
			if u.kind == unitVar || u.kind == unitConst {
				redefinedFuncs = append(redefinedFuncs, u.names...)
			}
		}
	}
	if _, err := e.evalSource(ctx, p.name, src, stmt); err != nil {
		if !strings.Contains(err.Error(), "constant definition loop") {
			return p.convert(err)
		}
		// The interpreter cannot infer the type of some top-level
		// variables (initialized by generic calls, for example) before
		// running them: evaluate such units one at a time, binding
		// x := expr from the value of expr.
		for _, i := range idx {
			if err := p.bindUnit(ctx, i); err != nil {
				return err
			}
		}
	}
	for _, i := range idx {
		u := p.units[i]
		if u.kind != unitStmt || len(u.names) > 0 {
			e.record(p.declOf(i))
		}
	}
	if len(redefinedFuncs) > 0 {
		return e.relink(ctx, redefinedFuncs, idx, p)
	}
	return nil
}

// relink re-evaluates earlier functions that call a redefined function, so
// that they call the new one (the interpreter binds calls at definition).
func (e *Evaluator) relink(ctx context.Context, names []string, skip []int, p *plan) error {
	e.mu.RLock()
	decls := append([]*decl(nil), e.decls...)
	e.mu.RUnlock()
	changed := map[string]bool{}
	for _, n := range names {
		changed[n] = true
	}
	justDefined := map[*decl]bool{}
	for _, d := range decls[len(decls)-len(skip):] {
		justDefined[d] = true
	}
	for pass := 0; pass < 4; pass++ {
		var redo []*decl
		for _, d := range decls {
			if d.kind != unitFunc || justDefined[d] {
				continue
			}
			for n := range changed {
				if contains(d.names, n) && d.recv == "" {
					continue
				}
				if regexp.MustCompile(`\b` + regexp.QuoteMeta(n) + `\b`).MatchString(d.src) {
					redo = append(redo, d)
					break
				}
			}
		}
		if len(redo) == 0 {
			return nil
		}
		for _, d := range redo {
			src := buildSource(filePrefix, []placed{{d.line, 1, d.src}}, "")
			if _, err := e.evalSource(ctx, d.file, src, false); err != nil {
				fmt.Fprintf(e.writer(streamErr), "note: %s (defined in %s) no longer compiles after this redefinition: %v\n", strings.Join(d.names, ", "), d.file, err)
			}
			justDefined[d] = true
			for _, n := range d.names {
				changed[n] = true
			}
		}
	}
	return nil
}

// final evaluates the cell's last expression and publishes its value.
func (p *plan) final(ctx context.Context, i int) error {
	e := p.e
	u := p.units[i]
	expr := strings.TrimSpace(p.rw[i])
	expr = strings.TrimSpace(strings.TrimSuffix(expr, ";"))
	wrapped := buildSource(funcPrefix, []placed{{u.line, u.col, "_glResult(" + expr + ")"}}, funcSuffix)
	plain := buildSource(funcPrefix, []placed{{u.line, u.col, p.rw[i]}}, funcSuffix)
	prog, err := e.compile(p.name, wrapped, true)
	if err != nil && u.exprIsCall && !isOutputCall(expr) {
		// A call with several results shows them all.
		multi := buildSource(funcPrefix, []placed{{u.line, u.col, "_glResults(" + expr + ")"}}, funcSuffix)
		prog, err = e.compile(p.name, multi, true)
	}
	if err != nil {
		// A call without a value cannot be shown.
		prog, err = e.compile(p.name, plain, true)
		if err != nil {
			return p.convert(err)
		}
	}
	if _, err := e.execute(ctx, prog); err != nil {
		return p.convert(err)
	}
	return nil
}

// evalSource compiles and runs src (a file, or a statement block when stmt).
func (e *Evaluator) evalSource(ctx context.Context, file, src string, stmt bool) (reflect.Value, error) {
	prog, err := e.compile(file, src, stmt)
	if err != nil {
		return reflect.Value{}, err
	}
	return e.execute(ctx, prog)
}

// importSource declares imports (local name -> path) as a file.
func importSource(imports map[string]string) string {
	var b strings.Builder
	b.WriteString("package main\n")
	for _, n := range sortedNames(imports) {
		p := imports[n]
		if importable[p] == n {
			fmt.Fprintf(&b, "import %q\n", p)
		} else {
			fmt.Fprintf(&b, "import %s %q\n", n, p)
		}
	}
	return b.String()
}

func (e *Evaluator) bindImports(in *interp.Interpreter, file string, imports map[string]string) error {
	f, err := parser.ParseFile(in.FileSet(), file, importSource(imports), 0)
	if err != nil {
		return err
	}
	prog, err := in.CompileAST(f)
	if err != nil {
		return err
	}
	_, err = in.Execute(prog)
	return err
}

// needsImports reports whether src (a file or a statement block) has an
// import declaration or an identifier named like one of imports: only
// then does its file need the session's imports. Binding them costs more
// than compiling a small cell, and most cells use none.
func needsImports(src string, imports map[string]string) bool {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", -1, len(src)), []byte(src), nil, 0)
	for {
		_, tok, lit := sc.Scan()
		switch tok {
		case token.EOF:
			return false
		case token.IMPORT:
			return true
		case token.IDENT:
			if _, ok := imports[lit]; ok {
				return true
			}
		}
	}
}

// interpreterError is a panic inside the interpreter itself.
type interpreterError struct{ v any }

func (i interpreterError) Error() string { return fmt.Sprint(i.v) }

func (e *Evaluator) compile(file, src string, stmt bool) (prog *interp.Program, err error) {
	e.mu.Lock()
	in := e.in
	bound, seen := e.files[file]
	if !seen {
		e.cellFiles = append(e.cellFiles, file)
	}
	// Imports are scoped to a file in the interpreter: the session's
	// imports are bound in this cell's file before the first source that
	// may use them is compiled there, or declares imports of its own.
	bind := !bound && needsImports(src, e.imports)
	e.files[file] = bound || bind
	var imports map[string]string
	if bind {
		imports = make(map[string]string, len(e.imports))
		for k, v := range e.imports {
			imports[k] = v
		}
	}
	e.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			prog, err = nil, interpreterError{r}
		}
	}()
	if bind {
		if err := e.bindImports(in, file, imports); err != nil {
			return nil, err
		}
	}
	f, err := parser.ParseFile(in.FileSet(), file, src, parser.DeclarationErrors|parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var n ast.Node = f
	if stmt {
		n = f.Decls[0].(*ast.FuncDecl).Body
	}
	return in.CompileAST(n)
}

func (e *Evaluator) execute(ctx context.Context, prog *interp.Program) (v reflect.Value, err error) {
	e.mu.RLock()
	in := e.in
	e.mu.RUnlock()
	if e.cancel == nil || e.cancelFor != in {
		e.cancel, e.cancelFor = newCanceler(in), in
	}
	e.filter.takeFrames()
	defer func() {
		if r := recover(); r != nil {
			err = interpreterError{r}
		}
	}()
	e.overflow.Store(false)
	v, err = runProgram(ctx, in, e.cancel, prog)
	if e.overflow.Swap(false) && (err == nil || err == errStopped) {
		err = interp.Panic{Value: stackOverflow(e.opts.MaxCallDepth)}
	}
	return v, err
}

// convert turns an interpreter error into a cell error with cell lines.
func (p *plan) convert(err error) error {
	return p.e.convertError(p.name, p.code, err)
}

// reflectFaults maps reflect panics to the Go runtime error they stand for.
var reflectFaults = [][2]string{
	{"index out of range", "index out of range"},
	{"on zero Value", "invalid memory address or nil pointer dereference"},
	{"of nil pointer", "invalid memory address or nil pointer dereference"},
}

var innerPosRe = regexp.MustCompile(`(cell[^\s:]*):(\d+):(\d+):`)

var posRe = regexp.MustCompile(`^(\S+?):(\d+):(\d+): (.*)$`)

func (e *Evaluator) convertError(name, code string, err error) error {
	var pe interp.Panic
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		e.filter.takeFrames()
		return &cell.Error{Name: "Interrupted", Value: "the cell was interrupted", Traceback: []string{"Interrupted: the cell was interrupted"}}
	case errors.As(err, &pe):
		return e.panicError(name, code, pe.Value)
	}
	var ie interpreterError
	if errors.As(err, &ie) {
		msg := fmt.Sprint(ie.v)
		if msg == "nil type" || strings.Contains(msg, "nil type") {
			line := rangeLine(code)
			return compileError(name, code, line, 0, fmt.Sprintf(
				"the interpreter cannot compile this cell (range over an integer or a function it could not recognize?%s); write a classic `for i := 0; i < n; i++` loop", lineHint(line)))
		}
		// A compile-time panic that carries a cell position is a compile
		// error the interpreter failed to report as one.
		if locs := innerPosRe.FindAllStringSubmatchIndex(msg, -1); len(locs) > 0 {
			l := locs[len(locs)-1]
			file := msg[l[2]:l[3]]
			var line, col int
			fmt.Sscan(msg[l[4]:l[5]], &line)
			fmt.Sscan(msg[l[6]:l[7]], &col)
			text := strings.TrimSpace(msg[l[1]:])
			if strings.HasPrefix(text, "incomplete type ") {
				text = "undefined: " + strings.TrimPrefix(text, "incomplete type ")
			}
			if strings.HasPrefix(file, "cell") && text != "" {
				return compileErrorAt(name, code, file, line-1, col, text)
			}
		}
		return &cell.Error{Name: "InterpreterError", Value: msg, Traceback: []string{"InterpreterError: " + msg, "(a bug in the yaegi interpreter; the session is intact)"}}
	}
	var el scanner.ErrorList
	if errors.As(err, &el) && len(el) > 0 {
		return compileErrorAt(name, code, el[0].Pos.Filename, el[0].Pos.Line-1, el[0].Pos.Column, el[0].Msg)
	}
	msg := err.Error()
	first := strings.SplitN(msg, "\n", 2)[0]
	if m := posRe.FindStringSubmatch(first); m != nil {
		var line, col int
		fmt.Sscan(m[2], &line)
		fmt.Sscan(m[3], &col)
		return compileErrorAt(name, code, m[1], line-1, col, m[4])
	}
	return &cell.Error{Name: "CompileError", Value: msg, Traceback: strings.Split("CompileError: "+msg, "\n")}
}

func lineHint(line int) string {
	if line > 0 {
		return fmt.Sprintf(" line %d", line)
	}
	return ""
}

// rangeLine returns the first cell line with a range clause.
func rangeLine(code string) int {
	for i, l := range strings.Split(code, "\n") {
		if strings.Contains(l, "range ") {
			return i + 1
		}
	}
	return 0
}

func compileErrorAt(name, code, file string, line, col int, msg string) error {
	if file != name && file != "" {
		// An error inside code defined by an earlier cell.
		return &cell.Error{Name: "CompileError", Value: fmt.Sprintf("%s line %d: %s", file, line, msg),
			Traceback: []string{fmt.Sprintf("CompileError: %s line %d: %s", file, line, msg)}}
	}
	return compileError(name, code, line, col, msg)
}

// compileError builds a CompileError pointing at a cell line.
func compileError(name, code string, line, col int, msg string) error {
	tb := []string{"CompileError: " + msg}
	value := msg
	if line > 0 {
		if !strings.HasPrefix(msg, fmt.Sprintf("line %d", line)) {
			value = fmt.Sprintf("line %d: %s", line, msg)
		}
		tb = []string{fmt.Sprintf("CompileError: %s", value), fmt.Sprintf("  %s, line %d:", name, line)}
		lines := strings.Split(code, "\n")
		if line <= len(lines) {
			tb = append(tb, fmt.Sprintf("  %4d | %s", line, lines[line-1]))
			if col > 0 {
				tb = append(tb, "       | "+strings.Repeat(" ", col-1)+"^")
			}
		}
	}
	return &cell.Error{Name: "CompileError", Value: value, Traceback: tb}
}

// panicError reports a runtime panic with the frames yaegi recorded.
func (e *Evaluator) panicError(name, code string, v any) error {
	frames := e.filter.takeFrames()
	var ename, value string
	switch x := v.(type) {
	case exitPanic:
		return &cell.Error{Name: "Exit", Value: fmt.Sprintf("os.Exit(%d) called", int(x)),
			Traceback: []string{fmt.Sprintf("Exit: os.Exit(%d) called; the kernel keeps running", int(x))}}
	case stackOverflow:
		ename, value = "stack overflow", x.Error()
	case runtime.Error:
		ename, value = "runtime error", strings.TrimPrefix(x.Error(), "runtime error: ")
	case error:
		ename, value = "panic", x.Error()
	default:
		ename, value = "panic", fmt.Sprint(v)
	}
	if strings.HasPrefix(value, "reflect") {
		// The interpreter reaches some runtime faults through reflect.
		for _, m := range reflectFaults {
			if strings.Contains(value, m[0]) {
				ename, value = "runtime error", m[1]+" ("+value+")"
				break
			}
		}
	}
	tb := []string{ename + ": " + value}
	lines := strings.Split(code, "\n")
	seen := map[string]bool{}
	for _, f := range frames {
		m := posRe.FindStringSubmatch(f)
		if m == nil {
			continue
		}
		var line int
		fmt.Sscan(m[2], &line)
		line--
		fn := strings.TrimSuffix(strings.TrimPrefix(m[4], "panic: "), "(...)")
		fn = strings.TrimPrefix(fn, "main.")
		if fn == "main" {
			fn = "cell"
		}
		entry := fmt.Sprintf("  in %s, %s line %d", fn, m[1], line)
		if seen[entry] {
			continue
		}
		seen[entry] = true
		if len(tb) > 40 {
			tb = append(tb, "  ...")
			break
		}
		tb = append(tb, entry)
		if m[1] == name && line >= 1 && line <= len(lines) {
			tb = append(tb, fmt.Sprintf("  %4d | %s", line, lines[line-1]))
		}
	}
	return &cell.Error{Name: ename, Value: value, Traceback: tb}
}

// normPath maps a gopherlab package's full import path to its short form.
func normPath(p string) string {
	if short, ok := shortPath(p + "/x"); ok {
		return strings.TrimSuffix(short, "/x")
	}
	return p
}

// bindUnit evaluates one unit; a single `x := expr` or `var x = expr` is
// run as the expression expr, and x is then declared from its value.
func (p *plan) bindUnit(ctx context.Context, i int) error {
	e := p.e
	u := p.units[i]
	name, expr, ok := singleBinding(u, p.rw[i])
	if !ok {
		stmt := u.kind == unitStmt
		prefix, suffix := filePrefix, ""
		if stmt {
			prefix, suffix = funcPrefix, funcSuffix
		}
		src := buildSource(prefix, []placed{{u.line, u.col, p.rw[i]}}, suffix)
		if _, err := e.evalSource(ctx, p.name, src, stmt); err != nil {
			return p.convert(err)
		}
		return nil
	}
	src := buildSource(funcPrefix, []placed{{u.line, u.col, expr}}, funcSuffix)
	v, err := e.evalSource(ctx, p.name, src, true)
	if err != nil {
		return p.convert(err)
	}
	if !v.IsValid() {
		return compileError(p.name, p.code, u.line, u.col, "the expression has no value")
	}
	nv := reflect.New(v.Type()).Elem()
	nv.Set(v)
	e.mu.Lock()
	e.counter++
	key := fmt.Sprintf("B%d", e.counter)
	file := fmt.Sprintf("%s~%d", p.name, e.counter)
	in := e.in
	e.mu.Unlock()
	if err := in.Use(interp.Exports{"gopherlab/internal/bind/bind": {key: nv}}); err != nil {
		return p.convert(err)
	}
	decl := fmt.Sprintf("package main\nimport _glb \"gopherlab/internal/bind\"\nvar %s = _glb.%s\n", name, key)
	_, err = e.evalSource(ctx, file, decl, false)
	// The variable holds the value now; the hand-over entry would keep
	// every value ever bound alive.
	e.mu.Lock()
	forgetBinding(in, "gopherlab/internal/bind", key)
	e.mu.Unlock()
	if err != nil {
		return p.convert(err)
	}
	return nil
}

// singleBinding recognizes `x := expr` and `var x = expr` units.
func singleBinding(u unit, text string) (name, expr string, ok bool) {
	fset := token.NewFileSet()
	tu := u
	f, err := parseUnit(fset, "cell", &tu, text)
	if err != nil {
		return "", "", false
	}
	src := func(n ast.Node) string {
		pre := filePrefix
		if u.kind == unitStmt {
			pre = funcPrefix
		}
		full := pre + strings.Repeat("\n", u.line) + strings.Repeat(" ", u.col-1) + text
		return full[fset.Position(n.Pos()).Offset:fset.Position(n.End()).Offset]
	}
	switch u.kind {
	case unitStmt:
		body := f.Decls[0].(*ast.FuncDecl).Body
		if len(body.List) != 1 {
			return "", "", false
		}
		as, isAssign := body.List[0].(*ast.AssignStmt)
		if !isAssign || as.Tok != token.DEFINE || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
			return "", "", false
		}
		id, isID := as.Lhs[0].(*ast.Ident)
		if !isID {
			return "", "", false
		}
		return id.Name, src(as.Rhs[0]), true
	case unitVar:
		gd, isGen := f.Decls[0].(*ast.GenDecl)
		if !isGen || len(gd.Specs) != 1 {
			return "", "", false
		}
		vs := gd.Specs[0].(*ast.ValueSpec)
		if len(vs.Names) != 1 || len(vs.Values) != 1 || vs.Type != nil {
			return "", "", false
		}
		return vs.Names[0].Name, src(vs.Values[0]), true
	}
	return "", "", false
}

// isOutputCall reports calls whose results (bytes written, error) are not
// worth showing: fmt.Print*, fmt.Fprint*, Write methods.
func isOutputCall(expr string) bool {
	return outputCallRe.MatchString(expr)
}

var outputCallRe = regexp.MustCompile(`^(fmt\.(F|S)?[Pp]rint|fmt\.Fprint|[\w.\[\]]*\.Write(String|Byte|Rune)?\(|io\.(Copy|WriteString))`)
