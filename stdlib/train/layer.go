package train

import (
	"fmt"
	"math"
	"math/rand"

	G "gorgonia.org/gorgonia"
)

// Param is one weight array of a layer. Exporters (ONNX) read Value in the
// layout documented on each layer constructor.
type Param struct {
	// Name is the weight's name within its layer: "kernel", "bias", "gamma",
	// "beta", "moving_mean", "moving_variance", "embeddings".
	Name string
	// Shape is the weight's shape (Dense kernel: inputs×units; Conv2D
	// kernel: kh×kw×in_channels×filters).
	Shape []int
	// Value holds the weights, row-major.
	Value []float32
	// Grad holds the gradient of the last training step (trainable only).
	Grad []float32
	// Trainable is false for statistics such as BatchNormalization's moving
	// mean and variance.
	Trainable bool
}

func newParam(name string, trainable bool, shape ...int) *Param {
	n := numel(shape)
	p := &Param{Name: name, Shape: shape, Value: make([]float32, n), Trainable: trainable}
	if trainable {
		p.Grad = make([]float32, n)
	}
	return p
}

// Layer is one building block of a model. Layers are created by the
// constructors of this package (Dense, Conv2D, ...) and are used once, in
// one model.
type Layer interface {
	// Name returns the layer's name, unique within its model ("dense_1").
	Name() string
	// Kind returns the Keras class name of the layer ("Dense").
	Kind() string
	// Params returns the layer's weights (nil before the model is built).
	Params() []*Param
	// OutputShape returns the shape of one output example (without the
	// batch dimension), known once the model is built.
	OutputShape() []int
	// Config returns the layer's hyper-parameters, as saved in model files.
	Config() map[string]any

	base() *layerBase
	build(in [][]int) ([]int, error)
	initWeights(rng *rand.Rand)
	// graph adds the layer's computation on its input nodes to a model
	// graph and returns the output node.
	graph(b *builder, in []*G.Node) (*G.Node, error)
}

type layerBase struct {
	name, kind string
	out        []int
	params     []*Param
}

func (b *layerBase) Name() string           { return b.name }
func (b *layerBase) Kind() string           { return b.kind }
func (b *layerBase) Params() []*Param       { return b.params }
func (b *layerBase) OutputShape() []int     { return append([]int(nil), b.out...) }
func (b *layerBase) base() *layerBase       { return b }
func (b *layerBase) initWeights(*rand.Rand) {}

// glorotUniform fills w with Keras's default kernel initialiser.
func glorotUniform(rng *rand.Rand, w []float32, fanIn, fanOut int) {
	limit := math.Sqrt(6 / float64(fanIn+fanOut))
	for i := range w {
		w[i] = float32((rng.Float64()*2 - 1) * limit)
	}
}

func oneInput(kind string, in [][]int) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%s takes one input, got %d", kind, len(in))
	}
	return in[0], nil
}

// activation functions -------------------------------------------------------

var activations = map[string]bool{"": true, "linear": true, "relu": true, "sigmoid": true, "tanh": true, "softmax": true}

func checkActivation(a string) error {
	if !activations[a] {
		return fmt.Errorf("unknown activation %q (want relu, linear, sigmoid, tanh or softmax)", a)
	}
	return nil
}
