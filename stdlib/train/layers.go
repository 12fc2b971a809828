package train

import (
	"fmt"
	"math/rand"
	"runtime"
	"sync"
)

// Named sets the name of l (the default is the snake-case kind with a
// counter, as in Keras: "dense", "dense_1") and returns l.
func Named(l Layer, name string) Layer {
	l.base().name = name
	return l
}

// Input ---------------------------------------------------------------------

type inputLayer struct {
	layerBase
	shape []int
}

// InputLayer declares the shape of one example (without the batch
// dimension) as the first layer of a Sequential model, like Keras's
// InputLayer / input_shape.
func InputLayer(shape ...int) Layer {
	return &inputLayer{layerBase: layerBase{kind: "InputLayer"}, shape: append([]int(nil), shape...)}
}

func (l *inputLayer) Config() map[string]any { return map[string]any{"shape": l.shape} }
func (l *inputLayer) build(in [][]int) ([]int, error) {
	if len(l.shape) == 0 {
		return nil, fmt.Errorf("input shape is empty")
	}
	return l.shape, nil
}
func (l *inputLayer) forward(st *runState, in []*Tensor) (*Tensor, error) {
	x := in[0]
	if len(x.Shape) != len(l.shape)+1 || numel(x.Shape[1:]) != numel(l.shape) {
		// Accept any tensor whose per-example size matches (e.g. flat
		// 784-vectors for a 28×28×1 input) but reject everything else.
		if numel(x.Shape[1:]) != numel(l.shape) {
			return nil, fmt.Errorf("input %q expects examples of shape %v, got batch of shape %v", l.name, l.shape, x.Shape)
		}
	}
	return &Tensor{Shape: append([]int{x.Len()}, l.shape...), Data: x.Data}, nil
}
func (l *inputLayer) backward(st *runState, dout *Tensor, needDX bool) []*Tensor { return nil }

// Dense ---------------------------------------------------------------------

type dense struct {
	layerBase
	units    int
	act      string
	fused    bool
	in       int
	x, y, dx *Tensor
	dz       []float32
}

// Dense is a fully connected layer: y = activation(x·kernel + bias), applied
// on the last axis. kernel has shape inputs×units. activation is one of "",
// "linear", "relu", "sigmoid", "tanh", "softmax".
func Dense(units int, activation string) Layer {
	return &dense{layerBase: layerBase{kind: "Dense"}, units: units, act: activation}
}

func (l *dense) activationName() string { return l.act }
func (l *dense) setFused(f bool)        { l.fused = f }
func (l *dense) Config() map[string]any {
	return map[string]any{"units": l.units, "activation": l.act}
}
func (l *dense) build(in [][]int) ([]int, error) {
	s, err := oneInput(l.kind, in)
	if err != nil {
		return nil, err
	}
	if l.units <= 0 {
		return nil, fmt.Errorf("units must be positive, got %d", l.units)
	}
	if err := checkActivation(l.act); err != nil {
		return nil, err
	}
	l.in = s[len(s)-1]
	l.params = []*Param{newParam("kernel", true, l.in, l.units), newParam("bias", true, l.units)}
	out := append([]int(nil), s...)
	out[len(out)-1] = l.units
	return out, nil
}
func (l *dense) initWeights(rng *rand.Rand) {
	glorotUniform(rng, l.params[0].Value, l.in, l.units)
	clear(l.params[1].Value)
}
func (l *dense) forward(st *runState, in []*Tensor) (*Tensor, error) {
	x := in[0]
	rows := len(x.Data) / l.in
	shape := append(append([]int(nil), x.Shape[:len(x.Shape)-1]...), l.units)
	l.x = x
	l.y = ensure(l.y, shape)
	y := l.y.Data
	sgemm(false, false, rows, l.units, l.in, 1, x.Data, l.in, l.params[0].Value, l.units, 0, y, l.units)
	biasActivate(l.act, y, l.params[1].Value, l.units)
	return l.y, nil
}
func (l *dense) backward(st *runState, dout *Tensor, needDX bool) []*Tensor {
	rows := len(l.x.Data) / l.in
	if cap(l.dz) < len(dout.Data) {
		l.dz = make([]float32, len(dout.Data))
	}
	dz := l.dz[:len(dout.Data)]
	activationBackward(l.act, l.y.Data, dout.Data, dz, l.params[1].Grad, l.units, l.fused)
	sgemm(true, false, l.in, l.units, rows, 1, l.x.Data, l.in, dz, l.units, 0, l.params[0].Grad, l.units)
	if !needDX {
		return []*Tensor{nil}
	}
	l.dx = ensure(l.dx, l.x.Shape)
	sgemm(false, true, rows, l.in, l.units, 1, dz, l.units, l.params[0].Value, l.units, 0, l.dx.Data, l.in)
	return []*Tensor{l.dx}
}

// Activation ----------------------------------------------------------------

type activationL struct {
	layerBase
	act   string
	fused bool
	y, dx *Tensor
}

// Activation applies an activation function ("linear", "relu", "sigmoid",
// "tanh", "softmax"; softmax works on the last axis).
func Activation(name string) Layer {
	return &activationL{layerBase: layerBase{kind: "Activation"}, act: name}
}

func (l *activationL) activationName() string { return l.act }
func (l *activationL) setFused(f bool)        { l.fused = f }
func (l *activationL) Config() map[string]any { return map[string]any{"activation": l.act} }
func (l *activationL) build(in [][]int) ([]int, error) {
	s, err := oneInput(l.kind, in)
	if err != nil {
		return nil, err
	}
	return s, checkActivation(l.act)
}
func (l *activationL) forward(st *runState, in []*Tensor) (*Tensor, error) {
	l.y = ensure(l.y, in[0].Shape)
	copy(l.y.Data, in[0].Data)
	activate(l.act, l.y.Data, in[0].Shape[len(in[0].Shape)-1])
	return l.y, nil
}
func (l *activationL) backward(st *runState, dout *Tensor, needDX bool) []*Tensor {
	l.dx = ensure(l.dx, dout.Shape)
	copy(l.dx.Data, dout.Data)
	activateGrad(l.act, l.y.Data, l.dx.Data, dout.Shape[len(dout.Shape)-1], l.fused)
	return []*Tensor{l.dx}
}

// Flatten -------------------------------------------------------------------

type flatten struct {
	layerBase
	inShape []int
}

// Flatten reshapes each example to a vector.
func Flatten() Layer { return &flatten{layerBase: layerBase{kind: "Flatten"}} }

func (l *flatten) Config() map[string]any { return map[string]any{} }
func (l *flatten) build(in [][]int) ([]int, error) {
	s, err := oneInput(l.kind, in)
	if err != nil {
		return nil, err
	}
	return []int{numel(s)}, nil
}
func (l *flatten) forward(st *runState, in []*Tensor) (*Tensor, error) {
	l.inShape = in[0].Shape
	return &Tensor{Shape: []int{in[0].Len(), in[0].RowSize()}, Data: in[0].Data}, nil
}
func (l *flatten) backward(st *runState, dout *Tensor, needDX bool) []*Tensor {
	return []*Tensor{{Shape: l.inShape, Data: dout.Data}}
}

// Dropout -------------------------------------------------------------------

type dropout struct {
	layerBase
	rate    float64
	mask    []float32
	y, dx   *Tensor
	applied bool
}

// Dropout sets a fraction rate of its inputs to zero during training and
// scales the rest by 1/(1-rate); it is the identity at inference. The mask
// comes from the model's seeded random source.
func Dropout(rate float64) Layer {
	return &dropout{layerBase: layerBase{kind: "Dropout"}, rate: rate}
}

func (l *dropout) Config() map[string]any { return map[string]any{"rate": l.rate} }
func (l *dropout) build(in [][]int) ([]int, error) {
	if l.rate < 0 || l.rate >= 1 {
		return nil, fmt.Errorf("dropout rate must be in [0, 1), got %g", l.rate)
	}
	return oneInput(l.kind, in)
}
func (l *dropout) forward(st *runState, in []*Tensor) (*Tensor, error) {
	l.applied = st.training && l.rate > 0
	if !l.applied {
		return in[0], nil
	}
	x := in[0]
	if cap(l.mask) < len(x.Data) {
		l.mask = make([]float32, len(x.Data))
	}
	l.mask = l.mask[:len(x.Data)]
	keep := float32(1 / (1 - l.rate))
	l.y = ensure(l.y, x.Shape)
	for i, v := range x.Data {
		if st.rng.Float64() < l.rate {
			l.mask[i] = 0
		} else {
			l.mask[i] = keep
		}
		l.y.Data[i] = v * l.mask[i]
	}
	return l.y, nil
}
func (l *dropout) backward(st *runState, dout *Tensor, needDX bool) []*Tensor {
	if !l.applied {
		return []*Tensor{dout}
	}
	l.dx = ensure(l.dx, dout.Shape)
	for i, v := range dout.Data {
		l.dx.Data[i] = v * l.mask[i]
	}
	return []*Tensor{l.dx}
}

// Conv2D --------------------------------------------------------------------

// Conv2DOptions are the optional settings of Conv2D. The zero value means
// stride 1, "valid" padding and no activation.
type Conv2DOptions struct {
	// Strides is the step in both spatial directions (default 1).
	Strides int
	// Padding is "valid" (default) or "same".
	Padding string
	// Activation is applied to the output ("relu", ...).
	Activation string
}

type conv2d struct {
	layerBase
	filters, k      int
	opt             Conv2DOptions
	fused           bool
	h, w, c, oh, ow int
	padT, padL      int
	x, y, dx        *Tensor
	dz              []float32
	cols            [][]float32
	colValid        bool
}

// Conv2D is a 2-D convolution over NHWC images with filters output channels
// and a kernel×kernel window; its kernel weight has shape
// kernel×kernel×in_channels×filters (Keras layout). It is computed as im2col
// followed by a matrix product.
func Conv2D(filters, kernel int, opts ...Conv2DOptions) Layer {
	l := &conv2d{layerBase: layerBase{kind: "Conv2D"}, filters: filters, k: kernel}
	if len(opts) > 0 {
		l.opt = opts[0]
	}
	if l.opt.Strides == 0 {
		l.opt.Strides = 1
	}
	if l.opt.Padding == "" {
		l.opt.Padding = "valid"
	}
	return l
}

func (l *conv2d) activationName() string { return l.opt.Activation }
func (l *conv2d) setFused(f bool)        { l.fused = f }
func (l *conv2d) Config() map[string]any {
	return map[string]any{"filters": l.filters, "kernel_size": l.k, "strides": l.opt.Strides,
		"padding": l.opt.Padding, "activation": l.opt.Activation}
}

// outSize returns the output length and the padding before for one axis.
func outSize(in, k, s int, padding string) (int, int) {
	if padding == "same" {
		o := (in + s - 1) / s
		pad := max((o-1)*s+k-in, 0)
		return o, pad / 2
	}
	return (in-k)/s + 1, 0
}

func (l *conv2d) build(in [][]int) ([]int, error) {
	s, err := oneInput(l.kind, in)
	if err != nil {
		return nil, err
	}
	if len(s) != 3 {
		return nil, fmt.Errorf("Conv2D needs inputs of shape (height, width, channels), got %v", s)
	}
	if l.filters <= 0 || l.k <= 0 || l.opt.Strides <= 0 {
		return nil, fmt.Errorf("Conv2D filters, kernel size and strides must be positive")
	}
	if l.opt.Padding != "valid" && l.opt.Padding != "same" {
		return nil, fmt.Errorf("Conv2D padding must be \"valid\" or \"same\", got %q", l.opt.Padding)
	}
	if err := checkActivation(l.opt.Activation); err != nil {
		return nil, err
	}
	l.h, l.w, l.c = s[0], s[1], s[2]
	l.oh, l.padT = outSize(l.h, l.k, l.opt.Strides, l.opt.Padding)
	l.ow, l.padL = outSize(l.w, l.k, l.opt.Strides, l.opt.Padding)
	if l.oh <= 0 || l.ow <= 0 {
		return nil, fmt.Errorf("Conv2D kernel %d is larger than its input %dx%d", l.k, l.h, l.w)
	}
	l.params = []*Param{newParam("kernel", true, l.k, l.k, l.c, l.filters), newParam("bias", true, l.filters)}
	return []int{l.oh, l.ow, l.filters}, nil
}
func (l *conv2d) initWeights(rng *rand.Rand) {
	glorotUniform(rng, l.params[0].Value, l.k*l.k*l.c, l.k*l.k*l.filters)
	clear(l.params[1].Value)
}

// chunk returns how many examples one im2col buffer holds.
func (l *conv2d) chunk(n int) int {
	per := l.oh * l.ow * l.k * l.k * l.c
	c := max(1, (4<<20)/per)
	return min(c, n)
}

// parallel runs f(i) for i in [0,n) on all cores.
func parallel(n int, f func(lo, hi int)) {
	p := runtime.GOMAXPROCS(0)
	if p == 1 || n < 2 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + p - 1) / p
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// im2col writes examples [n0, n0+cnt) of x as rows of (kh, kw, c) patches.
func (l *conv2d) im2col(x []float32, n0, cnt int, col []float32) {
	K := l.k * l.k * l.c
	s := l.opt.Strides
	parallel(cnt, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			img := x[(n0+n)*l.h*l.w*l.c:]
			for oy := 0; oy < l.oh; oy++ {
				for ox := 0; ox < l.ow; ox++ {
					row := col[((n*l.oh+oy)*l.ow+ox)*K:][:K]
					i := 0
					for ky := 0; ky < l.k; ky++ {
						iy := oy*s + ky - l.padT
						for kx := 0; kx < l.k; kx++ {
							ix := ox*s + kx - l.padL
							if iy < 0 || iy >= l.h || ix < 0 || ix >= l.w {
								clear(row[i : i+l.c])
							} else {
								copy(row[i:i+l.c], img[(iy*l.w+ix)*l.c:][:l.c])
							}
							i += l.c
						}
					}
				}
			}
		}
	})
}

// col2im adds patch gradients back into dx for examples [n0, n0+cnt).
func (l *conv2d) col2im(col []float32, n0, cnt int, dx []float32) {
	K := l.k * l.k * l.c
	s := l.opt.Strides
	parallel(cnt, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			img := dx[(n0+n)*l.h*l.w*l.c:]
			for oy := 0; oy < l.oh; oy++ {
				for ox := 0; ox < l.ow; ox++ {
					row := col[((n*l.oh+oy)*l.ow+ox)*K:][:K]
					i := 0
					for ky := 0; ky < l.k; ky++ {
						iy := oy*s + ky - l.padT
						for kx := 0; kx < l.k; kx++ {
							ix := ox*s + kx - l.padL
							if iy >= 0 && iy < l.h && ix >= 0 && ix < l.w {
								dst := img[(iy*l.w+ix)*l.c:][:l.c]
								for c, v := range row[i : i+l.c] {
									dst[c] += v
								}
							}
							i += l.c
						}
					}
				}
			}
		}
	})
}

func (l *conv2d) colBuf(i, size int) []float32 {
	for len(l.cols) <= i {
		l.cols = append(l.cols, nil)
	}
	if cap(l.cols[i]) < size {
		l.cols[i] = make([]float32, size)
	}
	return l.cols[i][:size]
}

func (l *conv2d) forward(st *runState, in []*Tensor) (*Tensor, error) {
	x := in[0]
	n := x.Len()
	l.x = x
	l.y = ensure(l.y, []int{n, l.oh, l.ow, l.filters})
	K := l.k * l.k * l.c
	P := l.oh * l.ow
	ch := l.chunk(n)
	y := l.y.Data
	// When the whole batch fits in one column buffer, the backward pass
	// reuses it (colValid); otherwise it recomputes the columns per chunk.
	for n0 := 0; n0 < n; n0 += ch {
		cnt := min(ch, n-n0)
		col := l.colBuf(0, cnt*P*K)
		l.im2col(x.Data, n0, cnt, col)
		sgemm(false, false, cnt*P, l.filters, K, 1, col, K, l.params[0].Value, l.filters, 0, y[n0*P*l.filters:], l.filters)
	}
	l.colValid = ch >= n
	biasActivate(l.opt.Activation, y, l.params[1].Value, l.filters)
	return l.y, nil
}

func (l *conv2d) backward(st *runState, dout *Tensor, needDX bool) []*Tensor {
	n := l.x.Len()
	K := l.k * l.k * l.c
	P := l.oh * l.ow
	F := l.filters
	if cap(l.dz) < len(dout.Data) {
		l.dz = make([]float32, len(dout.Data))
	}
	dz := l.dz[:len(dout.Data)]
	activationBackward(l.opt.Activation, l.y.Data, dout.Data, dz, l.params[1].Grad, F, l.fused)
	if needDX {
		l.dx = ensure(l.dx, l.x.Shape)
		clear(l.dx.Data)
	}
	ch := l.chunk(n)
	for n0 := 0; n0 < n; n0 += ch {
		cnt := min(ch, n-n0)
		col := l.colBuf(0, cnt*P*K)
		if !l.colValid {
			l.im2col(l.x.Data, n0, cnt, col)
		}
		beta := float32(1)
		if n0 == 0 {
			beta = 0
		}
		dzc := dz[n0*P*F : (n0+cnt)*P*F]
		sgemm(true, false, K, F, cnt*P, 1, col, K, dzc, F, beta, l.params[0].Grad, F)
		if needDX {
			dcol := l.colBuf(1, cnt*P*K)
			sgemm(false, true, cnt*P, K, F, 1, dzc, F, l.params[0].Value, F, 0, dcol, K)
			l.col2im(dcol, n0, cnt, l.dx.Data)
		}
	}
	if !needDX {
		return []*Tensor{nil}
	}
	return []*Tensor{l.dx}
}

// MaxPooling2D ----------------------------------------------------------------

// PoolOptions are the optional settings of MaxPooling2D. The zero value
// means strides equal to the pool size and "valid" padding.
type PoolOptions struct {
	// Strides is the step (default: the pool size).
	Strides int
	// Padding is "valid" (default) or "same".
	Padding string
}

type maxPool struct {
	layerBase
	p               int
	opt             PoolOptions
	h, w, c, oh, ow int
	padT, padL      int
	arg             []int32
	inShape         []int
	y, dx           *Tensor
}

// MaxPooling2D keeps the largest value of every pool×pool window of NHWC
// images.
func MaxPooling2D(pool int, opts ...PoolOptions) Layer {
	l := &maxPool{layerBase: layerBase{kind: "MaxPooling2D"}, p: pool}
	if len(opts) > 0 {
		l.opt = opts[0]
	}
	if l.opt.Strides == 0 {
		l.opt.Strides = pool
	}
	if l.opt.Padding == "" {
		l.opt.Padding = "valid"
	}
	return l
}

func (l *maxPool) Config() map[string]any {
	return map[string]any{"pool_size": l.p, "strides": l.opt.Strides, "padding": l.opt.Padding}
}
func (l *maxPool) build(in [][]int) ([]int, error) {
	s, err := oneInput(l.kind, in)
	if err != nil {
		return nil, err
	}
	if len(s) != 3 {
		return nil, fmt.Errorf("MaxPooling2D needs inputs of shape (height, width, channels), got %v", s)
	}
	if l.p <= 0 || l.opt.Strides <= 0 {
		return nil, fmt.Errorf("MaxPooling2D pool size and strides must be positive")
	}
	if l.opt.Padding != "valid" && l.opt.Padding != "same" {
		return nil, fmt.Errorf("MaxPooling2D padding must be \"valid\" or \"same\", got %q", l.opt.Padding)
	}
	l.h, l.w, l.c = s[0], s[1], s[2]
	l.oh, l.padT = outSize(l.h, l.p, l.opt.Strides, l.opt.Padding)
	l.ow, l.padL = outSize(l.w, l.p, l.opt.Strides, l.opt.Padding)
	if l.oh <= 0 || l.ow <= 0 {
		return nil, fmt.Errorf("MaxPooling2D pool %d is larger than its input %dx%d", l.p, l.h, l.w)
	}
	return []int{l.oh, l.ow, l.c}, nil
}
func (l *maxPool) forward(st *runState, in []*Tensor) (*Tensor, error) {
	x := in[0]
	n := x.Len()
	l.inShape = x.Shape
	l.y = ensure(l.y, []int{n, l.oh, l.ow, l.c})
	if cap(l.arg) < len(l.y.Data) {
		l.arg = make([]int32, len(l.y.Data))
	}
	l.arg = l.arg[:len(l.y.Data)]
	s := l.opt.Strides
	parallel(n, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			base := b * l.h * l.w * l.c
			for oy := 0; oy < l.oh; oy++ {
				for ox := 0; ox < l.ow; ox++ {
					o := ((b*l.oh+oy)*l.ow + ox) * l.c
					for c := 0; c < l.c; c++ {
						best, bi := float32(0), int32(-1)
						for ky := 0; ky < l.p; ky++ {
							iy := oy*s + ky - l.padT
							if iy < 0 || iy >= l.h {
								continue
							}
							for kx := 0; kx < l.p; kx++ {
								ix := ox*s + kx - l.padL
								if ix < 0 || ix >= l.w {
									continue
								}
								i := base + (iy*l.w+ix)*l.c + c
								if bi < 0 || x.Data[i] > best {
									best, bi = x.Data[i], int32(i)
								}
							}
						}
						l.y.Data[o+c] = best
						l.arg[o+c] = bi
					}
				}
			}
		}
	})
	return l.y, nil
}
func (l *maxPool) backward(st *runState, dout *Tensor, needDX bool) []*Tensor {
	if !needDX {
		return []*Tensor{nil}
	}
	l.dx = ensure(l.dx, l.inShape)
	clear(l.dx.Data)
	for o, i := range l.arg {
		l.dx.Data[i] += dout.Data[o]
	}
	return []*Tensor{l.dx}
}
