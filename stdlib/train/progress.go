package train

import (
	"fmt"

	"github.com/gopherlab/gopherlab/display"
)

// progressBar shows one epoch's progress with display.Progress: an HTML bar
// updated in place in notebooks, a status line in terminals.
type progressBar struct {
	title string
	bar   *display.Progress
}

func newProgressBar(title string, total int) *progressBar {
	return &progressBar{title: title, bar: display.NewProgressWith(display.ProgressOptions{
		Total: max(total, 0), Label: title, Unit: "batch", MinInterval: 250e6})}
}

// update sets the step count and shows the running logs in the label (the
// bar rate-limits the updates).
func (p *progressBar) update(step int, logs Logs) {
	p.bar.SetLabel(p.title + " - " + formatLogs(logs))
	p.bar.Set(step)
}

// done shows the final logs and a note (time taken, "interrupted").
func (p *progressBar) done(logs Logs, note string) {
	label := p.title
	if len(logs) > 0 {
		label += " - " + formatLogs(logs)
	}
	if note != "" {
		label += fmt.Sprintf(" - %s", note)
	}
	p.bar.SetLabel(label)
	p.bar.Done()
}
