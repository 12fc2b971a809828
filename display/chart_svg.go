package display

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// SVG renders the chart with gonum.org/v1/plot as an SVG document ready to
// be inlined in HTML. Text uses the Liberation fonts compiled into gonum
// plot, so rendering needs no system fonts and no network.
func (c *Chart) SVG() (svg string, err error) {
	if err := c.Err(); err != nil {
		return "", err
	}
	defer func() {
		if r := recover(); r != nil { // gonum plot panics on some degenerate data
			svg, err = "", fmt.Errorf("display: %s: drawing SVG: %v", kindNames[c.kind], r)
		}
	}()
	p := plot.New()
	p.Title.Text = c.title
	p.X.Label.Text = c.x
	p.Y.Label.Text = c.y
	sans(&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font)
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Add(plotter.NewGrid())
	// The legend is drawn right of the plot, as Vega-Lite places it.
	leg := plot.NewLegend()
	leg.Left, leg.Top = true, true
	sans(&leg.TextStyle.Font)
	leg.TextStyle.Font.Size = vg.Points(10)
	leg.Padding = vg.Points(3)

	switch c.kind {
	case kindLine, kindScatter:
		err = c.drawXY(p, &leg)
	case kindBar:
		err = c.drawBars(p, &leg)
	case kindHistogram:
		c.drawHistogram(p, &leg)
	case kindHeatmap:
		c.drawHeatmap(p, &leg)
	}
	if err != nil {
		return "", fmt.Errorf("display: %s: drawing SVG: %w", kindNames[c.kind], err)
	}
	switch c.kind {
	case kindBar, kindHistogram:
		p.Y.Max += 0.05 * (p.Y.Max - p.Y.Min) // headroom above the tallest bar
	case kindScatter: // keep edge points whole
		dx, dy := 0.03*(p.X.Max-p.X.Min), 0.03*(p.Y.Max-p.Y.Min)
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = p.X.Min-dx, p.X.Max+dx, p.Y.Min-dy, p.Y.Max+dy
	}
	// 96 px per inch.
	w, h := vg.Length(c.width)*vg.Inch/96, vg.Length(c.height)*vg.Inch/96
	canvas := vgsvg.New(w, h)
	dc := draw.New(canvas)
	if r := leg.Rectangle(dc); r.Max.X > r.Min.X {
		pad := vg.Points(8)
		lw := r.Max.X - r.Min.X + 2*pad
		p.Draw(draw.Crop(dc, 0, -lw, 0, 0))
		top := vg.Points(0)
		if c.title != "" {
			top = -p.Title.TextStyle.Height(c.title) - p.Title.Padding
		}
		leg.Draw(draw.Crop(dc, dc.Max.X-dc.Min.X-lw+pad, 0, 0, top-pad))
	} else {
		p.Draw(dc)
	}
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return "", err
	}
	return inlineSVG(buf.String()), nil
}

// sans switches fonts to Liberation Sans, which reads better on screen than
// gonum plot's default serif.
func sans(fs ...*font.Font) {
	for _, f := range fs {
		f.Typeface = "Liberation"
		f.Variant = "Sans"
	}
}

func seriesColor(i int) color.Color {
	var r, g, b uint8
	fmt.Sscanf(seriesColors[i%len(seriesColors)], "#%02x%02x%02x", &r, &g, &b)
	return color.RGBA{R: r, G: g, B: b, A: 255}
}

// finiteRuns splits points into runs of finite coordinates: NaN and ±Inf
// make gaps, as in the Vega-Lite rendering.
func finiteRuns(xs, ys []float64) []plotter.XYs {
	var runs []plotter.XYs
	var cur plotter.XYs
	for i := range xs {
		if bad(xs[i]) || bad(ys[i]) {
			if len(cur) > 0 {
				runs = append(runs, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: xs[i], Y: ys[i]})
	}
	if len(cur) > 0 {
		runs = append(runs, cur)
	}
	return runs
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

func (c *Chart) drawXY(p *plot.Plot, leg *plot.Legend) error {
	for k, s := range c.series {
		col := seriesColor(k)
		var thumb plot.Thumbnailer
		for _, run := range finiteRuns(c.drawn(s)) {
			if c.kind == kindLine {
				l, err := plotter.NewLine(run)
				if err != nil {
					return err
				}
				l.Color = col
				l.Width = vg.Points(1.5)
				p.Add(l)
				thumb = l
				if len(run) == 1 { // a lone point between gaps
					sc, err := plotter.NewScatter(run)
					if err != nil {
						return err
					}
					sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = col, draw.CircleGlyph{}, vg.Points(1.5)
					p.Add(sc)
				}
			} else {
				sc, err := plotter.NewScatter(run)
				if err != nil {
					return err
				}
				sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = col, draw.CircleGlyph{}, vg.Points(2.5)
				p.Add(sc)
				thumb = sc
			}
		}
		if thumb != nil && s.name != "" {
			leg.Add(s.name, thumb)
		}
	}
	return nil
}

func (c *Chart) drawBars(p *plot.Plot, leg *plot.Legend) error {
	var cats []string
	index := map[string]int{}
	for _, s := range c.series {
		for _, cat := range s.cats {
			if _, ok := index[cat]; !ok {
				index[cat] = len(cats)
				cats = append(cats, cat)
			}
		}
	}
	n := len(c.series)
	// Bars of one category share 70% of the category's width; the plot
	// area is estimated as the canvas less axes and legend.
	area := float64(c.width - 90)
	if n > 1 || c.series[0].name != "" {
		area -= 70
	}
	step := area / float64(max(len(cats), 1))
	bw := vg.Length(step*0.7/float64(n)) * vg.Inch / 96
	for k, s := range c.series {
		vals := make(plotter.Values, len(cats))
		for i, cat := range s.cats {
			v := s.ys[i]
			if bad(v) {
				v = 0
			}
			vals[index[cat]] = v
		}
		b, err := plotter.NewBarChart(vals, bw)
		if err != nil {
			return err
		}
		b.Color = seriesColor(k)
		b.LineStyle.Width = 0
		b.Offset = vg.Length(float64(k)-float64(n-1)/2) * bw
		p.Add(b)
		if s.name != "" {
			leg.Add(s.name, b)
		}
	}
	p.NominalX(cats...)
	p.X.Min, p.X.Max = -0.5, float64(len(cats))-0.5
	return nil
}

func (c *Chart) drawHistogram(p *plot.Plot, leg *plot.Legend) {
	h := c.bins()
	for k, s := range c.series {
		hist := &plotter.Histogram{Width: h.edges[1] - h.edges[0]}
		for i, n := range h.counts[k] {
			hist.Bins = append(hist.Bins, plotter.HistogramBin{Min: h.edges[i], Max: h.edges[i+1], Weight: n})
		}
		col := seriesColor(k).(color.RGBA)
		if len(c.series) > 1 {
			col.A = 140
			col.R, col.G, col.B = uint8(int(col.R)*140/255), uint8(int(col.G)*140/255), uint8(int(col.B)*140/255)
		}
		hist.FillColor = col
		hist.LineStyle = draw.LineStyle{Color: color.White, Width: vg.Points(0.5)}
		p.Add(hist)
		if s.name != "" {
			leg.Add(s.name, hist)
		}
	}
	if c.y == "" {
		p.Y.Label.Text = "count"
	}
}

// heatGrid adapts a heatmap to plotter.GridXYZ: column j is at x=j and
// row i at y=n-1-i, so that the first row is drawn at the top as in a
// matrix (and in the Vega-Lite rendering).
type heatGrid struct{ z [][]float64 }

func (g heatGrid) Dims() (c, r int)   { return len(g.z[0]), len(g.z) }
func (g heatGrid) Z(c, r int) float64 { return g.z[len(g.z)-1-r][c] }
func (g heatGrid) X(c int) float64    { return float64(c) }
func (g heatGrid) Y(r int) float64    { return float64(r) }

// viridis is a palette sampled from the viridis color map, the scheme the
// Vega-Lite rendering uses.
type viridis struct{}

var viridisStops = []color.RGBA{
	{0x44, 0x01, 0x54, 255}, {0x48, 0x28, 0x78, 255}, {0x3e, 0x49, 0x89, 255}, {0x31, 0x68, 0x8e, 255},
	{0x26, 0x82, 0x8e, 255}, {0x1f, 0x9e, 0x89, 255}, {0x35, 0xb7, 0x79, 255}, {0x6e, 0xce, 0x58, 255},
	{0xb5, 0xde, 0x2b, 255}, {0xfd, 0xe7, 0x25, 255},
}

func (viridis) Colors() []color.Color {
	const n = 64
	out := make([]color.Color, n)
	for i := range out {
		t := float64(i) / (n - 1) * float64(len(viridisStops)-1)
		k := min(int(t), len(viridisStops)-2)
		f := t - float64(k)
		a, b := viridisStops[k], viridisStops[k+1]
		mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-f) + float64(y)*f)) }
		out[i] = color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
	}
	return out
}

// swatch is a legend thumbnail filled with one color.
type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.c, []vg.Point{c.Min, {X: c.Min.X, Y: c.Max.Y}, c.Max, {X: c.Max.X, Y: c.Min.Y}})
}

func (c *Chart) drawHeatmap(p *plot.Plot, leg *plot.Legend) {
	z := make([][]float64, len(c.grid))
	lo, hi := rangeOf(flatten(c.grid))
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	for i, row := range c.grid {
		z[i] = make([]float64, len(row))
		for j, v := range row {
			if bad(v) {
				v = math.NaN()
			}
			z[i][j] = v
		}
	}
	hm := plotter.NewHeatMap(heatGrid{z}, viridis{})
	hm.Min, hm.Max = lo, hi
	if lo == hi {
		hm.Min, hm.Max = lo-0.5, hi+0.5
	}
	hm.NaN = color.RGBA{0xdd, 0xdd, 0xdd, 255}
	p.Add(hm)
	p.NominalX(c.xcats...)
	ylabels := make([]string, len(c.ycats))
	for i, l := range c.ycats {
		ylabels[len(ylabels)-1-i] = l
	}
	p.NominalY(ylabels...)
	// A legend of five swatches stands in for a color bar.
	if c.z != "" {
		leg.Add(c.z)
	}
	pal := viridis{}.Colors()
	for k := 4; k >= 0; k-- {
		v := hm.Min + (hm.Max-hm.Min)*float64(k)/4
		leg.Add(formatFloat(v), swatch{pal[k*(len(pal)-1)/4]})
	}
}
