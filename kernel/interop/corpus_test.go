package interop

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// corpusCell is one cell of the evaluation corpus run over the real protocol.
type corpusCell struct {
	name   string
	code   string
	stdout string // exact stdout, when set
	stderr string // exact stderr, when set
	result string // exact execute_result text/plain, when set
	noRes  bool   // no execute_result at all
	ename  string // expected error name; "*" for any error
	evalue string // substring of evalue, when set
	tb     string // substring of the joined traceback, when set
	pause  time.Duration
	bug    string // open bug that keeps the cell skipped (not executed)
}

// corpus is a subset of the issue-3 evaluation corpus: the kinds of cells
// users write (imports, loops, closures, methods, generics, goroutines,
// errors), redefinitions and adversarial cells, run in one kernel session in
// this order through jupyter_client.
var corpus = []corpusCell{
	{name: "import and print", code: "import \"fmt\"\nfmt.Println(\"hi\")", stdout: "hi\n", noRes: true},
	{name: "func then call", code: "func add(a, b int) int { return a + b }\nadd(2, 3)", result: "5"},
	{name: "loop", code: "sum := 0\nfor i := 1; i <= 10; i++ {\n\tsum += i\n}\nsum", result: "55"},
	{name: "range over int", code: "for i := range 3 {\n\tfmt.Print(i, \" \")\n}", stdout: "0 1 2 ", noRes: true},
	{name: "closure", code: "counter := func() func() int {\n\tn := 0\n\treturn func() int { n++; return n }\n}()\ncounter()\ncounter()\ncounter()", result: "3"},
	{name: "struct with method", code: "type Point struct{ X, Y int }\n\nfunc (p Point) Add(q Point) Point { return Point{p.X + q.X, p.Y + q.Y} }\n\nfmt.Println(Point{1, 2}.Add(Point{3, 4}))", stdout: "{4 6}\n"},
	{name: "String method seen by fmt", code: "type Celsius float64\n\nfunc (c Celsius) String() string { return fmt.Sprintf(\"%.1f°C\", float64(c)) }\n\nfmt.Println(Celsius(21.5))", stdout: "21.5°C\n"},
	{name: "generic func", code: "func Map[T any](xs []T, f func(T) T) []T {\n\tout := make([]T, 0, len(xs))\n\tfor _, x := range xs {\n\t\tout = append(out, f(x))\n\t}\n\treturn out\n}\n\nfmt.Println(Map([]int{1, 2, 3}, func(i int) int { return i * i }))", stdout: "[1 4 9]\n"},
	{name: "generic constraint", code: "type Number interface{ ~int | ~float64 }\n\nfunc Sum[T Number](xs []T) T {\n\tvar s T\n\tfor _, x := range xs {\n\t\ts += x\n\t}\n\treturn s\n}\n\nSum([]float64{1.5, 2.5})", result: "4"},
	{name: "map of slices", code: "groups := map[string][]int{}\nfor i := 0; i < 6; i++ {\n\tk := \"even\"\n\tif i%2 == 1 {\n\t\tk = \"odd\"\n\t}\n\tgroups[k] = append(groups[k], i)\n}\nfmt.Println(groups[\"even\"], groups[\"odd\"], len(groups))", stdout: "[0 2 4] [1 3 5] 2\n"},
	{name: "goroutines and channels", code: "ch := make(chan int)\ngo func() {\n\tfor i := 1; i <= 4; i++ {\n\t\tch <- i * i\n\t}\n\tclose(ch)\n}()\ntotal := 0\nfor v := range ch {\n\ttotal += v\n}\ntotal", result: "30"},
	{name: "errors.Is", code: "import (\n\t\"errors\"\n\t\"strconv\"\n)\n\n_, err := strconv.Atoi(\"x1\")\nerrors.Is(err, strconv.ErrSyntax)", result: "true"},
	{name: "automatic import", code: "strings.ToUpper(\"go\")", result: "GO"},
	{name: "unused import is fine", code: "import \"os\"\n1", result: "1"},
	{name: "stderr kept apart", code: "fmt.Fprintln(os.Stderr, \"warn\")\nfmt.Println(\"out\")", stdout: "out\n", stderr: "warn\n"},
	{name: "log output", code: "import \"log\"\nlog.SetFlags(0)\nlog.Println(\"logged\")", stderr: "logged\n"},
	{name: "define greet", code: "func greet() string { return \"hello\" }\ngreet()", result: "hello"},
	{name: "redefine greet", code: "func greet() string { return \"bonjour\" }\ngreet()", result: "bonjour"},
	{name: "var declared", code: "var limit = 10", noRes: true},
	{name: "var re-run", code: "var limit = 10\nlimit * 2", result: "20"},
	{name: "type declared", code: "type Pair struct{ A int }\nPair{1}", result: "{1}"},
	{name: "type redefined", code: "type Pair struct{ A, B int }\nPair{1, 2}", result: "{1 2}"},
	{name: "compile error names the line", code: "x := 1\ny := undefinedVar + x", ename: "CompileError", evalue: "undefinedVar", bug: bugUndefinedGlobal},
	{name: "type error names the line", code: "n2 := 1\nm2 := n2 + \"a\"", ename: "CompileError", tb: "line 2"},
	{name: "after compile error", code: "sum + 1", result: "56"},
	{name: "division by zero", code: "zero := 0\n10 / zero", ename: "*", evalue: "divide by zero"},
	{name: "nil pointer", code: "var pp *Point\npp.X", ename: "*", evalue: "nil pointer"},
	{name: "nil map write", code: "var nm map[string]int\nnm[\"k\"] = 1", ename: "*", evalue: "nil map"},
	{name: "explicit panic", code: "panic(\"on purpose\")", ename: "*", evalue: "on purpose"},
	{name: "os.Exit does not kill the kernel", code: "os.Exit(3)", ename: "*"},
	{name: "alive after os.Exit", code: "add(40, 2)", result: "42"},
	{name: "deep recursion", code: "func down(n int) int { return down(n+1) + 1 }\ndown(0)", ename: "*"},
	{name: "alive after deep recursion", code: "add(2, 2)", result: "4"},
	{name: "late goroutine panic", code: "import \"time\"\ngo func() {\n\ttime.Sleep(100 * time.Millisecond)\n\tpanic(\"late\")\n}()", noRes: true, pause: 500 * time.Millisecond},
	{name: "alive after late panic", code: "add(1, 2)", result: "3"},
	{name: "shell command", code: "!echo shell works", stdout: "shell works\n"},
}

func TestCorpusOverJupyterClient(t *testing.T) {
	c := startClient(t, "gopherlab")
	for _, cc := range corpus {
		if cc.bug != "" {
			t.Run(cc.name, func(t *testing.T) { pending(t, cc.bug) })
			continue
		}
		a := c.execute(cc.code, map[string]any{"timeout": 60})
		if cc.pause > 0 {
			time.Sleep(cc.pause)
		}
		t.Run(cc.name, func(t *testing.T) {
			if a.Reply == nil {
				t.Fatalf("no reply\n%s", a.describe())
			}
			status := a.Reply.str("status")
			if cc.ename != "" {
				e, ok := a.errorOut()
				if status != "error" || !ok {
					t.Fatalf("want an error, got status %q\n%s", status, a.describe())
				}
				if cc.ename != "*" && e.str("ename") != cc.ename {
					t.Errorf("ename = %q, want %q", e.str("ename"), cc.ename)
				}
				if cc.evalue != "" && !strings.Contains(e.str("evalue"), cc.evalue) {
					t.Errorf("evalue = %q, want it to contain %q", e.str("evalue"), cc.evalue)
				}
				tb, _ := e.Content["traceback"].([]any)
				if cc.tb != "" && !strings.Contains(fmt.Sprint(tb...), cc.tb) {
					t.Errorf("traceback %q does not mention %q", tb, cc.tb)
				}
				return
			}
			if status != "ok" {
				t.Fatalf("status %q\n%s", status, a.describe())
			}
			if cc.stdout != "" && a.stream("stdout") != cc.stdout {
				t.Errorf("stdout = %q, want %q", a.stream("stdout"), cc.stdout)
			}
			if cc.stderr != "" && a.stream("stderr") != cc.stderr {
				t.Errorf("stderr = %q, want %q", a.stream("stderr"), cc.stderr)
			}
			res, ok := a.result()
			if cc.result != "" && res != cc.result {
				t.Errorf("result = %q (present %v), want %q\n%s", res, ok, cc.result, a.describe())
			}
			if cc.noRes && ok {
				t.Errorf("unexpected execute_result %q", res)
			}
		})
	}
}
