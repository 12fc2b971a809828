package train

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// kernelOp is a gorgonia Op whose Do runs one of this package's float32
// kernels (a custom op, for what gorgonia v0.9.17 lacks or does slowly).
// Graphs are built per batch size, so every shape is static and known when
// the op is created. Ops are hashed by name, which embeds the layer name,
// so that gorgonia never merges the nodes of two layers.
type kernelOp struct {
	name   string
	inDims []int
	out    tensor.Shape
	// run computes the output from the inputs; it overwrites all of out.
	run func(out []float32, in [][]float32) error
	// grad builds the gradient nodes of the inputs (nil for inputs that
	// are not differentiated); nil means the op is not differentiable.
	grad func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error)
	wrt  []bool
	// buf is the output, reused from step to step: the machine is reset
	// before every run, and a large activation is not allocated again.
	buf *tensor.Dense
}

func f32Type(dims int) hm.Type {
	if dims == 0 {
		return tensor.Float32
	}
	return G.TensorType{Dims: dims, Of: tensor.Float32}
}

// Arity is the number of inputs.
func (o *kernelOp) Arity() int { return len(o.inDims) }

// Type is float32 tensors in, float32 tensor out.
func (o *kernelOp) Type() hm.Type {
	ts := make([]hm.Type, 0, len(o.inDims)+1)
	for _, d := range o.inDims {
		ts = append(ts, f32Type(d))
	}
	return hm.NewFnType(append(ts, f32Type(len(o.out)))...)
}

// InferShape returns the static output shape.
func (o *kernelOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return o.out.Clone(), nil }

// ReturnsPtr is false: the output is the op's own buffer, never an input.
func (o *kernelOp) ReturnsPtr() bool { return false }

// CallsExtern is false (OpenBLAS calls are synchronous cgo).
func (o *kernelOp) CallsExtern() bool { return false }

// OverwritesInput is -1: inputs are never written.
func (o *kernelOp) OverwritesInput() int { return -1 }

// WriteHash hashes the op's unique name.
func (o *kernelOp) WriteHash(h hash.Hash) { fmt.Fprint(h, o.name) }

// Hashcode hashes the op's unique name.
func (o *kernelOp) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

func (o *kernelOp) String() string { return o.name }

// floats returns the float32 elements of a gorgonia value.
func floats(v G.Value) ([]float32, error) {
	switch v := v.(type) {
	case *G.F32:
		return []float32{float32(*v)}, nil
	case tensor.Tensor:
		switch d := v.Data().(type) {
		case []float32:
			return d, nil
		case float32:
			return []float32{d}, nil
		}
	}
	return nil, fmt.Errorf("train: expected float32 values, got %T", v)
}

func (o *kernelOp) inputs(vs []G.Value) ([][]float32, error) {
	if len(vs) != len(o.inDims) {
		return nil, fmt.Errorf("%s: %d inputs, want %d", o.name, len(vs), len(o.inDims))
	}
	in := make([][]float32, len(vs))
	for i, v := range vs {
		d, err := floats(v)
		if err != nil {
			return nil, fmt.Errorf("%s: input %d: %w", o.name, i, err)
		}
		in[i] = d
	}
	return in, nil
}

// Do computes the output into the op's buffer.
func (o *kernelOp) Do(vs ...G.Value) (G.Value, error) {
	in, err := o.inputs(vs)
	if err != nil {
		return nil, err
	}
	if len(o.out) == 0 {
		out := make([]float32, 1)
		if err := o.run(out, in); err != nil {
			return nil, err
		}
		return G.NewF32(out[0]), nil
	}
	if o.buf == nil {
		o.buf = tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(o.out...))
	}
	if err := o.run(o.buf.Data().([]float32), in); err != nil {
		return nil, err
	}
	return o.buf, nil
}

// DiffWRT reports which inputs the op is differentiable with respect to.
func (o *kernelOp) DiffWRT(n int) []bool {
	if o.wrt != nil {
		return o.wrt
	}
	w := make([]bool, n)
	for i := range w {
		w[i] = o.grad != nil
	}
	return w
}

// SymDiff builds the gradient nodes of the inputs.
func (o *kernelOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if o.grad == nil {
		return nil, fmt.Errorf("%s is not differentiable", o.name)
	}
	return o.grad(inputs, output, grad)
}

// apply adds a kernel op named name (unique in the graph) with the given
// output shape to the graph. wrt lists the differentiated inputs (nil: all
// when grad is set).
func apply(name string, out []int, wrt []bool, run func(out []float32, in [][]float32) error,
	grad func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error), inputs ...*G.Node) (*G.Node, error) {
	op := &kernelOp{name: name, out: tensor.Shape(append([]int(nil), out...)), run: run, grad: grad, wrt: wrt}
	for _, n := range inputs {
		op.inDims = append(op.inDims, n.Dims())
	}
	return G.ApplyOp(op, inputs...)
}
