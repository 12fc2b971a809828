package train

import (
	"context"
	"math"
	"testing"
)

// TestForwardMatchesDirect compares the graph's outputs (inference and
// training mode) with direct computations: a convolution written as loops
// and a dense layer with each activation.
func TestForwardMatchesDirect(t *testing.T) {
	run := func(m *Model, x *Tensor, training bool) *Tensor {
		t.Helper()
		if !training {
			out, err := m.Predict(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		p, err := m.program(x.Len(), true)
		if err != nil {
			t.Fatal(err)
		}
		y := Zeros(append([]int{x.Len()}, m.OutputShape()...)...)
		if err := p.run(m, []*Tensor{x}, y); err != nil {
			t.Fatal(err)
		}
		out, err := p.output()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	act := func(a string, v float64) float64 {
		switch a {
		case "relu":
			return math.Max(v, 0)
		case "tanh":
			return math.Tanh(v)
		case "sigmoid":
			return 1 / (1 + math.Exp(-v))
		}
		return v
	}
	for _, a := range []string{"", "relu", "tanh"} {
		m, err := Sequential(InputLayer(5, 6, 2), Conv2D(3, 3, Conv2DOptions{Activation: a}))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Compile(CompileOptions{Seed: 1}); err != nil {
			t.Fatal(err)
		}
		w := m.Weights()
		for i := range w[1].Value {
			w[1].Value[i] = float32(i)*0.1 - 0.1
		}
		x := randTensor(1, 4, 5, 6, 2)
		for _, training := range []bool{false, true} {
			out := run(m, x, training)
			for n := 0; n < 4; n++ {
				for oy := 0; oy < 3; oy++ {
					for ox := 0; ox < 4; ox++ {
						for f := 0; f < 3; f++ {
							s := float64(w[1].Value[f])
							for ky := 0; ky < 3; ky++ {
								for kx := 0; kx < 3; kx++ {
									for c := 0; c < 2; c++ {
										s += float64(x.At(n, oy+ky, ox+kx, c)) * float64(w[0].Value[((ky*3+kx)*2+c)*3+f])
									}
								}
							}
							if got, want := float64(out.At(n, oy, ox, f)), act(a, s); math.Abs(got-want) > 1e-4 {
								t.Fatalf("Conv2D %q training %v: out[%d,%d,%d,%d] = %v, want %v", a, training, n, oy, ox, f, got, want)
							}
						}
					}
				}
			}
		}
	}
	for _, a := range []string{"", "relu", "tanh", "sigmoid", "softmax"} {
		m, err := Sequential(InputLayer(4), Dense(3, a))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Compile(CompileOptions{Seed: 2}); err != nil {
			t.Fatal(err)
		}
		w := m.Weights()
		for i := range w[1].Value {
			w[1].Value[i] = float32(i)*0.2 - 0.2
		}
		x := randTensor(3, 5, 4)
		for _, training := range []bool{false, true} {
			out := run(m, x, training)
			for n := 0; n < 5; n++ {
				z := make([]float64, 3)
				var sum float64
				for j := range z {
					z[j] = float64(w[1].Value[j])
					for i := 0; i < 4; i++ {
						z[j] += float64(x.At(n, i)) * float64(w[0].Value[i*3+j])
					}
					sum += math.Exp(z[j])
				}
				for j := range z {
					want := act(a, z[j])
					if a == "softmax" {
						want = math.Exp(z[j]) / sum
					}
					if got := float64(out.At(n, j)); math.Abs(got-want) > 1e-4 {
						t.Fatalf("Dense %q training %v: out[%d,%d] = %v, want %v", a, training, n, j, got, want)
					}
				}
			}
		}
	}
}
