package eval

import (
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/kernel/cell"
)

// step is one cell of a session and what the user must see.
type step struct {
	code   string
	result string // expected text/plain result; "" means no result
	out    string // expected stdout (exact unless outSub)
	outSub bool   // out is a substring of stdout
	errSub string // expected stderr substring
	ename  string // expected error name; "" means success
	evalue string // substring of the error value
}

// corpus is a session of real-looking cells, run in order in one
// evaluator: later cells use what earlier ones defined.
var corpus = []step{
	// Expressions and results.
	{code: "1 + 1", result: "2"},
	{code: `"hello, " + "gopher"`, result: "hello, gopher"},
	{code: "3.0 / 2", result: "1.5"},
	{code: "x := 40\nx + 2", result: "42"},
	{code: "x", result: "40"},
	{code: "x++\nx", result: "41"},
	{code: "var y = 1", result: ""},
	{code: "var y = 2\ny", result: "2"},
	{code: "const Pi2 = 6.28\nPi2", result: "6.28"},
	{code: "[]int{1, 2, 3}", result: "[1 2 3]"},
	{code: `map[string]int{"a": 1}`, result: "   key     value\n   string    int\n0  a           1\n\n[1 row × 2 columns]"}, // display shows maps as tables
	{code: "type row struct{ Name string; N int }\n[]row{{\"a\", 1}, {\"b\", 2}}", result: "   Name      N\n   string  int\n0  a         1\n1  b         2\n\n[2 rows × 2 columns]"},
	{code: "var nothing error\nnothing", result: "<nil>"},
	{code: "true && !false", result: "true"},
	// Output.
	{code: `fmt.Println("hi")`, out: "hi\n"},
	{code: "import \"fmt\"\nfmt.Printf(\"%d-%s\\n\", 7, \"x\")", out: "7-x\n"},
	{code: `fmt.Print("a"); fmt.Print("b")`, out: "ab"},
	{code: `println("builtin println")`, out: "builtin println\n"},
	{code: `log.SetFlags(0); log.Println("logged")`, errSub: "logged"},
	// Mixed declarations and statements in any order.
	{code: "import \"strings\"\nfunc shout(s string) string { return strings.ToUpper(s) + \"!\" }\nshout(\"go\")", result: "GO!"},
	{code: "total := add(2, 3)\nfunc add(a, b int) int { return a + b }\ntotal", result: "5"},
	{code: "type Point struct{ X, Y int }\nfunc (p Point) Add(q Point) Point { return Point{p.X + q.X, p.Y + q.Y} }\np := Point{1, 2}.Add(Point{3, 4})\np.X*10 + p.Y", result: "46"},
	{code: "p.X", result: "4"},
	{code: "func (p Point) String() string { return fmt.Sprintf(\"(%d,%d)\", p.X, p.Y) }\np", result: "(4,6)"},
	{code: "fmt.Println(p)", out: "(4,6)\n"},
	{code: "fmt.Sprintf(\"%v|%s\", p, p)", result: "(4,6)|(4,6)"},
	// Loops, closures, slices, maps.
	{code: "sum := 0\nfor i := 0; i < 10; i++ { sum += i }\nsum", result: "45"},
	{code: "n := 0\nfor i := range 5 { n += i }\nn", result: "10"},
	{code: "cnt := 0\nfor range 3 { cnt++ }\ncnt", result: "3"},
	{code: "lim := 4\nacc := []int{}\nfor i := range lim { acc = append(acc, i*i) }\nacc", result: "[0 1 4 9]"},
	{code: "words := []string{\"b\", \"a\", \"c\"}\nsort.Strings(words)\nwords", result: "[a b c]"},
	{code: "counter := func() func() int { c := 0; return func() int { c++; return c } }()\ncounter(); counter()\ncounter()", result: "3"},
	{code: "groups := map[string][]int{}\nfor i := 0; i < 6; i++ { k := \"odd\"; if i%2 == 0 { k = \"even\" }; groups[k] = append(groups[k], i) }\ngroups[\"even\"]", result: "[0 2 4]"},
	{code: "len(groups[\"odd\"])", result: "3"},
	{code: "func fib(n int) int { if n < 2 { return n }; return fib(n-1) + fib(n-2) }\nfib(20)", result: "6765"},
	{code: "func sumAll(xs ...int) (s int) { for _, x := range xs { s += x }; return }\nsumAll(1, 2, 3, 4)", result: "10"},
	{code: "s := \"héllo\"\nfor i, r := range s { if i == 1 { fmt.Println(string(r)) } }", out: "é\n"},
	{code: "matrix := [][]float64{{1, 2}, {3, 4}}\nmatrix[1][0]", result: "3"},
	{code: "func divmod(a, b int) (int, int) { return a / b, a % b }\nq, r := divmod(17, 5)\nfmt.Println(q, r)", out: "3 2\n"},
	{code: "divmod(9, 4)", result: "2 1"},
	{code: "strconv.Atoi(\"12\")", result: "12 <nil>"},
	{code: "display.Markdown(\"**bold**\")", result: "**bold**"},
	// Generics.
	{code: "func Map[T, U any](xs []T, f func(T) U) []U { out := make([]U, 0, len(xs)); for _, x := range xs { out = append(out, f(x)) }; return out }\nMap[int, string]([]int{1, 2, 3}, func(i int) string { return strconv.Itoa(i * 2) })", result: "[2 4 6]"},
	{code: "type Stack[T any] struct{ items []T }\nfunc (s *Stack[T]) Push(v T) { s.items = append(s.items, v) }\nst := &Stack[int]{}\nst.Push(1); st.Push(2)\nlen(st.items)", result: "2"},
	{code: "func Filter[T any](xs []T, keep func(T) bool) []T { var out []T; for _, x := range xs { if keep(x) { out = append(out, x) } }; return out }\nevens := Filter[int]([]int{1, 2, 3, 4}, func(n int) bool { return n%2 == 0 })\nevens", result: "[2 4]"},
	{code: "var odds = Filter[int]([]int{1, 2, 3}, func(n int) bool { return n%2 == 1 })\nlen(odds)", result: "2"},
	{code: "min(3, 1, 2)", result: "1"},
	{code: "max(2.5, 7.5)", result: "7.5"},
	{code: "mm := map[string]int{\"a\": 1}\nclear(mm)\nlen(mm)", result: "0"},
	// Goroutines and channels.
	{code: "ch := make(chan int)\ngo func() { for i := 0; i < 3; i++ { ch <- i }; close(ch) }()\ngot := 0\nfor v := range ch { got += v }\ngot", result: "3"},
	{code: "var wg sync.WaitGroup\nvar mu sync.Mutex\nhits := 0\nfor i := 0; i < 8; i++ { wg.Add(1); go func() { defer wg.Done(); mu.Lock(); hits++; mu.Unlock() }() }\nwg.Wait()\nhits", result: "8"},
	{code: "res := make(chan int, 3)\nfunc worker(id int, out chan<- int) { out <- id * 10 }\nfor i := 1; i <= 3; i++ { go worker(i, res) }\nsumW := 0\nfor i := 0; i < 3; i++ { sumW += <-res }\nsumW", result: "60"},
	{code: "select { case v := <-time.After(10 * time.Millisecond): _ = v; fmt.Println(\"tick\") }", out: "tick\n"},
	// Errors as values.
	{code: "_, err := strconv.Atoi(\"x1\")\nerr", result: "strconv.Atoi: parsing \"x1\": invalid syntax"},
	{code: "errors.New(\"boom\")", result: "boom"},
	{code: "type MyErr struct{ Code int }\nfunc (e MyErr) Error() string { return fmt.Sprintf(\"code %d\", e.Code) }\nMyErr{7}", result: "code 7"},
	{code: "func check(v int) error { if v < 0 { return fmt.Errorf(\"negative: %d\", v) }; return nil }\ncheck(-1)", result: "negative: -1"},
	{code: "check(1) == nil", result: "true"},
	{code: "wrapped := fmt.Errorf(\"ctx: %w\", io.EOF)\nerrors.Is(wrapped, io.EOF)", result: "true"},
	// Standard library use.
	{code: "strings.Fields(\" a b  c \")", result: "[a b c]"},
	{code: "math.Sqrt(16)", result: "4"},
	{code: "b, _ := json.Marshal(map[string]int{\"k\": 1})\nstring(b)", result: `{"k":1}`},
	{code: "time.Duration(1500) * time.Millisecond", result: "1.5s"},
	{code: "var sb strings.Builder\nsb.WriteString(\"abc\")\nsb.Len()", result: "3"},
	{code: "re := regexp.MustCompile(`\\d+`)\nre.FindAllString(\"a1 b22 c333\", -1)", result: "[1 22 333]"},
	{code: "bytes.Repeat([]byte(\"ab\"), 2)", result: "[97 98 97 98]"},
	{code: "ctx.Err() == nil", result: "true"},
	{code: "select { case <-ctx.Done(): fmt.Println(\"done\"); default: fmt.Println(\"running\") }", out: "running\n"},
	// Statements only, no result.
	{code: "if x > 0 { fmt.Println(\"positive\") }", out: "positive\n"},
	{code: "switch { case x > 100: fmt.Println(\"big\"); default: fmt.Println(\"small\") }", out: "small\n"},
	{code: "func noop() {}\nnoop()", result: ""},
	{code: "// just a comment", result: ""},
	{code: "", result: ""},
	// Type aliases (types.Alias since Go 1.23; no go/types is involved).
	{code: "type Celsius = float64\nvar temp Celsius = 21.5\ntemp + 1", result: "22.5"},
	{code: "type Vec[T any] = []T\nvar v Vec[int]", ename: "CompileError", evalue: "line 1: generic type aliases"},
	// Structs with embedded types and interfaces.
	{code: "type Animal interface{ Sound() string }\ntype Dog struct{ Name string }\nfunc (d Dog) Sound() string { return d.Name + \" says woof\" }\nvar a Animal = Dog{\"Rex\"}\na.Sound()", result: "Rex says woof"},
	{code: "type Base struct{ ID int }\ntype User struct { Base; Name string }\nu := User{Base{7}, \"ann\"}\nu.ID", result: "7"},
	{code: "users := []User{{Base{1}, \"a\"}, {Base{2}, \"b\"}}\nsort.Slice(users, func(i, j int) bool { return users[i].ID > users[j].ID })\nusers[0].Name", result: "b"},
}

func TestCorpus(t *testing.T) {
	if len(corpus) < 60 {
		t.Fatalf("corpus has %d cells, want at least 60", len(corpus))
	}
	e := newEval(t)
	for i, st := range corpus {
		s, err := run(t, e, st.code)
		checkStep(t, i, st, s, err)
	}
}

func checkStep(t *testing.T, i int, st step, s *testSink, err *cell.Error) {
	t.Helper()
	name := st.code
	if len(name) > 60 {
		name = name[:60] + "…"
	}
	var ce string
	if err != nil {
		ce = err.Error()
	}
	if st.ename == "" && err != nil {
		t.Errorf("cell %d %q: unexpected error %s", i, name, ce)
		return
	}
	if st.ename != "" {
		if err == nil {
			t.Errorf("cell %d %q: no error, want %s", i, name, st.ename)
			return
		}
		if !strings.HasPrefix(ce, st.ename+":") && ce != st.ename {
			t.Errorf("cell %d %q: error %q, want name %s", i, name, ce, st.ename)
		}
		if !strings.Contains(ce, st.evalue) {
			t.Errorf("cell %d %q: error %q, want it to contain %q", i, name, ce, st.evalue)
		}
	}
	if got := s.Text(); got != st.result {
		t.Errorf("cell %d %q: result %q, want %q", i, name, got, st.result)
	}
	if st.result == "" && s.HasResult() {
		t.Errorf("cell %d %q: unexpected result %q", i, name, s.Text())
	}
	if st.outSub {
		if !strings.Contains(s.Out(), st.out) {
			t.Errorf("cell %d %q: stdout %q, want it to contain %q", i, name, s.Out(), st.out)
		}
	} else if s.Out() != st.out {
		t.Errorf("cell %d %q: stdout %q, want %q", i, name, s.Out(), st.out)
	}
	if st.errSub != "" && !strings.Contains(s.Err(), st.errSub) {
		t.Errorf("cell %d %q: stderr %q, want it to contain %q", i, name, s.Err(), st.errSub)
	}
}
