package train

import (
	"fmt"
	"math"
	"math/rand"
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
	forward(st *runState, in []*Tensor) (*Tensor, error)
	backward(st *runState, dout *Tensor, needDX bool) []*Tensor
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

// runState carries what one forward/backward pass needs besides inputs.
type runState struct {
	training bool
	rng      *rand.Rand
}

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

// activate applies a in place on y, whose last dimension has size last.
func activate(a string, y []float32, last int) {
	switch a {
	case "relu":
		for i, v := range y {
			if v < 0 {
				y[i] = 0
			}
		}
	case "sigmoid":
		for i, v := range y {
			y[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	case "tanh":
		for i, v := range y {
			y[i] = float32(math.Tanh(float64(v)))
		}
	case "softmax":
		for r := 0; r+last <= len(y); r += last {
			row := y[r : r+last]
			mx := row[0]
			for _, v := range row {
				if v > mx {
					mx = v
				}
			}
			var s float64
			for j, v := range row {
				e := math.Exp(float64(v - mx))
				row[j] = float32(e)
				s += e
			}
			inv := float32(1 / s)
			for j := range row {
				row[j] *= inv
			}
		}
	}
}

// activateGrad turns dy (gradient w.r.t. the activation output y) into the
// gradient w.r.t. its input, in place. fused means the loss already gave the
// gradient w.r.t. the logits (softmax or sigmoid with cross-entropy).
func activateGrad(a string, y, dy []float32, last int, fused bool) {
	if fused {
		return
	}
	switch a {
	case "relu":
		for i, v := range y {
			if v <= 0 {
				dy[i] = 0
			}
		}
	case "sigmoid":
		for i, v := range y {
			dy[i] *= v * (1 - v)
		}
	case "tanh":
		for i, v := range y {
			dy[i] *= 1 - v*v
		}
	case "softmax":
		for r := 0; r+last <= len(y); r += last {
			yr, dr := y[r:r+last], dy[r:r+last]
			var s float32
			for j := range yr {
				s += yr[j] * dr[j]
			}
			for j := range yr {
				dr[j] = yr[j] * (dr[j] - s)
			}
		}
	}
}

// activationLayer is implemented by layers whose output goes through an
// activation, so that a softmax/sigmoid output can be fused with the loss.
type activationLayer interface {
	activationName() string
	setFused(bool)
}
