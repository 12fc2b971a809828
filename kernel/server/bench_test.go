package server

import (
	"context"
	"io"
	"log"
	"sort"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/kernel/cell"
	"github.com/gopherlab/gopherlab/kernel/client"
	"github.com/gopherlab/gopherlab/kernel/eval"
	"github.com/gopherlab/gopherlab/kernel/wire"
)

// BenchmarkProtocolRoundTrip measures the protocol alone: an in-process
// kernel over real TCP ZMQ sockets with a trivial evaluator, from
// execute_request sent until execute_reply and status idle arrived.
// Run with: go test -run '^$' -bench ProtocolRoundTrip -benchtime 1000x ./kernel/server
func BenchmarkProtocolRoundTrip(b *testing.B) {
	benchRoundTrip(b, &scriptEvaluator{}, "result 2", 0)
}

// BenchmarkEvaluatorRoundTrip is BenchmarkProtocolRoundTrip with the real
// yaegi evaluator (redirecting fd 1 and 2 as the kernel does) running
// `1+1`: the kernel's whole share of a trivial cell, in one process, for
// profiling with -cpuprofile.
// Run with: go test -run '^$' -bench EvaluatorRoundTrip -benchtime 1000x ./kernel/server
func BenchmarkEvaluatorRoundTrip(b *testing.B) {
	ev, err := eval.New(eval.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer ev.Close()
	benchRoundTrip(b, ev, "1+1", 50)
}

// benchRoundTrip serves ev in process, runs code warmup times untimed, then
// b.N times, reporting the p50 and p99 of the round trips.
func benchRoundTrip(b *testing.B, ev cell.Evaluator, code string, warmup int) {
	ci, err := wire.NewTCPConnectionInfo("127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(ci, ev, Options{Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(context.Background())
	defer srv.Close()
	ctx := context.Background()
	c, err := client.Dial(ctx, ci, client.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.WaitReady(ctx); err != nil {
		b.Fatal(err)
	}
	execute := func() {
		r, err := c.Execute(ctx, code, client.ExecuteOptions{})
		if err != nil || r.Status != "ok" {
			b.Fatalf("execute: %v %+v", err, r)
		}
	}
	for i := 0; i < warmup; i++ {
		execute()
	}
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		execute()
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b.ReportMetric(float64(ds[len(ds)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(ds[(len(ds)-1)*99/100])/1e6, "p99-ms")
}
