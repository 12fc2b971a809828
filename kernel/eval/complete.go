package eval

import (
	"fmt"
	"go/scanner"
	"go/token"
	"reflect"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/kernel/cell"
)

var goKeywords = []string{"break", "case", "chan", "const", "continue", "default", "defer", "else",
	"fallthrough", "for", "func", "go", "goto", "if", "import", "interface", "map", "package",
	"range", "return", "select", "struct", "switch", "type", "var"}

var predeclared = []string{"any", "append", "bool", "byte", "cap", "clear", "close", "comparable",
	"complex", "complex128", "complex64", "copy", "delete", "error", "false", "float32", "float64",
	"imag", "int", "int16", "int32", "int64", "int8", "iota", "len", "make", "max", "min", "new",
	"nil", "panic", "print", "println", "real", "recover", "rune", "string", "true", "uint",
	"uint16", "uint32", "uint64", "uint8", "uintptr", "ctx"}

// runeToByte converts a code-point offset in s to a byte offset.
func runeToByte(s string, cursor int) int {
	if cursor <= 0 {
		return 0
	}
	n := 0
	for i := range s {
		if n == cursor {
			return i
		}
		n++
	}
	return len(s)
}

func isIdentRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// wordAt returns the identifier chain ending at byte offset off, e.g.
// "strings.Sp" → ("strings", "Sp", start of "Sp").
func wordAt(code string, off int) (qual, word string, start int) {
	start = off
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(code[:start])
		if !isIdentRune(r) {
			break
		}
		start -= size
	}
	word = code[start:off]
	if start > 0 && code[start-1] == '.' {
		q := start - 1
		for q > 0 {
			r, size := utf8.DecodeLastRuneInString(code[:q])
			if !isIdentRune(r) {
				break
			}
			q -= size
		}
		qual = code[q : start-1]
	}
	return qual, word, start
}

// snapshot copies what completion and inspection read of the session, so
// that they can run while a cell executes: the imports (name -> path), the
// user's declarations and the interpreter's globals.
func (e *Evaluator) snapshot() (imports map[string]string, decls []*decl, globals map[string]reflect.Value) {
	e.mu.RLock()
	in := e.in
	imports = make(map[string]string, len(e.imports))
	for k, v := range e.imports {
		imports[k] = v
	}
	decls = append([]*decl(nil), e.decls...)
	e.mu.RUnlock()
	return imports, decls, globalsOf(in)
}

// packageOf resolves the qualifier before a dot to a package path: an
// import of the session, or a known package not shadowed by a variable.
// It returns "" when qual names no package.
func packageOf(qual string, imports map[string]string, globals map[string]reflect.Value) string {
	if p := imports[qual]; p != "" {
		return p
	}
	if _, isVar := globals[qual]; isVar {
		return ""
	}
	return byName[qual]
}

// Complete lists completions at cursor (a code-point offset).
func (e *Evaluator) Complete(code string, cursor int) cell.Completion {
	off := runeToByte(code, cursor)
	qual, word, start := wordAt(code, off)
	startRunes := utf8.RuneCountInString(code[:start])
	type cand struct{ text, typ, sig string }
	var cands []cand
	add := func(text, typ, sig string) {
		if strings.HasPrefix(text, word) && !strings.HasPrefix(text, "_gl") {
			cands = append(cands, cand{text, typ, sig})
		}
	}
	imports, decls, globals := e.snapshot()

	if qual != "" {
		pkgPath := packageOf(qual, imports, globals)
		if pkgPath != "" {
			for _, n := range sortedNames(allSymbols[pkgPath+"/"+importable[pkgPath]]) {
				if !token.IsExported(n) {
					continue
				}
				v := allSymbols[pkgPath+"/"+importable[pkgPath]][n]
				add(n, symbolKind(v), symbolSignature(qual, n, v))
			}
		} else if v, ok := globals[qual]; ok && v.IsValid() {
			for _, m := range members(v) {
				add(m.name, m.kind, m.sig)
			}
			// Methods of cell-defined types, from the session log.
			for _, d := range decls {
				if d.kind == unitFunc && d.recv != "" {
					if t := valueType(v); strings.TrimPrefix(t, "*") != "" {
						for _, n := range d.names {
							add(n, "function", "")
						}
					}
				}
			}
		}
	} else {
		for _, k := range goKeywords {
			add(k, "keyword", "")
		}
		for _, p := range predeclared {
			add(p, "builtin", "")
		}
		for n, v := range globals {
			if preludeNames[n] {
				continue
			}
			add(n, "instance", valueType(v))
		}
		for _, d := range decls {
			for _, n := range d.names {
				switch d.kind {
				case unitFunc:
					if d.recv == "" {
						add(n, "function", "")
					}
				case unitType:
					add(n, "class", "")
				}
			}
		}
		for n := range imports {
			add(n, "module", imports[n])
		}
		for n, p := range byName {
			if _, ok := imports[n]; !ok {
				add(n, "module", p)
			}
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].text < cands[j].text })
	res := cell.Completion{CursorStart: startRunes, CursorEnd: cursor}
	seen := map[string]bool{}
	for _, c := range cands {
		if seen[c.text] {
			continue
		}
		seen[c.text] = true
		res.Matches = append(res.Matches, c.text)
		res.Types = append(res.Types, cell.CompletionType{Text: c.text, Type: c.typ, Start: startRunes, End: cursor, Signature: c.sig})
	}
	if res.Matches == nil {
		res.Matches = []string{}
	}
	return res
}

type member struct{ name, kind, sig string }

// members lists exported fields and methods of a live value.
func members(v reflect.Value) []member {
	var out []member
	if v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	t := v.Type()
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		out = append(out, member{m.Name, "function", m.Type.String()})
	}
	st := t
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
		pt := t
		_ = pt
	} else {
		pt := reflect.PointerTo(t)
		for i := 0; i < pt.NumMethod(); i++ {
			m := pt.Method(i)
			out = append(out, member{m.Name, "function", m.Type.String()})
		}
	}
	if st.Kind() == reflect.Struct {
		for i := 0; i < st.NumField(); i++ {
			f := st.Field(i)
			if f.IsExported() {
				out = append(out, member{f.Name, "instance", f.Type.String()})
			}
		}
	}
	return out
}

func symbolKind(v reflect.Value) string {
	if !v.IsValid() {
		return "instance"
	}
	switch {
	case v.Kind() == reflect.Func:
		return "function"
	case v.Kind() == reflect.Pointer && v.IsNil():
		return "class" // a type: yaegi stores (*T)(nil)
	}
	if _, ok := v.Interface().(interface{ ExactString() string }); ok {
		return "constant"
	}
	return "instance"
}

func symbolSignature(pkg, name string, v reflect.Value) string {
	if !v.IsValid() {
		return ""
	}
	switch {
	case v.Kind() == reflect.Func:
		s := v.Type().String()
		return "func " + pkg + "." + name + strings.TrimPrefix(s, "func")
	case v.Kind() == reflect.Pointer && v.IsNil():
		return "type " + pkg + "." + name + " " + kindWord(v.Type().Elem())
	}
	if c, ok := v.Interface().(interface{ ExactString() string }); ok {
		return "const " + pkg + "." + name + " = " + c.ExactString()
	}
	return "var " + pkg + "." + name + " " + v.Type().String()
}

func kindWord(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct:
		return "struct"
	case reflect.Interface:
		return "interface"
	}
	return t.Kind().String()
}

// Inspect documents the identifier at cursor.
func (e *Evaluator) Inspect(code string, cursor, detailLevel int) cell.Inspection {
	off := runeToByte(code, cursor)
	// Extend to the end of the identifier under the cursor.
	end := off
	for end < len(code) {
		r, size := utf8.DecodeRuneInString(code[end:])
		if !isIdentRune(r) {
			break
		}
		end += size
	}
	qual, word, _ := wordAt(code, end)
	if word == "" {
		return cell.Inspection{}
	}
	text := e.describe(qual, word, detailLevel)
	if text == "" {
		return cell.Inspection{}
	}
	return cell.Inspection{Found: true, Data: display.MIMEBundle{Data: map[string]any{"text/plain": text}}}
}

func (e *Evaluator) describe(qual, word string, detail int) string {
	imports, decls, globals := e.snapshot()
	if qual != "" {
		pkgPath := packageOf(qual, imports, globals)
		if pkgPath != "" {
			if d := lookupDoc(pkgPath, word); d != "" {
				return d
			}
			v, ok := allSymbols[pkgPath+"/"+importable[pkgPath]][word]
			if !ok {
				return ""
			}
			return symbolSignature(qual, word, v)
		}
		if v, ok := globals[qual]; ok && v.IsValid() {
			for _, m := range members(v) {
				if m.name == word {
					return fmt.Sprintf("%s.%s %s", qual, m.name, m.sig)
				}
			}
		}
		return ""
	}
	for i := len(decls) - 1; i >= 0; i-- {
		d := decls[i]
		if d.recv != "" || !contains(d.names, word) {
			continue
		}
		switch d.kind {
		case unitFunc, unitType, unitConst:
			src := strings.TrimSpace(d.orig)
			if d.kind == unitFunc && detail == 0 {
				src = strings.TrimSpace(strings.SplitN(src, "{", 2)[0])
			}
			return fmt.Sprintf("%s\n\ndefined in %s, line %d", src, d.file, d.line)
		}
	}
	if v, ok := globals[word]; ok && v.IsValid() {
		preview := fmt.Sprintf("%v", v.Interface())
		if len(preview) > 500 {
			preview = preview[:500] + "…"
		}
		return fmt.Sprintf("var %s %s\n\n%s", word, valueType(v), preview)
	}
	if p, ok := imports[word]; ok {
		return fmt.Sprintf("package %s // import %q", word, p) + pkgDocSuffix(p)
	}
	if p := byName[word]; p != "" {
		return fmt.Sprintf("package %s // import %q", word, p) + pkgDocSuffix(p)
	}
	return ""
}

func pkgDocSuffix(p string) string {
	if d := lookupDoc(p, ""); d != "" {
		return "\n\n" + d
	}
	return ""
}

// IsComplete tells a console whether code is ready to run.
func (e *Evaluator) IsComplete(code string) (cell.Completeness, string) {
	if strings.TrimSpace(code) == "" {
		return cell.Complete, ""
	}
	t := strings.TrimSpace(code)
	if strings.HasPrefix(t, "%") || strings.HasPrefix(t, "!") {
		return cell.Complete, ""
	}
	fset := token.NewFileSet()
	f := fset.AddFile("", -1, len(code))
	var s scanner.Scanner
	var scanErr string
	s.Init(f, []byte(code), func(pos token.Position, msg string) {
		if scanErr == "" {
			scanErr = msg
		}
	}, 0)
	depth := 0
	last := token.ILLEGAL
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		switch tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
			if depth < 0 {
				return cell.Invalid, ""
			}
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue
		}
		last = tok
	}
	if scanErr != "" {
		if strings.Contains(scanErr, "not terminated") {
			if strings.Contains(scanErr, "raw string") || strings.Contains(scanErr, "comment") {
				return cell.Incomplete, ""
			}
		}
		return cell.Invalid, ""
	}
	if depth > 0 {
		return cell.Incomplete, strings.Repeat("    ", depth)
	}
	switch {
	case last.IsOperator() && last != token.RPAREN && last != token.RBRACK && last != token.RBRACE &&
		last != token.INC && last != token.DEC && last != token.SEMICOLON && last != token.ELLIPSIS:
		return cell.Incomplete, "    "
	}
	if _, err := splitCell(code); err != nil {
		return cell.Invalid, ""
	}
	return cell.Complete, ""
}
