package convert

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/gopherlab/gopherlab/stdlib/convert/example"
)

// MetadataKey is the Arrow schema (and Parquet key-value) metadata key under
// which conversions record how columns map back to tf.train.Example
// features. ParquetToTFRecords reads it to rebuild the original records, and
// passing a Result's Schema as Options.Schema reuses the exact layout.
const MetadataKey = "gopherlab.tfrecord.features"

// colMode says how a column is filled from its feature.
type colMode uint8

const (
	modeScalar colMode = iota // exactly one value per record
	modeElem                  // value number index of a fixed-length list
	modeList                  // a list column
)

func (m colMode) String() string {
	switch m {
	case modeScalar:
		return "scalar"
	case modeElem:
		return "element"
	}
	return "list"
}

// elemType is the Go storage of a column's values.
type elemType uint8

const (
	elemF32 elemType = iota
	elemF64
	elemI64
	elemI32
	elemBinary
	elemString
)

func (e elemType) arrow() arrow.DataType {
	switch e {
	case elemF32:
		return arrow.PrimitiveTypes.Float32
	case elemF64:
		return arrow.PrimitiveTypes.Float64
	case elemI64:
		return arrow.PrimitiveTypes.Int64
	case elemI32:
		return arrow.PrimitiveTypes.Int32
	case elemBinary:
		return arrow.BinaryTypes.Binary
	}
	return arrow.BinaryTypes.String
}

func elemOf(dt arrow.DataType) (elemType, example.Kind, bool) {
	switch dt.ID() {
	case arrow.FLOAT32:
		return elemF32, example.KindFloat, true
	case arrow.FLOAT64:
		return elemF64, example.KindFloat, true
	case arrow.INT64:
		return elemI64, example.KindInt64, true
	case arrow.INT32:
		return elemI32, example.KindInt64, true
	case arrow.BINARY:
		return elemBinary, example.KindBytes, true
	case arrow.STRING:
		return elemString, example.KindBytes, true
	}
	return 0, 0, false
}

// column is one output column.
type column struct {
	Name    string `json:"column"`
	Feature string `json:"feature"`
	Kind    string `json:"kind"`
	Mode    string `json:"mode"`
	Index   int    `json:"index,omitempty"`
	Width   int    `json:"width,omitempty"`
	// Nullable columns take missing features as nulls.
	Nullable bool         `json:"nullable"`
	kind     example.Kind `json:"-"`
	mode     colMode      `json:"-"`
	elem     elemType     `json:"-"`
	slot     int          `json:"-"`
}

// plan is the one schema of a conversion and how to fill it.
type plan struct {
	schema   *arrow.Schema
	cols     []column
	slots    map[string]int // feature name -> slot
	names    []string       // slot -> feature name
	kinds    []example.Kind // slot -> expected kind
	slotCols [][]int        // slot -> column indexes (k for an expanded feature)
	strict   bool           // features not in the plan are errors (inferred schema)
	// exact plans come from a sample and must describe every record as a
	// full scan would: an empty or valueless feature under a scalar or
	// element column is an error, not a null (tryFromSample).
	exact bool
}

func kindByName(s string) (example.Kind, bool) {
	for _, k := range []example.Kind{example.KindBytes, example.KindFloat, example.KindInt64} {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// finish builds the lookup tables and the Arrow schema from p.cols.
func (p *plan) finish() error {
	p.slots = map[string]int{}
	p.names, p.kinds, p.slotCols = nil, nil, nil
	fields := make([]arrow.Field, len(p.cols))
	seenCol := map[string]bool{}
	for i := range p.cols {
		c := &p.cols[i]
		if seenCol[c.Name] {
			return fmt.Errorf("convert: two columns named %q", c.Name)
		}
		seenCol[c.Name] = true
		c.Kind = c.kind.String()
		c.Mode = c.mode.String()
		s, ok := p.slots[c.Feature]
		if !ok {
			s = len(p.names)
			p.slots[c.Feature] = s
			p.names = append(p.names, c.Feature)
			p.kinds = append(p.kinds, c.kind)
			p.slotCols = append(p.slotCols, nil)
		} else if p.kinds[s] != c.kind {
			return fmt.Errorf("convert: feature %q mapped as both %s and %s", c.Feature, p.kinds[s], c.kind)
		}
		c.slot = s
		p.slotCols[s] = append(p.slotCols[s], i)
		dt := c.elem.arrow()
		if c.mode == modeList {
			// tf.train.Feature lists never hold nulls.
			dt = arrow.ListOfNonNullable(dt)
		}
		fields[i] = arrow.Field{Name: c.Name, Type: dt, Nullable: c.Nullable}
	}
	for s, cols := range p.slotCols {
		if len(cols) > 1 {
			for j, ci := range cols {
				c := p.cols[ci]
				if c.mode != modeElem || c.Index != j || c.Width != len(cols) {
					return fmt.Errorf("convert: feature %q maps to %d columns but they are not its elements 0..%d in order", p.names[s], len(cols), len(cols)-1)
				}
			}
		}
	}
	meta, err := json.Marshal(p.cols)
	if err != nil {
		return err
	}
	md := arrow.NewMetadata([]string{MetadataKey}, []string{string(meta)})
	p.schema = arrow.NewSchema(fields, &md)
	return nil
}

// planFromSchema turns an explicit Arrow schema into a plan. A schema that
// carries MetadataKey (the Schema of an earlier Result) is used as recorded;
// otherwise every field names a feature, a scalar type takes exactly one
// value and a list type takes any number.
func planFromSchema(s *arrow.Schema) (*plan, error) {
	if s == nil || len(s.Fields()) == 0 {
		return nil, fmt.Errorf("convert: explicit Schema has no fields")
	}
	p := &plan{}
	var recorded []column
	if i := s.Metadata().FindKey(MetadataKey); i >= 0 {
		if err := json.Unmarshal([]byte(s.Metadata().Values()[i]), &recorded); err != nil {
			return nil, fmt.Errorf("convert: schema metadata %s: %v", MetadataKey, err)
		}
	}
	byName := map[string]column{}
	for _, c := range recorded {
		byName[c.Name] = c
	}
	for _, f := range s.Fields() {
		dt := f.Type
		mode := modeScalar
		if lt, ok := dt.(*arrow.ListType); ok {
			mode = modeList
			dt = lt.Elem()
		}
		elem, kind, ok := elemOf(dt)
		if !ok {
			return nil, fmt.Errorf("convert: field %q: type %s is not supported (want float32, float64, int64, int32, binary, string or a list of them)", f.Name, f.Type)
		}
		c := column{Name: f.Name, Feature: f.Name, kind: kind, mode: mode, elem: elem, Nullable: f.Nullable}
		if r, ok := byName[f.Name]; ok {
			c.Feature, c.Index, c.Width = r.Feature, r.Index, r.Width
			if r.Mode == modeElem.String() {
				if mode != modeScalar {
					return nil, fmt.Errorf("convert: field %q: element column must have a scalar type, has %s", f.Name, f.Type)
				}
				c.mode = modeElem
			}
			if k, ok := kindByName(r.Kind); ok && k != kind {
				return nil, fmt.Errorf("convert: field %q: metadata says %s, type %s says %s", f.Name, r.Kind, f.Type, kind)
			}
		}
		p.cols = append(p.cols, c)
	}
	return p, p.finish()
}

// featureStats summarises one feature over a scan.
type featureStats struct {
	name    string
	kind    example.Kind
	minLen  int
	maxLen  int
	count   int64 // records holding the feature
	nonUTF8 bool
	file    string // where the feature was first seen
	record  int64
	offset  int64
	idx     int // position in the scan's feature order
}

// planFromStats decides the columns from scan statistics.
//
// A column is nullable only if some scanned record lacks the feature (or,
// for a scalar, holds an empty list): required columns need no definition
// levels in Parquet, which makes writing faster.
func planFromStats(stats []*featureStats, records int64, convertLists bool) (*plan, error) {
	p := &plan{strict: true}
	for _, st := range stats {
		nullable := st.count < records
		elem := elemF32
		switch st.kind {
		case example.KindInt64:
			elem = elemI64
		case example.KindBytes:
			elem = elemString
			if st.nonUTF8 {
				elem = elemBinary
			}
		case example.KindNone:
			// Never held a value list: keep it as an (empty/null) float list.
			st.kind = example.KindFloat
		}
		switch {
		case convertLists && st.minLen == 1 && st.maxLen == 1:
			p.cols = append(p.cols, column{Name: st.name, Feature: st.name, kind: st.kind, mode: modeScalar, elem: elem, Nullable: nullable})
		case convertLists && st.minLen == st.maxLen && st.minLen > 1:
			for i := 0; i < st.minLen; i++ {
				p.cols = append(p.cols, column{Name: st.name + "_" + strconv.Itoa(i), Feature: st.name, kind: st.kind, mode: modeElem, Index: i, Width: st.minLen, elem: elem, Nullable: nullable})
			}
		default:
			p.cols = append(p.cols, column{Name: st.name, Feature: st.name, kind: st.kind, mode: modeList, elem: elem, Nullable: nullable})
		}
	}
	if len(p.cols) == 0 {
		return nil, fmt.Errorf("convert: the inputs hold no features to convert")
	}
	return p, p.finish()
}
