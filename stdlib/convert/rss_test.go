package convert

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestRSSChild is the child process of BenchmarkPeakRSS: it converts one
// file and exits. It does nothing in a normal test run.
func TestRSSChild(t *testing.T) {
	in := os.Getenv("GOPHERLAB_RSS_CHILD_INPUT")
	if in == "" {
		t.Skip("child of BenchmarkPeakRSS only")
	}
	workers, _ := strconv.Atoi(os.Getenv("GOPHERLAB_RSS_CHILD_WORKERS"))
	res, err := TFRecordsToParquet(context.Background(), []string{in}, os.Getenv("GOPHERLAB_RSS_CHILD_OUT"),
		Options{ConvertLists: true, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ROWS %d ELAPSED %d\n", res.Rows, res.Elapsed.Nanoseconds())
}

// BenchmarkPeakRSS converts seed-schema inputs of about 200 MB (and, with
// GOPHERLAB_BENCH_2GB=1, 2 GB) in a child process (this test binary re-run
// as TestRSSChild) and reports the child's peak resident set size from
// wait4's rusage (ru_maxrss). Memory must not grow with the input size.
func BenchmarkPeakRSS(b *testing.B) {
	sizes := []struct {
		name    string
		records int
	}{{"200MB", 460000}}
	if os.Getenv("GOPHERLAB_BENCH_2GB") != "" {
		sizes = append(sizes, struct {
			name    string
			records int
		}{"2GB", 4600000})
	}
	dir := filepath.Join(os.TempDir(), "gopherlab-convert-bench")
	os.MkdirAll(dir, 0o755)
	for _, sz := range sizes {
		b.Run("input="+sz.name, func(b *testing.B) {
			in := filepath.Join(dir, fmt.Sprintf("seed_%d_NONE.tfrecords", sz.records))
			if _, err := os.Stat(in); err != nil {
				if _, err := SeedSynthetic(sz.records, 7).WriteTFRecords(context.Background(), in, ""); err != nil {
					b.Fatal(err)
				}
			}
			st, _ := os.Stat(in)
			var maxRSS int64
			var rows int64
			var elapsed time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out := b.TempDir()
				cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChild$", "-test.v")
				cmd.Env = append(os.Environ(), "GOPHERLAB_RSS_CHILD_INPUT="+in, "GOPHERLAB_RSS_CHILD_OUT="+out, "GOPHERLAB_RSS_CHILD_WORKERS=2")
				outb, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, outb)
				}
				ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				maxRSS = max(maxRSS, ru.Maxrss) // KiB on Linux
				var ns int64
				for _, line := range splitLines(string(outb)) {
					if _, err := fmt.Sscanf(line, "ROWS %d ELAPSED %d", &rows, &ns); err == nil {
						elapsed = time.Duration(ns)
					}
				}
				os.RemoveAll(out)
			}
			b.ReportMetric(float64(maxRSS)/1024, "peak-RSS-MiB")
			b.ReportMetric(float64(st.Size())/1e6, "input-MB")
			if elapsed > 0 {
				b.ReportMetric(float64(rows)/elapsed.Seconds(), "records/s")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
