package eval

import (
	"fmt"
	"go/ast"
	"go/token"
	"sort"
	"strings"
)

// edit replaces src[pos:end] with text (an insertion when pos == end).
type edit struct {
	pos, end int
	text     string
}

// applyEdits applies non-overlapping edits to src; an edit overlapping an
// earlier one (by position) is skipped. Edits never add newlines, so line
// numbers are kept.
func applyEdits(src string, edits []edit) string {
	sort.SliceStable(edits, func(i, j int) bool {
		if edits[i].pos != edits[j].pos {
			return edits[i].pos < edits[j].pos
		}
		return edits[i].end < edits[j].end
	})
	var b strings.Builder
	last := 0
	for _, e := range edits {
		if e.pos < last {
			continue
		}
		b.WriteString(src[last:e.pos])
		b.WriteString(e.text)
		last = e.end
	}
	b.WriteString(src[last:])
	return b.String()
}

// unsupportedError names a Go construct the interpreter cannot run and the
// cell line where it appears.
type unsupportedError struct {
	line int
	msg  string
}

func (e *unsupportedError) Error() string { return e.msg }

// rewriter turns parsed cell code into code yaegi runs correctly:
//   - `for i := range N` over an integer becomes a three-clause loop;
//   - `go f(x)` evaluates its arguments first and runs f under a recover
//     that reports the panic instead of killing the kernel;
//   - every function body starts with a call-depth check, so that runaway
//     recursion ends the cell instead of overflowing the goroutine stack;
//   - arguments of display.Show/New/Render pass through _glWrap, which sees
//     methods of cell-defined types that compiled code cannot see.
type rewriter struct {
	fset    *token.FileSet
	src     string // the parsed source (positions index into it)
	base    int    // file base in fset
	edits   []edit
	counter *int
	// isIntName reports whether a name not declared in the code is a
	// session-level integer variable or constant.
	isIntName func(name string) bool
	// isFuncName reports whether a name is a session-level function.
	isFuncName func(name string) bool
	// displayNames are the local names of the display package.
	displayNames map[string]bool
	err          error
}

func (r *rewriter) off(p token.Pos) int { return r.fset.Position(p).Offset }

func (r *rewriter) line(p token.Pos) int { return r.fset.Position(p).Line - 1 }

func (r *rewriter) fresh(prefix string) string {
	*r.counter++
	return fmt.Sprintf("%s%d", prefix, *r.counter)
}

func (r *rewriter) text(n ast.Node) string { return r.src[r.off(n.Pos()):r.off(n.End())] }

// rewrite walks f and returns the edited source.
func (r *rewriter) rewrite(f ast.Node) (string, error) {
	if body, ok := f.(*ast.BlockStmt); ok {
		for _, st := range body.List {
			r.blankAssign(st)
		}
	}
	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Body != nil && n.Name.Name != "main" {
				r.enterGuard(n.Body)
			}
		case *ast.FuncLit:
			r.enterGuard(n.Body)
		case *ast.RangeStmt:
			r.rangeStmt(n, stack)
		case *ast.TypeSpec:
			if n.TypeParams != nil && n.Assign.IsValid() {
				r.err = &unsupportedError{r.line(n.Pos()), fmt.Sprintf(
					"line %d: generic type aliases (Go 1.24) are not supported by the interpreter; declare a defined type (type %s[...] ...) instead", r.line(n.Pos()), n.Name.Name)}
			}
		case *ast.GoStmt:
			r.goStmt(n)
		case *ast.CallExpr:
			r.displayCall(n)
			r.minMaxCall(n)
		}
		return r.err == nil
	})
	if r.err != nil {
		return "", r.err
	}
	return applyEdits(r.src, r.edits), nil
}

func (r *rewriter) enterGuard(body *ast.BlockStmt) {
	p := r.off(body.Lbrace) + 1
	r.edits = append(r.edits, edit{p, p, "_glk.Enter();"})
}

var intTypeNames = map[string]bool{
	"int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"uintptr": true, "byte": true, "rune": true,
}

// intExpr reports whether e is certainly an integer, looking up local
// declarations that come before it in the enclosing nodes.
func (r *rewriter) intExpr(e ast.Expr, stack []ast.Node, depth int) bool {
	if depth > 8 {
		return false
	}
	switch x := ast.Unparen(e).(type) {
	case *ast.BasicLit:
		return x.Kind == token.INT
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok {
			return id.Name == "len" || id.Name == "cap" || intTypeNames[id.Name]
		}
	case *ast.BinaryExpr:
		switch x.Op {
		case token.ADD, token.SUB, token.MUL, token.QUO, token.REM, token.SHL, token.SHR, token.AND, token.OR, token.XOR, token.AND_NOT:
			return r.intExpr(x.X, stack, depth+1) || r.intExpr(x.Y, stack, depth+1)
		}
	case *ast.UnaryExpr:
		return x.Op != token.ARROW && r.intExpr(x.X, stack, depth+1)
	case *ast.Ident:
		if d, ok := r.localDecl(x, stack); ok {
			return d != nil && r.intExpr(d, stack, depth+1)
		}
		return r.isIntName != nil && r.isIntName(x.Name)
	}
	return false
}

// localDecl finds the nearest declaration of id before it in the enclosing
// nodes. It returns the type or value expression that tells its type (nil
// when unknown) and whether a declaration was found.
func (r *rewriter) localDecl(id *ast.Ident, stack []ast.Node) (ast.Expr, bool) {
	var found ast.Expr
	ok := false
	bestPos := token.NoPos
	consider := func(name *ast.Ident, typ ast.Expr) {
		if name.Name == id.Name && name.Pos() < id.Pos() && name.Pos() > bestPos {
			bestPos, found, ok = name.Pos(), typ, true
		}
	}
	for _, n := range stack {
		ast.Inspect(n, func(m ast.Node) bool {
			if m == nil || m.Pos() > id.Pos() {
				return false
			}
			switch m := m.(type) {
			case *ast.Field:
				for _, nm := range m.Names {
					consider(nm, m.Type)
				}
			case *ast.AssignStmt:
				if m.Tok == token.DEFINE {
					for i, l := range m.Lhs {
						if nm, isID := l.(*ast.Ident); isID {
							var t ast.Expr
							if len(m.Rhs) == len(m.Lhs) {
								t = m.Rhs[i]
							}
							consider(nm, t)
						}
					}
				}
			case *ast.ValueSpec:
				for i, nm := range m.Names {
					t := m.Type
					if t == nil && i < len(m.Values) {
						t = m.Values[i]
					}
					consider(nm, t)
				}
			case *ast.RangeStmt:
				if k, isID := m.Key.(*ast.Ident); isID {
					consider(k, nil)
				}
				if v, isID := m.Value.(*ast.Ident); isID {
					consider(v, nil)
				}
			}
			return true
		})
	}
	if t, isID := found.(*ast.Ident); isID && intTypeNames[t.Name] {
		return &ast.BasicLit{Kind: token.INT, Value: "0"}, true
	}
	return found, ok
}

func (r *rewriter) funcExpr(e ast.Expr, stack []ast.Node) bool {
	switch x := ast.Unparen(e).(type) {
	case *ast.FuncLit:
		return true
	case *ast.Ident:
		if d, ok := r.localDecl(x, stack); ok {
			_, isLit := d.(*ast.FuncLit)
			_, isType := d.(*ast.FuncType)
			return isLit || isType
		}
		return r.isFuncName != nil && r.isFuncName(x.Name)
	}
	return false
}

func (r *rewriter) rangeStmt(n *ast.RangeStmt, stack []ast.Node) {
	if r.funcExpr(n.X, stack) {
		r.err = &unsupportedError{r.line(n.For), fmt.Sprintf(
			"line %d: range over a function iterator (Go 1.23) is not supported by the interpreter; call the function with a yield callback instead", r.line(n.For))}
		return
	}
	if !r.intExpr(n.X, stack, 0) {
		return
	}
	x := r.text(n.X)
	simple := false
	switch ast.Unparen(n.X).(type) {
	case *ast.BasicLit, *ast.Ident:
		simple = true
	}
	limit := "(" + x + ")"
	var pre, post string
	if !simple {
		v := r.fresh("_glN")
		pre = "{ " + v + " := " + x + "; "
		post = " }"
		limit = v
	}
	key := ""
	if id, ok := n.Key.(*ast.Ident); ok && id.Name != "_" {
		key = id.Name
	}
	var header string
	switch {
	case key == "":
		k := r.fresh("_glI")
		header = fmt.Sprintf("%s := %s * 0; %s < %s; %s++", k, limit, k, limit, k)
	case n.Tok == token.ASSIGN:
		header = fmt.Sprintf("%s = %s * 0; %s < %s; %s++", key, limit, key, limit, key)
	default:
		header = fmt.Sprintf("%s := %s * 0; %s < %s; %s++", key, limit, key, limit, key)
	}
	start := r.off(n.For) + len("for")
	r.edits = append(r.edits, edit{start, r.off(n.X.End()), " " + header})
	if pre != "" {
		p := r.off(n.For)
		r.edits = append(r.edits, edit{p, p, pre})
		e := r.off(n.End())
		r.edits = append(r.edits, edit{e, e, post})
	}
}

// goStmt rewrites `go f(a, b)` into
//
//	{ _glA1, _glA2 := a, b; go func() { defer <recover>; f(_glA1, _glA2) }() }
//
// so arguments are evaluated when the go statement runs, as in Go, and a
// panic in the goroutine is reported instead of killing the kernel. The
// function expression stays in place, so rewrites inside it still apply.
func (r *rewriter) goStmt(n *ast.GoStmt) {
	call := n.Call
	if r.goCall(n) {
		return
	}
	var names, vals []string
	var argEdits []edit
	for _, a := range call.Args {
		if _, ok := a.(*ast.BasicLit); ok {
			continue
		}
		v := r.fresh("_glA")
		names = append(names, v)
		vals = append(vals, r.text(a))
		argEdits = append(argEdits, edit{r.off(a.Pos()), r.off(a.End()), v})
	}
	pre := "{ "
	if len(names) > 0 {
		pre += strings.Join(names, ", ") + " := " + strings.Join(vals, ", ") + "; "
	}
	p := r.off(n.Go)
	r.edits = append(r.edits, edit{p, p, pre},
		edit{p, p + len("go"), "go func() { defer func() { if r := recover(); r != nil { _glk.GoPanic(r) } }(); "})
	r.edits = append(r.edits, argEdits...)
	e := r.off(n.End())
	r.edits = append(r.edits, edit{e, e, " }() }"})
}

// displayCall wraps the arguments of display.Show, display.New and
// display.Render in _glWrap.
func (r *rewriter) displayCall(n *ast.CallExpr) {
	sel, ok := n.Fun.(*ast.SelectorExpr)
	if !ok {
		return
	}
	id, ok := sel.X.(*ast.Ident)
	if !ok || !r.displayNames[id.Name] {
		return
	}
	switch sel.Sel.Name {
	case "Show", "New", "Render":
	default:
		return
	}
	for _, a := range n.Args {
		r.edits = append(r.edits, edit{r.off(a.Pos()), r.off(a.Pos()), "_glWrap("}, edit{r.off(a.End()), r.off(a.End()), ")"})
	}
}

// minMaxCall types untyped float constants in min and max calls as
// float64: the interpreter's generic min and max (it lacks the builtins)
// cannot infer a type from untyped floats.
func (r *rewriter) minMaxCall(n *ast.CallExpr) {
	id, ok := n.Fun.(*ast.Ident)
	if !ok || (id.Name != "min" && id.Name != "max") {
		return
	}
	hasFloat := false
	for _, a := range n.Args {
		if bl, ok := a.(*ast.BasicLit); ok && bl.Kind == token.FLOAT {
			hasFloat = true
		}
	}
	if !hasFloat {
		return
	}
	for _, a := range n.Args {
		if bl, ok := a.(*ast.BasicLit); ok && (bl.Kind == token.FLOAT || bl.Kind == token.INT) {
			r.edits = append(r.edits, edit{r.off(a.Pos()), r.off(a.Pos()), "float64("}, edit{r.off(a.End()), r.off(a.End()), ")"})
		}
	}
}

// blankAssign rewrites a top-level `_ = x` into a call: the interpreter
// gives the top-level blank identifier the type of its first use, so a
// later `_ = y` of another type would fail.
func (r *rewriter) blankAssign(st ast.Stmt) {
	as, ok := st.(*ast.AssignStmt)
	if !ok || as.Tok != token.ASSIGN {
		return
	}
	for _, l := range as.Lhs {
		if id, ok := l.(*ast.Ident); !ok || id.Name != "_" {
			return
		}
	}
	var vals []string
	for _, v := range as.Rhs {
		vals = append(vals, r.text(v))
	}
	r.edits = append(r.edits, edit{r.off(as.Pos()), r.off(as.End()), "_glk.Discard(" + strings.Join(vals, ", ") + ")"})
}

var builtinFuncs = map[string]bool{"append": true, "cap": true, "clear": true, "close": true, "complex": true,
	"copy": true, "delete": true, "imag": true, "len": true, "make": true, "max": true, "min": true,
	"new": true, "panic": true, "print": true, "println": true, "real": true, "recover": true}

// goCall rewrites `go f(a, b)` into `_glk.Go(f, a, b)`: compiled code
// evaluates f and the arguments at the go statement, as Go does, and runs
// the call on a goroutine under a recover. Builtins and calls with a
// trailing ... keep the closure form.
func (r *rewriter) goCall(n *ast.GoStmt) bool {
	call := n.Call
	if call.Ellipsis.IsValid() {
		return false
	}
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		if builtinFuncs[f.Name] {
			return false
		}
	case *ast.FuncLit, *ast.SelectorExpr, *ast.IndexExpr, *ast.IndexListExpr:
	default:
		return false
	}
	sep := ""
	if len(call.Args) > 0 {
		sep = ", "
	}
	r.edits = append(r.edits,
		edit{r.off(n.Go), r.off(call.Fun.Pos()), "_glk.Go("},
		edit{r.off(call.Fun.End()), r.off(call.Lparen) + 1, sep})
	return true
}
