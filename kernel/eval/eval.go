// Package eval runs Go notebook cells with the yaegi interpreter behind the
// kernel/cell seam.
//
// A cell may mix imports, declarations and statements in any order. The
// evaluator splits it with go/scanner and go/parser, rewrites Go syntax the
// interpreter lacks (integer range loops), guards against runaway recursion
// and goroutine panics, evaluates the pieces in a valid order and shows the
// value of a final expression as the cell's result. Output of interpreted
// code and of compiled packages is streamed in batches; os.Stdin reads turn
// into input requests; display calls reach the notebook. Errors come back
// as *cell.Error with line numbers of the user's cell, and the session
// survives every one of them.
package eval

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"io"
	"os"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
	"github.com/traefik/yaegi/stdlib/unrestricted"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/kernel/cell"
	"github.com/gopherlab/gopherlab/stdlib/symbols"
)

// Options configures an Evaluator. The zero value is what the kernel uses.
type Options struct {
	// NoRedirect leaves the process's stdout and stderr file descriptors
	// alone. Output of interpreted code (fmt.Print*, log, os.Stdout) is
	// still captured; output that compiled packages write to fd 1 and 2 is
	// not. Tests use it; the kernel does not.
	NoRedirect bool
	// MaxCallDepth bounds nested calls of interpreted functions in one
	// goroutine; deeper recursion ends the cell with a "stack overflow"
	// error instead of crashing the kernel. Zero means 100000.
	MaxCallDepth int
}

// Evaluator runs cells in one interpreter session. It implements
// cell.Evaluator. Execute and Evaluate run one at a time; Complete,
// Inspect and IsComplete may be called concurrently with them.
type Evaluator struct {
	opts Options
	out  *output

	run sync.Mutex // held while a cell (or a replay) runs

	mu      sync.RWMutex // guards the session state below
	in      *interp.Interpreter
	filter  *panicFilter
	imports map[string]string // local name -> import path
	// files are the interpreter files (cells) in use, each mapped to
	// whether the session's imports are bound in it.
	files  map[string]bool
	decls  []*decl // declarations in the order they took effect
	cellNo int
	// cellFiles are the interpreter files the running cell created.
	cellFiles []string
	counter   int // fresh names in rewrites

	cellCtx  atomic.Pointer[context.Context]
	depth    atomic.Int64
	overflow atomic.Bool // set when enter stopped a runaway recursion

	cancel    *canceler // stops runs of cancelFor (used under run)
	cancelFor *interp.Interpreter
	closed    atomic.Bool
}

// decl is one top-level declaration as it took effect, kept for
// redefinition, replay, %who and inspection.
type decl struct {
	kind  unitKind
	names []string
	recv  string
	src   string // rewritten source, as evaluated
	orig  string // as the user wrote it
	file  string // cell name, e.g. "cell[3]"
	line  int
}

var _ cell.Evaluator = (*Evaluator)(nil)

// New returns an evaluator with a fresh interpreter session. Unless
// opts.NoRedirect is set it redirects the process's stdout and stderr to
// the running cell; Close restores them.
func New(opts Options) (*Evaluator, error) {
	if opts.MaxCallDepth <= 0 {
		opts.MaxCallDepth = 100000
	}
	e := &Evaluator{opts: opts, out: newOutput()}
	bg := context.Background()
	e.cellCtx.Store(&bg)
	if !opts.NoRedirect {
		if err := startCapture(); err != nil {
			e.out.close()
			return nil, err
		}
		capture.target.Store(e.out)
	}
	if err := e.reset(); err != nil {
		e.Close()
		return nil, err
	}
	display.SetPublisher(e.out)
	return e, nil
}

// reset replaces the interpreter with a fresh one holding only the prelude.
func (e *Evaluator) reset() error {
	in, filter, err := e.newInterp()
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.in, e.filter = in, filter
	e.imports = preludeImports()
	e.files = map[string]bool{}
	e.decls = nil
	e.mu.Unlock()
	return nil
}

// exitPanic is what os.Exit does inside a cell.
type exitPanic int

// stackOverflow ends a cell whose interpreted calls nest too deeply.
type stackOverflow int

func (s stackOverflow) Error() string {
	return fmt.Sprintf("more than %d nested calls of interpreted functions (runaway recursion?)", int(s))
}

// goroutinePanic is reported when a goroutine started by a cell panics.
func (e *Evaluator) goroutinePanic(r any) {
	msg := fmt.Sprintf("panic in a goroutine started by a cell: %v\n", r)
	if _, ok := r.(exitPanic); ok {
		msg = fmt.Sprintf("os.Exit(%d) called in a goroutine started by a cell; the goroutine was stopped, the kernel keeps running\n", int(r.(exitPanic)))
	}
	e.filter.takeFrames()
	e.writer(streamErr).Write([]byte(msg))
}

// enter is called at the start of every interpreted function. Every 4096
// calls it measures the calling goroutine's stack depth, so a runaway
// recursion is stopped long before Go's fatal 1 GB stack limit. It stops
// the goroutine with runtime.Goexit rather than a panic: the interpreter
// re-panics at every level while a panic unwinds, which takes minutes
// through 100000 levels, while Goexit unwinds in linear time.
func (e *Evaluator) enter() {
	if e.depth.Add(1)&4095 != 0 {
		return
	}
	// Each interpreted call level takes about two Go frames.
	var pcs [1]uintptr
	if runtime_Callers(2*e.opts.MaxCallDepth, pcs[:]) > 0 {
		e.overflow.Store(true)
		runtime.Goexit()
	}
}

// cellContext is the ctx predeclared in cells: it follows the context of
// the running cell, which an interrupt cancels.
type cellContext struct{ e *Evaluator }

func (c cellContext) cur() context.Context                  { return *c.e.cellCtx.Load() }
func (c cellContext) Deadline() (time.Time, bool)           { return c.cur().Deadline() }
func (c cellContext) Done() <-chan struct{}                 { return c.cur().Done() }
func (c cellContext) Err() error                            { return c.cur().Err() }
func (c cellContext) Value(key any) any                     { return c.cur().Value(key) }
func (c cellContext) String() string                        { return "cell context" }
func (c cellContext) WithoutCancel() context.Context        { return context.WithoutCancel(c.cur()) }
func (c cellContext) WithCancel() (context.Context, func()) { return context.WithCancel(c.cur()) }

// resultKind says how _glResult saw a value.
const (
	resultValue    = 0 // render with display.Render
	resultBundle   = 1 // a cell-defined MimeBundle method
	resultStringer = 2 // a cell-defined String method
	resultError    = 3 // a cell-defined Error method
)

// lastResult is where a result goes while a cell runs.
type resultSlot struct {
	mu sync.Mutex
	b  *display.MIMEBundle
}

var resultSlots sync.Map // *Evaluator -> *resultSlot

func (e *Evaluator) result(v any, kind int, text string, bundle map[string]any) {
	var b display.MIMEBundle
	switch kind {
	case resultBundle:
		// display.Bundle copies the map the cell's MimeBundle returned.
		b = display.Bundle(bundle)
		if s, _ := b.Data[display.MIMEPlain].(string); s == "" && text != "" {
			b.Data[display.MIMEPlain] = text
		}
	case resultStringer:
		b = display.Text(text)
	case resultError:
		b = copyBundle(display.Render(errors.New(text)))
		b.Data[display.MIMEPlain] = text
	default:
		b = renderResult(v)
	}
	if s, ok := resultSlots.Load(e); ok {
		slot := s.(*resultSlot)
		slot.mu.Lock()
		slot.b = &b
		slot.mu.Unlock()
	}
}

// renderResult renders a cell's result value. Whatever display renders
// richly (bundles, Renderer types, tables, images, JSON) keeps display's
// plain text, which is written for people (aligned table columns, indented
// JSON); values display can only show as text are shown as %v would show
// them, and errors as their message. The bundle never shares its Data map
// with the value, so the caller's map is never changed.
func renderResult(v any) display.MIMEBundle {
	r := display.Render(v)
	switch v.(type) {
	case display.MIMEBundle, *display.MIMEBundle, display.Renderer:
		return copyBundle(r)
	case error:
		// %v of an error is its message; the highlighted HTML stays.
		b := copyBundle(r)
		b.Data[display.MIMEPlain] = plainText(v)
		return b
	}
	for k := range r.Data {
		if k != display.MIMEPlain {
			return copyBundle(r)
		}
	}
	return display.Text(plainText(v))
}

// copyBundle returns b with Data and Metadata maps of its own.
func copyBundle(b display.MIMEBundle) display.MIMEBundle {
	out := display.MIMEBundle{Data: make(map[string]any, len(b.Data)+1)}
	for k, v := range b.Data {
		out.Data[k] = v
	}
	if b.Metadata != nil {
		out.Metadata = make(map[string]any, len(b.Metadata))
		for k, v := range b.Metadata {
			out.Metadata[k] = v
		}
	}
	return out
}

// release frees what the interpreter keeps of a finished cell that the
// session no longer needs (see retain.go): compiled syntax trees, storage
// of temporaries, and the import symbols of files that define no
// functions or types. After an interrupt the cell's code may still be
// unwinding, so its temporaries are left alone.
func (e *Evaluator) release(ctx context.Context, startIn *interp.Interpreter, mark frameMark, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	in := e.in
	dropRoots(in)
	var ce *cell.Error
	interrupted := ctx.Err() != nil || (errors.As(err, &ce) && ce.Name == "Interrupted")
	if in != startIn || interrupted {
		return
	}
	releaseCell(in, mark)
	keep := map[string]bool{}
	for _, d := range e.decls {
		if d.kind == unitFunc || d.kind == unitType {
			keep[d.file] = true
		}
	}
	var forget []string
	for _, f := range e.cellFiles {
		if !keep[f] {
			if e.files[f] { // imports were bound there
				forget = append(forget, f)
			}
			delete(e.files, f)
		}
	}
	forgetFileImports(in, forget)
}

// kernelSymbols are the compiled helpers that rewritten cells and the
// prelude call, under the import path "gopherlab/internal/kernel".
func (e *Evaluator) kernelSymbols() interp.Exports {
	return interp.Exports{
		"gopherlab/internal/kernel/kernel": {
			"Enter":   reflect.ValueOf(e.enter),
			"GoPanic": reflect.ValueOf(e.goroutinePanic),
			"Context": reflect.ValueOf(func() context.Context { return cellContext{e} }),
			"Result":  reflect.ValueOf(e.result),
			"Discard": reflect.ValueOf(func(...any) {}),
			"Go":      reflect.ValueOf(e.goCall),
			"Results": reflect.ValueOf(func(vs ...any) {
				parts := make([]string, len(vs))
				for i, v := range vs {
					parts[i] = plainText(v)
				}
				e.result(nil, resultStringer, strings.Join(parts, " "), nil)
			}),
			"Clear": reflect.ValueOf(func(v any) {
				rv := reflect.ValueOf(v)
				if rv.Kind() == reflect.Map || rv.Kind() == reflect.Slice {
					rv.Clear()
				}
			}),
		},
	}
}

// prelude is evaluated in every fresh interpreter. min, max and clear are
// Go 1.21 builtins the interpreter lacks.
const prelude = `package main

import (
	_glk "gopherlab/internal/kernel"
	_gld "gopherlab/display"
	"context"
)

var ctx context.Context = _glk.Context()

type _glRenderer interface{ MimeBundle() map[string]any }

type _glStringer interface{ String() string }

type _glError interface{ Error() string }

// The interpreter matches interfaces reliably with "_, ok := v.(I)" and
// binds values reliably in a type switch, so both are used.
func _glResult(v any) {
	if _, ok := v.(_glRenderer); ok {
		switch r := v.(type) {
		case _glRenderer:
			_glk.Result(v, 1, "", r.MimeBundle())
			return
		}
	}
	if _, ok := v.(_glError); ok {
		switch r := v.(type) {
		case _glError:
			_glk.Result(v, 3, r.Error(), nil)
			return
		}
	}
	if _, ok := v.(_glStringer); ok {
		switch r := v.(type) {
		case _glStringer:
			_glk.Result(v, 2, r.String(), nil)
			return
		}
	}
	_glk.Result(v, 0, "", nil)
}

func _glResults(vs ...any) { _glk.Results(vs...) }

func _glWrap(v any) any {
	if _, ok := v.(_glRenderer); ok {
		switch r := v.(type) {
		case _glRenderer:
			return _gld.Bundle(r.MimeBundle())
		}
	}
	return v
}

type _glOrdered interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr | ~float32 | ~float64 | ~string
}

func min[T _glOrdered](x T, y ...T) T {
	for _, v := range y {
		if v < x {
			x = v
		}
	}
	return x
}

func max[T _glOrdered](x T, y ...T) T {
	for _, v := range y {
		if v > x {
			x = v
		}
	}
	return x
}

func clear(v any) { _glk.Clear(v) }
`

// preludeImports are the imports of the prelude, bound in every cell.
func preludeImports() map[string]string {
	return map[string]string{"_glk": "gopherlab/internal/kernel", "_gld": "gopherlab/display", "context": "context"}
}

// preludeNames are hidden from %who and completion of user names.
var preludeNames = map[string]bool{"_glResult": true, "_glResults": true, "_glWrap": true, "_glOrdered": true, "_glk": true, "_gld": true,
	"_glRenderer": true, "_glStringer": true, "_glError": true, "ctx": true, "min": true, "max": true, "clear": true}

// allSymbols is the standard library plus gopherlab's packages, each also
// under its short path ("gopherlab/display", "gopherlab/convert").
var allSymbols = func() interp.Exports {
	ex := interp.Exports{}
	for k, v := range stdlib.Symbols {
		ex[k] = v
	}
	for k, v := range unrestricted.Symbols {
		if _, ok := ex[k]; !ok {
			ex[k] = map[string]reflect.Value{}
		}
		for n, s := range v {
			ex[k][n] = s
		}
	}
	for k, v := range symbols.Symbols {
		ex[k] = v
		if short, ok := shortPath(k); ok {
			ex[short] = v
		}
	}
	return ex
}()

const modulePath = "github.com/gopherlab/gopherlab/"

// shortPath maps a yaegi key of a gopherlab package to its short form:
// github.com/gopherlab/gopherlab/stdlib/convert/convert -> gopherlab/convert/convert.
func shortPath(key string) (string, bool) {
	if !strings.HasPrefix(key, modulePath) {
		return "", false
	}
	rest := strings.TrimPrefix(key, modulePath)
	rest = strings.TrimPrefix(rest, "stdlib/")
	return "gopherlab/" + rest, true
}

func (e *Evaluator) newInterp() (*interp.Interpreter, *panicFilter, error) {
	var stdout io.Writer = streamWriter{e.out, streamOut}
	var stderrNext = func(p []byte) { e.out.write(streamErr, p) }
	if !e.opts.NoRedirect {
		stdout = os.Stdout
		stderrNext = func(p []byte) { os.Stderr.Write(p) }
	}
	filter := &panicFilter{next: stderrNext}
	stdin := &stdinReader{e: e}
	in := interp.New(interp.Options{
		Stdin:        stdin,
		Stdout:       stdout,
		Stderr:       filter,
		Unrestricted: true,
		Env:          os.Environ(),
	})
	if err := in.Use(allSymbols); err != nil {
		return nil, nil, fmt.Errorf("eval: loading symbols: %w", err)
	}
	var stdinVar io.Reader = stdin
	overrides := interp.Exports{
		"os/os": {
			"Exit":  reflect.ValueOf(func(code int) { panic(exitPanic(code)) }),
			"Stdin": reflect.ValueOf(&stdinVar).Elem(),
		},
	}
	if err := in.Use(overrides); err != nil {
		return nil, nil, err
	}
	if err := in.Use(e.kernelSymbols()); err != nil {
		return nil, nil, err
	}
	if _, err := in.Eval(prelude); err != nil {
		return nil, nil, fmt.Errorf("eval: prelude: %w", err)
	}
	dropRoots(in)
	return in, filter, nil
}

// stdinReader turns reads of os.Stdin in a cell into input requests.
type stdinReader struct {
	e   *Evaluator
	mu  sync.Mutex
	buf []byte
}

func (r *stdinReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) == 0 {
		sink := r.e.out.currentSink()
		if sink == nil {
			return 0, io.EOF
		}
		syncCapture()
		r.e.out.flush()
		line, err := sink.Input(*r.e.cellCtx.Load(), "", false)
		if err != nil {
			return 0, fmt.Errorf("reading os.Stdin: %w", err)
		}
		r.buf = []byte(line + "\n")
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// Execute runs one cell: magics and Go code in order.
func (e *Evaluator) Execute(ctx context.Context, req cell.Request, sink cell.Sink) (err error) {
	if e.closed.Load() {
		return cell.NewError("KernelError", "the evaluator is closed")
	}
	e.run.Lock()
	defer e.run.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	e.cellCtx.Store(&ctx)
	if !e.opts.NoRedirect {
		capture.target.Store(e.out)
	}
	e.out.setSink(sink)
	if req.Silent {
		// A silent execution draws nothing: display calls and progress
		// bars of this cell go nowhere, and there is no execute_result.
		display.SetPublisher(display.Discard)
		defer display.SetPublisher(e.out)
	} else {
		display.SetPublisher(e.out)
	}
	slot := &resultSlot{}
	resultSlots.Store(e, slot)
	e.mu.Lock()
	startIn := e.in
	e.cellFiles = e.cellFiles[:0]
	e.mu.Unlock()
	mark := markFrame(startIn)
	defer func() {
		if !e.opts.NoRedirect {
			syncCapture()
		}
		e.out.flush()
		resultSlots.Delete(e)
		e.release(ctx, startIn, mark, err)
		if err == nil && slot.b != nil && !req.Silent {
			sink.Result(*slot.b)
		}
	}()
	e.mu.Lock()
	e.cellNo++
	name := "cell"
	if req.ExecutionCount > 0 {
		name = fmt.Sprintf("cell[%d]", req.ExecutionCount)
	} else {
		name = fmt.Sprintf("cell#%d", e.cellNo)
	}
	// Each execution needs its own file name (imports are per file).
	if _, seen := e.files[name]; seen {
		name = fmt.Sprintf("%s#%d", name, e.cellNo)
	}
	e.mu.Unlock()
	return e.runCell(ctx, name, req.Code, sink)
}

// Evaluate computes one user expression after a cell.
func (e *Evaluator) Evaluate(ctx context.Context, expr string) (display.MIMEBundle, error) {
	c := &collectSink{}
	// Output of goroutines keeps going to the last real cell.
	prev := e.out.currentSink()
	defer func() {
		if prev != nil {
			e.out.setSink(prev)
		}
	}()
	if err := e.Execute(ctx, cell.Request{Code: expr, Silent: false}, c); err != nil {
		return display.MIMEBundle{}, err
	}
	if c.result == nil {
		return display.Text(""), nil
	}
	return *c.result, nil
}

// collectSink keeps what a user expression produced.
type collectSink struct {
	mu     sync.Mutex
	result *display.MIMEBundle
}

func (c *collectSink) Stream(name, text string) {}
func (c *collectSink) Result(b display.MIMEBundle) {
	c.mu.Lock()
	c.result = &b
	c.mu.Unlock()
}
func (c *collectSink) PublishDisplay(display.MIMEBundle, string, bool) {}
func (c *collectSink) ClearOutput(bool)                                {}
func (c *collectSink) Input(context.Context, string, bool) (string, error) {
	return "", errors.New("input is not available in user expressions")
}

// Close releases the evaluator and restores stdout and stderr.
func (e *Evaluator) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	if !e.opts.NoRedirect {
		syncCapture()
		capture.target.CompareAndSwap(e.out, nil)
		stopCapture()
	}
	e.out.close()
	return nil
}

// runGo evaluates the Go code of one cell (or cell segment).
func (e *Evaluator) runGo(ctx context.Context, name, code string) error {
	units, err := splitCell(code)
	if err != nil {
		var se *splitError
		if errors.As(err, &se) {
			return compileError(name, code, se.line, se.col, se.msg)
		}
		return cell.NewError("CompileError", err.Error())
	}
	if len(units) == 0 {
		return nil
	}
	p := &plan{e: e, name: name, code: code, units: units}
	return p.run(ctx)
}

// isIntGlobal reports whether name is a session variable or constant of an
// integer kind.
func (e *Evaluator) isIntGlobal(name string) bool {
	e.mu.RLock()
	in := e.in
	e.mu.RUnlock()
	v, ok := globalsOf(in)[name]
	if !ok || !v.IsValid() {
		return false
	}
	if v.Kind() == reflect.Interface && !v.IsNil() {
		if c, ok := v.Interface().(interface{ ExactString() string }); ok {
			s := c.ExactString()
			return s != "" && !strings.ContainsAny(s, ".e/\"") && !strings.HasPrefix(s, "(")
		}
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	if c, ok := v.Interface().(interface{ ExactString() string }); ok {
		s := c.ExactString()
		return s != "" && !strings.ContainsAny(s, ".e/\"")
	}
	return false
}

func (e *Evaluator) isFuncDecl(name string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, d := range e.decls {
		if d.kind == unitFunc && d.recv == "" && contains(d.names, name) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// displayNames returns the local names bound to the display package.
func (e *Evaluator) displayNames() map[string]bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	m := map[string]bool{}
	for n, p := range e.imports {
		if p == "gopherlab/display" || p == modulePath+"display" {
			m[n] = true
		}
	}
	return m
}

// sortedNames returns m's keys in order.
func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var _ = ast.Inspect
var _ = token.NoPos

// globalsOf returns the interpreter's global variables. The interpreter
// can panic here when a failed compilation left symbols without storage;
// then the globals are those it can still list.
func globalsOf(in *interp.Interpreter) (g map[string]reflect.Value) {
	defer func() {
		if r := recover(); r != nil {
			g = map[string]reflect.Value{}
		}
	}()
	return in.Globals()
}

// plainText formats v with %v, never panicking.
func plainText(v any) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("<%T: String panicked: %v>", v, r)
		}
	}()
	return fmt.Sprintf("%v", v)
}

// writer returns where text for a stream goes so that it keeps its order
// with everything else the cell writes: the redirected file descriptor
// when redirection is on, the batching output otherwise.
func (e *Evaluator) writer(stream int) io.Writer {
	if !e.opts.NoRedirect {
		if stream == streamErr {
			return os.Stderr
		}
		return os.Stdout
	}
	return streamWriter{e.out, stream}
}

// goCall runs f(args...) on a new goroutine; a panic there is reported on
// stderr instead of killing the kernel.
func (e *Evaluator) goCall(f any, args ...any) {
	fv := reflect.ValueOf(f)
	if fv.Kind() != reflect.Func {
		panic(fmt.Sprintf("go: %T is not a function", f))
	}
	ft := fv.Type()
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		var t reflect.Type
		if ft.IsVariadic() && i >= ft.NumIn()-1 {
			t = ft.In(ft.NumIn() - 1).Elem()
		} else if i < ft.NumIn() {
			t = ft.In(i)
		} else {
			panic(fmt.Sprintf("go: too many arguments in call to %s", ft))
		}
		if a == nil {
			in[i] = reflect.Zero(t)
			continue
		}
		v := reflect.ValueOf(a)
		if !v.Type().AssignableTo(t) && v.Type().ConvertibleTo(t) {
			v = v.Convert(t)
		}
		in[i] = v
	}
	go func() {
		defer func() {
			if r := recover(); r != nil {
				e.goroutinePanic(r)
			}
		}()
		fv.Call(in)
	}()
}
