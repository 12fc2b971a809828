package train

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BenchmarkCNNStep times one training step of the seed's simple CNN at
// batch 512 on random data.
func BenchmarkCNNStep(b *testing.B) {
	m, _ := Sequential(InputLayer(28, 28, 1), Conv2D(32, 3, Conv2DOptions{Activation: "relu"}), Flatten(), Dense(10, "softmax"))
	m.Compile(CompileOptions{Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}})
	x := randTensor(1, 512, 28, 28, 1)
	y := Zeros(512)
	for i := range y.Data {
		y.Data[i] = float32(i % 10)
	}
	batch := &Batch{X: []*Tensor{x}, Y: y}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.TrainOnBatch(batch); err != nil {
			b.Fatal(err)
		}
	}
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkFashionMNIST trains the MLP (784-256-10) and the seed's simple
// CNN (Conv2D 32×3×3 relu → Flatten → Dense softmax) with Adam at batch 512
// on the full Fashion-MNIST training set, then the same architectures with
// PyTorch on the CPU (testdata/torch_fashion_mnist.py, Debian python3-torch)
// in the same run. It reports wall and CPU seconds per epoch and test
// accuracy. BENCH_EPOCHS sets the epochs (default 1); BENCH_PYTHON the
// interpreter (default /usr/bin/python3); TORCH_INIT=keras makes PyTorch
// initialise weights like Keras and this package (Glorot uniform, zero
// bias). Run with -benchtime=1x.
func BenchmarkFashionMNIST(b *testing.B) {
	tr, te := fashionOrSkip(b)
	epochs := 1
	if v, err := strconv.Atoi(os.Getenv("BENCH_EPOCHS")); err == nil && v > 0 {
		epochs = v
	}
	python := os.Getenv("BENCH_PYTHON")
	if python == "" {
		python = "/usr/bin/python3"
	}
	archs := map[string]func() (*Model, error){
		"mlp": func() (*Model, error) {
			return Sequential(InputLayer(28, 28, 1), Flatten(), Dense(256, "relu"), Dense(10, "softmax"))
		},
		"cnn": func() (*Model, error) {
			return Sequential(InputLayer(28, 28, 1), Conv2D(32, 3, Conv2DOptions{Activation: "relu"}), Flatten(), Dense(10, "softmax"))
		},
	}
	for _, arch := range []string{"mlp", "cnn"} {
		b.Run(arch+"/gopherlab", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				m, err := archs[arch]()
				if err != nil {
					b.Fatal(err)
				}
				m.Compile(CompileOptions{Optimizer: &Adam{}, Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}, Seed: 1})
				t0, c0 := time.Now(), cpuSeconds()
				if _, err := m.Fit(context.Background(), tr, FitOptions{Epochs: epochs, BatchSize: 512, Shuffle: true}); err != nil {
					b.Fatal(err)
				}
				wall, cpu := time.Since(t0).Seconds()/float64(epochs), (cpuSeconds()-c0)/float64(epochs)
				logs, err := m.Evaluate(context.Background(), te, EvaluateOptions{})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(wall, "s/epoch")
				b.ReportMetric(cpu, "cpu-s/epoch")
				b.ReportMetric(logs["accuracy"], "test-acc")
				fmt.Printf("gopherlab %s: %.2f s/epoch (%.2f CPU s), test accuracy %.4f, %d epochs, BLAS %s, GOMAXPROCS %d\n",
					arch, wall, cpu, logs["accuracy"], epochs, BLAS(), runtime.GOMAXPROCS(0))
			}
		})
		b.Run(arch+"/pytorch", func(b *testing.B) {
			if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
				b.Skipf("PyTorch unavailable for %s (apt-get install python3-torch): %v", python, err)
			}
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(python, filepath.Join("testdata", "torch_fashion_mnist.py"), DefaultFashionMNISTDir,
					strconv.Itoa(epochs), "512", strconv.Itoa(runtime.GOMAXPROCS(0)), arch)
				cmd.Stderr = os.Stderr
				out, err := cmd.StdoutPipe()
				if err != nil {
					b.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				var res struct {
					Wall float64 `json:"seconds_per_epoch"`
					CPU  float64 `json:"cpu_seconds_per_epoch"`
					Acc  float64 `json:"test_accuracy"`
					Ver  string  `json:"torch"`
					Init string  `json:"init"`
				}
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
						b.Fatalf("torch script: %v: %s", err, sc.Text())
					}
				}
				if err := cmd.Wait(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(res.Wall, "s/epoch")
				b.ReportMetric(res.CPU, "cpu-s/epoch")
				b.ReportMetric(res.Acc, "test-acc")
				fmt.Printf("pytorch %s (init %s) %s: %.2f s/epoch (%.2f CPU s), test accuracy %.4f, %d epochs\n", res.Ver, res.Init, arch, res.Wall, res.CPU, res.Acc, epochs)
			}
		})
	}
}

// BenchmarkNativeGorgoniaCNNStep times one training step (forward,
// backward, Adam) of the simple CNN built from gorgonia's own ops only
// (NCHW Conv2d, Rectify, Mul, SoftMax) at batch 512 on random data, with the
// BLAS this package sets (GOPHERLAB_BLAS=gonum for pure Go). It is the
// measurement behind the custom Conv2D op; compare BenchmarkCNNStep.
func BenchmarkNativeGorgoniaCNNStep(b *testing.B) {
	const bs = 512
	randT := func(seed int64, shape ...int) *tensor.Dense {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(randTensor(seed, shape...).Data))
	}
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(bs, 1, 28, 28), G.WithName("x"), G.WithValue(randT(1, bs, 1, 28, 28)))
	k := G.NewTensor(g, tensor.Float32, 4, G.WithShape(32, 1, 3, 3), G.WithName("k"), G.WithValue(randT(2, 32, 1, 3, 3)))
	w := G.NewMatrix(g, tensor.Float32, G.WithShape(32*26*26, 10), G.WithName("w"), G.WithValue(randT(3, 32*26*26, 10)))
	y := G.NewMatrix(g, tensor.Float32, G.WithShape(bs, 10), G.WithName("y"), G.WithValue(randT(4, bs, 10)))
	c := G.Must(G.Rectify(G.Must(G.Conv2d(x, k, tensor.Shape{3, 3}, []int{0, 0}, []int{1, 1}, []int{1, 1}))))
	out := G.Must(G.Mul(G.Must(G.Reshape(c, tensor.Shape{bs, 32 * 26 * 26})), w))
	loss := G.Must(G.Neg(G.Must(G.Mean(G.Must(G.HadamardProd(G.Must(G.Log(G.Must(G.SoftMax(out)))), y))))))
	params := G.Nodes{k, w}
	if _, err := G.Grad(loss, params...); err != nil {
		b.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(params...))
	solver := G.NewAdamSolver(G.WithLearnRate(0.001))
	b.Logf("BLAS: %s", BLAS())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		if err := solver.Step(G.NodesToValueGrads(params)); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
}
