package train

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// layerGraph builds the gorgonia graph of l on inputs xs (fed by sharing
// their data, so perturbing xs changes the next run) with the loss
// sum(out*r), and its gradients w.r.t. the trainable weights and, unless
// ints, the inputs.
type layerGraph struct {
	b     *builder
	vm    G.VM
	out   *G.Node
	r     *Tensor
	seed  int64
	grads G.Nodes
}

func newLayerGraph(t *testing.T, l Layer, xs []*Tensor, r *Tensor, training, ints bool, seed int64) *layerGraph {
	b := newBuilder(xs[0].Len(), training)
	var ins, wrt G.Nodes
	for k, x := range xs {
		n := b.input(fmt.Sprintf("x%d", k), x.Shape)
		if err := G.Let(n, tensor.New(tensor.WithShape(x.Shape...), tensor.WithBacking(x.Data))); err != nil {
			t.Fatal(err)
		}
		b.noGrad[n] = ints
		ins = append(ins, n)
	}
	out, err := l.graph(b, ins)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := b.snapshot(out)
	if err != nil {
		t.Fatal(err)
	}
	rn := b.input("r", r.Shape)
	if err := G.Let(rn, tensor.New(tensor.WithShape(r.Shape...), tensor.WithBacking(r.Data))); err != nil {
		t.Fatal(err)
	}
	prod, err := G.HadamardProd(out, rn)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range b.params {
		wrt = append(wrt, b.weights[p])
	}
	if !ints {
		wrt = append(wrt, ins...)
	}
	grads, err := G.Grad(loss, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	return &layerGraph{b: b, vm: G.NewTapeMachine(b.g), out: snap, r: r, seed: seed, grads: grads}
}

// loss runs the graph and returns sum(out*r) in float64.
func (lg *layerGraph) loss(t *testing.T) float64 {
	rng := rand.New(rand.NewSource(lg.seed))
	for _, f := range lg.b.fills {
		f(rng)
	}
	if err := lg.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	lg.vm.Reset()
	out, err := floats(lg.out.Value())
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for i, v := range out {
		s += float64(v) * float64(lg.r.Data[i])
	}
	return s
}

// gradient returns a copy of the i-th gradient of the last run.
func (lg *layerGraph) gradient(t *testing.T, i int) []float32 {
	g, err := floats(lg.grads[i].Value())
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), g...)
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
			lg := newLayerGraph(t, l, xs, r, c.training, c.ints > 0, seed)
			lg.loss(t)
			// Copy analytic gradients before the numerical passes reuse buffers.
			pgrads := map[*Param][]float32{}
			for i, p := range lg.b.params {
				pgrads[p] = lg.gradient(t, i)
			}
			var igrads [][]float32
			if c.ints == 0 {
				for k := range xs {
					igrads = append(igrads, lg.gradient(t, len(lg.b.params)+k))
				}
			}
			lossOf := func() float64 { return lg.loss(t) }
			check := func(what string, vals []float32, analytic []float32) {
				const eps = 2e-3
				l0 := lossOf()
				skipped := 0
				for i := range vals {
					old := vals[i]
					vals[i] = old + eps
					lp := lossOf()
					vals[i] = old - eps
					lm := lossOf()
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
			for _, p := range l.Params() {
				if p.Trainable {
					if pgrads[p] == nil {
						t.Fatalf("no gradient for %s", p.Name)
					}
					check("param "+p.Name, p.Value, pgrads[p])
				}
			}
			if c.ints == 0 {
				for k, x := range xs {
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
		{"sce_on_sigmoid_probabilities", func() (*Model, error) {
			return Sequential(InputLayer(4), Dense(5, "tanh"), Dense(3, "sigmoid"))
		}, "sparse_categorical_crossentropy", []*Tensor{randTensor(5, 6, 4)}, &Tensor{Shape: []int{6}, Data: []float32{0, 1, 2, 2, 1, 0}}},
		{"bce_on_softmax_probabilities", func() (*Model, error) {
			return Sequential(InputLayer(4), Dense(2, "softmax"))
		}, "binary_crossentropy", []*Tensor{randTensor(6, 6, 4)}, &Tensor{Shape: []int{6, 2}, Data: []float32{0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0}}},
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
			p, err := m.program(c.x[0].Len(), true)
			if err != nil {
				t.Fatal(err)
			}
			lossAt := func() float64 {
				if err := p.run(m, c.x, c.y); err != nil {
					t.Fatal(err)
				}
				l, err := p.lossValue()
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			lossAt()
			grads := map[*Param][]float32{}
			for i, prm := range p.b.params {
				g, err := floats(p.grads[i].Value())
				if err != nil {
					t.Fatal(err)
				}
				grads[prm] = append([]float32(nil), g...)
			}
			for _, w := range m.Weights() {
				an := grads[w.Param]
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
