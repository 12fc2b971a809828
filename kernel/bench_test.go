package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/kernel/client"
	"github.com/gopherlab/gopherlab/kernel/wire"
)

// reportPercentiles adds p50 and p99 (in milliseconds) of ds to b.
func reportPercentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	pct := func(p float64) float64 {
		i := int(float64(len(ds)-1) * p)
		return float64(ds[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op") // the mean hides the distribution; use p50/p99
}

// rssMiB returns the resident set size of process pid (field "VmRSS" of
// /proc/PID/status, or another field such as "RssAnon").
func rssMiB(pid int, field ...string) float64 {
	name := "VmRSS:"
	if len(field) > 0 {
		name = field[0] + ":"
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return -1
}

// BenchmarkExecuteRoundTrip measures a trivial cell (1+1) through the real
// kernel process and evaluator: from sending execute_request until both
// execute_reply and status idle arrived. It also reports the kernel's idle
// RSS. Run with: go test -run '^$' -bench ExecuteRoundTrip -benchtime 1000x ./kernel
func BenchmarkExecuteRoundTrip(b *testing.B) {
	ci, err := wire.NewTCPConnectionInfo("127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	conn := filepath.Join(b.TempDir(), "kernel.json")
	ci.WriteFile(conn)
	cmd := exec.Command(binary, "kernel", conn)
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+b.TempDir())
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := client.Dial(ctx, ci, client.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.WaitReady(ctx); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 50; i++ { // warm up the evaluator
		if _, err := c.Execute(ctx, "1+1", client.ExecuteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	idle := rssMiB(cmd.Process.Pid)
	idleAnon := rssMiB(cmd.Process.Pid, "RssAnon")
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		r, err := c.Execute(ctx, "1+1", client.ExecuteOptions{})
		ds = append(ds, time.Since(start))
		if err != nil || r.Status != "ok" {
			b.Fatalf("execute: %v %+v", err, r)
		}
	}
	b.StopTimer()
	reportPercentiles(b, ds)
	// VmRSS counts the pages of the executable that were touched (shared
	// with other kernels, reclaimable); RssAnon is the kernel's own memory.
	b.ReportMetric(idle, "idle-RSS-MiB")
	b.ReportMetric(idleAnon, "idle-anon-MiB")
	b.ReportMetric(rssMiB(cmd.Process.Pid), "RSS-after-MiB")
}

// BenchmarkColdStart measures process start until kernel_info_reply, as a
// frontend sees it: write the connection file, exec "gopherlab kernel",
// connect and wait for the reply (and the iopub subscription).
// Run with: go test -run '^$' -bench ColdStart -benchtime 1000x ./kernel
func BenchmarkColdStart(b *testing.B) {
	dataHome := b.TempDir()
	dir := b.TempDir()
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ci, err := wire.NewTCPConnectionInfo("127.0.0.1")
		if err != nil {
			b.Fatal(err)
		}
		conn := filepath.Join(dir, "kernel-"+strconv.Itoa(i)+".json")
		ci.WriteFile(conn)
		b.StartTimer()
		start := time.Now()
		cmd := exec.Command(binary, "kernel", conn)
		cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+dataHome)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		fail := func(err error) {
			cmd.Process.Kill()
			cmd.Wait()
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c, err := client.Dial(ctx, ci, client.Options{})
		if err != nil {
			fail(err)
		}
		if _, err := c.KernelInfo(ctx); err != nil {
			fail(err)
		}
		ds = append(ds, time.Since(start))
		b.StopTimer()
		c.Shutdown(ctx, false)
		c.Close()
		cmd.Wait()
		cancel()
		os.Remove(conn)
		b.StartTimer()
	}
	b.StopTimer()
	reportPercentiles(b, ds)
}
