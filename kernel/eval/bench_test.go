package eval

import (
	"context"
	"testing"

	"github.com/gopherlab/gopherlab/kernel/cell"
)

func benchCell(b *testing.B, code string, opts Options) {
	e, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	req := cell.Request{Code: code}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req.ExecutionCount = i + 1
		if err := e.Execute(context.Background(), req, &testSink{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrivialCell is the evaluator's share of a `1+1` round trip.
func BenchmarkTrivialCell(b *testing.B) { benchCell(b, "1 + 1", Options{NoRedirect: true}) }

// BenchmarkTrivialCellRedirect adds the stdout/stderr pipe synchronization.
func BenchmarkTrivialCellRedirect(b *testing.B) { benchCell(b, "1 + 1", Options{}) }

// BenchmarkMixedCell splits, rewrites and runs a function, a type and statements.
func BenchmarkMixedCell(b *testing.B) {
	benchCell(b, "type acc struct{ n int }\nfunc (a *acc) add(v int) { a.n += v }\na := &acc{}\nfor i := range 100 { a.add(i) }\na.n", Options{NoRedirect: true})
}

// BenchmarkPrint100kLines streams 100000 lines through the redirected fd.
func BenchmarkPrint100kLines(b *testing.B) {
	benchCell(b, "for i := 0; i < 100000; i++ { fmt.Println(i) }", Options{})
}

// BenchmarkLoop1e6 is interpreter speed: a million-iteration loop.
func BenchmarkLoop1e6(b *testing.B) {
	benchCell(b, "s := 0\nfor i := 0; i < 1000000; i++ { s += i }", Options{NoRedirect: true})
}

// BenchmarkNewEvaluator is the cost of a fresh session (symbol tables,
// prelude).
func BenchmarkNewEvaluator(b *testing.B) {
	for i := 0; i < b.N; i++ {
		e, err := New(Options{NoRedirect: true})
		if err != nil {
			b.Fatal(err)
		}
		e.Close()
	}
}
