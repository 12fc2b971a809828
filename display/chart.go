package display

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// chartKind is the kind of a Chart.
type chartKind int

const (
	kindLine chartKind = iota
	kindScatter
	kindBar
	kindHistogram
	kindHeatmap
)

var kindNames = [...]string{"LineChart", "ScatterChart", "BarChart", "Histogram", "Heatmap"}

// Chart is a line, scatter, bar, histogram or heatmap chart built with a
// fluent API:
//
//	display.LineChart().Title("loss").X("epoch").Y("loss").
//		Series("train", epochs, train).
//		Series("validation", epochs, val)
//
// Its bundle holds a Vega-Lite v5 spec with the data inline (interactive in
// JupyterLab), an SVG rendering made with gonum.org/v1/plot (classic
// Notebook, nbconvert, GitHub) and a plain-text summary. Builder methods
// record the first error (mismatched lengths, non-numeric data); Err
// returns it and the bundle then shows it as text.
type Chart struct {
	kind                 chartKind
	title, x, y, z       string
	width, height, nbins int
	maxPoints            int // line charts: points drawn per series
	series               []chartSeries
	xcats, ycats         []string    // heatmap
	grid                 [][]float64 // heatmap: grid[y][x]
	err                  error
}

// chartSeries is one named data series. For bar charts cats holds the
// categories and ys the values; for histograms ys holds the samples.
type chartSeries struct {
	name   string
	xs, ys []float64
	cats   []string
}

// LineChart returns an empty line chart; add lines with Series.
func LineChart() *Chart { return newChart(kindLine) }

// ScatterChart returns an empty scatter chart; add point sets with Series.
func ScatterChart() *Chart { return newChart(kindScatter) }

// BarChart returns an empty bar chart; add bars with Series(name,
// categories, values). Several series are shown side by side.
func BarChart() *Chart { return newChart(kindBar) }

// Histogram returns an empty histogram; add samples with Values. Several
// series share the bins and are overlaid.
func Histogram() *Chart { return newChart(kindHistogram) }

// Heatmap returns an empty heatmap; set its cells with Grid.
func Heatmap() *Chart { return newChart(kindHeatmap) }

func newChart(k chartKind) *Chart {
	return &Chart{kind: k, width: 600, height: 360, maxPoints: defaultMaxPoints}
}

// defaultMaxPoints bounds the points a line chart draws per series: a loss
// curve over 100,000 steps would otherwise make megabytes of output.
const defaultMaxPoints = 2000

// Title sets the chart title.
func (c *Chart) Title(s string) *Chart { c.title = s; return c }

// X sets the x-axis label.
func (c *Chart) X(label string) *Chart { c.x = label; return c }

// Y sets the y-axis label.
func (c *Chart) Y(label string) *Chart { c.y = label; return c }

// Z sets the label of a heatmap's color scale.
func (c *Chart) Z(label string) *Chart { c.z = label; return c }

// Size sets the size of the chart in pixels (default 600×360).
func (c *Chart) Size(width, height int) *Chart {
	if width < 100 || height < 80 {
		c.fail(fmt.Errorf("size %d×%d is too small (minimum 100×80)", width, height))
		return c
	}
	c.width, c.height = width, height
	return c
}

// MaxPoints bounds the points a line chart draws per series (default 2000;
// 0 or less means no bound). A longer series is thinned bucket by bucket,
// keeping each bucket's lowest and highest point, so spikes stay visible.
func (c *Chart) MaxPoints(n int) *Chart {
	c.maxPoints = n
	return c
}

// drawn returns the points of s to draw: all of them, or a min/max
// thinning of a long line series.
func (c *Chart) drawn(s chartSeries) (xs, ys []float64) {
	n := len(s.xs)
	if c.kind != kindLine || c.maxPoints <= 0 || n <= c.maxPoints {
		return s.xs, s.ys
	}
	buckets := max(c.maxPoints/2, 1)
	for b := 0; b < buckets; b++ {
		lo, hi := b*n/buckets, (b+1)*n/buckets
		imin, imax, gap := -1, -1, false
		for i := lo; i < hi; i++ {
			if bad(s.ys[i]) || bad(s.xs[i]) {
				gap = true
				continue
			}
			if imin < 0 || s.ys[i] < s.ys[imin] {
				imin = i
			}
			if imax < 0 || s.ys[i] > s.ys[imax] {
				imax = i
			}
		}
		for _, i := range []int{min(imin, imax), max(imin, imax)} {
			if i >= 0 && (len(xs) == 0 || xs[len(xs)-1] != s.xs[i] || ys[len(ys)-1] != s.ys[i]) {
				xs, ys = append(xs, s.xs[i]), append(ys, s.ys[i])
			}
		}
		if gap {
			xs, ys = append(xs, math.NaN()), append(ys, math.NaN())
		}
	}
	return xs, ys
}

// Bins sets the number of histogram bins (default: Sturges' rule).
func (c *Chart) Bins(n int) *Chart {
	if n < 1 {
		c.fail(fmt.Errorf("Bins(%d): need at least one bin", n))
		return c
	}
	c.nbins = n
	return c
}

// Series adds a named series. For line and scatter charts xs and ys are
// numeric slices of equal length ([]float64, []float32, []int, …); a nil xs
// means 0, 1, 2, …. For bar charts xs holds the categories ([]string, or
// numbers used as labels) and ys the bar heights. Histograms take Values
// and heatmaps Grid instead.
func (c *Chart) Series(name string, xs, ys any) *Chart {
	switch c.kind {
	case kindHistogram:
		c.fail(errors.New("a histogram takes Values(name, samples), not Series"))
		return c
	case kindHeatmap:
		c.fail(errors.New("a heatmap takes Grid(xs, ys, z), not Series"))
		return c
	}
	y, err := floats(ys)
	if err != nil {
		c.fail(fmt.Errorf("series %q: y values: %w", name, err))
		return c
	}
	s := chartSeries{name: name, ys: y}
	if c.kind == kindBar {
		if xs == nil {
			s.cats = indexLabels(len(y))
		} else if s.cats, err = labels(xs); err != nil {
			c.fail(fmt.Errorf("series %q: categories: %w", name, err))
			return c
		}
		if len(s.cats) != len(y) {
			c.fail(fmt.Errorf("series %q: %d categories but %d values", name, len(s.cats), len(y)))
			return c
		}
	} else {
		if xs == nil {
			s.xs = make([]float64, len(y))
			for i := range s.xs {
				s.xs[i] = float64(i)
			}
		} else if s.xs, err = floats(xs); err != nil {
			c.fail(fmt.Errorf("series %q: x values: %w", name, err))
			return c
		}
		if len(s.xs) != len(y) {
			c.fail(fmt.Errorf("series %q: %d x values but %d y values", name, len(s.xs), len(y)))
			return c
		}
	}
	c.series = append(c.series, s)
	return c
}

// Values adds a named set of samples to a histogram.
func (c *Chart) Values(name string, samples any) *Chart {
	if c.kind != kindHistogram {
		c.fail(fmt.Errorf("Values is for histograms; a %s takes Series", kindNames[c.kind]))
		return c
	}
	v, err := floats(samples)
	if err != nil {
		c.fail(fmt.Errorf("series %q: %w", name, err))
		return c
	}
	c.series = append(c.series, chartSeries{name: name, ys: v})
	return c
}

// Grid sets a heatmap's cells: z[i][j] is the value at column xs[j] and row
// ys[i]. xs and ys are labels ([]string or numbers); nil means 0, 1, 2, ….
func (c *Chart) Grid(xs, ys, z any) *Chart {
	if c.kind != kindHeatmap {
		c.fail(fmt.Errorf("Grid is for heatmaps; a %s takes Series", kindNames[c.kind]))
		return c
	}
	rv := reflect.ValueOf(z)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		c.fail(fmt.Errorf("grid: want a slice of numeric rows, got %T", z))
		return c
	}
	grid := make([][]float64, rv.Len())
	for i := range grid {
		row, err := floats(rv.Index(i).Interface())
		if err != nil {
			c.fail(fmt.Errorf("grid row %d: %w", i, err))
			return c
		}
		if i > 0 && len(row) != len(grid[0]) {
			c.fail(fmt.Errorf("grid row %d has %d values, row 0 has %d", i, len(row), len(grid[0])))
			return c
		}
		grid[i] = row
	}
	if len(grid) == 0 || len(grid[0]) == 0 {
		c.fail(errors.New("grid is empty"))
		return c
	}
	var err error
	xl, yl := indexLabels(len(grid[0])), indexLabels(len(grid))
	if xs != nil {
		if xl, err = labels(xs); err != nil {
			c.fail(fmt.Errorf("grid x labels: %w", err))
			return c
		}
	}
	if ys != nil {
		if yl, err = labels(ys); err != nil {
			c.fail(fmt.Errorf("grid y labels: %w", err))
			return c
		}
	}
	if len(xl) != len(grid[0]) || len(yl) != len(grid) {
		c.fail(fmt.Errorf("grid is %d rows × %d columns but has %d y labels and %d x labels",
			len(grid), len(grid[0]), len(yl), len(xl)))
		return c
	}
	c.xcats, c.ycats, c.grid = xl, yl, grid
	return c
}

// Err returns the first error recorded while building the chart.
func (c *Chart) Err() error {
	if c.err != nil {
		return c.err
	}
	if c.kind == kindHeatmap && c.grid == nil {
		return errors.New("display: heatmap has no Grid")
	}
	if c.kind != kindHeatmap && len(c.series) == 0 {
		return fmt.Errorf("display: %s has no data", kindNames[c.kind])
	}
	return nil
}

func (c *Chart) fail(err error) {
	if c.err == nil {
		c.err = fmt.Errorf("display: %s: %w", kindNames[c.kind], err)
	}
}

// Show publishes the chart (see Show).
func (c *Chart) Show() { Show(c) }

// Bundle returns the chart's rendering: Vega-Lite, SVG, the same SVG as
// Markdown, and plain text. If the chart has an error, the bundle holds only
// the error text.
//
// Each frontend draws the richest type it ranks first. JupyterLab ranks
// Vega-Lite first and shows the interactive chart. Classic Notebook and
// nbconvert's HTML export rank Markdown above SVG, and they get the SVG as
// raw HTML inside Markdown. That path matters because nbconvert 6.5
// (Debian bookworm) runs image/svg+xml outputs through an HTML cleaner that
// deletes every element inside <svg>, while it copies Markdown's raw HTML
// unchanged.
func (c *Chart) Bundle() MIMEBundle {
	if err := c.Err(); err != nil {
		return Text(err.Error())
	}
	spec, err := c.VegaLite()
	if err != nil {
		return Text(err.Error())
	}
	svg, err := c.SVG()
	if err != nil {
		return Text(err.Error())
	}
	return MIMEBundle{Data: map[string]any{
		MIMEVegaLite: spec,
		MIMESVG:      svg,
		MIMEMarkdown: markdownSVG(svg),
		MIMEPlain:    c.String(),
	}}
}

// markdownSVG returns svg as a Markdown raw-HTML block that the Markdown
// parsers of classic Notebook (marked) and of nbconvert 6.5 pass through
// unchanged: the root start tag alone on the first line (CommonMark's rule
// for a raw-HTML block of any tag name), everything else on the second line
// (a blank line would end the block; in SVG markup a line break is white
// space like any other), and no prefixed attributes such as xmlns:xlink on
// the root (nbconvert 6.5's parser rejects a colon in an attribute name;
// HTML's parser assigns the SVG namespaces on its own).
func markdownSVG(svg string) string {
	svg = strings.Join(strings.Fields(svg), " ")
	end := strings.IndexByte(svg, '>')
	if end < 0 {
		return svg
	}
	return prefixedAttr.ReplaceAllString(svg[:end+1], "") + "\n" + strings.TrimSpace(svg[end+1:])
}

var prefixedAttr = regexp.MustCompile(` [A-Za-z_][\w.-]*:[\w.-]+="[^"]*"`)

// MimeBundle implements Renderer.
func (c *Chart) MimeBundle() map[string]any { return c.Bundle().Data }

// String summarizes the chart in one line per series.
func (c *Chart) String() string {
	if err := c.Err(); err != nil {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString(kindNames[c.kind])
	if c.title != "" {
		b.WriteString(" " + strconv.Quote(c.title))
	}
	if c.x != "" || c.y != "" {
		fmt.Fprintf(&b, " (x: %s, y: %s)", orDash(c.x), orDash(c.y))
	}
	if c.kind == kindHeatmap {
		lo, hi := rangeOf(flatten(c.grid))
		fmt.Fprintf(&b, "\n  %d×%d cells, values %s…%s", len(c.ycats), len(c.xcats), formatFloat(lo), formatFloat(hi))
		return b.String()
	}
	for _, s := range c.series {
		lo, hi := rangeOf(s.ys)
		what := "points"
		switch c.kind {
		case kindBar:
			what = "bars"
		case kindHistogram:
			what = "samples"
		}
		fmt.Fprintf(&b, "\n  %s: %d %s", orDash(s.name), len(s.ys), what)
		if xs, _ := c.drawn(s); len(xs) < len(s.xs) {
			fmt.Fprintf(&b, " (%d drawn)", len(xs))
		}
		if len(s.ys) > 0 && !math.IsInf(lo, 0) {
			fmt.Fprintf(&b, ", %s %s…%s", map[bool]string{true: "values", false: "y"}[c.kind == kindHistogram],
				formatFloat(lo), formatFloat(hi))
		}
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func flatten(g [][]float64) []float64 {
	var out []float64
	for _, r := range g {
		out = append(out, r...)
	}
	return out
}

// rangeOf returns the smallest and largest finite values (±Inf if none).
func rangeOf(vs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return lo, hi
}

// floats converts a numeric slice or array to []float64.
func floats(v any) ([]float64, error) {
	switch x := v.(type) {
	case []float64:
		return append([]float64(nil), x...), nil
	case nil:
		return nil, errors.New("no values (nil)")
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("want a numeric slice, got %T", v)
	}
	out := make([]float64, rv.Len())
	for i := range out {
		e := rv.Index(i)
		for e.Kind() == reflect.Interface || e.Kind() == reflect.Pointer {
			if e.IsNil() {
				break
			}
			e = e.Elem()
		}
		switch e.Kind() {
		case reflect.Float32, reflect.Float64:
			out[i] = e.Float()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			out[i] = float64(e.Int())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			out[i] = float64(e.Uint())
		case reflect.Interface, reflect.Pointer: // nil: a gap
			out[i] = math.NaN()
		default:
			return nil, fmt.Errorf("element %d is %s, not a number", i, e.Type())
		}
	}
	return out, nil
}

// labels converts a slice of strings, numbers or Stringers to labels.
func labels(v any) ([]string, error) {
	if s, ok := v.([]string); ok {
		return append([]string(nil), s...), nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("want a slice of labels, got %T", v)
	}
	out := make([]string, rv.Len())
	for i := range out {
		c := canonicalValue(rv.Index(i))
		if f, ok := c.(float64); ok {
			out[i] = formatFloat(f)
		} else {
			out[i] = fmt.Sprint(c)
		}
	}
	return out, nil
}

func indexLabels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}

// histogram bins the samples of all series on shared equal-width bins.
type histBins struct {
	edges  []float64   // len(bins)+1
	counts [][]float64 // [series][bin]
}

func (c *Chart) bins() histBins {
	var all []float64
	for _, s := range c.series {
		all = append(all, s.ys...)
	}
	lo, hi := rangeOf(all)
	n := c.nbins
	finite := 0
	for _, v := range all {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			finite++
		}
	}
	if n == 0 {
		n = int(math.Ceil(math.Log2(float64(max(finite, 1))))) + 1 // Sturges
		n = min(max(n, 5), 50)
	}
	if finite == 0 {
		lo, hi = 0, 1
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	h := histBins{edges: make([]float64, n+1)}
	w := (hi - lo) / float64(n)
	for i := range h.edges {
		h.edges[i] = lo + float64(i)*w
	}
	h.edges[n] = hi
	for _, s := range c.series {
		counts := make([]float64, n)
		for _, v := range s.ys {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			k := int((v - lo) / w)
			counts[min(max(k, 0), n-1)]++
		}
		h.counts = append(h.counts, counts)
	}
	return h
}

// seriesColors is the Tableau 10 palette, Vega-Lite's default for nominal
// colors, so that the SVG and the interactive chart look alike.
var seriesColors = []string{"#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b",
	"#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"}
