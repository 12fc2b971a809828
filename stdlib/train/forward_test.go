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

// TestLossValues compares Evaluate's loss with the loss formulas applied to
// Predict's outputs, for the logits paths (softmax and sigmoid outputs) and
// the probability paths.
func TestLossValues(t *testing.T) {
	x := randTensor(7, 9, 4)
	classes := &Tensor{Shape: []int{9}, Data: []float32{0, 1, 2, 0, 1, 2, 2, 1, 0}}
	bits := &Tensor{Shape: []int{9, 1}, Data: []float32{0, 1, 1, 0, 1, 0, 0, 1, 1}}
	sce := func(out, y *Tensor) float64 {
		var s float64
		for r := 0; r < out.Len(); r++ {
			s -= math.Log(float64(out.At(r, int(y.Data[r]))))
		}
		return s / float64(out.Len())
	}
	bce := func(out, y *Tensor) float64 {
		var s float64
		for i, p := range out.Data {
			q, t := float64(p), float64(y.Data[i])
			s -= t*math.Log(q) + (1-t)*math.Log(1-q)
		}
		return s / float64(len(out.Data))
	}
	mse := func(out, y *Tensor) float64 {
		var s float64
		for i, p := range out.Data {
			d := float64(p - y.Data[i])
			s += d * d
		}
		return s / float64(len(out.Data))
	}
	cases := []struct {
		name, loss string
		last       Layer
		y          *Tensor
		want       func(out, y *Tensor) float64
	}{
		{"softmax_sce", "sparse_categorical_crossentropy", Dense(3, "softmax"), classes, sce},
		{"sigmoid_sce", "sparse_categorical_crossentropy", Dense(3, "sigmoid"), classes, sce},
		{"sigmoid_bce", "binary_crossentropy", Dense(1, "sigmoid"), bits, bce},
		{"tanh_mse", "mse", Dense(1, "tanh"), bits, mse},
	}
	for _, c := range cases {
		m, err := Sequential(InputLayer(4), Dense(5, "relu"), c.last)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Compile(CompileOptions{Loss: c.loss, Seed: 4}); err != nil {
			t.Fatal(err)
		}
		ds, err := NewTensorDataset(c.y, x)
		if err != nil {
			t.Fatal(err)
		}
		logs, err := m.Evaluate(context.Background(), ds, EvaluateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Predict(context.Background(), x)
		if err != nil {
			t.Fatal(err)
		}
		if want := c.want(out, c.y); math.Abs(logs["loss"]-want) > 1e-5*math.Max(1, want) {
			t.Errorf("%s: Evaluate loss %.6f, formula on Predict outputs %.6f", c.name, logs["loss"], want)
		}
	}
}
