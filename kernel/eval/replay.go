package eval

import (
	"context"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"strings"

	"github.com/traefik/yaegi/interp"
)

// replay handles a redefined type: the interpreter keeps the first
// definition of a type, so a fresh interpreter is built from the session
// log: imports, then all types and constants (with the new definitions),
// then variables whose values do not depend on cell-defined types (carried
// over as they are), then functions. Values that cannot be carried over
// are dropped, with a note on stderr naming them.
func (e *Evaluator) replay(ctx context.Context, newDecls []*decl) error {
	e.mu.RLock()
	old := e.in
	oldDecls := append([]*decl(nil), e.decls...)
	imports := map[string]string{}
	for k, v := range e.imports {
		imports[k] = v
	}
	e.mu.RUnlock()

	in, filter, err := e.newInterp()
	if err != nil {
		return err
	}
	redefined := map[string]bool{}
	for _, d := range newDecls {
		for _, n := range d.names {
			redefined[n] = true
		}
	}
	var notes []string

	// Imports.
	var imp strings.Builder
	imp.WriteString("package main\n")
	for _, n := range sortedNames(imports) {
		if _, ok := preludeImports()[n]; ok {
			continue
		}
		p := imports[n]
		if path.Base(p) == n || importable[p] == n {
			fmt.Fprintf(&imp, "import %q\n", p)
		} else {
			fmt.Fprintf(&imp, "import %s %q\n", n, p)
		}
	}
	if _, err := in.Eval(imp.String()); err != nil {
		return fmt.Errorf("replaying imports: %w", err)
	}

	// Types and constants, old (not redefined) then new, as one file.
	var types strings.Builder
	types.WriteString("package main\n")
	var typeNames []string
	var kept []*decl
	for _, d := range oldDecls {
		if d.kind != unitType && d.kind != unitConst {
			continue
		}
		if anyIn(d.names, redefined) {
			continue
		}
		types.WriteString(d.src + "\n")
		kept = append(kept, d)
		if d.kind == unitType {
			typeNames = append(typeNames, d.names...)
		}
	}
	for _, d := range newDecls {
		types.WriteString(d.src + "\n")
		if d.kind == unitType {
			typeNames = append(typeNames, d.names...)
		}
	}
	if _, err := evalRecover(in, types.String()); err != nil {
		return fmt.Errorf("the new type definitions do not compile with the session's other types: %v", err)
	}

	// Variables: carry values whose types are compiled Go types and whose
	// definitions do not mention a cell-defined type.
	var typeRe *regexp.Regexp
	if len(typeNames) > 0 {
		q := make([]string, len(typeNames))
		for i, n := range typeNames {
			q[i] = regexp.QuoteMeta(n)
		}
		typeRe = regexp.MustCompile(`\b(` + strings.Join(q, "|") + `)\b`)
	}
	defs := map[string]*decl{}
	for _, d := range oldDecls {
		if d.kind == unitVar || d.kind == unitStmt {
			for _, n := range d.names {
				defs[n] = d
			}
		}
	}
	carry := map[string]reflect.Value{}
	var carried []*decl
	var dropped []string
	for name, v := range globalsOf(old) {
		if preludeNames[name] || name == "ctx" || strings.HasPrefix(name, "_gl") {
			continue
		}
		d, ok := defs[name]
		if !ok {
			continue // a constant, function or type
		}
		if !v.IsValid() || !carryable(v.Type(), 0) || (typeRe != nil && typeRe.MatchString(d.src)) {
			dropped = append(dropped, name)
			continue
		}
		nv := reflect.New(v.Type()).Elem()
		nv.Set(v)
		carry[name] = nv
		carried = append(carried, d)
	}
	if len(carry) > 0 {
		sym := map[string]reflect.Value{}
		var src strings.Builder
		src.WriteString("package main\nimport _glc \"gopherlab/internal/carry\"\n")
		i := 0
		for _, name := range sortedNames(carry) {
			key := fmt.Sprintf("C%d", i)
			i++
			sym[key] = carry[name]
			fmt.Fprintf(&src, "var %s = _glc.%s\n", name, key)
		}
		if err := in.Use(interp.Exports{"gopherlab/internal/carry/carry": sym}); err != nil {
			return err
		}
		if _, err := evalRecover(in, src.String()); err != nil {
			notes = append(notes, fmt.Sprintf("could not carry variables over: %v", err))
		}
	}

	// Functions and methods.
	// Methods of a redefined type go with the old type.
	var funcs []*decl
	var lostMethods []string
	for _, d := range oldDecls {
		if d.kind == unitFunc {
			if d.recv != "" && redefined[d.recv] {
				lostMethods = append(lostMethods, d.recv+"."+strings.Join(d.names, ""))
				continue
			}
			funcs = append(funcs, d)
		}
	}
	var fsrc strings.Builder
	fsrc.WriteString("package main\n")
	for _, d := range funcs {
		fsrc.WriteString(d.src + "\n")
	}
	var lostFuncs []string
	if _, err := evalRecover(in, fsrc.String()); err != nil {
		// Retry one by one, dropping those that no longer compile.
		for _, d := range funcs {
			if _, err := evalRecover(in, "package main\n"+d.src); err != nil {
				lostFuncs = append(lostFuncs, strings.Join(d.names, ", "))
			}
		}
	}

	e.mu.Lock()
	e.in, e.filter = in, filter
	e.files = map[string]bool{}
	var log []*decl
	for _, d := range oldDecls {
		switch d.kind {
		case unitImport:
			log = append(log, d)
		}
	}
	log = append(log, kept...)
	log = append(log, newDecls...)
	log = append(log, carried...)
	log = append(log, funcs...)
	e.decls = log
	e.mu.Unlock()

	var msg strings.Builder
	redef := sortedNames(redefined)
	fmt.Fprintf(&msg, "note: type %s redefined: the session was replayed into a fresh interpreter", strings.Join(redef, ", "))
	if len(dropped) > 0 {
		sortStrings(dropped)
		fmt.Fprintf(&msg, "; values dropped (re-run the cells that define them): %s", strings.Join(dropped, ", "))
	}
	if len(lostMethods) > 0 {
		fmt.Fprintf(&msg, "; methods of the old type dropped (define them again): %s", strings.Join(lostMethods, ", "))
	}
	if len(lostFuncs) > 0 {
		fmt.Fprintf(&msg, "; functions that no longer compile: %s", strings.Join(lostFuncs, "; "))
	}
	for _, n := range notes {
		msg.WriteString("; " + n)
	}
	msg.WriteString("\n")
	e.writer(streamErr).Write([]byte(msg.String()))
	return nil
}

func evalRecover(in *interp.Interpreter, src string) (v reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = interpreterError{r}
		}
	}()
	return in.Eval(src)
}

func anyIn(names []string, set map[string]bool) bool {
	for _, n := range names {
		if set[n] {
			return true
		}
	}
	return false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// carryable reports whether values of t can move to a new interpreter:
// types built by the interpreter for cell-defined structs (unnamed struct
// types) and functions (closures of the old interpreter) cannot.
func carryable(t reflect.Type, depth int) bool {
	if depth > 6 {
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		return t.Name() != ""
	case reflect.Func, reflect.Interface, reflect.UnsafePointer, reflect.Chan:
		return t.Name() != "" && t.PkgPath() != "" && t.Kind() != reflect.Func
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return carryable(t.Elem(), depth+1)
	case reflect.Map:
		return carryable(t.Key(), depth+1) && carryable(t.Elem(), depth+1)
	}
	return true
}
