// Command gorgoniaprobe times training steps of gorgonia (v0.9.17) graphs
// for the MLP (784-256-10) and the simple CNN (Conv2D 32×3×3 relu →
// Flatten → Dense 10) at batch 512 on random data. It is the measurement
// behind stdlib/train's choice of hand-written layers over gorgonia graphs:
//
//	go run ./stdlib/train/internal/gorgoniaprobe
package main

import (
	"fmt"
	"math/rand"
	"os"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func randT(shape ...int) *tensor.Dense {
	n := 1
	for _, s := range shape {
		n *= s
	}
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(rand.NormFloat64() * 0.05)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}

func main() {
	const bs, steps = 512, 5
	for _, arch := range []string{"mlp", "cnn"} {
		g := G.NewGraph()
		var out *G.Node
		var params G.Nodes
		if arch == "mlp" {
			x := G.NewMatrix(g, tensor.Float32, G.WithShape(bs, 784), G.WithName("x"), G.WithValue(randT(bs, 784)))
			w1 := G.NewMatrix(g, tensor.Float32, G.WithShape(784, 256), G.WithName("w1"), G.WithValue(randT(784, 256)))
			w2 := G.NewMatrix(g, tensor.Float32, G.WithShape(256, 10), G.WithName("w2"), G.WithValue(randT(256, 10)))
			h := G.Must(G.Rectify(G.Must(G.Mul(x, w1))))
			out = G.Must(G.Mul(h, w2))
			params = G.Nodes{w1, w2}
		} else {
			x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(bs, 1, 28, 28), G.WithName("x"), G.WithValue(randT(bs, 1, 28, 28)))
			k := G.NewTensor(g, tensor.Float32, 4, G.WithShape(32, 1, 3, 3), G.WithName("k"), G.WithValue(randT(32, 1, 3, 3)))
			c := G.Must(G.Rectify(G.Must(G.Conv2d(x, k, tensor.Shape{3, 3}, []int{0, 0}, []int{1, 1}, []int{1, 1}))))
			f := G.Must(G.Reshape(c, tensor.Shape{bs, 32 * 26 * 26}))
			w2 := G.NewMatrix(g, tensor.Float32, G.WithShape(32*26*26, 10), G.WithName("w2"), G.WithValue(randT(32*26*26, 10)))
			out = G.Must(G.Mul(f, w2))
			params = G.Nodes{k, w2}
		}
		sm := G.Must(G.SoftMax(out))
		y := G.NewMatrix(g, tensor.Float32, G.WithShape(bs, 10), G.WithName("y"), G.WithValue(randT(bs, 10)))
		loss := G.Must(G.Neg(G.Must(G.Mean(G.Must(G.HadamardProd(G.Must(G.Log(sm)), y))))))
		if _, err := G.Grad(loss, params...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		vm := G.NewTapeMachine(g, G.BindDualValues(params...))
		solver := G.NewAdamSolver(G.WithLearnRate(0.001))
		if err := vm.RunAll(); err != nil { // warm-up
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		vm.Reset()
		t0 := time.Now()
		for i := 0; i < steps; i++ {
			if err := vm.RunAll(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			solver.Step(G.NodesToValueGrads(params))
			vm.Reset()
		}
		per := time.Since(t0).Seconds() / steps
		fmt.Printf("gorgonia %s: %.3f s/step, ~%.1f s/epoch (118 steps of 512)\n", arch, per, per*118)
	}
}
