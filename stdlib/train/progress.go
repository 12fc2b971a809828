package train

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/gopherlab/gopherlab/display"
)

// progressBar is one live-updated display of an epoch's progress.
type progressBar struct {
	id    string
	title string
	total int
	start time.Time
	last  time.Time
	step  int
}

func newProgressBar(title string, total int) *progressBar {
	var b [8]byte
	rand.Read(b[:])
	p := &progressBar{id: "train-" + hex.EncodeToString(b[:]), title: title, total: total, start: time.Now()}
	display.CurrentPublisher().PublishDisplay(p.bundle(0, nil, ""), p.id, false)
	return p
}

// update refreshes the bar at most every 250ms (and on the last step).
func (p *progressBar) update(step int, logs Logs) {
	p.step = step
	if time.Since(p.last) < 250*time.Millisecond && step != p.total {
		return
	}
	p.last = time.Now()
	display.CurrentPublisher().PublishDisplay(p.bundle(step, logs, ""), p.id, true)
}

func (p *progressBar) done(logs Logs, note string) {
	display.CurrentPublisher().PublishDisplay(p.bundle(p.step, logs, note), p.id, true)
}

func (p *progressBar) bundle(step int, logs Logs, note string) display.MIMEBundle {
	frac := 0.0
	if p.total > 0 {
		frac = min(float64(step)/float64(p.total), 1)
	}
	const width = 30
	filled := int(frac * width)
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(".", width-filled-1)
	}
	elapsed := time.Since(p.start).Seconds()
	eta := ""
	if step > 0 && step < p.total {
		eta = fmt.Sprintf(" - ETA %.0fs", elapsed/float64(step)*float64(p.total-step))
	}
	tail := ""
	if len(logs) > 0 {
		tail = " - " + formatLogs(logs)
	}
	if note != "" {
		tail += " - " + note
	}
	text := fmt.Sprintf("%s %d/%d [%s] %.1fs%s%s", p.title, step, p.total, bar, elapsed, eta, tail)
	h := fmt.Sprintf(`<div style="font-family:monospace">%s <progress value="%d" max="%d" style="width:240px"></progress> %d/%d %.1fs%s%s</div>`,
		html.EscapeString(p.title), step, max(p.total, 1), step, p.total, elapsed, html.EscapeString(eta), html.EscapeString(tail))
	return display.MIMEBundle{Data: map[string]any{"text/plain": text, "text/html": h}}
}
