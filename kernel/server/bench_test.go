package server

import (
	"context"
	"io"
	"log"
	"sort"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/kernel/client"
	"github.com/gopherlab/gopherlab/kernel/wire"
)

// BenchmarkProtocolRoundTrip measures the protocol alone: an in-process
// kernel over real TCP ZMQ sockets with a trivial evaluator, from
// execute_request sent until execute_reply and status idle arrived.
// Run with: go test -run '^$' -bench ProtocolRoundTrip -benchtime 1000x ./kernel/server
func BenchmarkProtocolRoundTrip(b *testing.B) {
	ci, err := wire.NewTCPConnectionInfo("127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(ci, &scriptEvaluator{}, Options{Logger: log.New(io.Discard, "", 0)})
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
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := c.Execute(ctx, "result 2", client.ExecuteOptions{}); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b.ReportMetric(float64(ds[len(ds)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(ds[(len(ds)-1)*99/100])/1e6, "p99-ms")
}
