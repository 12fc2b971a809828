package train

import (
	"fmt"
	"math"
	"math/rand"

	G "gorgonia.org/gorgonia"
)

// BatchNormalization ----------------------------------------------------------

// BatchNormOptions are the optional settings of BatchNormalization; zero
// values mean Keras's defaults (momentum 0.99, epsilon 0.001).
type BatchNormOptions struct {
	// Momentum of the moving mean and variance.
	Momentum float64
	// Epsilon is added to the variance before the square root.
	Epsilon float64
}

type batchNorm struct {
	layerBase
	opt    BatchNormOptions
	c      int
	xhat   []float32
	invStd []float64
}

// BatchNormalization normalises its input over the batch per feature (the
// last axis: channels of NHWC images), then scales by gamma and shifts by
// beta. During training it uses batch statistics and updates moving_mean
// and moving_variance; at inference it uses the moving statistics.
func BatchNormalization(opts ...BatchNormOptions) Layer {
	l := &batchNorm{layerBase: layerBase{kind: "BatchNormalization"}}
	if len(opts) > 0 {
		l.opt = opts[0]
	}
	if l.opt.Momentum == 0 {
		l.opt.Momentum = 0.99
	}
	if l.opt.Epsilon == 0 {
		l.opt.Epsilon = 1e-3
	}
	return l
}

func (l *batchNorm) Config() map[string]any {
	return map[string]any{"momentum": l.opt.Momentum, "epsilon": l.opt.Epsilon}
}
func (l *batchNorm) build(in [][]int) ([]int, error) {
	s, err := oneInput(l.kind, in)
	if err != nil {
		return nil, err
	}
	l.c = s[len(s)-1]
	l.params = []*Param{newParam("gamma", true, l.c), newParam("beta", true, l.c),
		newParam("moving_mean", false, l.c), newParam("moving_variance", false, l.c)}
	return s, nil
}
func (l *batchNorm) initWeights(*rand.Rand) {
	for i := 0; i < l.c; i++ {
		l.params[0].Value[i] = 1
		l.params[1].Value[i] = 0
		l.params[2].Value[i] = 0
		l.params[3].Value[i] = 1
	}
}

// graph normalises with a custom op: gorgonia's BatchNorm works on NCHW
// images over fixed axes. In training mode the op uses batch statistics
// and updates the moving ones; in inference mode it uses the moving ones.
func (l *batchNorm) graph(b *builder, in []*G.Node) (*G.Node, error) {
	x := in[0]
	ps := make(G.Nodes, 4)
	for i, p := range l.params {
		ps[i] = b.weight(l.name, p)
	}
	training := b.training
	wrt := append(b.wrt(x, ps[0], ps[1]), false, false)
	back := func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
		out := make(G.Nodes, 5)
		var err error
		if wrt[0] {
			out[0], err = apply(l.name+"/batchnorm_grad_input", x.Shape(), nil, func(dx []float32, in [][]float32) error {
				l.inputGrad(in[0], in[1], dx, training)
				return nil
			}, nil, ps[0], grad)
			if err != nil {
				return nil, err
			}
		}
		out[1], err = apply(l.name+"/batchnorm_grad_gamma", []int{l.c}, nil, func(dg []float32, in [][]float32) error {
			clear(dg)
			for i, d := range in[0] {
				dg[i%l.c] += d * l.xhat[i]
			}
			return nil
		}, nil, grad)
		if err != nil {
			return nil, err
		}
		out[2], err = apply(l.name+"/batchnorm_grad_beta", []int{l.c}, nil, func(db []float32, in [][]float32) error {
			sumRows(in[0], db)
			return nil
		}, nil, grad)
		return out, err
	}
	return apply(l.name+"/batchnorm", x.Shape(), wrt, func(y []float32, in [][]float32) error {
		l.normalize(in[0], y, training)
		return nil
	}, back, x, ps[0], ps[1], ps[2], ps[3])
}

// normalize writes the normalised x into y, keeping x̂ and 1/σ for the
// gradients; in training mode it also updates the moving statistics.
func (l *batchNorm) normalize(x, y []float32, training bool) {
	C := l.c
	rows := len(x) / C
	gamma, beta := l.params[0].Value, l.params[1].Value
	mm, mv := l.params[2].Value, l.params[3].Value
	if cap(l.xhat) < len(x) {
		l.xhat = make([]float32, len(x))
	}
	l.xhat = l.xhat[:len(x)]
	l.invStd = make([]float64, C)
	mean := make([]float64, C)
	if !training {
		for c := 0; c < C; c++ {
			mean[c] = float64(mm[c])
			l.invStd[c] = 1 / math.Sqrt(float64(mv[c])+l.opt.Epsilon)
		}
	} else {
		varc := make([]float64, C)
		for r := 0; r < rows; r++ {
			for c, v := range x[r*C : (r+1)*C] {
				mean[c] += float64(v)
			}
		}
		for c := range mean {
			mean[c] /= float64(rows)
		}
		for r := 0; r < rows; r++ {
			for c, v := range x[r*C : (r+1)*C] {
				d := float64(v) - mean[c]
				varc[c] += d * d
			}
		}
		m := float32(l.opt.Momentum)
		for c := range varc {
			varc[c] /= float64(rows)
			l.invStd[c] = 1 / math.Sqrt(varc[c]+l.opt.Epsilon)
			mm[c] = m*mm[c] + (1-m)*float32(mean[c])
			mv[c] = m*mv[c] + (1-m)*float32(varc[c])
		}
	}
	for r := 0; r < rows; r++ {
		for c := 0; c < C; c++ {
			i := r*C + c
			xh := float32((float64(x[i]) - mean[c]) * l.invStd[c])
			l.xhat[i] = xh
			y[i] = gamma[c]*xh + beta[c]
		}
	}
}

// inputGrad writes the gradient w.r.t. the input from dout; in training
// mode the batch statistics depend on the input too.
func (l *batchNorm) inputGrad(gamma, dout, dx []float32, training bool) {
	C := l.c
	rows := len(dout) / C
	if !training {
		for i, d := range dout {
			c := i % C
			dx[i] = d * float32(float64(gamma[c])*l.invStd[c])
		}
		return
	}
	sumD := make([]float64, C)
	sumDX := make([]float64, C)
	for i, d := range dout {
		c := i % C
		g := float64(d) * float64(gamma[c])
		sumD[c] += g
		sumDX[c] += g * float64(l.xhat[i])
	}
	M := float64(rows)
	for i, d := range dout {
		c := i % C
		dxh := float64(d) * float64(gamma[c])
		dx[i] = float32(l.invStd[c] / M * (M*dxh - sumD[c] - float64(l.xhat[i])*sumDX[c]))
	}
}

// Embedding -----------------------------------------------------------------

type embedding struct {
	layerBase
	vocab, dim int
	idx        []int
}

// Embedding maps integer ids (vocabulary-encoded categoricals, given as
// float values in [0, inputDim)) to learned vectors of size outputDim: an
// input of shape (batch, n) gives (batch, n, outputDim). Its "embeddings"
// weight has shape inputDim×outputDim.
func Embedding(inputDim, outputDim int) Layer {
	return &embedding{layerBase: layerBase{kind: "Embedding"}, vocab: inputDim, dim: outputDim}
}

func (l *embedding) Config() map[string]any {
	return map[string]any{"input_dim": l.vocab, "output_dim": l.dim}
}
func (l *embedding) build(in [][]int) ([]int, error) {
	s, err := oneInput(l.kind, in)
	if err != nil {
		return nil, err
	}
	if l.vocab <= 0 || l.dim <= 0 {
		return nil, fmt.Errorf("Embedding input and output dimensions must be positive")
	}
	l.params = []*Param{newParam("embeddings", true, l.vocab, l.dim)}
	return append(append([]int(nil), s...), l.dim), nil
}
func (l *embedding) initWeights(rng *rand.Rand) {
	for i := range l.params[0].Value {
		l.params[0].Value[i] = float32((rng.Float64()*2 - 1) * 0.05)
	}
}

// graph looks rows up with a custom op that checks the ids (gorgonia's
// ByIndices takes integer index tensors, while ids arrive as float32
// features with the other inputs).
func (l *embedding) graph(b *builder, in []*G.Node) (*G.Node, error) {
	ids := in[0]
	w := b.weight(l.name, l.params[0])
	back := func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
		dw, err := apply(l.name+"/embedding_grad", l.params[0].Shape, nil, func(g []float32, in [][]float32) error {
			clear(g)
			for i, id := range l.idx {
				row := g[id*l.dim : (id+1)*l.dim]
				for j, v := range in[0][i*l.dim : (i+1)*l.dim] {
					row[j] += v
				}
			}
			return nil
		}, nil, grad)
		return G.Nodes{nil, dw}, err
	}
	out := append(ids.Shape().Clone(), l.dim)
	return apply(l.name+"/embedding", out, []bool{false, true}, func(y []float32, in [][]float32) error {
		l.idx = l.idx[:0]
		for i, v := range in[0] {
			id := int(v)
			if float32(id) != v || id < 0 || id >= l.vocab {
				return fmt.Errorf("embedding %q: id %v at position %d is not an integer in [0, %d)", l.name, v, i, l.vocab)
			}
			l.idx = append(l.idx, id)
			copy(y[i*l.dim:(i+1)*l.dim], in[1][id*l.dim:(id+1)*l.dim])
		}
		return nil
	}, back, ids, w)
}

// Concatenate -----------------------------------------------------------------

type concat struct {
	layerBase
	sizes []int
}

// Concatenate joins several inputs along the last axis (the taxi DNN's one
// input per feature). Use it with Apply in the functional form.
func Concatenate() Layer { return &concat{layerBase: layerBase{kind: "Concatenate"}} }

func (l *concat) Config() map[string]any { return map[string]any{"axis": -1} }
func (l *concat) build(in [][]int) ([]int, error) {
	if len(in) < 1 {
		return nil, fmt.Errorf("Concatenate needs at least one input")
	}
	lead := in[0][:len(in[0])-1]
	l.sizes = nil
	total := 0
	for i, s := range in {
		if len(s) != len(in[0]) || fmt.Sprint(s[:len(s)-1]) != fmt.Sprint(lead) {
			return nil, fmt.Errorf("Concatenate input %d has shape %v, incompatible with %v", i, s, in[0])
		}
		l.sizes = append(l.sizes, s[len(s)-1])
		total += s[len(s)-1]
	}
	return append(append([]int(nil), lead...), total), nil
}
func (l *concat) graph(b *builder, in []*G.Node) (*G.Node, error) {
	if len(in) == 1 {
		return in[0], nil
	}
	return G.Concat(in[0].Dims()-1, in...)
}
