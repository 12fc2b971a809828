// Package notebook reads, validates and writes Jupyter notebooks in nbformat
// 4.5 (the .ipynb JSON format), keeping fields it does not know about, so
// that gopherlab run can write outputs back into a user's notebook without
// losing anything else.
package notebook

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Notebook is one .ipynb document.
type Notebook struct {
	NBFormat      int
	NBFormatMinor int
	// Metadata is the top-level metadata (kernelspec, language_info, ...).
	Metadata map[string]any
	Cells    []*Cell
	// Extra holds top-level fields this package does not know.
	Extra map[string]json.RawMessage
}

// Cell is one notebook cell.
type Cell struct {
	ID       string
	Type     string // "code", "markdown" or "raw"
	Source   string
	Metadata map[string]any
	// Outputs and ExecutionCount are used by code cells only.
	Outputs        []Output
	ExecutionCount *int
	// Attachments of markdown and raw cells, kept as they are.
	Attachments json.RawMessage
	// Extra holds cell fields this package does not know.
	Extra map[string]json.RawMessage
}

// Output is one output of a code cell as stored in the file: a JSON object
// with "output_type" and the fields of that type.
type Output map[string]any

// Type returns the output_type.
func (o Output) Type() string { s, _ := o["output_type"].(string); return s }

// Stream returns a stream output ("stdout" or "stderr").
func Stream(name, text string) Output {
	return Output{"output_type": "stream", "name": name, "text": text}
}

// DisplayData returns a display_data output.
func DisplayData(data, metadata map[string]any) Output {
	return Output{"output_type": "display_data", "data": orEmpty(data), "metadata": orEmpty(metadata)}
}

// ExecuteResult returns an execute_result output.
func ExecuteResult(count int, data, metadata map[string]any) Output {
	return Output{"output_type": "execute_result", "execution_count": count, "data": orEmpty(data), "metadata": orEmpty(metadata)}
}

// Error returns an error output.
func Error(ename, evalue string, traceback []string) Output {
	if traceback == nil {
		traceback = []string{}
	}
	return Output{"output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// New returns an empty nbformat 4.5 notebook.
func New() *Notebook {
	return &Notebook{NBFormat: 4, NBFormatMinor: 5, Metadata: map[string]any{}}
}

// NewCell returns a cell of type typ with source and a fresh id.
func NewCell(typ, source string) *Cell {
	c := &Cell{ID: NewID(), Type: typ, Source: source, Metadata: map[string]any{}}
	if typ == "code" {
		c.Outputs = []Output{}
	}
	return c
}

// NewID returns a random cell id as nbformat makes them (8 hex digits).
func NewID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ReadFile reads and validates the notebook at path. Notebooks older than
// 4.5 are upgraded: cells without an id get one.
func ReadFile(path string) (*Notebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	nb, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return nb, nil
}

// Parse decodes and validates notebook JSON.
func Parse(data []byte) (*Notebook, error) {
	var top map[string]json.RawMessage
	if err := decodeJSON(data, &top); err != nil {
		return nil, fmt.Errorf("not a notebook: %w", err)
	}
	nb := &Notebook{Extra: map[string]json.RawMessage{}}
	for k, v := range top {
		var err error
		switch k {
		case "nbformat":
			err = decodeJSON(v, &nb.NBFormat)
		case "nbformat_minor":
			err = decodeJSON(v, &nb.NBFormatMinor)
		case "metadata":
			err = decodeJSON(v, &nb.Metadata)
		case "cells":
			var raws []json.RawMessage
			if err = decodeJSON(v, &raws); err == nil {
				for i, r := range raws {
					c, cerr := parseCell(r)
					if cerr != nil {
						return nil, fmt.Errorf("cell %d: %w", i, cerr)
					}
					nb.Cells = append(nb.Cells, c)
				}
			}
		default:
			nb.Extra[k] = v
		}
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", k, err)
		}
	}
	for _, k := range []string{"nbformat", "nbformat_minor", "metadata", "cells"} {
		if _, ok := top[k]; !ok {
			return nil, fmt.Errorf("missing required field %q", k)
		}
	}
	if nb.NBFormat != 4 {
		return nil, fmt.Errorf("field nbformat: version %d is not supported (want 4)", nb.NBFormat)
	}
	// Upgrade to 4.5: cells without an id get one, as nbformat does.
	nb.NBFormatMinor = max(nb.NBFormatMinor, 5)
	for _, c := range nb.Cells {
		if c.ID == "" {
			c.ID = NewID()
		}
	}
	if err := nb.Validate(); err != nil {
		return nil, err
	}
	return nb, nil
}

func decodeJSON(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

// multiline decodes nbformat's multiline string: a string or a list of
// strings that are concatenated.
func multiline(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var parts []string
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", errors.New("want a string or a list of strings")
	}
	return strings.Join(parts, ""), nil
}

func parseCell(raw json.RawMessage) (*Cell, error) {
	var m map[string]json.RawMessage
	if err := decodeJSON(raw, &m); err != nil {
		return nil, err
	}
	c := &Cell{Extra: map[string]json.RawMessage{}}
	for k, v := range m {
		var err error
		switch k {
		case "id":
			err = json.Unmarshal(v, &c.ID)
		case "cell_type":
			err = json.Unmarshal(v, &c.Type)
		case "source":
			c.Source, err = multiline(v)
		case "metadata":
			err = decodeJSON(v, &c.Metadata)
		case "outputs":
			var outs []map[string]any
			if err = decodeJSON(v, &outs); err == nil {
				c.Outputs = []Output{}
				for _, o := range outs {
					c.Outputs = append(c.Outputs, joinMultiline(Output(o)))
				}
			}
		case "execution_count":
			err = json.Unmarshal(v, &c.ExecutionCount)
		case "attachments":
			c.Attachments = v
		default:
			c.Extra[k] = v
		}
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", k, err)
		}
	}
	for _, k := range []string{"cell_type", "metadata", "source"} {
		if _, ok := m[k]; !ok {
			return nil, fmt.Errorf("missing required field %q", k)
		}
	}
	if c.Type == "code" {
		for _, k := range []string{"outputs", "execution_count"} {
			if _, ok := m[k]; !ok {
				return nil, fmt.Errorf("code cell: missing required field %q", k)
			}
		}
	}
	return c, nil
}

var idPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// Validate checks the notebook against the nbformat 4.5 rules this package
// knows: cell types, unique well-formed ids, and the required fields of
// each output type. The error names the cell (and output) at fault.
func (nb *Notebook) Validate() error {
	if nb.NBFormat != 4 || nb.NBFormatMinor < 5 {
		return fmt.Errorf("nbformat %d.%d: want 4.5 or later 4.x", nb.NBFormat, nb.NBFormatMinor)
	}
	if nb.Metadata == nil {
		return errors.New("field metadata: missing")
	}
	ids := map[string]int{}
	for i, c := range nb.Cells {
		if !idPattern.MatchString(c.ID) {
			return fmt.Errorf("cell %d: field id: %q is not 1-64 characters of [a-zA-Z0-9_-]", i, c.ID)
		}
		if j, dup := ids[c.ID]; dup {
			return fmt.Errorf("cell %d: field id: %q already used by cell %d", i, c.ID, j)
		}
		ids[c.ID] = i
		switch c.Type {
		case "code":
			for k, o := range c.Outputs {
				if err := validateOutput(o); err != nil {
					return fmt.Errorf("cell %d (id %s): output %d: %w", i, c.ID, k, err)
				}
			}
			if c.ExecutionCount != nil && *c.ExecutionCount < 0 {
				return fmt.Errorf("cell %d (id %s): field execution_count: negative", i, c.ID)
			}
		case "markdown", "raw":
			if len(c.Outputs) > 0 {
				return fmt.Errorf("cell %d (id %s): a %s cell cannot have outputs", i, c.ID, c.Type)
			}
		default:
			return fmt.Errorf("cell %d: field cell_type: unknown type %q (want code, markdown or raw)", i, c.Type)
		}
	}
	return nil
}

func validateOutput(o Output) error {
	var need []string
	switch t := o.Type(); t {
	case "stream":
		need = []string{"name", "text"}
	case "display_data":
		need = []string{"data", "metadata"}
	case "execute_result":
		need = []string{"execution_count", "data", "metadata"}
	case "error":
		need = []string{"ename", "evalue", "traceback"}
	case "":
		return errors.New("missing output_type")
	default:
		return fmt.Errorf("unknown output_type %q", t)
	}
	for _, k := range need {
		if _, ok := o[k]; !ok {
			return fmt.Errorf("%s output: missing required field %q", o.Type(), k)
		}
	}
	if o.Type() == "error" {
		if _, ok := o["traceback"].([]any); !ok {
			if _, ok := o["traceback"].([]string); !ok {
				return errors.New("error output: field traceback: want a list of strings")
			}
		}
	}
	return nil
}

// isJSONMime reports whether MIME type k holds a JSON value rather than
// (multiline) text.
func isJSONMime(k string) bool { return k == "application/json" || strings.HasSuffix(k, "+json") }

// splitMime reports whether Jupyter stores MIME type k as a list of lines:
// text types, SVG and JavaScript (base64 images stay one string).
func splitMime(k string) bool {
	return strings.HasPrefix(k, "text/") || k == "image/svg+xml" || k == "application/javascript"
}

// joinMultiline turns nbformat's list-of-lines values of an output (stream
// text, text data) into plain strings, as nbformat does on read.
func joinMultiline(o Output) Output {
	join := func(v any) any {
		parts, ok := v.([]any)
		if !ok {
			return v
		}
		var b strings.Builder
		for _, p := range parts {
			s, ok := p.(string)
			if !ok {
				return v
			}
			b.WriteString(s)
		}
		return b.String()
	}
	if t, ok := o["text"]; ok && o.Type() == "stream" {
		o["text"] = join(t)
	}
	if data, ok := o["data"].(map[string]any); ok {
		for k, v := range data {
			if !isJSONMime(k) {
				data[k] = join(v)
			}
		}
	}
	return o
}

// splitMultiline returns a copy of o with stream text and text data as
// lists of lines, as Jupyter writes them.
func splitMultiline(o Output) Output {
	out := make(Output, len(o))
	for k, v := range o {
		out[k] = v
	}
	if t, ok := o["text"].(string); ok && o.Type() == "stream" {
		out["text"] = splitLines(t)
	}
	if data, ok := o["data"].(map[string]any); ok {
		nd := make(map[string]any, len(data))
		for k, v := range data {
			if s, ok := v.(string); ok && splitMime(k) {
				nd[k] = splitLines(s)
			} else {
				nd[k] = v
			}
		}
		out["data"] = nd
	}
	return out
}

// splitLines turns text into nbformat's list-of-lines form, each line
// keeping its newline, as Jupyter writes source.
func splitLines(s string) []string {
	out := []string{}
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// MarshalJSON encodes the notebook as Jupyter does: keys sorted, one-space
// indent, sources, stream text and text data as lists of lines.
func (nb *Notebook) MarshalJSON() ([]byte, error) {
	top := map[string]any{}
	for k, v := range nb.Extra {
		top[k] = v
	}
	cells := make([]any, 0, len(nb.Cells))
	for _, c := range nb.Cells {
		m := map[string]any{}
		for k, v := range c.Extra {
			m[k] = v
		}
		m["id"] = c.ID
		m["cell_type"] = c.Type
		m["source"] = splitLines(c.Source)
		m["metadata"] = orEmpty(c.Metadata)
		if c.Type == "code" {
			outs := make([]Output, 0, len(c.Outputs))
			for _, o := range c.Outputs {
				outs = append(outs, splitMultiline(o))
			}
			m["outputs"] = outs
			m["execution_count"] = c.ExecutionCount
		}
		if len(c.Attachments) > 0 {
			m["attachments"] = c.Attachments
		}
		cells = append(cells, m)
	}
	top["cells"] = cells
	top["metadata"] = orEmpty(nb.Metadata)
	top["nbformat"] = nb.NBFormat
	top["nbformat_minor"] = nb.NBFormatMinor
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(top); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFile validates nb and writes it to path atomically: a temporary file
// in the same directory renamed over path, so readers never see half a
// notebook.
func (nb *Notebook) WriteFile(path string) error {
	if err := nb.Validate(); err != nil {
		return fmt.Errorf("%s: refusing to write an invalid notebook: %w", path, err)
	}
	data, err := nb.MarshalJSON()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// CodeCells returns the indexes of the code cells, in order.
func (nb *Notebook) CodeCells() []int {
	var out []int
	for i, c := range nb.Cells {
		if c.Type == "code" {
			out = append(out, i)
		}
	}
	return out
}
