package train

import (
	"fmt"
	"math"
	"math/rand"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// builder turns a model's layers into one gorgonia expression graph for a
// fixed batch size, in training or inference mode.
type builder struct {
	g        *G.ExprGraph
	batch    int
	training bool
	weights  map[*Param]*G.Node
	params   []*Param
	// noGrad marks nodes that carry model inputs unchanged (no gradient is
	// needed for them).
	noGrad map[*G.Node]bool
	// logits maps a softmax or sigmoid output to its input, so that the
	// loss can work on logits (stable cross-entropy).
	logits map[*G.Node]logit
	// fills run before every step (dropout masks from the model's seeded
	// random source).
	fills []func(rng *rand.Rand)
}

func newBuilder(batch int, training bool) *builder {
	return &builder{g: G.NewGraph(), batch: batch, training: training, weights: map[*Param]*G.Node{},
		noGrad: map[*G.Node]bool{}, logits: map[*G.Node]logit{}}
}

// weight returns the graph node of p, whose value shares p.Value: optimizer
// updates of p.Value are what the next step computes with.
func (b *builder) weight(layer string, p *Param) *G.Node {
	if n, ok := b.weights[p]; ok {
		return n
	}
	t := tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(p.Value))
	n := G.NewTensor(b.g, tensor.Float32, len(p.Shape), G.WithShape(p.Shape...), G.WithName(layer+"/"+p.Name), G.WithValue(t))
	b.weights[p] = n
	if p.Trainable {
		b.params = append(b.params, p)
	}
	return n
}

// input adds a node filled before every step.
func (b *builder) input(name string, shape []int) *G.Node {
	return G.NewTensor(b.g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name))
}

// wrt lists, for op inputs, which need a gradient.
func (b *builder) wrt(ns ...*G.Node) []bool {
	w := make([]bool, len(ns))
	for i, n := range ns {
		w[i] = !b.noGrad[n]
	}
	return w
}

// activate applies a named activation with gorgonia's ops.
func (b *builder) activate(act string, z *G.Node) (*G.Node, error) {
	var y *G.Node
	var err error
	switch act {
	case "", "linear":
		return z, nil
	case "relu":
		return b.relu(z)
	case "tanh":
		y, err = G.Tanh(z)
	case "sigmoid":
		y, err = G.Sigmoid(z)
	case "softmax":
		y, err = G.SoftMax(z)
	default:
		return nil, checkActivation(act)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", act, err)
	}
	if act == "softmax" || act == "sigmoid" {
		b.logits[y] = logit{z, act}
	}
	return y, nil
}

// relu is a custom op: gorgonia v0.9.17's Rectify builds x ⊙ (x ≥ 0)
// from a comparison and a product (several passes over memory, and a
// product for the gradient of the mask too); with it a training step of the
// simple CNN at batch 512 took 0.30-0.44 s against 0.13-0.26 s with this op
// (BenchmarkCNNStep, loaded machine). The gradient op passes the upstream
// gradient where the output is positive.
func (b *builder) relu(z *G.Node) (*G.Node, error) {
	var y *G.Node
	back := func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
		d, err := apply(z.Name()+"/relu_grad", z.Shape(), nil, func(d []float32, in [][]float32) error {
			y, g := in[0], in[1]
			parallelMin(len(d), 1<<14, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					// y is +0 or positive; the mask is all ones for y > 0.
					m := -((math.Float32bits(y[i]) + 0x7fffffff) >> 31)
					d[i] = math.Float32frombits(math.Float32bits(g[i]) & m)
				}
			})
			return nil
		}, nil, y, grad)
		return G.Nodes{d}, err
	}
	var err error
	y, err = apply(z.Name()+"/relu", z.Shape(), nil, func(y []float32, in [][]float32) error {
		x := in[0]
		parallelMin(len(y), 1<<14, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				// Branch-free: random signs make a branch mispredict half
				// the time.
				bits := math.Float32bits(x[i])
				y[i] = math.Float32frombits(bits & uint32(int32(^bits)>>31))
			}
		})
		return nil
	}, back, z)
	return y, err
}

// logit is the input of a softmax or sigmoid output.
type logit struct {
	z   *G.Node
	act string
}

// snapshot adds a copy of n that nothing consumes: gorgonia's backward
// ops may reuse the memory of forward values in place, so values read after
// a run come from such copies.
func (b *builder) snapshot(n *G.Node) (*G.Node, error) {
	return apply(n.Name()+"/snapshot", n.Shape(), nil, func(out []float32, in [][]float32) error {
		copy(out, in[0])
		return nil
	}, nil, n)
}

// program is one compiled graph of a model: a tape machine that runs the
// forward pass and, in training mode, the backward pass and loss.
type program struct {
	b      *builder
	vm     G.VM
	inputs G.Nodes
	target *G.Node
	out    *G.Node
	loss   *G.Node
	grads  G.Nodes
}

// maxPrograms bounds the graphs a model keeps (each holds its activations).
const maxPrograms = 6

type progKey struct {
	batch    int
	training bool
}

// program returns the model's graph for a batch size and mode, building
// and caching it on first use.
func (m *Model) program(batch int, training bool) (*program, error) {
	k := progKey{batch, training}
	if p, ok := m.progs[k]; ok {
		return p, nil
	}
	b := newBuilder(batch, training)
	var err error
	nodes := make([]*G.Node, len(m.nodes))
	p := &program{b: b}
	for _, i := range m.inIdx {
		l := m.nodes[i].layer
		in := b.input("input/"+l.Name(), append([]int{batch}, l.OutputShape()...))
		b.noGrad[in] = true
		p.inputs = append(p.inputs, in)
	}
	isInput := map[int]int{}
	for k, i := range m.inIdx {
		isInput[i] = k
	}
	for i, n := range m.nodes {
		if k, ok := isInput[i]; ok {
			nodes[i] = p.inputs[k]
			continue
		}
		in := make([]*G.Node, len(m.preds[i]))
		for k, pi := range m.preds[i] {
			in[k] = nodes[pi]
		}
		if nodes[i], err = n.layer.graph(b, in); err != nil {
			return nil, fmt.Errorf("train: layer %s: %w", n.layer.Name(), err)
		}
	}
	out := nodes[len(nodes)-1]
	p.out, err = b.snapshot(out)
	if err != nil {
		return nil, err
	}
	if m.loss != nil {
		p.target = b.input("target", m.loss.targetShape(batch, m.OutputShape()))
		loss, err := m.loss.graph(b, out, p.target)
		if err != nil {
			return nil, fmt.Errorf("train: loss %s: %w", m.loss.name(), err)
		}
		if p.loss, err = b.snapshot(loss); err != nil {
			return nil, err
		}
		if training && len(b.params) > 0 {
			wrt := make(G.Nodes, len(b.params))
			for i, prm := range b.params {
				wrt[i] = b.weights[prm]
			}
			if p.grads, err = G.Grad(loss, wrt...); err != nil {
				return nil, fmt.Errorf("train: gradients: %w", err)
			}
		}
	}
	p.vm = newMachine(b.g)
	if len(m.progs) >= maxPrograms {
		// Many batch sizes (Predict on inputs of varying length): keep
		// memory bounded by starting the cache over.
		m.dropGraphs()
	}
	if m.progs == nil {
		m.progs = map[progKey]*program{}
	}
	m.progs[k] = p
	return p, nil
}

// dropGraphs forgets the compiled graphs (Compile may change the loss;
// weights need no rebuild, their memory is shared with the graphs).
func (m *Model) dropGraphs() {
	for _, p := range m.progs {
		p.vm.Close()
	}
	m.progs = nil
}

// run feeds one batch (and targets, when y is set) and runs the program.
func (p *program) run(m *Model, xs []*Tensor, y *Tensor) error {
	if len(xs) != len(p.inputs) {
		return fmt.Errorf("train: model has %d inputs (%s), got %d tensors", len(p.inputs), strings.Join(m.InputNames(), ", "), len(xs))
	}
	for k, x := range xs {
		shape := p.inputs[k].Shape()
		if x.Len() != shape[0] || len(x.Data) != shape.TotalSize() {
			l := m.nodes[m.inIdx[k]].layer
			return fmt.Errorf("train: input %q expects examples of shape %v, got batch of shape %v", l.Name(), l.OutputShape(), x.Shape)
		}
		if err := G.Let(p.inputs[k], tensor.New(tensor.WithShape(shape...), tensor.WithBacking(x.Data))); err != nil {
			return err
		}
	}
	if p.target != nil {
		shape := p.target.Shape()
		t := make([]float32, shape.TotalSize())
		if y != nil {
			if err := m.loss.fillTarget(t, y, p.out.Shape()); err != nil {
				return err
			}
		}
		if err := G.Let(p.target, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(t))); err != nil {
			return err
		}
	}
	for _, f := range p.b.fills {
		f(m.rng)
	}
	defer p.vm.Reset()
	return p.vm.RunAll()
}

// output copies the program's output after a run.
func (p *program) output() (*Tensor, error) {
	d, err := floats(p.out.Value())
	if err != nil {
		return nil, err
	}
	return &Tensor{Shape: append([]int(nil), p.out.Shape()...), Data: append([]float32(nil), d...)}, nil
}

// lossValue returns the loss computed by the last run.
func (p *program) lossValue() (float64, error) {
	d, err := floats(p.loss.Value())
	if err != nil {
		return 0, err
	}
	return float64(d[0]), nil
}
