package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestBenchKernels runs testdata/bench_kernels.py: cold start, trivial-cell
// round trip p50/p99 with three jupyter_client clients (raw pyzmq, Session
// on pyzmq, BlockingKernelClient), kernel CPU per round trip and idle RSS
// of gopherlab next to Debian's ipykernel, both running in the same run,
// measured in interleaved rounds. It is a benchmark, not a check, so it
// runs only when asked:
//
//	GOPHERLAB_BENCH=1 go test ./kernel/interop -run TestBenchKernels -v
//
// GOPHERLAB_BENCH_RUNS sets the round trips per client and round (default
// 1000), GOPHERLAB_BENCH_ROUNDS the rounds (default 3),
// GOPHERLAB_BENCH_STARTS the cold starts per kernel (default 5).
func TestBenchKernels(t *testing.T) {
	if os.Getenv("GOPHERLAB_BENCH") == "" {
		t.Skip("set GOPHERLAB_BENCH=1 to run the kernel benchmark against ipykernel")
	}
	needJupyterClient(t)
	count := func(env, def string) string {
		s := os.Getenv(env)
		if s == "" {
			return def
		}
		if n, err := strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("%s=%q is not a positive number", env, s)
		}
		return s
	}
	runs := count("GOPHERLAB_BENCH_RUNS", "1000")
	starts := count("GOPHERLAB_BENCH_STARTS", "5")
	rounds := count("GOPHERLAB_BENCH_ROUNDS", "3")
	kernels := "gopherlab"
	if err := exec.Command(debianPython, "-c", "import ipykernel").Run(); err == nil {
		kernels += ",python3"
	} else {
		missing(t, "Debian python3-ipykernel", err)
	}
	cmd := exec.Command(debianPython, filepath.Join("testdata", "bench_kernels.py"), "--kernels", kernels, "--runs", runs, "--rounds", rounds, "--starts", starts)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench_kernels.py: %v\n%s", err, out)
	}
	t.Logf("\n%s", out)
}
