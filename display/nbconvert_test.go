package display

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestNbconvertHTML converts a notebook holding this package's outputs (a
// chart, a table, a finished progress bar) with Debian's jupyter nbconvert
// and its stock HTML template, and checks what a reader of the HTML page
// would look for: the drawn chart, the table cells, the bar. A plain SVG
// image loses its drawing with the stock template of nbconvert 6.5; the
// template in nbconvert/ keeps it.
func TestNbconvertHTML(t *testing.T) {
	if testing.Short() {
		t.Skip("runs jupyter nbconvert")
	}
	if _, err := exec.LookPath("jupyter"); err != nil {
		needTool(t, "jupyter is not installed (Debian jupyter-nbconvert)")
	}
	if out, err := exec.Command("jupyter", "nbconvert", "--version").CombinedOutput(); err != nil {
		needTool(t, "jupyter nbconvert is not installed (Debian jupyter-nbconvert): %v %s", err, out)
	}
	clk := newFakeClock()
	p := NewProgressWith(ProgressOptions{Total: 40, Label: "train", Publisher: Discard, Now: clk.Now})
	clk.Advance(4 * time.Second)
	p.Set(40)
	p.Done()
	chartSVG := func(page string) string {
		return regexp.MustCompile(`(?s)<svg.*?</svg>`).FindString(page)
	}

	page := nbconvertHTML(t, nil, testCharts()["line"].Bundle(), mustTable(t, trials(3)).Bundle(), Render(p))
	svg := chartSVG(page)
	if !strings.Contains(svg, "<path") || !strings.Contains(svg, ">loss</text>") || !strings.Contains(svg, ">validation</text>") {
		t.Errorf("the chart's SVG lost its drawing, title or legend in the HTML page:\n%.2000s", svg)
	}
	for _, want := range []string{`<table class="gopherlab-table"`, ">model-2</td>", `<td class="gopherlab-null"`, "3 rows × 7 columns",
		`class="gopherlab-progress" data-state="done" data-value="40" data-total="40"`} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML page lacks %s", want)
		}
	}

	tmpl, err := filepath.Abs(filepath.Join("nbconvert", "gopherlab_svg.html.j2"))
	if err != nil {
		t.Fatal(err)
	}
	circle := SVG(`<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><circle cx="10" cy="10" r="8"/></svg>`)
	if svg := chartSVG(nbconvertHTML(t, []string{"--template-file", tmpl}, circle)); !strings.Contains(svg, "<circle") {
		t.Errorf("with %s, a plain SVG output lost its drawing:\n%.500s", tmpl, svg)
	}
}

// nbconvertHTML writes a notebook with one cell per bundle, converts it
// with jupyter nbconvert --to html and the extra arguments, and returns the
// page.
func nbconvertHTML(t *testing.T, args []string, outputs ...MIMEBundle) string {
	t.Helper()
	var cells []any
	for i, b := range outputs {
		cells = append(cells, map[string]any{
			"cell_type": "code", "id": string(rune('a' + i)), "execution_count": i + 1, "metadata": map[string]any{},
			"source": "", "outputs": []any{map[string]any{"output_type": "display_data", "data": b.Data, "metadata": map[string]any{}}},
		})
	}
	nb := map[string]any{
		"cells":    cells,
		"metadata": map[string]any{"kernelspec": map[string]any{"name": "gopherlab", "display_name": "Go (gopherlab)", "language": "go"}},
		"nbformat": 4, "nbformat_minor": 5,
	}
	dir := t.TempDir()
	raw, err := json.Marshal(nb)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "outputs.ipynb")
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("jupyter", append(append([]string{"nbconvert", "--to", "html"}, args...), "--output-dir", dir, in)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nbconvert: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "outputs.html"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
