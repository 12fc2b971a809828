package train

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/gopherlab/gopherlab/display"
)

// History records the logs of every epoch of Fit (Keras's History.history).
type History struct {
	// Epochs lists the epoch numbers (0-based).
	Epochs []int
	// Metrics maps a log name ("loss", "val_accuracy") to its value per
	// epoch.
	Metrics map[string][]float64
	// Begin and End are each epoch's wall-clock times.
	Begin, End []time.Time
}

func (h *History) add(epoch int, logs Logs, begin, end time.Time) {
	if h.Metrics == nil {
		h.Metrics = map[string][]float64{}
	}
	for k, v := range logs {
		if len(h.Metrics[k]) < len(h.Epochs) {
			h.Metrics[k] = append(h.Metrics[k], make([]float64, len(h.Epochs)-len(h.Metrics[k]))...)
			for i := range h.Metrics[k] {
				h.Metrics[k][i] = math.NaN()
			}
		}
		h.Metrics[k] = append(h.Metrics[k], v)
	}
	h.Epochs = append(h.Epochs, epoch)
	h.Begin = append(h.Begin, begin)
	h.End = append(h.End, end)
}

// Names returns the log names in display order: loss first, then metrics,
// then their val_ counterparts.
func (h *History) Names() []string {
	var ks []string
	for k := range h.Metrics {
		ks = append(ks, k)
	}
	rank := func(k string) string {
		r := "1"
		if strings.HasPrefix(k, "val_") {
			r = "2"
			k = k[4:]
		}
		if k == "loss" {
			return r + "0"
		}
		return r + "1" + k
	}
	sort.Slice(ks, func(i, j int) bool { return rank(ks[i]) < rank(ks[j]) })
	return ks
}

// Logs returns the logs of the i-th recorded epoch.
func (h *History) Logs(i int) Logs {
	l := Logs{}
	for k, v := range h.Metrics {
		if i < len(v) {
			l[k] = v[i]
		}
	}
	return l
}

// String renders the history as a text table.
func (h *History) String() string {
	var b strings.Builder
	names := h.Names()
	fmt.Fprintf(&b, "%-6s %8s", "epoch", "seconds")
	for _, n := range names {
		fmt.Fprintf(&b, " %14s", n)
	}
	for i, e := range h.Epochs {
		fmt.Fprintf(&b, "\n%-6d %8.1f", e+1, h.End[i].Sub(h.Begin[i]).Seconds())
		for _, n := range names {
			fmt.Fprintf(&b, " %14.4f", h.Metrics[n][i])
		}
	}
	return b.String()
}

// MimeBundle renders the history as an HTML table and an SVG chart of each
// metric per epoch (train solid, validation dashed).
func (h *History) MimeBundle() map[string]any {
	var b strings.Builder
	names := h.Names()
	b.WriteString("<div>")
	b.WriteString(h.SVG())
	b.WriteString("<table><thead><tr><th>epoch</th><th>seconds</th>")
	for _, n := range names {
		fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(n))
	}
	b.WriteString("</tr></thead><tbody>")
	for i, e := range h.Epochs {
		fmt.Fprintf(&b, "<tr><td>%d</td><td>%.1f</td>", e+1, h.End[i].Sub(h.Begin[i]).Seconds())
		for _, n := range names {
			fmt.Fprintf(&b, "<td>%.4f</td>", h.Metrics[n][i])
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table></div>")
	return map[string]any{"text/plain": h.String(), "text/html": b.String(), "image/svg+xml": h.SVG()}
}

// SVG draws one small line chart per metric (train and val_ together).
func (h *History) SVG() string {
	var base []string
	for _, n := range h.Names() {
		if !strings.HasPrefix(n, "val_") {
			base = append(base, n)
		}
	}
	for _, n := range h.Names() {
		if strings.HasPrefix(n, "val_") && h.Metrics[n[4:]] == nil {
			base = append(base, n)
		}
	}
	const w, ph, pad = 320, 200, 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`, w*max(len(base), 1), ph)
	for i, n := range base {
		series := [][]float64{h.Metrics[n]}
		if v, ok := h.Metrics["val_"+n]; ok && !strings.HasPrefix(n, "val_") {
			series = append(series, v)
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range series {
			for _, v := range s {
				if !math.IsNaN(v) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
		if hi <= lo {
			hi, lo = lo+0.5, lo-0.5
		}
		x0 := i * w
		fmt.Fprintf(&b, `<g transform="translate(%d,0)"><text x="%d" y="14" text-anchor="middle">%s</text>`, x0, w/2, html.EscapeString(n))
		fmt.Fprintf(&b, `<rect x="%d" y="20" width="%d" height="%d" fill="none" stroke="#ccc"/>`, pad, w-pad-10, ph-pad-20)
		fmt.Fprintf(&b, `<text x="%d" y="26" text-anchor="end">%.3g</text><text x="%d" y="%d" text-anchor="end">%.3g</text>`, pad-3, hi, pad-3, ph-pad, lo)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">epoch</text>`, w/2, ph-8)
		colors := []string{"#1f77b4", "#ff7f0e"}
		for si, s := range series {
			var pts []string
			for j, v := range s {
				if math.IsNaN(v) {
					continue
				}
				x := float64(pad)
				if len(s) > 1 {
					x += float64(j) * float64(w-pad-10) / float64(len(s)-1)
				} else {
					x += float64(w-pad-10) / 2
				}
				y := 20 + float64(ph-pad-20)*(hi-v)/(hi-lo)
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, x, y, colors[si])
			}
			dash := ""
			if si == 1 {
				dash = ` stroke-dasharray="4 3"`
			}
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"%s/>`, strings.Join(pts, " "), colors[si], dash)
		}
		b.WriteString("</g>")
	}
	b.WriteString("</svg>")
	return b.String()
}

func formatLogs(l Logs) string {
	var parts []string
	h := &History{Metrics: map[string][]float64{}}
	for k := range l {
		h.Metrics[k] = nil
	}
	for _, k := range h.Names() {
		parts = append(parts, fmt.Sprintf("%s: %.4f", k, l[k]))
	}
	return strings.Join(parts, " - ")
}

func publishText(s string) {
	display.CurrentPublisher().PublishDisplay(display.MIMEBundle{Data: map[string]any{"text/plain": s}}, "", false)
}
