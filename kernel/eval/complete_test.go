package eval

import (
	"strings"
	"testing"

	"github.com/gopherlab/gopherlab/kernel/cell"
	"github.com/traefik/yaegi/interp"
)

func TestCancelerFindsInterpreterState(t *testing.T) {
	if newCanceler(interp.New(interp.Options{})) == nil {
		t.Fatal("yaegi's run-cancellation fields changed; update cancel.go")
	}
}

func TestComplete(t *testing.T) {
	e := newEval(t)
	if _, err := run(t, e, "import \"strings\"\ntype Model struct{ Epochs int; Name string }\nfunc (m Model) Fit() {}\nmodel := Model{Epochs: 3}\nvar buf bytes.Buffer\nlearningRate := 0.01\nfunc trainStep() {}"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		code        string
		cursor      int
		start       int
		mustHave    []string
		mustNotHave []string
	}{
		{"strings.Sp", 10, 8, []string{"Split", "SplitN", "SplitAfter"}, []string{"Join"}},
		{"x := strings.ToU", 16, 13, []string{"ToUpper"}, nil},
		{"fmt.Pri", 7, 4, []string{"Printf", "Println", "Print"}, []string{"Sprintf"}},
		{"model.", 6, 6, []string{"Epochs", "Name"}, nil},
		{"model.Ep", 8, 6, []string{"Epochs"}, []string{"Name"}},
		{"buf.Wr", 6, 4, []string{"WriteString", "Write"}, nil},
		{"learn", 5, 0, []string{"learningRate"}, nil},
		{"train", 5, 0, []string{"trainStep"}, nil},
		{"fu", 2, 0, []string{"func"}, nil},
		{"appe", 4, 0, []string{"append"}, nil},
		{"strc", 4, 0, []string{"strconv"}, []string{"struct"}},
		{"stru", 4, 0, []string{"struct"}, nil},
		{"display.Sh", 10, 8, []string{"Show"}, nil},
		// Cursor inside a longer line, with non-ASCII text before it
		// (offsets count code points).
		{"s := \"héllo\"; strings.Con", 25, 22, []string{"Contains"}, nil},
		{"fmt.Println(strings.Has)", 23, 20, []string{"HasPrefix", "HasSuffix"}, nil},
		{"_gl", 3, 0, nil, []string{"_glResult", "_glWrap"}},
	}
	for _, c := range cases {
		got := e.Complete(c.code, c.cursor)
		if got.CursorStart != c.start || got.CursorEnd != c.cursor {
			t.Errorf("%q@%d: cursor %d-%d, want %d-%d", c.code, c.cursor, got.CursorStart, got.CursorEnd, c.start, c.cursor)
		}
		for _, m := range c.mustHave {
			if !containsStr(got.Matches, m) {
				t.Errorf("%q@%d: matches %v lack %q", c.code, c.cursor, got.Matches, m)
			}
		}
		for _, m := range c.mustNotHave {
			if containsStr(got.Matches, m) {
				t.Errorf("%q@%d: matches include %q", c.code, c.cursor, m)
			}
		}
		if len(got.Types) != len(got.Matches) {
			t.Errorf("%q: %d types for %d matches", c.code, len(got.Types), len(got.Matches))
		}
	}
	got := e.Complete("strings.Spli", 12)
	for _, ty := range got.Types {
		if ty.Text == "Split" && (ty.Type != "function" || !strings.Contains(ty.Signature, "func strings.Split(string, string) []string")) {
			t.Errorf("type of Split: %+v", ty)
		}
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestInspect(t *testing.T) {
	e := newEval(t)
	if _, err := run(t, e, "// scale multiplies.\nfunc scale(x float64, k int) float64 { return x * float64(k) }\nweights := []float64{0.5, 1.5}\ntype Layer struct{ Units int }"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		code   string
		cursor int
		want   []string
	}{
		{"strings.Split(a, b)", 10, []string{"func Split(s, sep string) []string", "slices s into all substrings"}},
		{"display.Show(v)", 9, []string{"func Show(v any)"}},
		{"strings.Split(a, b)", 2, []string{"package strings"}},
		{"y := scale(2, 3)", 7, []string{"func scale(x float64, k int) float64", "line 2"}},
		{"weights", 3, []string{"[]float64", "[0.5 1.5]"}},
		{"Layer{}", 1, []string{"type Layer struct{ Units int }"}},
		{"time.Second", 8, []string{"Second"}},
	}
	for _, c := range cases {
		got := e.Inspect(c.code, c.cursor, 0)
		if !got.Found {
			t.Errorf("%q@%d: not found", c.code, c.cursor)
			continue
		}
		text, _ := got.Data.Data["text/plain"].(string)
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%q@%d: %q lacks %q", c.code, c.cursor, text, w)
			}
		}
	}
	if got := e.Inspect("   ", 1, 0); got.Found {
		t.Errorf("inspect of blanks found %+v", got)
	}
	if got := e.Inspect("nosuchname", 3, 0); got.Found {
		t.Errorf("inspect of unknown name found %+v", got)
	}
}

func TestIsComplete(t *testing.T) {
	e := newEval(t)
	cases := []struct {
		code   string
		status cell.Completeness
		indent string
	}{
		{"x := 1", cell.Complete, ""},
		{"func f() {", cell.Incomplete, "    "},
		{"for i := 0; i < 3; i++ {\n\tif i > 0 {", cell.Incomplete, "        "},
		{"fmt.Println(1,", cell.Incomplete, "    "},
		{"x := 1 +", cell.Incomplete, "    "},
		{"s := `raw\nstring", cell.Incomplete, ""},
		{"x := )", cell.Invalid, ""},
		{"}", cell.Invalid, ""},
		{"func f() {}\nf()", cell.Complete, ""},
		{"%time f()", cell.Complete, ""},
		{"", cell.Complete, ""},
		{"x := 'ab", cell.Invalid, ""},
	}
	for _, c := range cases {
		st, ind := e.IsComplete(c.code)
		if st != c.status || ind != c.indent {
			t.Errorf("%q: %s %q, want %s %q", c.code, st, ind, c.status, c.indent)
		}
	}
}
