package train

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/gopherlab/gopherlab/display"
)

// recorder is a display.Publisher keeping every message, as the kernel's
// iopub publisher would send them.
type recorder struct {
	mu   sync.Mutex
	msgs []recorded
}

type recorded struct {
	id     string
	update bool
	text   string
	html   string
}

func (r *recorder) PublishDisplay(b display.MIMEBundle, id string, update bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, _ := b.Data["text/plain"].(string)
	h, _ := b.Data["text/html"].(string)
	r.msgs = append(r.msgs, recorded{id, update, t, h})
}

func (r *recorder) ClearOutput(bool) {}

func TestFitShowsLiveProgress(t *testing.T) {
	rec := &recorder{}
	old := display.SetPublisher(rec)
	defer display.SetPublisher(old)
	m, ds := smallCNN(t, 1)
	if _, err := m.Fit(context.Background(), ds, FitOptions{Epochs: 2, BatchSize: 16, Verbose: 1}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	ids := map[string]int{}
	var order []string
	for _, msg := range rec.msgs {
		if msg.id == "" {
			t.Fatalf("progress message without display id: %+v", msg)
		}
		if _, ok := ids[msg.id]; !ok {
			order = append(order, msg.id)
			if msg.update {
				t.Errorf("first message of %s is an update", msg.id)
			}
		}
		ids[msg.id]++
	}
	if len(order) != 2 {
		t.Fatalf("%d progress outputs, want one per epoch", len(order))
	}
	var last recorded
	for _, msg := range rec.msgs {
		if msg.id == order[1] {
			last = msg
		}
	}
	if !strings.Contains(last.text, "Epoch 2/2") || !strings.Contains(last.text, "loss:") || !strings.Contains(last.text, "6/6") {
		t.Errorf("final progress of epoch 2: %q", last.text)
	}
	if !strings.Contains(last.html, "gopherlab-progress") {
		t.Errorf("progress HTML: %.200s", last.html)
	}
}
