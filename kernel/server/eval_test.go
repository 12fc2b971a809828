package server

import (
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/kernel/client"
	"github.com/gopherlab/gopherlab/kernel/eval"
)

// TestRealEvaluator runs Go cells through the yaegi evaluator behind the
// protocol, as Jupyter does.
func TestRealEvaluator(t *testing.T) {
	ev, err := eval.New(eval.Options{NoRedirect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	h := startKernel(t, ev, Options{})
	c := h.dial(client.Options{})
	ctx := testCtx(t)
	if res, err := c.Execute(ctx, "x := 40", client.ExecuteOptions{}); err != nil || res.Status != "ok" {
		t.Fatalf("define: %v %+v", err, res)
	}
	res, err := c.Execute(ctx, "x + 2", client.ExecuteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "ok" || res.ExecutionCount != 2 {
		t.Fatalf("status %s count %d", res.Status, res.ExecutionCount)
	}
	var result *client.Output
	for i := range res.Outputs {
		if res.Outputs[i].Type == "execute_result" {
			result = &res.Outputs[i]
		}
	}
	if result == nil || result.Data["text/plain"] != "42" || result.ExecutionCount != 2 {
		t.Fatalf("outputs %+v", res.Outputs)
	}
	res, err = c.Execute(ctx, "undefinedName + 1", client.ExecuteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "error" || len(res.Traceback) == 0 || !strings.Contains(strings.Join(res.Traceback, "\n")+res.EValue, "undefinedName") {
		t.Fatalf("compile error reply %s %q %q", res.Status, res.EValue, res.Traceback)
	}
}
