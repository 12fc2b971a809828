package eval

import (
	"context"
	"runtime"
	"testing"

	"github.com/gopherlab/gopherlab/kernel/cell"
)

// heapAfterGC returns the live heap after a full collection.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// benchRetained runs b.N executions of code in one session and reports the
// heap a session keeps per executed cell ("retained-B/cell"): a kernel
// that runs for days must stay flat, so this should be near zero.
func benchRetained(b *testing.B, code string, opts Options) {
	e, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	count := 0
	exec := func() {
		count++
		req := cell.Request{Code: code, ExecutionCount: count}
		if err := e.Execute(context.Background(), req, &testSink{}); err != nil {
			b.Fatal(err)
		}
	}
	// Warm up: the first cells bind imports and fill caches.
	for i := 0; i < 50; i++ {
		exec()
	}
	before := heapAfterGC()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		exec()
	}
	b.StopTimer()
	after := heapAfterGC()
	b.ReportMetric(float64(int64(after)-int64(before))/float64(b.N), "retained-B/cell")
	runtime.KeepAlive(e)
}

// BenchmarkRetainedTrivialCell is the memory a `1 + 1` cell leaves behind.
func BenchmarkRetainedTrivialCell(b *testing.B) {
	benchRetained(b, "1 + 1", Options{NoRedirect: true})
}

// BenchmarkRetainedPrintCell is the memory a printing cell leaves behind,
// with the kernel's stdout/stderr redirection.
func BenchmarkRetainedPrintCell(b *testing.B) {
	benchRetained(b, "fmt.Println(\"hi\")", Options{})
}

// BenchmarkRetainedVarCell is the memory of a cell that redefines a
// short variable declaration every time.
func BenchmarkRetainedVarCell(b *testing.B) {
	benchRetained(b, "x := 1\nx + 1", Options{NoRedirect: true})
}

// BenchmarkRetainedBigResult shows a 64 KiB value as the cell's result: a
// value that is not kept in a variable must not stay alive.
func BenchmarkRetainedBigResult(b *testing.B) {
	benchRetained(b, "len(make([]byte, 1<<16))", Options{NoRedirect: true})
}

// BenchmarkRetainedRebind re-runs `data := make([]byte, 1<<16)`: the old
// value must be freed when the name is bound again.
func BenchmarkRetainedRebind(b *testing.B) {
	benchRetained(b, "data := make([]byte, 1<<16)\nlen(data)", Options{NoRedirect: true})
}
