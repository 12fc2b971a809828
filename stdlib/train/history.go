package train

import (
	"fmt"
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

// Chart returns a line chart of one metric per epoch, with its validation
// counterpart when recorded ("loss" also draws "val_loss").
func (h *History) Chart(metric string) *display.Chart {
	epochs := make([]int, len(h.Epochs))
	for i, e := range h.Epochs {
		epochs[i] = e + 1
	}
	c := display.LineChart().Title(metric).X("epoch").Y(metric)
	if v, ok := h.Metrics[metric]; ok {
		c.Series("train", epochs, v)
	}
	if v, ok := h.Metrics["val_"+metric]; ok {
		c.Series("validation", epochs, v)
	}
	return c
}

// Table returns the per-epoch logs as a display table.
func (h *History) Table() *display.Table {
	names := h.Names()
	headers := append([]string{"epoch", "seconds"}, names...)
	var rows [][]any
	for i, e := range h.Epochs {
		row := []any{e + 1, h.End[i].Sub(h.Begin[i]).Seconds()}
		for _, n := range names {
			row = append(row, h.Metrics[n][i])
		}
		rows = append(rows, row)
	}
	return display.NewTable(headers, rows)
}

// MimeBundle renders the history as SVG charts of each metric (train and
// validation) above a table of the per-epoch logs.
func (h *History) MimeBundle() map[string]any {
	var b strings.Builder
	b.WriteString("<div>")
	for _, n := range h.Names() {
		if strings.HasPrefix(n, "val_") && h.Metrics[n[4:]] != nil {
			continue
		}
		if svg, err := h.Chart(strings.TrimPrefix(n, "val_")).Size(420, 260).SVG(); err == nil {
			b.WriteString(`<div style="display:inline-block">` + svg + "</div>")
		}
	}
	b.WriteString(h.Table().HTML())
	b.WriteString("</div>")
	return map[string]any{"text/plain": h.String(), "text/html": b.String()}
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
