package display

import "math"

// vegaLiteSchema is the $schema of the specs this package writes.
const vegaLiteSchema = "https://vega.github.io/schema/vega-lite/v5.json"

// VegaLite returns the chart as a Vega-Lite v5 specification with its data
// inline, made of plain JSON values only (map[string]any, []any, float64,
// string, bool, nil), as a frontend receives it.
func (c *Chart) VegaLite() (map[string]any, error) {
	if err := c.Err(); err != nil {
		return nil, err
	}
	spec := map[string]any{
		"$schema":  vegaLiteSchema,
		"width":    float64(c.width),
		"height":   float64(c.height),
		"autosize": map[string]any{"type": "fit", "contains": "padding"},
	}
	if c.title != "" {
		spec["title"] = c.title
	}
	axisTitle := func(label string, def any) any {
		if label != "" {
			return label
		}
		return def
	}
	color := map[string]any{
		"field": "series", "type": "nominal", "title": nil,
		"scale": map[string]any{"range": strs(seriesColors)},
		"sort":  nil,
	}
	multi := len(c.series) > 1
	var rows []any
	switch c.kind {
	case kindLine, kindScatter:
		for _, s := range c.series {
			xs, ys := c.drawn(s)
			for i := range xs {
				rows = append(rows, map[string]any{"series": s.name, "x": jsonNum(xs[i]), "y": jsonNum(ys[i])})
			}
		}
		mark := map[string]any{"type": "line", "tooltip": true}
		if c.kind == kindScatter {
			mark = map[string]any{"type": "point", "filled": true, "tooltip": true}
		}
		spec["mark"] = mark
		enc := map[string]any{
			"x": map[string]any{"field": "x", "type": "quantitative", "title": axisTitle(c.x, "x"), "scale": map[string]any{"zero": false}},
			"y": map[string]any{"field": "y", "type": "quantitative", "title": axisTitle(c.y, "y"), "scale": map[string]any{"zero": false}},
		}
		if multi || c.series[0].name != "" {
			enc["color"] = color
		}
		spec["encoding"] = enc
	case kindBar:
		var cats []string
		seen := map[string]bool{}
		for _, s := range c.series {
			for i, cat := range s.cats {
				rows = append(rows, map[string]any{"series": s.name, "category": cat, "value": jsonNum(s.ys[i])})
				if !seen[cat] {
					seen[cat] = true
					cats = append(cats, cat)
				}
			}
		}
		spec["mark"] = map[string]any{"type": "bar", "tooltip": true}
		enc := map[string]any{
			"x": map[string]any{"field": "category", "type": "nominal", "title": axisTitle(c.x, nil), "sort": strs(cats)},
			"y": map[string]any{"field": "value", "type": "quantitative", "title": axisTitle(c.y, "value")},
		}
		if multi || c.series[0].name != "" {
			enc["color"] = color
		}
		if multi {
			enc["xOffset"] = map[string]any{"field": "series", "type": "nominal", "sort": nil}
		}
		spec["encoding"] = enc
	case kindHistogram:
		h := c.bins()
		for k, s := range c.series {
			for i, n := range h.counts[k] {
				rows = append(rows, map[string]any{"series": s.name, "bin_start": h.edges[i], "bin_end": h.edges[i+1], "count": n})
			}
		}
		mark := map[string]any{"type": "bar", "tooltip": true}
		if multi {
			mark["opacity"] = 0.55
		}
		spec["mark"] = mark
		enc := map[string]any{
			"x":  map[string]any{"field": "bin_start", "type": "quantitative", "bin": map[string]any{"binned": true}, "title": axisTitle(c.x, "value")},
			"x2": map[string]any{"field": "bin_end"},
			"y":  map[string]any{"field": "count", "type": "quantitative", "title": axisTitle(c.y, "count"), "stack": nil},
		}
		if multi || c.series[0].name != "" {
			enc["color"] = color
		}
		spec["encoding"] = enc
	case kindHeatmap:
		for i, row := range c.grid {
			for j, v := range row {
				rows = append(rows, map[string]any{"x": c.xcats[j], "y": c.ycats[i], "value": jsonNum(v)})
			}
		}
		spec["mark"] = map[string]any{"type": "rect", "tooltip": true}
		spec["encoding"] = map[string]any{
			"x":     map[string]any{"field": "x", "type": "ordinal", "sort": strs(c.xcats), "title": axisTitle(c.x, nil)},
			"y":     map[string]any{"field": "y", "type": "ordinal", "sort": strs(c.ycats), "title": axisTitle(c.y, nil)},
			"color": map[string]any{"field": "value", "type": "quantitative", "title": axisTitle(c.z, "value"), "scale": map[string]any{"scheme": "viridis"}},
		}
	}
	if rows == nil {
		rows = []any{}
	}
	spec["data"] = map[string]any{"values": rows}
	return spec, nil
}

// strs converts labels to a JSON array value.
func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// jsonNum returns v, or nil for NaN and ±Inf, which JSON cannot carry (a
// gap in the chart).
func jsonNum(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}
