package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestBenchKernels runs testdata/bench_kernels.py: cold start, trivial-cell
// round trip p50/p99 and idle RSS of gopherlab next to Debian's ipykernel,
// measured from jupyter_client in the same run. It is a benchmark, not a
// check, so it runs only when asked:
//
//	GOPHERLAB_BENCH=1 go test ./kernel/interop -run TestBenchKernels -v
//
// GOPHERLAB_BENCH_RUNS sets the number of round trips (default 1000),
// GOPHERLAB_BENCH_STARTS the number of cold starts per kernel (default 5).
func TestBenchKernels(t *testing.T) {
	if os.Getenv("GOPHERLAB_BENCH") == "" {
		t.Skip("set GOPHERLAB_BENCH=1 to run the kernel benchmark against ipykernel")
	}
	needJupyterClient(t)
	runs := 1000
	if s := os.Getenv("GOPHERLAB_BENCH_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("GOPHERLAB_BENCH_RUNS=%q is not a positive number", s)
		}
		runs = n
	}
	starts := "5"
	if s := os.Getenv("GOPHERLAB_BENCH_STARTS"); s != "" {
		if n, err := strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("GOPHERLAB_BENCH_STARTS=%q is not a positive number", s)
		}
		starts = s
	}
	kernels := "gopherlab"
	if err := exec.Command(debianPython, "-c", "import ipykernel").Run(); err == nil {
		kernels += ",python3"
	} else {
		missing(t, "Debian python3-ipykernel", err)
	}
	cmd := exec.Command(debianPython, filepath.Join("testdata", "bench_kernels.py"), "--kernels", kernels, "--runs", strconv.Itoa(runs), "--starts", starts)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench_kernels.py: %v\n%s", err, out)
	}
	t.Logf("\n%s", out)
}
