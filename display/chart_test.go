package display

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testCharts returns one chart of every kind and feature, by name.
func testCharts() map[string]*Chart {
	epochs := []int{1, 2, 3, 4, 5, 6, 7, 8}
	train := []float64{2.3, 1.6, 1.2, 0.95, 0.8, 0.71, 0.66, 0.62}
	val := []float32{2.4, 1.8, 1.4, 1.2, 1.1, 1.08, 1.1, 1.15}
	var lat1, lat2 []float64
	for i := 0; i < 200; i++ {
		lat1 = append(lat1, 10+5*math.Sin(float64(i)*0.7)+float64(i%13))
		lat2 = append(lat2, 14+4*math.Cos(float64(i)*0.3)+float64(i%7))
	}
	return map[string]*Chart{
		"line": LineChart().Title("loss").X("epoch").Y("loss").
			Series("train", epochs, train).Series("validation", epochs, val),
		"line_gaps": LineChart().Title("with gaps").Series("", nil, []float64{1, 2, math.NaN(), 3, math.Inf(1), 4, 5}),
		"scatter": ScatterChart().Title("latency vs batch").X("batch size").Y("ms").
			Series("cpu", []int{1, 8, 32, 64}, []float64{3, 9, 30, 61}).
			Series("gpu", []int{1, 8, 32, 64}, []float64{1.5, 2, 3.5, 6}),
		"bar": BarChart().Title("throughput").Y("items/s").
			Series("fp32", []string{"resnet", "bert", "gpt2"}, []int{120, 45, 20}).
			Series("int8", []string{"resnet", "bert", "gpt2"}, []int{300, 110, 48}),
		"bar_single": BarChart().Series("", []string{"a", "b"}, []float64{1, 2}),
		"histogram": Histogram().Title("latency").X("ms").Bins(12).
			Values("v1", lat1).Values("v2", lat2),
		"histogram_single": Histogram().Values("", []float64{1, 1, 2, 3, 5, 8, 13}),
		"heatmap": Heatmap().Title("confusion matrix").X("predicted").Y("actual").Z("count").
			Grid([]string{"cat", "dog", "bird"}, []string{"cat", "dog", "bird"},
				[][]int{{50, 3, 1}, {4, 45, 2}, {0, 6, 40}}),
		"heatmap_gaps": Heatmap().Grid([]float64{0.1, 0.2}, nil, [][]float64{{1, math.NaN()}, {math.Inf(1), 4}}),
		"hostile": LineChart().Title(`<script>alert("t")</script> & "q"`).X("x < 1 & y > 2").Y("ünïcødé ✓ 🚀").
			Series(`</svg><script>`, nil, []float64{1, 2}).Series(`a"b'c&d`, nil, []float64{2, 1}),
	}
}

func TestChartsGolden(t *testing.T) {
	for name, c := range testCharts() {
		t.Run(name, func(t *testing.T) {
			if err := c.Err(); err != nil {
				t.Fatal(err)
			}
			b := c.Bundle()
			for _, mime := range []string{MIMEVegaLite, MIMESVG, MIMEPlain} {
				if _, ok := b.Data[mime]; !ok {
					t.Fatalf("bundle lacks %s", mime)
				}
			}
			if _, ok := b.Data[MIMEHTML]; ok {
				t.Error("chart bundle must not carry text/html: classic Notebook would prefer it over the SVG")
			}
			svg := b.Data[MIMESVG].(string)
			checkSVG(t, name, svg)
			if !strings.HasPrefix(svg, "<svg") {
				t.Errorf("SVG starts with %.30q, want <svg (inlinable)", svg)
			}
			md, _ := b.Data[MIMEMarkdown].(string)
			if strings.Count(md, "\n") != 1 || md != markdownSVG(svg) {
				t.Errorf("text/markdown must be the SVG as a two-line raw-HTML block, got %.100q", md)
			}
			checkSVG(t, name+" (markdown)", md)
			delete(b.Data, MIMEMarkdown) // the golden holds the SVG once
			spec := b.Data[MIMEVegaLite].(map[string]any)
			if spec["$schema"] != "https://vega.github.io/schema/vega-lite/v5.json" {
				t.Errorf("$schema = %v", spec["$schema"])
			}
			golden(t, "chart_"+name, bundleText(b))
		})
	}
}

func TestChartEscaping(t *testing.T) {
	b := testCharts()["hostile"].Bundle()
	svg := b.Data[MIMESVG].(string)
	for _, bad := range []string{"<script", "</svg><"} {
		if strings.Contains(svg, bad) {
			t.Errorf("SVG contains unescaped %q", bad)
		}
	}
	if !strings.Contains(svg, "&lt;script&gt;") || !strings.Contains(svg, "ünïcødé ✓ 🚀") {
		t.Error("SVG lacks the escaped title or the unicode label")
	}
	raw, err := json.Marshal(b.Data[MIMEVegaLite])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("<script")) {
		t.Error("Vega-Lite JSON carries a raw <script (json.Marshal must escape <)")
	}
	spec := b.Data[MIMEVegaLite].(map[string]any)
	if spec["title"] != `<script>alert("t")</script> & "q"` {
		t.Errorf("title lost: %v", spec["title"])
	}
	if !strings.Contains(b.PlainText(), `</svg><script>`) {
		t.Errorf("plain text must name the series as is: %s", b.PlainText())
	}
}

func TestChartErrors(t *testing.T) {
	cases := []struct {
		name string
		c    *Chart
		want string
	}{
		{"empty", LineChart(), "has no data"},
		{"length mismatch", LineChart().Series("s", []int{1, 2}, []int{1}), `series "s": 2 x values but 1 y values`},
		{"not numbers", ScatterChart().Series("s", nil, []string{"a"}), "element 0 is string, not a number"},
		{"not a slice", LineChart().Series("s", nil, 3), "want a numeric slice, got int"},
		{"histogram series", Histogram().Series("s", nil, []int{1}), "takes Values"},
		{"values on line", LineChart().Values("s", []int{1}), "Values is for histograms"},
		{"ragged grid", Heatmap().Grid(nil, nil, [][]int{{1, 2}, {3}}), "grid row 1 has 1 values"},
		{"grid labels", Heatmap().Grid([]string{"a"}, nil, [][]int{{1, 2}}), "1 x labels"},
		{"no grid", Heatmap(), "heatmap has no Grid"},
		{"bad bins", Histogram().Bins(0).Values("", []int{1}), "at least one bin"},
		{"tiny", LineChart().Size(10, 10).Series("", nil, []int{1}), "too small"},
		{"bar categories", BarChart().Series("s", []string{"a"}, []int{1, 2}), "1 categories but 2 values"},
	}
	for _, c := range cases {
		err := c.c.Err()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
			continue
		}
		b := c.c.Bundle()
		if len(b.Data) != 1 || !strings.Contains(b.PlainText(), c.want) {
			t.Errorf("%s: bundle %v, want the error as text only", c.name, keys(b.Data))
		}
		if _, err := c.c.SVG(); err == nil {
			t.Errorf("%s: SVG succeeded", c.name)
		}
	}
}

func TestHistogramBins(t *testing.T) {
	h := Histogram().Bins(4).Values("a", []float64{0, 1, 2, 3, 4, 4, math.NaN()}).Values("b", []int{2}).bins()
	if got := h.edges; len(got) != 5 || got[0] != 0 || got[4] != 4 {
		t.Errorf("edges %v", got)
	}
	if got := h.counts[0]; got[0] != 1 || got[1] != 1 || got[2] != 1 || got[3] != 3 {
		t.Errorf("counts a %v, want [1 1 1 3] (the max falls in the last bin, NaN is skipped)", got)
	}
	if got := h.counts[1]; got[2] != 1 {
		t.Errorf("counts b %v", got)
	}
}

// vegaResult is one line printed by testdata/vegalite_compile.mjs.
type vegaResult struct {
	Name     string
	OK       bool
	Version  string
	Error    string
	Warnings []string
	Rows     int
	Marks    int
	SVGBytes int
}

// TestVegaLiteCompiles compiles every chart's spec with the real vega-lite
// npm package and runs it in Vega, checking that every data row arrives.
func TestVegaLiteCompiles(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		needTool(t, "node is not installed: the Vega-Lite specs cannot be checked")
	}
	modules := filepath.Join(repoRoot(t), ".ci", "node_modules")
	for _, pkg := range []string{"vega-lite", "vega"} {
		if _, err := os.Stat(filepath.Join(modules, pkg, "package.json")); err != nil {
			needTool(t, "%s is not installed in %s (npm ci --prefix .ci)", pkg, modules)
		}
	}
	type entry struct {
		Name string         `json:"name"`
		Spec map[string]any `json:"spec"`
	}
	var specs []entry
	rows := map[string]int{}
	for name, c := range testCharts() {
		spec, err := c.VegaLite()
		if err != nil {
			t.Fatal(name, err)
		}
		specs = append(specs, entry{name, spec})
		rows[name] = len(spec["data"].(map[string]any)["values"].([]any))
	}
	path := filepath.Join(t.TempDir(), "specs.json")
	raw, _ := json.Marshal(specs)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("testdata", "vegalite_compile.mjs"), modules, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r vegaResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad line from node: %q", sc.Text())
		}
		seen++
		if !r.OK {
			t.Errorf("%s: vega-lite %s: %s", r.Name, r.Version, r.Error)
			continue
		}
		if len(r.Warnings) > 0 {
			t.Errorf("%s: vega-lite warnings: %v", r.Name, r.Warnings)
		}
		if r.Rows != rows[r.Name] {
			t.Errorf("%s: Vega loaded %d rows, the spec has %d", r.Name, r.Rows, rows[r.Name])
		}
		if r.Marks == 0 || r.SVGBytes < 500 {
			t.Errorf("%s: Vega drew %d marks in %d bytes of SVG", r.Name, r.Marks, r.SVGBytes)
		}
	}
	if seen != len(specs) {
		t.Errorf("node checked %d specs, want %d; stderr:\n%s", seen, len(specs), stderr.String())
	}
}

func ExampleLineChart() {
	SetPublisher(nil)
	LineChart().Title("loss").X("epoch").Y("loss").
		Series("train", []int{1, 2, 3}, []float64{0.9, 0.5, 0.3}).
		Series("validation", []int{1, 2, 3}, []float64{1.0, 0.7, 0.6}).
		Show()
	// Output:
	// LineChart "loss" (x: epoch, y: loss)
	//   train: 3 points, y 0.3…0.9
	//   validation: 3 points, y 0.6…1
}

func ExampleHistogram() {
	h := Histogram().Title("latency").X("ms").Values("p", []float64{1, 2, 2, 3, 9})
	svg, err := h.SVG()
	fmt.Println(strings.HasPrefix(svg, "<svg"), err)
	// Output: true <nil>
}

// TestVegaLiteIsPlainJSON checks that specs hold only JSON values: what the
// test sees is what the frontend receives.
func TestVegaLiteIsPlainJSON(t *testing.T) {
	for name, c := range testCharts() {
		spec, err := c.VegaLite()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]any
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(spec, back) {
			t.Errorf("%s: spec changes in a JSON round trip", name)
		}
	}
}

func TestLineChartThinning(t *testing.T) {
	n := 100_000
	xs, ys := make([]float64, n), make([]float64, n)
	for i := range xs {
		xs[i] = float64(i)
		ys[i] = math.Sin(float64(i) / 1000)
	}
	ys[54321] = 50 // a spike must survive
	ys[77777] = math.NaN()
	c := LineChart().Series("loss", xs, ys)
	spec, err := c.VegaLite()
	if err != nil {
		t.Fatal(err)
	}
	rows := spec["data"].(map[string]any)["values"].([]any)
	if len(rows) > 2100 || len(rows) < 1000 {
		t.Errorf("%d rows drawn from %d points, want about 2000", len(rows), n)
	}
	spike, gap := false, false
	last := -1.0
	for _, r := range rows {
		m := r.(map[string]any)
		if m["y"] == 50.0 && m["x"] == 54321.0 {
			spike = true
		}
		if m["y"] == nil {
			gap = true
			continue
		}
		if x := m["x"].(float64); x < last {
			t.Fatalf("x goes back from %v to %v", last, x)
		} else {
			last = x
		}
	}
	if !spike || !gap {
		t.Errorf("spike kept %v, gap kept %v", spike, gap)
	}
	if !strings.Contains(c.String(), "100000 points (") {
		t.Errorf("summary %q does not say the series was thinned", c.String())
	}
	if all, _ := LineChart().MaxPoints(0).Series("loss", xs, ys).VegaLite(); len(all["data"].(map[string]any)["values"].([]any)) != n {
		t.Error("MaxPoints(0) must draw every point")
	}
	svg, err := c.SVG()
	if err != nil {
		t.Fatal(err)
	}
	checkSVG(t, "thinned", svg)
	if len(svg) > 200_000 {
		t.Errorf("SVG of the thinned chart is %d bytes", len(svg))
	}
}
