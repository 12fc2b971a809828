package interop

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// displayID returns transient.display_id of a display message.
func displayID(m kmsg) string {
	tr, _ := m.Content["transient"].(map[string]any)
	id, _ := tr["display_id"].(string)
	return id
}

// dataOf returns one MIME entry of a display message's data as text.
func dataOf(m kmsg, mime string) string {
	d, _ := m.Content["data"].(map[string]any)
	if s, ok := d[mime].(string); ok {
		return s
	}
	if d[mime] == nil {
		return ""
	}
	return fmt.Sprint(d[mime])
}

// TestDisplayMessages checks, through jupyter_client, that display calls in
// a cell arrive as display_data, update_display_data and clear_output on
// iopub with the executing request as parent, in order, before the idle
// status; and that an update from a goroutine after the cell finished still
// arrives without disturbing the next request.
func TestDisplayMessages(t *testing.T) {
	c := startClient(t, "gopherlab")
	code := `import "gopherlab/display"

h := display.New(display.HTML("<b>step 1</b>"))
h.Update(display.HTML("<b>step 2</b>"))
display.Show(display.Markdown("**shown**"))
display.Clear(true)
display.Show(display.Text("after clear"))`
	a := c.execute(code)
	mustOK(t, "display cell", a)

	var seq []kmsg
	for _, m := range a.IOPub {
		switch m.MsgType {
		case "display_data", "update_display_data", "clear_output":
			seq = append(seq, m)
		}
		if m.ParentID != a.MsgID {
			t.Errorf("%s has parent %q, want the execute request %q", m.MsgType, m.ParentID, a.MsgID)
		}
	}
	var kinds []string
	for _, m := range seq {
		kinds = append(kinds, m.MsgType)
	}
	want := []string{"display_data", "update_display_data", "display_data", "clear_output", "display_data"}
	if strings.Join(kinds, " ") != strings.Join(want, " ") {
		t.Fatalf("display messages %v, want %v\n%s", kinds, want, a.describe())
	}
	id := displayID(seq[0])
	if id == "" {
		t.Errorf("display.New sent no transient.display_id: %v", seq[0].Content)
	}
	if displayID(seq[1]) != id {
		t.Errorf("update_display_data display_id = %q, want %q", displayID(seq[1]), id)
	}
	if got := dataOf(seq[0], "text/html"); !strings.Contains(got, "<b>step 1</b>") {
		t.Errorf("first display text/html = %q", got)
	}
	if got := dataOf(seq[1], "text/html"); !strings.Contains(got, "<b>step 2</b>") {
		t.Errorf("update text/html = %q", got)
	}
	for i, m := range seq {
		if m.MsgType != "clear_output" && dataOf(m, "text/plain") == "" {
			t.Errorf("message %d (%s) has no text/plain", i, m.MsgType)
		}
	}
	if !strings.Contains(dataOf(seq[2], "text/markdown"), "**shown**") {
		t.Errorf("markdown display = %v", seq[2].Content)
	}
	if seq[3].Content["wait"] != true {
		t.Errorf("clear_output wait = %v, want true", seq[3].Content["wait"])
	}
	if dataOf(seq[4], "text/plain") != "after clear" {
		t.Errorf("last display = %v", seq[4].Content)
	}
	// Idle comes after every display message of the cell.
	if last := a.IOPub[len(a.IOPub)-1]; last.MsgType != "status" || last.str("execution_state") != "idle" {
		t.Errorf("last iopub message of the cell is %s, want status idle", last.MsgType)
	}

	t.Run("update from a later cell", func(t *testing.T) {
		b := c.execute(`h.Update(display.HTML("<i>step 3</i>"))`)
		mustOK(t, "update cell", b)
		ups := b.of("update_display_data")
		if len(ups) != 1 || displayID(ups[0]) != id || !strings.Contains(dataOf(ups[0], "text/html"), "step 3") {
			t.Errorf("update from a later cell: %v\n%s", ups, b.describe())
		}
	})

	t.Run("goroutine after the cell finished", func(t *testing.T) {
		b := c.execute("import \"time\"\ngo func() {\n\ttime.Sleep(300 * time.Millisecond)\n\th.Update(display.HTML(\"<i>late</i>\"))\n}()")
		mustOK(t, "goroutine cell", b)
		time.Sleep(50 * time.Millisecond)
		next := c.execute("6 * 7")
		mustOK(t, "cell while the goroutine runs", next)
		if got, _ := next.result(); got != "42" {
			t.Errorf("cell while the goroutine runs: %q", got)
		}
		d := c.do(map[string]any{"op": "drain", "seconds": 1.0})
		var late []kmsg
		for _, m := range append(append(b.IOPub, next.IOPub...), d.IOPub...) {
			if m.MsgType == "update_display_data" && strings.Contains(dataOf(m, "text/html"), "late") {
				late = append(late, m)
			}
		}
		if len(late) != 1 {
			t.Fatalf("late update arrived %d times, want once", len(late))
		}
		if displayID(late[0]) != id {
			t.Errorf("late update display_id %q, want %q", displayID(late[0]), id)
		}
		// The kernel still answers normally afterwards.
		after := c.execute("1 + 1")
		if got, _ := after.result(); got != "2" {
			t.Errorf("after the late update: %q\n%s", got, after.describe())
		}
	})
}
