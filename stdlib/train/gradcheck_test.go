package train

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// lossOf runs l on x in the given mode and returns sum(out*r) in float64.
func lossOf(t *testing.T, l Layer, xs []*Tensor, r *Tensor, training bool, seed int64) float64 {
	st := &runState{training: training, rng: rand.New(rand.NewSource(seed))}
	out, err := l.forward(st, xs)
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for i, v := range out.Data {
		s += float64(v) * float64(r.Data[i])
	}
	return s
}

func TestLayerGradients(t *testing.T) {
	cases := []struct {
		name     string
		layer    func() Layer
		in       [][]int // per-input example shapes
		training bool
		ints     int // inputs are integer ids below this (Embedding)
	}{
		{"dense", func() Layer { return Dense(4, "") }, [][]int{{5}}, false, 0},
		{"dense_relu", func() Layer { return Dense(4, "relu") }, [][]int{{5}}, false, 0},
		{"dense_sigmoid", func() Layer { return Dense(3, "sigmoid") }, [][]int{{5}}, false, 0},
		{"dense_tanh", func() Layer { return Dense(3, "tanh") }, [][]int{{5}}, false, 0},
		{"dense_softmax", func() Layer { return Dense(4, "softmax") }, [][]int{{5}}, false, 0},
		{"dense_3d", func() Layer { return Dense(3, "linear") }, [][]int{{2, 4}}, false, 0},
		{"activation_softmax", func() Layer { return Activation("softmax") }, [][]int{{6}}, false, 0},
		{"activation_relu", func() Layer { return Activation("relu") }, [][]int{{6}}, false, 0},
		{"conv_valid_tanh", func() Layer { return Conv2D(3, 3, Conv2DOptions{Activation: "tanh"}) }, [][]int{{6, 5, 2}}, false, 0},
		{"conv_same_stride2", func() Layer { return Conv2D(2, 3, Conv2DOptions{Strides: 2, Padding: "same"}) }, [][]int{{7, 6, 3}}, false, 0},
		{"maxpool", func() Layer { return MaxPooling2D(2) }, [][]int{{6, 6, 2}}, false, 0},
		{"maxpool_same", func() Layer { return MaxPooling2D(3, PoolOptions{Strides: 2, Padding: "same"}) }, [][]int{{5, 5, 2}}, false, 0},
		{"flatten", func() Layer { return Flatten() }, [][]int{{3, 2, 2}}, false, 0},
		{"dropout_train", func() Layer { return Dropout(0.4) }, [][]int{{10}}, true, 0},
		{"batchnorm_train", func() Layer { return BatchNormalization() }, [][]int{{4}}, true, 0},
		{"batchnorm_conv_train", func() Layer { return BatchNormalization() }, [][]int{{3, 3, 2}}, true, 0},
		{"batchnorm_infer", func() Layer { return BatchNormalization() }, [][]int{{4}}, false, 0},
		{"embedding", func() Layer { return Embedding(7, 3) }, [][]int{{2}}, false, 7},
		{"concatenate", func() Layer { return Concatenate() }, [][]int{{2}, {3}, {1}}, false, 0},
	}
	const batch = 4
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := c.layer()
			l.base().name = c.name
			out, err := l.build(c.in)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewSource(int64(ci)))
			l.initWeights(rng)
			// Perturb weights away from their init (zero biases, unit gammas)
			// so every path is exercised.
			for _, p := range l.Params() {
				for i := range p.Value {
					if p.Trainable {
						p.Value[i] += float32(rng.NormFloat64() * 0.3)
					} else if p.Name == "moving_variance" {
						p.Value[i] = float32(0.5 + rng.Float64())
					} else {
						p.Value[i] = float32(rng.NormFloat64() * 0.3)
					}
				}
			}
			var xs []*Tensor
			for k, s := range c.in {
				x := randTensor(int64(100*ci+k), append([]int{batch}, s...)...)
				if c.ints > 0 {
					for i := range x.Data {
						x.Data[i] = float32(rng.Intn(c.ints))
					}
				}
				xs = append(xs, x)
			}
			r := randTensor(int64(1000+ci), append([]int{batch}, out...)...)
			const seed = 42
			lossOf(t, l, xs, r, c.training, seed)
			st := &runState{training: c.training, rng: rand.New(rand.NewSource(seed))}
			if _, err := l.forward(st, xs); err != nil {
				t.Fatal(err)
			}
			dxs := l.backward(st, r, c.ints == 0)
			// Copy analytic gradients before the numerical passes reuse buffers.
			var pgrads [][]float32
			for _, p := range l.Params() {
				pgrads = append(pgrads, append([]float32(nil), p.Grad...))
			}
			var igrads [][]float32
			for _, d := range dxs {
				if d == nil {
					igrads = append(igrads, nil)
				} else {
					igrads = append(igrads, append([]float32(nil), d.Data...))
				}
			}
			check := func(what string, vals []float32, analytic []float32) {
				const eps = 2e-3
				l0 := lossOf(t, l, xs, r, c.training, seed)
				skipped := 0
				for i := range vals {
					old := vals[i]
					vals[i] = old + eps
					lp := lossOf(t, l, xs, r, c.training, seed)
					vals[i] = old - eps
					lm := lossOf(t, l, xs, r, c.training, seed)
					vals[i] = old
					right, left := (lp-l0)/eps, (l0-lm)/eps
					if math.Abs(right-left) > 5e-2*math.Max(1, math.Abs(right)) {
						skipped++ // a kink (relu at 0, max-pool tie) within eps
						continue
					}
					num := (lp - lm) / (2 * eps)
					a := float64(analytic[i])
					if math.Abs(num-a) > 1e-2*math.Max(1, math.Abs(num)) {
						t.Errorf("%s[%d]: analytic %.5f, numerical %.5f", what, i, a, num)
						return
					}
				}
				if skipped > len(vals)/10 {
					t.Errorf("%s: %d of %d elements sit on kinks; the check proves little", what, skipped, len(vals))
				}
			}
			for k, p := range l.Params() {
				if p.Trainable {
					check("param "+p.Name, p.Value, pgrads[k])
				}
			}
			if c.ints == 0 {
				if len(igrads) != len(xs) {
					t.Fatalf("backward returned %d input gradients for %d inputs", len(igrads), len(xs))
				}
				for k, x := range xs {
					if igrads[k] == nil {
						t.Fatalf("no gradient for input %d", k)
					}
					check(fmt.Sprintf("input %d", k), x.Data, igrads[k])
				}
			}
		})
	}
}

// TestModelGradientWithLoss checks a whole model, including the fused
// softmax/sigmoid + cross-entropy gradient and multi-input wiring.
func TestModelGradientWithLoss(t *testing.T) {
	cases := []struct {
		name  string
		build func() (*Model, error)
		loss  string
		x     []*Tensor
		y     *Tensor
	}{
		{"cnn_sparse_ce", func() (*Model, error) {
			return Sequential(InputLayer(6, 6, 1), Conv2D(2, 3, Conv2DOptions{Activation: "relu"}), MaxPooling2D(2), Flatten(), Dense(3, "softmax"))
		}, "sparse_categorical_crossentropy", []*Tensor{randTensor(1, 5, 6, 6, 1)}, &Tensor{Shape: []int{5}, Data: []float32{0, 2, 1, 1, 0}}},
		{"mlp_bce", func() (*Model, error) {
			return Sequential(InputLayer(4), Dense(5, "tanh"), Dense(1, "sigmoid"))
		}, "binary_crossentropy", []*Tensor{randTensor(2, 6, 4)}, &Tensor{Shape: []int{6, 1}, Data: []float32{0, 1, 1, 0, 1, 0}}},
		{"functional_mse", func() (*Model, error) {
			a, b := Input(2).Named("a"), Input(1).Named("b")
			e := Apply(Flatten(), Apply(Embedding(4, 2), b))
			out := Apply(Concatenate(), a, e).Then(Dense(3, "relu"), Dense(1, ""))
			return NewModel([]*Node{a, b}, out)
		}, "mse", []*Tensor{randTensor(3, 5, 2), {Shape: []int{5, 1}, Data: []float32{0, 3, 1, 2, 3}}}, randTensor(4, 5, 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := c.build()
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Compile(CompileOptions{Loss: c.loss, Seed: 3, Optimizer: &SGD{}}); err != nil {
				t.Fatal(err)
			}
			st := &runState{training: true, rng: rand.New(rand.NewSource(1))}
			lossAt := func() float64 {
				out, err := m.forward(st, c.x)
				if err != nil {
					t.Fatal(err)
				}
				l, err := m.loss.compute(out, c.y, nil, m.fused)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			out, _ := m.forward(st, c.x)
			g := Zeros(out.Shape...)
			if _, err := m.loss.compute(out, c.y, g.Data, m.fused); err != nil {
				t.Fatal(err)
			}
			m.backward(st, g)
			for _, w := range m.Weights() {
				an := append([]float32(nil), w.Grad...)
				for i := range w.Value {
					old := w.Value[i]
					const eps = 5e-3
					w.Value[i] = old + eps
					lp := lossAt()
					w.Value[i] = old - eps
					lm := lossAt()
					w.Value[i] = old
					num := (lp - lm) / (2 * eps)
					if math.Abs(num-float64(an[i])) > 1e-2*math.Max(1, math.Abs(num)) {
						t.Fatalf("%s/%s[%d]: analytic %.5f numerical %.5f", w.Layer, w.Name, i, an[i], num)
					}
				}
			}
		})
	}
}
