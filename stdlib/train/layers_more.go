package train

import (
	"fmt"
	"math"
	"math/rand"
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
	opt       BatchNormOptions
	c         int
	xhat      []float32
	invStd    []float64
	y, dx     *Tensor
	lastTrain bool
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
func (l *batchNorm) forward(st *runState, in []*Tensor) (*Tensor, error) {
	x := in[0]
	C := l.c
	rows := len(x.Data) / C
	l.y = ensure(l.y, x.Shape)
	gamma, beta := l.params[0].Value, l.params[1].Value
	mm, mv := l.params[2].Value, l.params[3].Value
	l.lastTrain = st.training
	if !st.training {
		for c := 0; c < C; c++ {
			inv := 1 / math.Sqrt(float64(mv[c])+l.opt.Epsilon)
			sc := float32(float64(gamma[c]) * inv)
			sh := beta[c] - mm[c]*sc
			for r := 0; r < rows; r++ {
				l.y.Data[r*C+c] = x.Data[r*C+c]*sc + sh
			}
		}
		return l.y, nil
	}
	mean := make([]float64, C)
	varc := make([]float64, C)
	for r := 0; r < rows; r++ {
		for c, v := range x.Data[r*C : (r+1)*C] {
			mean[c] += float64(v)
		}
	}
	for c := range mean {
		mean[c] /= float64(rows)
	}
	for r := 0; r < rows; r++ {
		for c, v := range x.Data[r*C : (r+1)*C] {
			d := float64(v) - mean[c]
			varc[c] += d * d
		}
	}
	if cap(l.xhat) < len(x.Data) {
		l.xhat = make([]float32, len(x.Data))
	}
	l.xhat = l.xhat[:len(x.Data)]
	l.invStd = make([]float64, C)
	m := float32(l.opt.Momentum)
	for c := range varc {
		varc[c] /= float64(rows)
		l.invStd[c] = 1 / math.Sqrt(varc[c]+l.opt.Epsilon)
		mm[c] = m*mm[c] + (1-m)*float32(mean[c])
		mv[c] = m*mv[c] + (1-m)*float32(varc[c])
	}
	for r := 0; r < rows; r++ {
		for c := 0; c < C; c++ {
			i := r*C + c
			xh := float32((float64(x.Data[i]) - mean[c]) * l.invStd[c])
			l.xhat[i] = xh
			l.y.Data[i] = gamma[c]*xh + beta[c]
		}
	}
	return l.y, nil
}
func (l *batchNorm) backward(st *runState, dout *Tensor, needDX bool) []*Tensor {
	C := l.c
	rows := len(dout.Data) / C
	dg, db := l.params[0].Grad, l.params[1].Grad
	clear(dg)
	clear(db)
	gamma := l.params[0].Value
	if !l.lastTrain {
		// Gradient through the inference-mode affine map (used by gradient
		// checks and by fine-tuning with frozen statistics).
		mv := l.params[3].Value
		l.dx = ensure(l.dx, dout.Shape)
		for c := 0; c < C; c++ {
			inv := 1 / math.Sqrt(float64(mv[c])+l.opt.Epsilon)
			for r := 0; r < rows; r++ {
				i := r*C + c
				xh := (float64(l.y.Data[i]) - float64(l.params[1].Value[c])) / float64(gamma[c])
				dg[c] += dout.Data[i] * float32(xh)
				db[c] += dout.Data[i]
				l.dx.Data[i] = dout.Data[i] * float32(float64(gamma[c])*inv)
			}
		}
		return []*Tensor{l.dx}
	}
	sumD := make([]float64, C)
	sumDX := make([]float64, C)
	for r := 0; r < rows; r++ {
		for c := 0; c < C; c++ {
			i := r*C + c
			d := float64(dout.Data[i])
			dg[c] += float32(d * float64(l.xhat[i]))
			db[c] += float32(d)
			sumD[c] += d * float64(gamma[c])
			sumDX[c] += d * float64(gamma[c]) * float64(l.xhat[i])
		}
	}
	if !needDX {
		return []*Tensor{nil}
	}
	l.dx = ensure(l.dx, dout.Shape)
	M := float64(rows)
	for r := 0; r < rows; r++ {
		for c := 0; c < C; c++ {
			i := r*C + c
			dxh := float64(dout.Data[i]) * float64(gamma[c])
			l.dx.Data[i] = float32(l.invStd[c] / M * (M*dxh - sumD[c] - float64(l.xhat[i])*sumDX[c]))
		}
	}
	return []*Tensor{l.dx}
}

// Embedding -----------------------------------------------------------------

type embedding struct {
	layerBase
	vocab, dim int
	idx        []int
	y          *Tensor
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
func (l *embedding) forward(st *runState, in []*Tensor) (*Tensor, error) {
	x := in[0]
	l.idx = l.idx[:0]
	l.y = ensure(l.y, append(append([]int(nil), x.Shape...), l.dim))
	w := l.params[0].Value
	for i, v := range x.Data {
		id := int(v)
		if float32(id) != v || id < 0 || id >= l.vocab {
			return nil, fmt.Errorf("embedding %q: id %v at position %d is not an integer in [0, %d)", l.name, v, i, l.vocab)
		}
		l.idx = append(l.idx, id)
		copy(l.y.Data[i*l.dim:(i+1)*l.dim], w[id*l.dim:(id+1)*l.dim])
	}
	return l.y, nil
}
func (l *embedding) backward(st *runState, dout *Tensor, needDX bool) []*Tensor {
	g := l.params[0].Grad
	clear(g)
	for i, id := range l.idx {
		row := g[id*l.dim : (id+1)*l.dim]
		for j, v := range dout.Data[i*l.dim : (i+1)*l.dim] {
			row[j] += v
		}
	}
	return []*Tensor{nil}
}

// Concatenate -----------------------------------------------------------------

type concat struct {
	layerBase
	sizes []int
	y     *Tensor
	dx    []*Tensor
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
func (l *concat) forward(st *runState, in []*Tensor) (*Tensor, error) {
	total := 0
	for _, s := range l.sizes {
		total += s
	}
	rows := len(in[0].Data) / l.sizes[0]
	shape := append(append([]int(nil), in[0].Shape[:len(in[0].Shape)-1]...), total)
	l.y = ensure(l.y, shape)
	off := 0
	for k, x := range in {
		s := l.sizes[k]
		if len(x.Data) != rows*s {
			return nil, fmt.Errorf("concatenate %q: input %d has %d values, want %d", l.name, k, len(x.Data), rows*s)
		}
		for r := 0; r < rows; r++ {
			copy(l.y.Data[r*total+off:r*total+off+s], x.Data[r*s:(r+1)*s])
		}
		off += s
	}
	return l.y, nil
}
func (l *concat) backward(st *runState, dout *Tensor, needDX bool) []*Tensor {
	total := dout.Shape[len(dout.Shape)-1]
	rows := len(dout.Data) / total
	if len(l.dx) != len(l.sizes) {
		l.dx = make([]*Tensor, len(l.sizes))
	}
	off := 0
	for k, s := range l.sizes {
		shape := append(append([]int(nil), dout.Shape[:len(dout.Shape)-1]...), s)
		l.dx[k] = ensure(l.dx[k], shape)
		for r := 0; r < rows; r++ {
			copy(l.dx[k].Data[r*s:(r+1)*s], dout.Data[r*total+off:r*total+off+s])
		}
		off += s
	}
	return l.dx
}
