package display

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// TableOptions limit what a table shows. Zero fields take the defaults in
// parentheses, mirroring pandas' display options.
type TableOptions struct {
	// MaxRows is the most rows shown (20); longer tables show their first
	// and last MinRows/2 rows around a "…" row.
	MaxRows int
	// MinRows is the number of rows a truncated table shows (10).
	MinRows int
	// MaxCols is the most columns shown (20); wider tables show their first
	// and last MaxCols/2 columns around a "…" column.
	MaxCols int
	// MaxCellWidth is the most characters of a cell (50); longer cells end
	// with "…" (the HTML title attribute holds more).
	MaxCellWidth int
	// MaxListItems is the most items of a list cell (5).
	MaxListItems int
}

func (o TableOptions) withDefaults() TableOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxRows, 20)
	def(&o.MinRows, 10)
	def(&o.MaxCols, 20)
	def(&o.MaxCellWidth, 50)
	def(&o.MaxListItems, 5)
	if o.MinRows > o.MaxRows {
		o.MinRows = o.MaxRows
	}
	return o
}

// Table is tabular data shown like pandas' DataFrame.head(): an index
// column, a header with column names and types, right-aligned numbers,
// visible nulls, truncation of long tables, wide tables and long cells, and
// an "N rows × M columns" footer. Its bundle holds HTML (class
// "gopherlab-table"), an aligned plain-text fallback and
// application/vnd.dataresource+json.
//
// Build one with TableOf or NewTable. Head and Tail return views that share
// the data. A Table made from Arrow data retains it until Release.
type Table struct {
	src  *tableSource
	view int // 0 all, +n head, -n tail
	opts TableOptions
}

// tableSource is the data behind a table and its views.
type tableSource struct {
	cols    []tableColumn
	rows    int
	release func()
	once    sync.Once
}

// tableColumn is one column: its name, its type as shown in the header, and
// access to its cells. get returns nil for null, or a canonical value:
// int64, uint64, float64, bool, string, time.Time, []any, formatted.
type tableColumn struct {
	name  string
	dtype string
	get   func(row int) any
}

// formatted is a cell formatted by a struct tag; raw is the value for JSON.
type formatted struct {
	s   string
	raw any
}

// NewTable returns a table with the given column headers and rows. Rows
// shorter than headers are padded with nulls; values are shown like struct
// fields (nil is null, numbers right-aligned, slices as lists).
func NewTable(headers []string, rows [][]any) *Table {
	ncol := len(headers)
	for _, r := range rows {
		ncol = max(ncol, len(r))
	}
	src := &tableSource{rows: len(rows)}
	for c := 0; c < ncol; c++ {
		name := strconv.Itoa(c)
		if c < len(headers) {
			name = headers[c]
		}
		src.cols = append(src.cols, tableColumn{
			name:  name,
			dtype: inferType(rows, c),
			get: func(r int) any {
				if c >= len(rows[r]) {
					return nil
				}
				return canonical(rows[r][c])
			},
		})
	}
	return &Table{src: src}
}

// inferType names the Go type shared by the non-nil values of column c, or
// "any" when they differ.
func inferType(rows [][]any, c int) string {
	t := ""
	for _, r := range rows {
		if c >= len(r) || r[c] == nil {
			continue
		}
		n := fmt.Sprintf("%T", r[c])
		if t == "" {
			t = n
		} else if t != n {
			return "any"
		}
	}
	if t == "" {
		return "any"
	}
	return t
}

// Rows returns the number of rows of the underlying data.
func (t *Table) Rows() int { return t.src.rows }

// Cols returns the number of columns.
func (t *Table) Cols() int { return len(t.src.cols) }

// Columns returns the column names.
func (t *Table) Columns() []string {
	names := make([]string, len(t.src.cols))
	for i, c := range t.src.cols {
		names[i] = c.name
	}
	return names
}

// Head returns a view of the first n rows (n ≤ 0 means 5), like pandas'
// df.head().
func (t *Table) Head(n int) *Table {
	if n <= 0 {
		n = 5
	}
	v := *t
	v.view = n
	return &v
}

// Tail returns a view of the last n rows (n ≤ 0 means 5), keeping their
// original index, like pandas' df.tail().
func (t *Table) Tail(n int) *Table {
	if n <= 0 {
		n = 5
	}
	v := *t
	v.view = -n
	return &v
}

// WithOptions returns a view of t shown with opts.
func (t *Table) WithOptions(opts TableOptions) *Table {
	v := *t
	v.opts = opts
	return &v
}

// Release releases Arrow data the table retains. It is safe to call more
// than once and on any view; views of a released table must not be shown.
func (t *Table) Release() {
	t.src.once.Do(func() {
		if t.src.release != nil {
			t.src.release()
		}
	})
}

// layout is what a rendering shows: row indices with -1 for the "…" row
// and column indices with -1 for the "…" column.
type layout struct {
	rows, cols []int
	cells      [][]cellText // [visible row][visible col]
	numeric    []bool       // per visible column
	opts       TableOptions
}

type cellText struct {
	s    string // shown text, truncated
	full string // untruncated text (for the HTML title)
	null bool
}

func (t *Table) layout() layout {
	o := t.opts.withDefaults()
	lo, hi := 0, t.src.rows
	switch {
	case t.view > 0:
		hi = min(hi, t.view)
	case t.view < 0:
		lo = max(0, hi+t.view)
	}
	l := layout{opts: o}
	if hi-lo <= o.MaxRows {
		for r := lo; r < hi; r++ {
			l.rows = append(l.rows, r)
		}
	} else {
		head := (o.MinRows + 1) / 2
		for r := lo; r < lo+head; r++ {
			l.rows = append(l.rows, r)
		}
		l.rows = append(l.rows, -1)
		for r := hi - o.MinRows/2; r < hi; r++ {
			l.rows = append(l.rows, r)
		}
	}
	nc := len(t.src.cols)
	if nc <= o.MaxCols {
		for c := 0; c < nc; c++ {
			l.cols = append(l.cols, c)
		}
	} else {
		half := o.MaxCols / 2
		for c := 0; c < max(half, 1); c++ {
			l.cols = append(l.cols, c)
		}
		l.cols = append(l.cols, -1)
		for c := nc - half; c < nc; c++ {
			l.cols = append(l.cols, c)
		}
	}
	l.cells = make([][]cellText, len(l.rows))
	for i := range l.rows {
		l.cells[i] = make([]cellText, len(l.cols))
	}
	l.numeric = make([]bool, len(l.cols))
	for j, c := range l.cols {
		if c < 0 {
			for i := range l.rows {
				l.cells[i][j] = cellText{s: "…", full: "…"}
			}
			continue
		}
		vals := make([]any, len(l.rows))
		numeric, any := true, false
		var floats []float64
		for i, r := range l.rows {
			if r < 0 {
				continue
			}
			v := t.src.cols[c].get(r)
			vals[i] = v
			raw := v
			if f, ok := v.(formatted); ok {
				raw = f.raw
			}
			switch x := raw.(type) {
			case nil:
			case int64, uint64:
				any = true
			case float64:
				any = true
				floats = append(floats, x)
			default:
				numeric = false
			}
		}
		l.numeric[j] = numeric && any
		ff := floatFormatter(floats)
		for i, r := range l.rows {
			if r < 0 {
				l.cells[i][j] = cellText{s: "…", full: "…"}
				continue
			}
			if vals[i] == nil {
				l.cells[i][j] = cellText{s: "null", full: "null", null: true}
				continue
			}
			full := formatCell(vals[i], ff, o.MaxListItems)
			l.cells[i][j] = cellText{s: truncate(oneLine(full), o.MaxCellWidth), full: full}
		}
	}
	return l
}

// oneLine replaces line breaks and tabs so that a cell stays on one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\n\r\t") {
		return s
	}
	return strings.NewReplacer("\r\n", "↵", "\n", "↵", "\r", "↵", "\t", " ").Replace(s)
}

// formatCell formats one non-null canonical value.
func formatCell(v any, ff func(float64) string, maxItems int) string {
	switch x := v.(type) {
	case formatted:
		return x.s
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		if ff != nil {
			return ff(x)
		}
		return formatFloat(x)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return formatTime(x)
	case []any:
		parts := make([]string, 0, min(len(x), maxItems)+1)
		for i, e := range x {
			if i == maxItems {
				parts = append(parts, "…")
				break
			}
			if e == nil {
				parts = append(parts, "null")
				continue
			}
			parts = append(parts, formatCell(e, nil, maxItems))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprintf("%v", v)
}

// formatFloat formats a lone float with up to 6 significant digits.
func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', 6, 64)
}

func formatTime(t time.Time) string {
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02 15:04:05.999999999")
}

// floatFormatter picks one format for a column of floats, as pandas does:
// fixed-point with the decimals needed for 6 significant digits of the
// values (at least 1, at most 6), or scientific notation when magnitudes
// are very large or very small.
func floatFormatter(vals []float64) func(float64) string {
	if len(vals) == 0 {
		return nil
	}
	lo, hi := math.Inf(1), 0.0
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
			continue
		}
		a := math.Abs(v)
		lo, hi = math.Min(lo, a), math.Max(hi, a)
	}
	special := func(v float64) (string, bool) {
		switch {
		case math.IsNaN(v):
			return "NaN", true
		case math.IsInf(v, 1):
			return "+Inf", true
		case math.IsInf(v, -1):
			return "-Inf", true
		}
		return "", false
	}
	if hi >= 1e15 || (lo < 1e-4 && !math.IsInf(lo, 1)) {
		return func(v float64) string {
			if s, ok := special(v); ok {
				return s
			}
			return strconv.FormatFloat(v, 'e', 4, 64)
		}
	}
	dec := 1
	for _, v := range vals {
		if _, ok := special(v); ok || v == 0 {
			continue
		}
		d := max(0, 6-int(math.Floor(math.Log10(math.Abs(v))))-1)
		s := strings.TrimRight(strconv.FormatFloat(v, 'f', d, 64), "0")
		if i := strings.IndexByte(s, '.'); i >= 0 {
			dec = max(dec, len(s)-i-1)
		}
	}
	dec = min(dec, 6)
	return func(v float64) string {
		if s, ok := special(v); ok {
			return s
		}
		return strconv.FormatFloat(v, 'f', dec, 64)
	}
}

// footer is the "N rows × M columns" line.
func (t *Table) footer() string {
	plural := func(n int, w string) string {
		if n == 1 {
			return "1 " + w
		}
		return groupDigits(n) + " " + w + "s"
	}
	s := plural(t.src.rows, "row") + " × " + plural(len(t.src.cols), "column")
	switch {
	case t.view > 0 && t.view < t.src.rows:
		s = fmt.Sprintf("first %d of ", t.view) + s
	case t.view < 0 && -t.view < t.src.rows:
		s = fmt.Sprintf("last %d of ", -t.view) + s
	}
	return s
}

// groupDigits writes n with thousands separators: 1234567 → 1,234,567.
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// pad is the inline cell padding: outside the notebook's own CSS (nbconvert
// with another template, GitHub) cells would otherwise touch.
const pad = "padding:0.2em 0.6em;"

// HTML returns the table as an HTML fragment; every string from the data is
// escaped.
func (t *Table) HTML() string {
	l := t.layout()
	var b strings.Builder
	esc := html.EscapeString
	b.WriteString(`<div class="gopherlab-table-wrap" style="overflow-x:auto">` + "\n")
	b.WriteString(`<table class="gopherlab-table" style="border-collapse:collapse;font-variant-numeric:tabular-nums">` + "\n")
	b.WriteString(`<thead><tr style="border-bottom:1px solid #bbb"><th></th>`)
	for j, c := range l.cols {
		align := "left"
		if l.numeric[j] {
			align = "right"
		}
		if c < 0 {
			b.WriteString(`<th class="gopherlab-ellipsis">…</th>`)
			continue
		}
		col := t.src.cols[c]
		fmt.Fprintf(&b, `<th style="text-align:%s;`+pad+`">%s<br><span class="gopherlab-dtype" style="font-weight:normal;font-style:italic;color:#888">%s</span></th>`,
			align, esc(truncate(oneLine(col.name), l.opts.MaxCellWidth)), esc(truncate(col.dtype, 30)))
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for i, r := range l.rows {
		if r < 0 {
			b.WriteString(`<tr class="gopherlab-ellipsis"><th>…</th>`)
		} else {
			fmt.Fprintf(&b, `<tr><th style="text-align:right;`+pad+`">%d</th>`, r)
		}
		for j := range l.cols {
			c := l.cells[i][j]
			align := "left"
			if l.numeric[j] || c.s == "…" {
				align = "right"
			}
			switch {
			case c.null:
				fmt.Fprintf(&b, `<td class="gopherlab-null" style="text-align:%s;`+pad+`color:#999;font-style:italic">null</td>`, align)
			case c.s != c.full:
				fmt.Fprintf(&b, `<td style="text-align:%s;`+pad+`" title="%s">%s</td>`, align,
					esc(truncate(c.full, 1000)), esc(c.s))
			default:
				fmt.Fprintf(&b, `<td style="text-align:%s;`+pad+`">%s</td>`, align, esc(c.s))
			}
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
	fmt.Fprintf(&b, `<p class="gopherlab-table-footer" style="color:#666;margin-top:0.3em">%s</p>`+"\n</div>", esc(t.footer()))
	return b.String()
}

// String returns the table as aligned plain text: strings left-aligned,
// numbers right-aligned, and the footer in brackets.
func (t *Table) String() string {
	l := t.layout()
	ncol := len(l.cols) + 1
	grid := make([][]string, 0, len(l.rows)+2)
	head := []string{""}
	types := []string{""}
	for _, c := range l.cols {
		if c < 0 {
			head = append(head, "…")
			types = append(types, "")
			continue
		}
		head = append(head, truncate(oneLine(t.src.cols[c].name), l.opts.MaxCellWidth))
		types = append(types, truncate(t.src.cols[c].dtype, 30))
	}
	grid = append(grid, head, types)
	for i, r := range l.rows {
		line := []string{"…"}
		if r >= 0 {
			line[0] = strconv.Itoa(r)
		}
		for j := range l.cols {
			line = append(line, l.cells[i][j].s)
		}
		grid = append(grid, line)
	}
	width := make([]int, ncol)
	for _, line := range grid {
		for j, s := range line {
			width[j] = max(width[j], utf8.RuneCountInString(s))
		}
	}
	var b strings.Builder
	for _, line := range grid {
		var parts []string
		for j, s := range line {
			fill := strings.Repeat(" ", width[j]-utf8.RuneCountInString(s))
			if j == 0 || l.numeric[j-1] {
				parts = append(parts, fill+s)
			} else {
				parts = append(parts, s+fill)
			}
		}
		b.WriteString(strings.TrimRight(strings.Join(parts, "  "), " "))
		b.WriteByte('\n')
	}
	b.WriteString("\n[" + t.footer() + "]")
	return b.String()
}

// DataResource returns the shown rows as a Frictionless data resource
// (application/vnd.dataresource+json), with an "index" field.
func (t *Table) DataResource() map[string]any {
	l := t.layout()
	fields := []any{map[string]any{"name": "index", "type": "integer"}}
	var cols []int
	for _, c := range l.cols {
		if c >= 0 {
			cols = append(cols, c)
		}
	}
	names := make([]string, len(cols))
	seen := map[string]bool{"index": true}
	for k, c := range cols {
		name := t.src.cols[c].name
		for seen[name] {
			name += "_"
		}
		seen[name] = true
		names[k] = name
	}
	var data []any
	jsonTypes := make([]string, len(cols))
	for _, r := range l.rows {
		if r < 0 {
			continue
		}
		row := map[string]any{"index": r}
		for k, c := range cols {
			v := jsonValue(t.src.cols[c].get(r))
			row[names[k]] = v
			if jt := jsonType(v); v != nil && jsonTypes[k] != "string" {
				if jsonTypes[k] == "" || jsonTypes[k] == jt || (jsonTypes[k] == "integer" && jt == "number") {
					jsonTypes[k] = jt
				} else if !(jsonTypes[k] == "number" && jt == "integer") {
					jsonTypes[k] = "any"
				}
			}
		}
		data = append(data, row)
	}
	for k := range cols {
		jt := jsonTypes[k]
		if jt == "" {
			jt = "any"
		}
		fields = append(fields, map[string]any{"name": names[k], "type": jt})
	}
	if data == nil {
		data = []any{}
	}
	return map[string]any{
		"schema": map[string]any{"fields": fields, "primaryKey": []any{"index"}, "pandas_version": "1.4.0"},
		"data":   data,
	}
}

// jsonValue turns a canonical value into a JSON-safe value: NaN and ±Inf
// become null, times become RFC 3339 strings.
func jsonValue(v any) any {
	switch x := v.(type) {
	case formatted:
		return jsonValue(x.raw)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case nil, int64, uint64, bool, string:
		return x
	}
	return fmt.Sprintf("%v", v)
}

func jsonType(v any) string {
	switch v.(type) {
	case int64, uint64:
		return "integer"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case string:
		return "string"
	}
	return "any"
}

// Bundle returns the table's rendering: HTML, plain text and a data
// resource.
func (t *Table) Bundle() MIMEBundle {
	return MIMEBundle{Data: t.MimeBundle()}
}

// MimeBundle implements Renderer.
func (t *Table) MimeBundle() map[string]any {
	dr := t.DataResource()
	// Round-trip through JSON so that the bundle holds plain JSON values
	// (what a frontend receives), whatever the source types were.
	var tree any = dr
	if raw, err := json.Marshal(dr); err == nil {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			tree = v
		}
	}
	return map[string]any{
		MIMEHTML:         t.HTML(),
		MIMEPlain:        t.String(),
		MIMEDataResource: tree,
	}
}
