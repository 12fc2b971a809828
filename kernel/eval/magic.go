package eval

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/gopherlab/gopherlab/kernel/cell"
)

// helpText is what %help prints.
const helpText = `gopherlab cells are Go: imports, declarations (func, type, const, var) and
statements in any order. A final expression is shown as the cell's result.
Top-level x := ... persists to later cells; redefining a func, type, var or
const takes effect. ctx (context.Context) is canceled when you interrupt.

Imports: the Go standard library, plus gopherlab packages by short path:
%s
A package used without an import is imported automatically (fmt, strings,
display, ...); unused imports are not errors.

Magics (a line starting with %% or !):
  %%help              this text
  %%env               list environment variables
  %%env K             show one; %%env K=V sets it for the kernel and commands
  %%time STATEMENT    run one line of Go and print its wall time
  %%%%time             (first line of a cell) time the whole cell
  %%reset             forget every definition and start a fresh session
  %%who               list the names you defined, with their types
  %%load FILE.go      run the declarations and statements of a Go file
  !COMMAND           run COMMAND with sh, streaming its output

Not supported by the interpreter: range over function iterators (Go 1.23),
generic type aliases; see the README for the interpreter's limits.
`

// gopherlabPackages lists the short import paths of gopherlab packages.
func gopherlabPackages() []string {
	var out []string
	for p := range importable {
		if strings.HasPrefix(p, "gopherlab/") && !strings.HasPrefix(p, "gopherlab/internal") {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// runCell runs a cell: a %%time first line times the whole cell; other
// magic lines run in place between the Go code around them.
func (e *Evaluator) runCell(ctx context.Context, name, code string, sink cell.Sink) error {
	trimmed := strings.TrimLeft(code, " \t\r\n")
	if strings.HasPrefix(trimmed, "%%time") {
		nl := strings.IndexByte(code, '\n')
		rest := ""
		if nl >= 0 {
			rest = strings.Repeat("\n", 1) + code[nl+1:]
		}
		start := time.Now()
		err := e.runCell(ctx, name, rest, sink)
		e.printf(streamOut, "Wall time: %s\n", fmtDuration(time.Since(start)))
		return err
	}
	if strings.HasPrefix(trimmed, "%%") {
		word := strings.Fields(trimmed)[0]
		return cell.NewError("MagicError", fmt.Sprintf("unknown cell magic %s (%%help lists the magics)", word))
	}
	lines := strings.Split(code, "\n")
	var seg []string
	segStart := 0
	flush := func(upTo int) error {
		if len(seg) == 0 {
			return nil
		}
		src := strings.Repeat("\n", segStart) + strings.Join(seg, "\n")
		seg = nil
		if strings.TrimSpace(src) == "" {
			return nil
		}
		return e.runGo(ctx, name, src)
	}
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "%") || strings.HasPrefix(t, "!") && !strings.HasPrefix(t, "!=") && len(seg) == 0 || strings.HasPrefix(l, "!") {
			if err := flush(i); err != nil {
				return err
			}
			if err := e.magic(ctx, name, t, i+1, sink); err != nil {
				return err
			}
			segStart = i + 1
			continue
		}
		if len(seg) == 0 {
			segStart = i
		}
		seg = append(seg, l)
	}
	return flush(len(lines))
}

func (e *Evaluator) printf(stream int, format string, args ...any) {
	fmt.Fprintf(e.writer(stream), format, args...)
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3f s", d.Seconds())
}

var envRe = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$`)

// magic runs one magic line.
func (e *Evaluator) magic(ctx context.Context, name, line string, lineNo int, sink cell.Sink) error {
	if strings.HasPrefix(line, "!") {
		return e.shell(ctx, strings.TrimSpace(line[1:]))
	}
	fields := strings.Fields(line)
	word := fields[0]
	arg := strings.TrimSpace(strings.TrimPrefix(line, word))
	switch word {
	case "%help":
		var b strings.Builder
		for _, p := range gopherlabPackages() {
			fmt.Fprintf(&b, "  import %q\n", p)
		}
		e.printf(streamOut, helpText, b.String())
	case "%env":
		switch {
		case arg == "":
			env := os.Environ()
			sort.Strings(env)
			e.printf(streamOut, "%s\n", strings.Join(env, "\n"))
		case envRe.MatchString(arg):
			m := envRe.FindStringSubmatch(arg)
			val := strings.Trim(m[2], `"'`)
			if err := os.Setenv(m[1], val); err != nil {
				return cell.NewError("MagicError", err.Error())
			}
			e.printf(streamOut, "env: %s=%s\n", m[1], val)
		default:
			v, ok := os.LookupEnv(arg)
			if !ok {
				return cell.NewError("MagicError", fmt.Sprintf("%%env: %s is not set", arg))
			}
			e.printf(streamOut, "%s\n", v)
		}
	case "%time":
		if arg == "" {
			return cell.NewError("MagicError", "%time needs a statement, e.g. %time fib(30)")
		}
		start := time.Now()
		err := e.runGo(ctx, name, strings.Repeat("\n", lineNo-1)+strings.Repeat(" ", len("%time "))+arg)
		e.printf(streamOut, "Wall time: %s\n", fmtDuration(time.Since(start)))
		return err
	case "%reset":
		if err := e.reset(); err != nil {
			return cell.NewError("KernelError", err.Error())
		}
		e.printf(streamOut, "session reset: all definitions forgotten\n")
	case "%who":
		e.printf(streamOut, "%s", e.who())
	case "%load":
		if arg == "" {
			return cell.NewError("MagicError", "%load needs a file name, e.g. %load helpers.go")
		}
		b, err := os.ReadFile(arg)
		if err != nil {
			return cell.NewError("MagicError", fmt.Sprintf("%%load: %v", err))
		}
		src := packageClause.ReplaceAllString(string(b), "")
		if err := e.runGo(ctx, arg, src); err != nil {
			return err
		}
		e.printf(streamOut, "loaded %s\n", arg)
	default:
		return cell.NewError("MagicError", fmt.Sprintf("line %d: unknown magic %s (%%help lists the magics)", lineNo, word))
	}
	return nil
}

var packageClause = regexp.MustCompile(`(?m)^package\s+\w+\s*$`)

// shell runs a command line with sh, streaming its output.
func (e *Evaluator) shell(ctx context.Context, command string) error {
	if command == "" {
		return nil
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Stdout = e.writer(streamOut)
	cmd.Stderr = e.writer(streamErr)
	cmd.Env = os.Environ()
	err := cmd.Run()
	if ctx.Err() != nil {
		return &cell.Error{Name: "Interrupted", Value: "the command was interrupted", Traceback: []string{"Interrupted: !" + command}}
	}
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			e.printf(streamErr, "!%s: exit status %d\n", command, ee.ExitCode())
			return nil
		}
		return cell.NewError("ShellError", fmt.Sprintf("!%s: %v", command, err))
	}
	return nil
}

// who lists user-defined names with their types.
func (e *Evaluator) who() string {
	e.mu.RLock()
	in := e.in
	decls := append([]*decl(nil), e.decls...)
	e.mu.RUnlock()
	globals := globalsOf(in)
	type row struct{ name, kind, typ string }
	var rows []row
	seen := map[string]bool{}
	for _, d := range decls {
		for _, n := range d.names {
			key := n
			if d.recv != "" {
				key = d.recv + "." + n
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			switch d.kind {
			case unitFunc:
				sig := strings.SplitN(strings.TrimSpace(d.orig), "{", 2)[0]
				rows = append(rows, row{key, "func", strings.TrimSpace(strings.TrimPrefix(sig, "func"))})
			case unitType:
				rows = append(rows, row{n, "type", ""})
			case unitConst:
				rows = append(rows, row{n, "const", valueType(globals[n])})
			default:
				rows = append(rows, row{n, "var", valueType(globals[n])})
			}
		}
	}
	if len(rows) == 0 {
		return "no user-defined names\n"
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%-20s %-6s %s\n", r.name, r.kind, r.typ)
	}
	return b.String()
}

func valueType(v reflect.Value) string {
	if !v.IsValid() {
		return ""
	}
	if v.Kind() == reflect.Interface && !v.IsNil() {
		if c, ok := v.Interface().(interface{ Kind() int }); ok {
			_ = c
		}
		return v.Elem().Type().String()
	}
	return v.Type().String()
}
