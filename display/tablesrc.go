package display

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// TableOf returns a table showing v, which is one of:
//
//   - arrow.Record or arrow.Table (retained until Release);
//   - a slice or array of structs or struct pointers: one column per
//     exported field, one row per element;
//   - a map: a "key" and a "value" column, rows sorted by key;
//   - a slice of string-keyed maps (JSON records): a column per key;
//   - [][]any: columns named 0, 1, 2, …;
//   - *Table, returned as is.
//
// Struct fields are shown under their name unless a `display` tag says
// otherwise:
//
//	type Run struct {
//		Name  string
//		Loss  float64 `display:"loss,format=%.3f"` // header "loss", cells formatted with fmt
//		Notes string  `display:"-"`                // not shown
//		Epoch int     `display:",format=%03d"`     // keeps the name "Epoch"
//	}
//
// Fields of embedded structs are promoted, as in Go. For [][]any with
// headers use NewTable.
func TableOf(v any) (*Table, error) {
	switch x := v.(type) {
	case nil:
		return nil, errors.New("display: TableOf(nil)")
	case *Table:
		return x, nil
	case arrow.Record:
		return recordTable(x), nil
	case arrow.Table:
		return arrowTable(x), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		et := rv.Type().Elem()
		if st := derefType(et); st.Kind() == reflect.Struct && st != timeType {
			return structTable(rv, st)
		}
		if et.Kind() == reflect.Slice && et.Elem().Kind() == reflect.Interface {
			rows := make([][]any, rv.Len())
			for i := range rows {
				rows[i], _ = rv.Index(i).Interface().([]any)
			}
			return NewTable(nil, rows), nil
		}
		if et.Kind() == reflect.Map && et.Key().Kind() == reflect.String {
			return recordsTable(rv), nil
		}
	case reflect.Map:
		return mapTable(rv), nil
	}
	return nil, fmt.Errorf("display: cannot show %T as a table (want an Arrow record or table, a slice of structs or a map)", v)
}

// isTabular reports whether Render shows v as a table.
func isTabular(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		et := rv.Type().Elem()
		if st := derefType(et); st.Kind() == reflect.Struct && st != timeType {
			return true
		}
		return (et.Kind() == reflect.Slice && et.Elem().Kind() == reflect.Interface) ||
			(et.Kind() == reflect.Map && et.Key().Kind() == reflect.String)
	case reflect.Map:
		return true
	}
	return false
}

var (
	timeType     = reflect.TypeOf(time.Time{})
	stringerType = reflect.TypeOf((*fmt.Stringer)(nil)).Elem()
)

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// fieldSpec is a struct field as a column.
type fieldSpec struct {
	name, format string
	index        []int
	typ          reflect.Type
}

// structFields lists the columns of struct type st.
func structFields(st reflect.Type) ([]fieldSpec, error) {
	var out []fieldSpec
	for _, f := range reflect.VisibleFields(st) {
		if !f.IsExported() {
			continue
		}
		if f.Anonymous && derefType(f.Type).Kind() == reflect.Struct && f.Tag.Get("display") == "" {
			continue // its fields are promoted
		}
		spec := fieldSpec{name: f.Name, index: f.Index, typ: f.Type}
		tag := f.Tag.Get("display")
		if tag == "-" {
			continue
		}
		if tag != "" {
			name, opts, _ := strings.Cut(tag, ",")
			if name != "" {
				spec.name = name
			}
			for opts != "" {
				var opt string
				opt, opts, _ = strings.Cut(opts, ",")
				key, val, _ := strings.Cut(opt, "=")
				switch key {
				case "format":
					if !strings.Contains(val, "%") {
						return nil, fmt.Errorf("display: field %s.%s: format %q has no %% verb", st.Name(), f.Name, val)
					}
					spec.format = val
				default:
					return nil, fmt.Errorf("display: field %s.%s: unknown display tag option %q (want format=…)", st.Name(), f.Name, key)
				}
			}
		}
		out = append(out, spec)
	}
	return out, nil
}

func structTable(rv reflect.Value, st reflect.Type) (*Table, error) {
	fields, err := structFields(st)
	if err != nil {
		return nil, err
	}
	src := &tableSource{rows: rv.Len()}
	for _, f := range fields {
		f := f
		src.cols = append(src.cols, tableColumn{
			name:  f.name,
			dtype: f.typ.String(),
			get: func(r int) any {
				e := rv.Index(r)
				for e.Kind() == reflect.Pointer {
					if e.IsNil() {
						return nil
					}
					e = e.Elem()
				}
				fv, err := e.FieldByIndexErr(f.index)
				if err != nil { // nil embedded pointer
					return nil
				}
				c := canonicalValue(fv)
				if c == nil || f.format == "" {
					return c
				}
				for fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Interface {
					fv = fv.Elem()
				}
				return formatted{s: fmt.Sprintf(f.format, fv.Interface()), raw: c}
			},
		})
	}
	return &Table{src: src}, nil
}

func mapTable(rv reflect.Value) *Table {
	type kv struct{ k, v any }
	pairs := make([]kv, 0, rv.Len())
	iter := rv.MapRange()
	for iter.Next() {
		pairs = append(pairs, kv{canonicalValue(iter.Key()), canonicalValue(iter.Value())})
	}
	sort.SliceStable(pairs, func(i, j int) bool { return lessAny(pairs[i].k, pairs[j].k) })
	t := rv.Type()
	src := &tableSource{rows: len(pairs), cols: []tableColumn{
		{name: "key", dtype: t.Key().String(), get: func(r int) any { return pairs[r].k }},
		{name: "value", dtype: t.Elem().String(), get: func(r int) any { return pairs[r].v }},
	}}
	return &Table{src: src}
}

// lessAny orders canonical values: numbers and strings naturally, anything
// else by its text.
func lessAny(a, b any) bool {
	switch x := a.(type) {
	case int64:
		if y, ok := b.(int64); ok {
			return x < y
		}
	case uint64:
		if y, ok := b.(uint64); ok {
			return x < y
		}
	case float64:
		if y, ok := b.(float64); ok {
			return x < y
		}
	case string:
		if y, ok := b.(string); ok {
			return x < y
		}
	}
	return fmt.Sprint(a) < fmt.Sprint(b)
}

// recordsTable shows a slice of string-keyed maps (JSON records): one
// column per key, in sorted order; a key missing from a record is null.
func recordsTable(rv reflect.Value) *Table {
	seen := map[string]bool{}
	var names []string
	for i := 0; i < rv.Len(); i++ {
		for _, k := range rv.Index(i).MapKeys() {
			if !seen[k.String()] {
				seen[k.String()] = true
				names = append(names, k.String())
			}
		}
	}
	sort.Strings(names)
	kt := rv.Type().Elem().Key()
	src := &tableSource{rows: rv.Len()}
	for _, name := range names {
		key := reflect.ValueOf(name).Convert(kt)
		src.cols = append(src.cols, tableColumn{
			name:  name,
			dtype: rv.Type().Elem().Elem().String(),
			get: func(r int) any {
				v := rv.Index(r).MapIndex(key)
				if !v.IsValid() {
					return nil
				}
				return canonicalValue(v)
			},
		})
	}
	return &Table{src: src}
}

// canonical returns the canonical cell value of v (see tableColumn).
func canonical(v any) any {
	if v == nil {
		return nil
	}
	switch v.(type) {
	case int64, uint64, float64, bool, string, time.Time, formatted:
		return v
	}
	return canonicalValue(reflect.ValueOf(v))
}

func canonicalValue(rv reflect.Value) any {
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil
	}
	t := rv.Type()
	if t == timeType {
		return rv.Interface().(time.Time)
	}
	// Named types with a String method (time.Duration, enums) show as text.
	if t.PkgPath() != "" && t.Implements(stringerType) && rv.CanInterface() {
		return rv.Interface().(fmt.Stringer).String()
	}
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint()
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.Bool:
		return rv.Bool()
	case reflect.String:
		return rv.String()
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = canonicalValue(rv.Index(i))
		}
		return out
	}
	if rv.CanInterface() {
		return fmt.Sprintf("%v", rv.Interface())
	}
	return fmt.Sprintf("%v", rv)
}

// recordTable shows an Arrow record.
func recordTable(rec arrow.Record) *Table {
	rec.Retain()
	src := &tableSource{rows: int(rec.NumRows()), release: rec.Release}
	for i, f := range rec.Schema().Fields() {
		arr := rec.Column(i)
		src.cols = append(src.cols, tableColumn{
			name:  f.Name,
			dtype: arrowTypeName(f.Type),
			get:   func(r int) any { return arrowValue(arr, r) },
		})
	}
	return &Table{src: src}
}

// arrowTable shows an Arrow table with chunked columns.
func arrowTable(tbl arrow.Table) *Table {
	tbl.Retain()
	src := &tableSource{rows: int(tbl.NumRows()), release: tbl.Release}
	for i, f := range tbl.Schema().Fields() {
		chunks := tbl.Column(i).Data().Chunks()
		starts := make([]int, len(chunks))
		n := 0
		for k, c := range chunks {
			starts[k] = n
			n += c.Len()
		}
		src.cols = append(src.cols, tableColumn{
			name:  f.Name,
			dtype: arrowTypeName(f.Type),
			get: func(r int) any {
				k := sort.Search(len(starts), func(k int) bool { return starts[k] > r }) - 1
				if k < 0 || r-starts[k] >= chunks[k].Len() {
					return nil
				}
				return arrowValue(chunks[k], r-starts[k])
			},
		})
	}
	return &Table{src: src}
}

// arrowTypeName is a short name for an Arrow type.
func arrowTypeName(t arrow.DataType) string {
	switch x := t.(type) {
	case *arrow.ListType:
		return "list<" + arrowTypeName(x.Elem()) + ">"
	case *arrow.LargeListType:
		return "large_list<" + arrowTypeName(x.Elem()) + ">"
	case *arrow.FixedSizeListType:
		return fmt.Sprintf("fixed_size_list<%s>[%d]", arrowTypeName(x.Elem()), x.Len())
	}
	return t.String()
}

// arrowValue returns the canonical value of arr[i].
func arrowValue(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Float64:
		return a.Value(i)
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Float16:
		return float64(a.Value(i).Float32())
	case *array.Int64:
		return a.Value(i)
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Uint64:
		return a.Value(i)
	case *array.Uint32:
		return uint64(a.Value(i))
	case *array.Uint16:
		return uint64(a.Value(i))
	case *array.Uint8:
		return uint64(a.Value(i))
	case *array.Boolean:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit)
	case *array.Date32:
		return a.Value(i).ToTime()
	case *array.Date64:
		return a.Value(i).ToTime()
	case *array.Dictionary:
		return arrowValue(a.Dictionary(), a.GetValueIndex(i))
	case array.ListLike:
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		out := make([]any, 0, end-start)
		for j := start; j < end; j++ {
			out = append(out, arrowValue(vals, int(j)))
		}
		return out
	}
	return arr.ValueStr(i)
}
