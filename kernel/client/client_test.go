package client

import (
	"testing"

	"github.com/gopherlab/gopherlab/kernel/wire"
)

func TestParseOutput(t *testing.T) {
	tests := []struct {
		msgType string
		content map[string]any
		ok      bool
		check   func(Output) bool
	}{
		{"stream", map[string]any{"name": "stdout", "text": "hi\n"}, true, func(o Output) bool { return o.Name == "stdout" && o.Text == "hi\n" }},
		{"display_data", map[string]any{"data": map[string]any{"text/plain": "x"}, "metadata": map[string]any{}, "transient": map[string]any{"display_id": "d1"}}, true,
			func(o Output) bool { return o.DisplayID == "d1" && o.Data["text/plain"] == "x" }},
		{"execute_result", map[string]any{"execution_count": 3, "data": map[string]any{"text/plain": "2"}, "metadata": map[string]any{}}, true, func(o Output) bool { return o.ExecutionCount == 3 }},
		{"error", map[string]any{"ename": "E", "evalue": "v", "traceback": []string{"E: v"}}, true, func(o Output) bool { return o.EName == "E" && len(o.Traceback) == 1 }},
		{"clear_output", map[string]any{"wait": true}, true, func(o Output) bool { return o.Wait }},
		{"status", map[string]any{"execution_state": "idle"}, false, nil},
		{"execute_input", map[string]any{"code": "x", "execution_count": 1}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.msgType, func(t *testing.T) {
			m, err := wire.NewMessage(tt.msgType, "s", nil, tt.content)
			if err != nil {
				t.Fatal(err)
			}
			o, ok, err := ParseOutput(m)
			if err != nil || ok != tt.ok {
				t.Fatalf("ok %v err %v", ok, err)
			}
			if ok && (o.Type != tt.msgType || !tt.check(o)) {
				t.Fatalf("output %+v", o)
			}
		})
	}
	bad := &wire.Message{Header: wire.Header{MsgType: "stream"}, Content: []byte(`{"text": 5}`)}
	if _, _, err := ParseOutput(bad); err == nil {
		t.Fatal("bad stream content accepted")
	}
}
