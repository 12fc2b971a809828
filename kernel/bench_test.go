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

	"golang.org/x/sys/unix"

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

// median returns the middle value of vs (sorted in place).
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	sort.Float64s(vs)
	return vs[len(vs)/2]
}

// rssMiB returns the resident set size of process pid (field "VmRSS" of
// /proc/PID/status, or another field such as "RssAnon" or "RssFile").
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

// dropPageCache writes out the page cache of file and asks the kernel to
// drop it, so the next process mapping the file reads it from disk as
// after a reboot. Pages that a running process maps are kept.
func dropPageCache(b *testing.B, file string) {
	f, err := os.Open(file)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkIdleMemory measures the memory of an idle kernel as a user
// sees it: start "gopherlab kernel", wait for kernel_info_reply, wait one
// second (the evaluator loads in the background meanwhile), then read
// VmRSS and its parts RssAnon (the kernel's own heap, stacks and data) and
// RssFile (pages of the executable and libc that are mapped). Then one
// trivial cell runs and VmRSS is read again. Each iteration starts a fresh
// kernel; the metrics are medians. It also reports cold start (process
// start to kernel_info_reply) and the first cell's round trip.
//
// RssFile depends on how the executable sits in the page cache. Right
// after "go build" Linux holds the file in large folios (up to 2 MiB) and
// maps a whole folio on the first touch, so nearly the entire binary
// counts as resident: sub-benchmark cache=linked. A binary read back from
// disk (after a reboot, or copied into place) is cached and mapped in
// small pieces: sub-benchmark cache=cold drops the binary's page cache
// before every start. Run with:
//
//	go test -run '^$' -bench IdleMemory -benchtime 5x ./kernel
func BenchmarkIdleMemory(b *testing.B) {
	for _, mode := range []string{"cold", "linked"} {
		b.Run("cache="+mode, func(b *testing.B) {
			// A private copy: the page cache state is then ours alone.
			exe := filepath.Join(b.TempDir(), "gopherlab")
			out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput()
			if err != nil {
				b.Fatalf("go build: %v\n%s", err, out)
			}
			var start, first, idle, anon, file, after []float64
			dataHome := b.TempDir()
			for i := 0; i < b.N; i++ {
				if mode == "cold" {
					dropPageCache(b, exe)
				}
				m := idleKernel(b, exe, dataHome)
				start = append(start, m.start)
				first = append(first, m.firstCell)
				idle = append(idle, m.idle)
				anon = append(anon, m.anon)
				file = append(file, m.file)
				after = append(after, m.after)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(median(idle), "idle-RSS-MiB")
			b.ReportMetric(median(anon), "idle-anon-MiB")
			b.ReportMetric(median(file), "idle-file-MiB")
			b.ReportMetric(median(after), "RSS-after-cell-MiB")
			b.ReportMetric(median(start), "coldstart-ms")
			b.ReportMetric(median(first), "first-cell-ms")
		})
	}
}

// kernelMemory is what one start of the kernel measured.
type kernelMemory struct {
	start, firstCell        float64 // milliseconds
	idle, anon, file, after float64 // MiB
}

// idleKernel starts exe as a kernel and measures it (see BenchmarkIdleMemory).
func idleKernel(b *testing.B, exe, dataHome string) kernelMemory {
	ci, err := wire.NewTCPConnectionInfo("127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	conn := filepath.Join(b.TempDir(), "kernel.json")
	if err := ci.WriteFile(conn); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t0 := time.Now()
	cmd := exec.Command(exe, "kernel", conn)
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+dataHome)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	c, err := client.Dial(ctx, ci, client.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.KernelInfo(ctx); err != nil {
		b.Fatal(err)
	}
	var m kernelMemory
	m.start = float64(time.Since(t0)) / float64(time.Millisecond)
	time.Sleep(time.Second)
	pid := cmd.Process.Pid
	m.idle, m.anon, m.file = rssMiB(pid), rssMiB(pid, "RssAnon"), rssMiB(pid, "RssFile")
	t1 := time.Now()
	r, err := c.Execute(ctx, "1+1", client.ExecuteOptions{})
	if err != nil || r.Status != "ok" {
		b.Fatalf("execute: %v %+v", err, r)
	}
	m.firstCell = float64(time.Since(t1)) / float64(time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	m.after = rssMiB(pid)
	c.Shutdown(ctx, false)
	return m
}
