package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestBenchKernels runs testdata/bench_kernels.py: cold start, trivial-cell
// round trip p50/p99 with three jupyter_client clients (raw pyzmq, Session
// on pyzmq, BlockingKernelClient), kernel CPU per round trip and idle RSS
// of gopherlab next to Debian's ipykernel, all running in the same run,
// measured in interleaved rounds. A third row, "floor", is the reference
// responder of testdata/floor (not a kernel): it answers with the same
// five messages and does no work, so its figures are what the client and
// the transport cost by themselves. It is a benchmark, not a check, so it
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
	floor, err := installFloor(t)
	if err != nil {
		t.Fatal(err)
	}
	kernels := "gopherlab," + floor
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

// installFloor builds the reference responder testdata/floor and installs
// a kernelspec for it next to gopherlab's; it returns the kernel name.
func installFloor(t *testing.T) (string, error) {
	needKernel(t)
	dir := filepath.Join(setup.dataDir, "kernels", "floor")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(setup.tmp, "floor")
	if out, err := goCmd(setup.root, "build", "-o", bin, "./kernel/interop/testdata/floor").CombinedOutput(); err != nil {
		return "", fmt.Errorf("building testdata/floor: %v\n%s", err, out)
	}
	spec, err := json.Marshal(map[string]any{
		"argv":         []string{bin, "{connection_file}"},
		"display_name": "floor (benchmark reference responder, not a kernel)",
		"language":     "go",
	})
	if err != nil {
		return "", err
	}
	return "floor", os.WriteFile(filepath.Join(dir, "kernel.json"), spec, 0o644)
}
