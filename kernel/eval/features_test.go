package eval

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/kernel/cell"
)

func TestRedefinition(t *testing.T) {
	e := newEval(t)
	steps := []step{
		{code: "func f() int { return 1 }\nfunc g() int { return f() * 10 }\ng()", result: "10"},
		// A redefined function is used by earlier callers too.
		{code: "func f() int { return 2 }\ng()", result: "20"},
		{code: "var v = 1\nv", result: "1"},
		{code: "var v = \"now a string\"\nv", result: "now a string"},
		{code: "const K = 3\nK", result: "3"},
		{code: "const K = 4\nK * 2", result: "8"},
		{code: "data := []float64{1, 2, 3}\ncount := 3", result: ""},
		{code: "type Rec struct{ A int }\nr := Rec{A: 5}\nr.A", result: "5"},
		// Redefining a type replays the session; values of the old type are dropped.
		{code: "type Rec struct{ A, B int }\nRec{A: 1, B: 2}", result: "{1 2}", errSub: "values dropped (re-run the cells that define them): r"},
		{code: "len(data) + count", result: "6"},
		{code: "g()", result: "20"},
		{code: "r", ename: "CompileError", evalue: "undefined: r"},
		{code: "x := 1\nx := 2\nx", ename: "CompileError", evalue: "line 2: no new variables"},
		{code: "x := 1\nx", result: "1"},
		{code: "x := 2\nx", result: "2"},
	}
	for i, st := range steps {
		s, err := run(t, e, st.code)
		checkStep(t, i, st, s, err)
	}
	// %reset forgets everything.
	s, err := run(t, e, "%reset")
	if err != nil || !strings.Contains(s.Out(), "session reset") {
		t.Fatalf("%%reset: %v %q", err, s.Out())
	}
	if _, err := run(t, e, "g()"); err == nil || err.Name != "CompileError" {
		t.Errorf("g after %%reset: %v, want CompileError", err)
	}
	s, err = run(t, e, "strings.Repeat(\"ab\", 2)")
	if err != nil || s.Text() != "abab" {
		t.Errorf("after reset: %v %q", err, s.Text())
	}
}

func TestImports(t *testing.T) {
	e := newEval(t)
	steps := []step{
		// Unused imports are not errors.
		{code: "import (\n\t\"os\"\n\t\"net/url\"\n)\n1", result: "1"},
		{code: "u, _ := url.Parse(\"https://go.dev/x?y=1\")\nu.Host", result: "go.dev"},
		{code: "import mr \"math/rand\"\nr := mr.New(mr.NewSource(1))\nr.Intn(1) == 0", result: "true"},
		{code: "import \"gopherlab/display\"\ndisplay.MIMEHTML", result: "text/html"},
		{code: "import \"github.com/gopherlab/gopherlab/display\"\n_ = display.Text(\"x\")", result: ""},
		// Automatic imports.
		{code: "filepath.Base(\"/a/b.txt\")", result: "b.txt"},
		{code: "unicode.IsUpper('A')", result: "true"},
		{code: "hex.EncodeToString([]byte{255})", result: "ff"},
		{code: "import \"crypto/rand\"\nbuf := make([]byte, 4)\n_, err := rand.Read(buf)\nerr == nil", result: "true"},
	}
	for i, st := range steps {
		s, err := run(t, e, st.code)
		checkStep(t, i, st, s, err)
	}
	for _, p := range []string{"gopherlab/display", "gopherlab/convert", "gopherlab/train"} {
		if importable[p] == "" {
			t.Errorf("%s is not importable", p)
		}
	}
}

// A cell-defined type's methods are used where compiled code shows values.
func TestCellTypesInDisplay(t *testing.T) {
	e := newEval(t)
	s, err := run(t, e, `type Card struct{ Title string }
func (c Card) MimeBundle() map[string]any {
	return map[string]any{"text/html": "<h1>" + c.Title + "</h1>", "text/plain": "Card " + c.Title}
}
display.Show(Card{"shown"})
Card{"result"}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.displays) != 1 || s.displays[0].Data["text/html"] != "<h1>shown</h1>" {
		t.Errorf("display.Show of a cell type: %+v", s.displays)
	}
	if len(s.results) != 1 || s.results[0].Data["text/html"] != "<h1>result</h1>" || s.Text() != "Card result" {
		t.Errorf("result of a cell type: %+v", s.results)
	}
	s, err = run(t, e, "type Temp float64\nfunc (t Temp) String() string { return fmt.Sprintf(\"%.1f°C\", float64(t)) }\nfmt.Println(Temp(21.5))\nTemp(3)")
	if err != nil || s.Out() != "21.5°C\n" || s.Text() != "3.0°C" {
		t.Errorf("Stringer: %v out %q result %q", err, s.Out(), s.Text())
	}
	// Compiled rich values keep their rich rendering.
	s, err = run(t, e, "type Row struct{ Name string; Score float64 }\n[]Row{{\"a\", 1.5}, {\"b\", 2}}")
	if err != nil {
		t.Fatal(err)
	}
	// The plain text is display's aligned table, not %v.
	if _, ok := s.results[0].Data["text/html"]; !ok || s.Text() != "   Name      Score\n   string  float64\n0  a           1.5\n1  b           2.0\n\n[2 rows × 2 columns]" {
		t.Errorf("slice of structs: %+v", s.results[0].Data)
	}
}

func TestStdin(t *testing.T) {
	e := newEval(t)
	s := &testSink{inputs: []string{"gopher", "42"}}
	err := e.Execute(context.Background(), cell.Request{Code: "var name string\nvar n int\nfmt.Print(\"name? \")\nfmt.Scanln(&name)\nsc := bufio.NewScanner(os.Stdin)\nsc.Scan()\nn, _ = strconv.Atoi(sc.Text())\nfmt.Println(name, n+1)", AllowStdin: true}, s)
	if err != nil {
		t.Fatal(err)
	}
	if s.Out() != "name? gopher 43\n" || s.prompts != 2 {
		t.Errorf("stdout %q prompts %d", s.Out(), s.prompts)
	}
	// Without stdin the read fails with a clear error.
	s = &testSink{}
	err = e.Execute(context.Background(), cell.Request{Code: "var w string\n_, err := fmt.Scanln(&w)\nerr"}, s)
	if err != nil || !strings.Contains(s.Text(), "stdin is not allowed") {
		t.Errorf("no stdin: %v %q", err, s.Text())
	}
}

func TestMagics(t *testing.T) {
	e := newEval(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "helpers.go")
	if err := os.WriteFile(file, []byte("package main\n\nimport \"strings\"\n\n// Twice repeats s.\nfunc Twice(s string) string { return strings.Repeat(s, 2) }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		code, outSub, errSub, result, ename string
	}{
		{code: "%help", outSub: "%load FILE.go"},
		{code: "%help", outSub: `import "gopherlab/display"`},
		{code: "%env GOPHERLAB_TEST_VAR=hello", outSub: "env: GOPHERLAB_TEST_VAR=hello"},
		{code: "%env GOPHERLAB_TEST_VAR", outSub: "hello"},
		{code: "%env", outSub: "GOPHERLAB_TEST_VAR=hello"},
		{code: "os.Getenv(\"GOPHERLAB_TEST_VAR\")", result: "hello"},
		{code: "!echo shell-$GOPHERLAB_TEST_VAR", outSub: "shell-hello"},
		{code: "!echo to-err >&2; exit 3", errSub: "exit status 3"},
		{code: "!echo to-err >&2", errSub: "to-err"},
		{code: "%time fmt.Println(\"timed\")", outSub: "Wall time:"},
		{code: "%%time\nfor i := 0; i < 1000; i++ {}\nfmt.Println(\"done\")", outSub: "done\nWall time:"},
		{code: "%load " + file, outSub: "loaded"},
		{code: "Twice(\"ab\")", result: "abab"},
		{code: "answer := 42\ntype Unit struct{}\nfunc helper() {}", result: ""},
		{code: "%who", outSub: "answer"},
		{code: "%who", outSub: "helper"},
		{code: "x := 1\n%env GOPHERLAB_TEST_VAR=2\nx + 1", outSub: "env:", result: "2"},
		{code: "%load /nonexistent/file.go", ename: "MagicError"},
	}
	for _, c := range cases {
		s, err := run(t, e, c.code)
		if c.ename != "" {
			if err == nil || err.Name != c.ename {
				t.Errorf("%q: error %v, want %s", c.code, err, c.ename)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.code, err)
			continue
		}
		if !strings.Contains(s.Out(), c.outSub) {
			t.Errorf("%q: stdout %q lacks %q", c.code, s.Out(), c.outSub)
		}
		if !strings.Contains(s.Err(), c.errSub) {
			t.Errorf("%q: stderr %q lacks %q", c.code, s.Err(), c.errSub)
		}
		if s.Text() != c.result {
			t.Errorf("%q: result %q, want %q", c.code, s.Text(), c.result)
		}
	}
	s, _ := run(t, e, "%who")
	if strings.Contains(s.Out(), "_glResult") || strings.Contains(s.Out(), "ctx") {
		t.Errorf("%%who shows internal names: %q", s.Out())
	}
}

// A cell streams while it runs: output arrives before the cell ends.
func TestStreamsWhileRunning(t *testing.T) {
	e := newEval(t)
	s := &testSink{}
	done := make(chan error, 1)
	go func() {
		done <- e.Execute(context.Background(), cell.Request{Code: "fmt.Println(\"first\")\ntime.Sleep(600 * time.Millisecond)\nfmt.Println(\"second\")"}, s)
	}()
	time.Sleep(300 * time.Millisecond)
	if got := s.Out(); got != "first\n" {
		t.Errorf("while running stdout = %q, want %q", got, "first\n")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s.Out() != "first\nsecond\n" {
		t.Errorf("stdout %q", s.Out())
	}
}

func TestEvaluateUserExpression(t *testing.T) {
	e := newEval(t)
	if _, err := run(t, e, "scores := []int{3, 5}"); err != nil {
		t.Fatal(err)
	}
	b, err := e.Evaluate(context.Background(), "len(scores) * 10")
	if err != nil || b.Data["text/plain"] != "20" {
		t.Errorf("Evaluate: %v %+v", err, b.Data)
	}
	if _, err := e.Evaluate(context.Background(), "nosuch + 1"); err == nil {
		t.Error("Evaluate of an undefined name succeeded")
	}
}
