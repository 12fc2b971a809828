package eval

import (
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"github.com/traefik/yaegi/interp"
)

// The interpreter keeps, for the whole session, state that a notebook
// kernel running thousands of cells must not accumulate:
//
//   - every syntax tree it compiled (a list used only by its debugger);
//   - the storage of every temporary value of top-level statements, which
//     it compiles in the package's global frame (a 1 GB intermediate of a
//     finished cell would stay alive);
//   - a list of child scopes per scope that it never reads;
//   - for every file (one per cell), one symbol per bound import;
//   - values handed over for `x := expr` bindings.
//
// The functions here reach into the interpreter's unexported fields with
// reflect to release them after each cell. Each looks its field up once
// and does nothing if yaegi's layout differs from v0.16.1's.

// field returns the unexported field name of the struct v points to (or
// is, when addressable) as a settable value, or an invalid Value.
func field(v reflect.Value, name string) reflect.Value {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return reflect.Value{}
	}
	type key struct {
		t    reflect.Type
		name string
	}
	k := key{v.Type(), name}
	idx, ok := fieldIndex.Load(k)
	if !ok {
		sf, found := v.Type().FieldByName(name)
		i := -1
		if found && len(sf.Index) == 1 {
			i = sf.Index[0]
		}
		idx, _ = fieldIndex.LoadOrStore(k, i)
	}
	if idx.(int) < 0 {
		return reflect.Value{}
	}
	f := v.Field(idx.(int))
	if !f.CanAddr() {
		return reflect.Value{}
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

// fieldIndex caches struct field indexes looked up by field.
var fieldIndex sync.Map

// dropRoots forgets the interpreter's record of compiled syntax trees.
// Nodes still in use (functions, closures, types) stay reachable through
// scopes and values. The caller holds e.run.
func dropRoots(in *interp.Interpreter) {
	if in == nil {
		return
	}
	if f := field(reflect.ValueOf(in), "roots"); f.IsValid() && f.Kind() == reflect.Slice {
		f.Set(reflect.Zero(f.Type()))
	}
}

// frameMark is the size of the interpreter's global frame before a cell.
type frameMark struct{ slots int }

// globalData returns the interpreter's global frame data and its lock.
func globalData(in *interp.Interpreter) (data reflect.Value, mu *sync.RWMutex) {
	fr := field(reflect.ValueOf(in), "frame")
	if !fr.IsValid() || fr.Kind() != reflect.Pointer || fr.IsNil() {
		return reflect.Value{}, nil
	}
	data = field(fr, "data")
	m := field(fr, "mutex")
	if !data.IsValid() || data.Kind() != reflect.Slice || !m.IsValid() || m.Type() != reflect.TypeOf(sync.RWMutex{}) {
		return reflect.Value{}, nil
	}
	return data, m.Addr().Interface().(*sync.RWMutex)
}

// markFrame records the global frame size before a cell runs.
func markFrame(in *interp.Interpreter) frameMark {
	data, mu := globalData(in)
	if mu == nil {
		return frameMark{slots: -1}
	}
	mu.RLock()
	defer mu.RUnlock()
	return frameMark{slots: data.Len()}
}

// releaseCell frees what the cell that started at mark left behind:
// temporaries of its top-level statements (frame slots no symbol names)
// get fresh zero storage, and the scope tree's unread child lists are
// cleared. Named slots (variables, functions) are kept. Closures made by
// the cell hold their own copy of the frame and keep their values.
func releaseCell(in *interp.Interpreter, mark frameMark) {
	if in == nil || mark.slots < 0 {
		return
	}
	scopes := field(reflect.ValueOf(in), "scopes")
	if !scopes.IsValid() || scopes.Kind() != reflect.Map {
		return
	}
	data, mu := globalData(in)
	if mu == nil {
		return
	}
	// Slots the cell added that may hold memory: only these need their
	// names looked up (most cells add none, `1+1` for one).
	var release []int
	mu.RLock()
	for i := mark.slots; i < data.Len(); i++ {
		if v := data.Index(i); v.IsValid() {
			if slot := v.Interface().(reflect.Value); slot.IsValid() && hasPointers(slot.Type()) {
				release = append(release, i)
			}
		}
	}
	mu.RUnlock()
	named := map[int]bool{}
	// The index field of the symbols, looked up once: a session holds
	// thousands of symbols and they are all visited after every cell.
	indexField := -1
	noteNamed := func(sym reflect.Value) {
		if len(release) == 0 || !sym.IsValid() || sym.Kind() != reflect.Map {
			return
		}
		it := sym.MapRange()
		for it.Next() {
			v := it.Value()
			if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
				continue
			}
			v = v.Elem()
			if indexField < 0 {
				sf, ok := v.Type().FieldByName("index")
				if !ok || len(sf.Index) != 1 || sf.Type.Kind() != reflect.Int {
					return
				}
				indexField = sf.Index[0]
			}
			if i := int(v.Field(indexField).Int()); i >= mark.slots {
				named[i] = true
			}
		}
	}
	var walk func(sc reflect.Value, depth int)
	walk = func(sc reflect.Value, depth int) {
		if !sc.IsValid() || sc.IsNil() || depth > 10000 {
			return
		}
		noteNamed(field(sc, "sym"))
		if child := field(sc, "child"); child.IsValid() && child.Kind() == reflect.Slice {
			for i := 0; i < child.Len(); i++ {
				walk(child.Index(i), depth+1)
			}
			child.Set(reflect.Zero(child.Type()))
		}
	}
	it := scopes.MapRange()
	for it.Next() {
		walk(it.Value(), 0)
	}
	if u := field(reflect.ValueOf(in), "universe"); u.IsValid() {
		noteNamed(field(u, "sym"))
	}
	if len(release) == 0 {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	for _, i := range release {
		if named[i] || i >= data.Len() {
			continue
		}
		v := data.Index(i)
		slot := v.Interface().(reflect.Value)
		if !slot.IsValid() || !hasPointers(slot.Type()) {
			continue
		}
		v.Set(reflect.ValueOf(reflect.New(slot.Type()).Elem()))
	}
}

// hasPointers reports whether values of t can keep other memory alive.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true
}

// forgetFileImports removes the import symbols the interpreter created
// for files (keys "name/<file base>" in the main package scope). Only
// files whose code has run and defines no functions or types may be
// forgotten: generic functions and methods are compiled again later in
// the scope of their file.
func forgetFileImports(in *interp.Interpreter, files []string) {
	if in == nil || len(files) == 0 {
		return
	}
	scopes := field(reflect.ValueOf(in), "scopes")
	if !scopes.IsValid() || scopes.Kind() != reflect.Map {
		return
	}
	main := scopes.MapIndex(reflect.ValueOf("main"))
	if !main.IsValid() {
		return
	}
	sym := field(main, "sym")
	if !sym.IsValid() || sym.Kind() != reflect.Map {
		return
	}
	suffixes := make([]string, len(files))
	for i, f := range files {
		suffixes[i] = string(filepath.Separator) + filepath.Base(f)
	}
	var drop []reflect.Value
	it := sym.MapRange()
	for it.Next() {
		k := it.Key().String()
		if !strings.Contains(k, string(filepath.Separator)) {
			continue
		}
		for _, s := range suffixes {
			if strings.HasSuffix(k, s) {
				drop = append(drop, it.Key())
				break
			}
		}
	}
	for _, k := range drop {
		sym.SetMapIndex(k, reflect.Value{})
	}
}

// forgetBinding removes a value handed to the interpreter for an
// `x := expr` binding once x holds it.
func forgetBinding(in *interp.Interpreter, pkgPath, name string) {
	bin := field(reflect.ValueOf(in), "binPkg")
	if !bin.IsValid() || bin.Kind() != reflect.Map {
		return
	}
	pkg := bin.MapIndex(reflect.ValueOf(pkgPath))
	if !pkg.IsValid() || pkg.Kind() != reflect.Map || pkg.IsNil() {
		return
	}
	pkg.SetMapIndex(reflect.ValueOf(name), reflect.Value{})
}
