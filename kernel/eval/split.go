package eval

import (
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"strings"
)

// unitKind says what a top-level piece of a cell is.
type unitKind int

const (
	unitImport unitKind = iota // import declaration
	unitType                   // type declaration
	unitConst                  // const declaration
	unitVar                    // var declaration
	unitFunc                   // func or method declaration
	unitStmt                   // any statement
)

func (k unitKind) String() string {
	return [...]string{"import", "type", "const", "var", "func", "statement"}[k]
}

// unit is one top-level declaration or statement of a cell, as written.
type unit struct {
	kind       unitKind
	start, end int    // byte offsets in the cell source
	line       int    // 1-based line of start in the cell
	col        int    // 1-based column of start
	text       string // source text of the unit
	names      []string
	recv       string // receiver base type name of a method
	finalExpr  bool   // the last unit of the cell is an expression statement
	exprIsCall bool
}

// splitError is a syntax error at a cell position.
type splitError struct {
	line, col int
	msg       string
}

func (e *splitError) Error() string { return e.msg }

// splitCell cuts src into top-level units with go/scanner: a unit ends at a
// semicolon (explicit or inserted at a newline) outside any brackets. Each
// unit is then parsed on its own to learn what it declares.
func splitCell(src string) ([]unit, error) {
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(src))
	var firstErr *splitError
	var s scanner.Scanner
	s.Init(file, []byte(src), func(pos token.Position, msg string) {
		if firstErr == nil {
			firstErr = &splitError{pos.Line, pos.Column, msg}
		}
	}, 0)

	type tok struct {
		pos token.Pos
		tok token.Token
		lit string
	}
	var units []unit
	var cur []tok
	depth := 0
	flush := func(end int) {
		if len(cur) == 0 {
			return
		}
		startOff := file.Offset(cur[0].pos)
		p := file.Position(cur[0].pos)
		u := unit{start: startOff, end: end, line: p.Line, col: p.Column}
		u.text = src[startOff:end]
		u.kind = classify(cur[0].tok, func(i int) (token.Token, bool) {
			if i < len(cur) {
				return cur[i].tok, true
			}
			return token.ILLEGAL, false
		})
		units = append(units, u)
		cur = cur[:0]
	}
	lastEnd := 0
	inHeader := false // between for/if/switch and its block's brace
	for {
		pos, t, lit := s.Scan()
		if t == token.EOF {
			flush(lastEnd)
			break
		}
		off := file.Offset(pos)
		switch t {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			if t == token.LBRACE && depth == 0 {
				inHeader = false
			}
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
			if depth < 0 {
				return nil, &splitError{file.Position(pos).Line, file.Position(pos).Column, "unexpected " + t.String()}
			}
		case token.FOR, token.IF, token.SWITCH:
			if depth == 0 {
				inHeader = true
			}
		case token.SEMICOLON:
			if depth == 0 && inHeader && lit == ";" {
				break // for init; cond; post {
			}
			if depth == 0 {
				if lit == ";" {
					flush(off + 1)
				} else {
					flush(lastEnd)
				}
				continue
			}
		}
		cur = append(cur, tok{pos, t, lit})
		if lit != "" && t != token.SEMICOLON {
			lastEnd = off + len(lit)
		} else {
			lastEnd = off + len(t.String())
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	// Parse each unit to learn its names and check its syntax.
	for i := range units {
		u := &units[i]
		if err := describeUnit(u, i == len(units)-1); err != nil {
			return nil, err
		}
	}
	return units, nil
}

// classify tells a unit's kind from its first tokens. A leading func is a
// declaration when followed by a name, or by a receiver and then a name and
// a parameter list; otherwise it starts a function literal statement.
func classify(first token.Token, at func(int) (token.Token, bool)) unitKind {
	switch first {
	case token.IMPORT:
		return unitImport
	case token.TYPE:
		return unitType
	case token.CONST:
		return unitConst
	case token.VAR:
		return unitVar
	case token.FUNC:
		t1, _ := at(1)
		if t1 == token.IDENT {
			return unitFunc
		}
		if t1 == token.LPAREN {
			depth := 0
			for i := 1; ; i++ {
				t, ok := at(i)
				if !ok {
					return unitStmt
				}
				if t == token.LPAREN {
					depth++
				} else if t == token.RPAREN {
					depth--
					if depth == 0 {
						a, _ := at(i + 1)
						b, _ := at(i + 2)
						if a == token.IDENT && (b == token.LPAREN || b == token.LBRACK) {
							return unitFunc
						}
						return unitStmt
					}
				}
			}
		}
	}
	return unitStmt
}

// padTo returns text preceded by line newlines and col-1 spaces. Behind a
// one-line prefix (the package clause) the text's first character then sits
// at line+1, col: every parsed position is one line below the cell's.
func padTo(line, col int, text string) string {
	return strings.Repeat("\n", line) + strings.Repeat(" ", col-1) + text
}

// parseUnit parses the unit alone, as a file (declarations) or as the body
// of a function (statements), with positions matching the cell.
func parseUnit(fset *token.FileSet, name string, u *unit, text string) (*ast.File, error) {
	var src string
	if u.kind == unitStmt {
		src = "package main; func main() {" + padTo(u.line, u.col, text) + "\n}"
	} else {
		src = "package main;" + padTo(u.line, u.col, text)
	}
	return parser.ParseFile(fset, name, src, parser.DeclarationErrors|parser.SkipObjectResolution)
}

func describeUnit(u *unit, last bool) error {
	fset := token.NewFileSet()
	f, err := parseUnit(fset, "cell", u, u.text)
	if err != nil {
		if el, ok := err.(scanner.ErrorList); ok && len(el) > 0 {
			return &splitError{el[0].Pos.Line - 1, el[0].Pos.Column, el[0].Msg}
		}
		return &splitError{u.line, u.col, err.Error()}
	}
	if u.kind == unitStmt {
		body := f.Decls[0].(*ast.FuncDecl).Body
		for _, st := range body.List {
			if as, ok := st.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
				for _, l := range as.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
						u.names = append(u.names, id.Name)
					}
				}
			}
		}
		if last && len(body.List) == 1 {
			if es, ok := body.List[0].(*ast.ExprStmt); ok {
				u.finalExpr = true
				_, u.exprIsCall = ast.Unparen(es.X).(*ast.CallExpr)
			}
		}
		return nil
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			u.names = append(u.names, d.Name.Name)
			if d.Recv != nil && len(d.Recv.List) == 1 {
				u.recv = recvBase(d.Recv.List[0].Type)
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					u.names = append(u.names, sp.Name.Name)
				case *ast.ValueSpec:
					for _, n := range sp.Names {
						if n.Name != "_" {
							u.names = append(u.names, n.Name)
						}
					}
				}
			}
		}
	}
	return nil
}

// recvBase returns the type name of a method receiver: T for T, *T, T[K].
func recvBase(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}
