package convert

import (
	"errors"
	"fmt"
)

// RecordError is a record that cannot be converted: its payload is not an
// Example, or it contradicts the conversion's schema.
type RecordError struct {
	File       string // input file
	Record     int64  // zero-based record index in the file
	Offset     int64  // byte offset of the record in the (uncompressed) file
	Feature    string // the feature at fault, if known
	Expected   string // what the schema expects, if a contradiction
	Found      string // what the record holds, if a contradiction
	RecordByte int    // byte offset of the feature inside the record payload
	Err        error  // underlying decoding error, if any
}

func (e *RecordError) Error() string {
	head := fmt.Sprintf("%s: record %d at byte offset %d", e.File, e.Record, e.Offset)
	if e.Err != nil {
		if e.Feature != "" {
			return fmt.Sprintf("%s: feature %q: %v", head, e.Feature, e.Err)
		}
		return fmt.Sprintf("%s: %v", head, e.Err)
	}
	return fmt.Sprintf("%s: feature %q: expected %s, found %s", head, e.Feature, e.Expected, e.Found)
}

// Unwrap returns the underlying decoding error.
func (e *RecordError) Unwrap() error { return e.Err }

// ErrSchemaMismatch is matched (errors.Is) by a RecordError for a record
// that contradicts the schema.
var ErrSchemaMismatch = errors.New("record contradicts the schema")

// Is reports whether target is ErrSchemaMismatch and e is a contradiction.
func (e *RecordError) Is(target error) bool {
	return target == ErrSchemaMismatch && e.Err == nil
}
