package display

import (
	"io"
	"math"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// BenchmarkRenderArrow1M renders a 1,000,000-row Arrow record: only the
// shown rows are read, so the cost does not grow with the row count.
func BenchmarkRenderArrow1M(b *testing.B) {
	t := &testing.T{}
	rec := buildRecord(t, memory.NewGoAllocator(), 1_000_000)
	defer rec.Release()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Render(rec)
	}
}

// BenchmarkRenderStructs10k renders a slice of 10,000 structs.
func BenchmarkRenderStructs10k(b *testing.B) {
	rows := trials(10_000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Render(rows)
	}
}

// BenchmarkLineChart10k builds the full bundle (Vega-Lite spec and SVG) of
// a line chart with two series of 10,000 points.
func BenchmarkLineChart10k(b *testing.B) {
	xs := make([]float64, 10_000)
	ys := make([]float64, 10_000)
	zs := make([]float64, 10_000)
	for i := range xs {
		xs[i] = float64(i)
		ys[i] = math.Sin(float64(i) / 100)
		zs[i] = math.Cos(float64(i) / 100)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		LineChart().Title("waves").Series("sin", xs, ys).Series("cos", xs, zs).Bundle()
	}
}

// BenchmarkProgressAdd is the cost of Progress.Add in a tight loop with the
// real clock: nearly every call is absorbed by the rate limit.
func BenchmarkProgressAdd(b *testing.B) {
	p := NewProgressWith(ProgressOptions{Total: b.N, Publisher: TextPublisher{W: io.Discard}})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Add(1)
	}
	p.Done()
}
