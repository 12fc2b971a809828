package eval

import (
	"context"
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/display"
	"github.com/gopherlab/gopherlab/kernel/cell"
)

// Cell results keep the plain text display writes for people; only values
// display can show just as text fall back to %v.
func TestResultPlainText(t *testing.T) {
	e := newEval(t)
	cases := []struct {
		name  string
		code  string
		plain string // exact text/plain
		mime  string // a rich MIME type the result must carry, if any
		rich  string // substring of that entry
	}{
		{"markdown after statements", "import \"gopherlab/display\"\nn := 2\nn++\ndisplay.Markdown(\"# hi\")", "# hi", "text/markdown", "# hi"},
		{"markdown after a loop", "for i := 0; i < 2; i++ { fmt.Print(i) }\ndisplay.Markdown(\"*x*\")", "*x*", "text/markdown", "*x*"},
		{"bundle in a variable", "md := display.HTML(\"<b>bold</b>\")\nmd", "bold", "text/html", "<b>bold</b>"},
		{"JSON keeps its indented text", "display.JSON(map[string]int{\"a\": 1})", "{\n  \"a\": 1\n}", "application/json", ""},
		{"table keeps aligned columns", "type Row struct{ Name string; N int }\n[]Row{{\"ab\", 1}, {\"c\", 22}}",
			"   Name      N\n   string  int\n0  ab        1\n1  c        22\n\n[2 rows × 2 columns]", "text/html", "<table"},
		{"cell-defined MimeBundle", "type Badge struct{}\nfunc (Badge) MimeBundle() map[string]any { return map[string]any{\"text/html\": \"<i>b</i>\", \"text/plain\": \"badge\"} }\nBadge{}", "badge", "text/html", "<i>b</i>"},
		{"cell-defined String", "type Temp float64\nfunc (t Temp) String() string { return fmt.Sprintf(\"%.1f°C\", float64(t)) }\nTemp(21.5)", "21.5°C", "", ""},
		{"plain values as %v", "[]int{3, 1, 2}", "[3 1 2]", "", ""},
		{"struct as %v", "struct{ A int; B string }{7, \"x\"}", "{7 x}", "", ""},
		{"error as its message", "errors.New(\"boom\")", "boom", "text/html", "error: boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := run(t, e, c.code)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if len(s.results) != 1 {
				t.Fatalf("%d results, want 1", len(s.results))
			}
			b := s.results[0]
			if got := b.PlainText(); got != c.plain {
				t.Errorf("text/plain = %q, want %q", got, c.plain)
			}
			if c.mime != "" {
				v, ok := b.Data[c.mime]
				if !ok {
					t.Fatalf("no %s entry in %v", c.mime, b.Data)
				}
				if s, _ := v.(string); c.rich != "" && !strings.Contains(s, c.rich) {
					t.Errorf("%s = %q, want it to contain %q", c.mime, s, c.rich)
				}
			}
		})
	}
}

// A bundle the user keeps is not changed by showing it as a result.
func TestResultDoesNotMutateBundle(t *testing.T) {
	e := newEval(t)
	steps := []step{
		{code: "m := map[string]any{\"text/html\": \"<b>x</b>\"}\nb := display.MIMEBundle{Data: m}\nb", result: "<text/html>"},
		{code: "len(m)", result: "1"},
		{code: "m[\"text/plain\"] == nil", result: "true"},
		{code: "type Card struct{ data map[string]any }\nfunc (c Card) MimeBundle() map[string]any { return c.data }\nc := Card{map[string]any{\"text/html\": \"<p>c</p>\"}}\nc", result: "<text/html>"},
		{code: "len(c.data)", result: "1"},
	}
	for i, st := range steps {
		s, err := run(t, e, st.code)
		checkStep(t, i, st, s, err)
	}
}

// A silent execution (as frontends send for background work) shows
// nothing: no progress bar, no display output, no result.
func TestSilentExecution(t *testing.T) {
	e := newEval(t)
	code := "import \"gopherlab/display\"\np := display.NewProgress(3, \"work\")\nfor i := 0; i < 3; i++ { p.Add(1) }\np.Done()\ndisplay.Show(display.Markdown(\"shown\"))\n42"
	s := &testSink{}
	if err := e.Execute(context.Background(), cell.Request{Code: code, Silent: true}, s); err != nil {
		t.Fatal(err)
	}
	if len(s.displays) != 0 || len(s.results) != 0 {
		t.Errorf("silent cell published %d displays and %d results, want none", len(s.displays), len(s.results))
	}
	// The same cell run normally draws the bar and shows the markdown.
	s, err := run(t, e, code)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.displays) < 2 || s.Text() != "42" {
		t.Errorf("normal cell: %d displays, result %q; want the bar, the markdown and 42", len(s.displays), s.Text())
	}
	// Display calls of later cells reach the notebook again.
	s, err = run(t, e, "display.Show(display.Text(\"again\"))")
	if err != nil || len(s.displays) != 1 {
		t.Errorf("after a silent cell: %v, %d displays", err, len(s.displays))
	}
	if display.CurrentPublisher() == display.Discard {
		t.Error("the silent cell's publisher is still installed")
	}
}

// Cells reported while integrating the kernel.
func TestReportedCells(t *testing.T) {
	e := newEval(t)
	steps := []step{
		{code: "x := 1\ny := undefinedVar + x", ename: "CompileError", evalue: "line 2: undefined: undefinedVar"},
		{code: "a1 := 2\nvar b1 = missingName * a1", ename: "CompileError", evalue: "line 2: undefined: missingName"},
		{code: "x + 1", result: "2"},
		{code: "func f() (int, error) { return 1, nil }\nif _, err := f(); err != nil {\n\tpanic(err)\n}\n\"ok\"", result: "ok"},
		{code: "func g() error { return nil }\nif err := g(); err != nil {\n\tfmt.Println(\"failed:\", err)\n}\n\"fine\"", result: "fine"},
		{code: "func h() error { return errors.New(\"bad\") }\nif err := h(); err != nil {\n\tfmt.Println(\"failed:\", err)\n}", out: "failed: bad\n"},
		{code: "if _, err := f(); err != nil { panic(err) }", result: ""},
		{code: "dir, _ := os.MkdirTemp(\"\", \"gl\")\nos.RemoveAll(dir)", result: "<nil>"},
		{code: "var noErr error\nnoErr", result: "<nil>"},
		{code: "g()", result: "<nil>"},
	}
	for i, st := range steps {
		s, err := run(t, e, st.code)
		checkStep(t, i, st, s, err)
	}
}

// Releasing a finished cell's temporaries (see retain.go) keeps everything
// later cells can still reach: variables, closures and functions. (A
// goroutine still running when the next cell starts is not covered here:
// yaegi itself races on its global frame then.)
func TestReleasedCellState(t *testing.T) {
	e := newEval(t)
	steps := []step{
		{code: "total := 0\nfor _, n := range []int{1, 2, 3} {\n\ttotal += n\n}", result: ""},
		{code: "total", result: "6"},
		{code: "var fs []func() string\nfor _, w := range []string{\"a\", \"b\"} {\n\tword := strings.ToUpper(w)\n\tfs = append(fs, func() string { return word + \"!\" })\n}", result: ""},
		{code: "fs[len(fs)-1]()", result: "B!"},
		{code: "big := make([]int, 1000)\nbig[999] = 7\nlen(make([]byte, 1<<16))", result: "65536"},
		{code: "big[999]", result: "7"},
		{code: "func scale(x int) int { return x * 3 }\nscale(2)", result: "6"},
		{code: "strings.Repeat(\"ab\", scale(1))", result: "ababab"},
	}
	for i, st := range steps {
		s, err := run(t, e, st.code)
		checkStep(t, i, st, s, err)
	}
}
